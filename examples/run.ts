#!/usr/bin/env node
/**
 * Runs the examples on the reference interpreter with fresh random shapes and inputs, each checked
 * against its float64 reference: `node dist/examples/run.js [name...]` (all of them by default).
 * Prints one line per example and exits 1 if any fails. Set TSKC_SEED to replay a run.
 */
import { type ExampleResult, freshSeed } from './check.js';
import { runLayerNorm } from './layer-norm.js';
import { runMatmul } from './matmul.js';
import { runSoftmax } from './softmax.js';
import { runVectorAdd } from './vector-add.js';

export const examples: Record<string, (seed: number) => ExampleResult> = {
  vector_add: runVectorAdd,
  softmax: runSoftmax,
  layer_norm: runLayerNorm,
  matmul: runMatmul,
};

function main(names: string[]): number {
  const seed = process.env['TSKC_SEED'] !== undefined ? Number(process.env['TSKC_SEED']) : freshSeed();
  const chosen = names.length > 0 ? names : Object.keys(examples);
  let failed = 0;
  console.log(`seed ${seed}`);
  for (const name of chosen) {
    const run = examples[name];
    if (!run) {
      console.error(`unknown example ${name}; choose from ${Object.keys(examples).join(', ')}`);
      return 2;
    }
    const res = run(seed);
    if (!res.pass) failed++;
    console.log(`${res.pass ? 'PASS' : 'FAIL'} ${res.name} (${res.detail}) max abs error ${res.maxAbsError.toExponential(2)}, max rel error ${res.maxRelError.toExponential(2)}`);
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
