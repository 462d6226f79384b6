import { availableParallelism } from 'node:os';

// Jest runs the TypeScript sources directly as native ES modules: @swc/jest strips the types
// (type errors are caught by `tsc --noEmit`, which `npm test` runs first).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // At least two workers (jest's default is one per core less one): most suites wait on the C
  // compiler, one process at a time, so on CI's two cores a single worker left one idle. Measured on 2
  // cores: the kernel and graph suites took 473 s with two workers against 915 s with one.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  // Many tests wait on a compiler (cc, nvcc, g++, lavapipe's shader compiler): seconds each on a loaded
  // 2-core machine. jest's default of 5 s failed tests/backends/c/loop-carried.test.ts on CI that way.
  testTimeout: 120_000,
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import './x.js' (NodeNext style); map those back to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
};
