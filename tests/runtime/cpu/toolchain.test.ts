import * as fs from 'node:fs';
import * as path from 'node:path';
import koffi from 'koffi';
import {
  COMPILER_NAMES,
  DEFAULT_CFLAGS,
  ToolchainError,
  compileSharedObject,
  detectToolchain,
  findCompiler,
} from '../../../runtime/cpu/toolchain.js';
import { scratchDir, testWithCompiler } from './harness.js';

const withCompiler = testWithCompiler('the C toolchain tests');
const scratch = scratchDir('tskc-toolchain-test-');

const TINY = `#include <stdint.h>
int32_t tskc_test_add(int32_t a, int32_t b) { return a + b; }

/* x[i] * y[i] + z[i] in float: with -ffp-contract=off this rounds twice, never fused. */
void tskc_test_mul_add(const float *x, const float *y, const float *z, float *out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = x[i] * y[i] + z[i];
}
`;

const BROKEN = `int tskc_broken(void) {
  return tskc_undeclared_thing + 1;
}
`;

describe('findCompiler', () => {
  test('CC=/nonexistent/cc is a ToolchainError naming it and saying how to set CC', () => {
    const env = { ...process.env, CC: '/nonexistent/cc' };
    expect(() => findCompiler(env)).toThrow(ToolchainError);
    expect(() => findCompiler(env)).toThrow(/C compiler '\/nonexistent\/cc' \(from \$CC\) not found.*Set CC to/);
    return expect(detectToolchain(env)).rejects.toThrow(/'\/nonexistent\/cc'/);
  });

  test('with no CC and nothing on PATH the error lists the names tried', () => {
    const err = (() => {
      try {
        findCompiler({ PATH: '/nonexistent-bin' });
      } catch (e) {
        return e as ToolchainError;
      }
      throw new Error('expected a ToolchainError');
    })();
    expect(err.code).toBe('not-found');
    expect(err.message).toContain(`tried ${COMPILER_NAMES.join(', ')} on PATH (/nonexistent-bin)`);
    expect(err.message).toContain('set CC');
  });

  withCompiler('CC may carry leading arguments and a bare name is found on PATH', () => {
    const found = findCompiler();
    const cc = findCompiler({ PATH: path.dirname(found.path), CC: `${path.basename(found.path)}  -m64 ` });
    expect(cc).toEqual({ name: path.basename(found.path), path: found.path, args: ['-m64'], fromEnv: true });
  });
});

describe('the C toolchain', () => {
  withCompiler('reports a one-line version', async () => {
    const t = await detectToolchain();
    expect(t.version).not.toBe('');
    expect(t.version).not.toContain('\n');
    expect(await detectToolchain()).toBe(t); // probed once per process
  });

  withCompiler('compiles a shared object that koffi loads and calls, rounding like the interpreter', async () => {
    const src = path.join(scratch(), 'tiny.c');
    const so = path.join(scratch(), 'tiny.so');
    fs.writeFileSync(src, TINY);
    const res = await compileSharedObject(src, so);
    expect(res.command).toEqual(expect.arrayContaining(['-std=c11', '-ffp-contract=off', '-o', so, src]));
    const lib = koffi.load(so);
    try {
      const add = lib.func('tskc_test_add', 'int32_t', ['int32_t', 'int32_t']);
      expect(add(40, 2)).toBe(42);
      const mulAdd = lib.func('tskc_test_mul_add', 'void', ['float *', 'float *', 'float *', 'float *', 'int64_t']);
      // (1 + 2^-12)^2 - (1 + 2^-11) is 2^-24 when fused, 0 when the product is rounded first.
      const x = Float32Array.of(1 + 2 ** -12, 3);
      const z = Float32Array.of(-(1 + 2 ** -11), 0.5);
      const out = new Float32Array(2);
      mulAdd(x, x, z, out, 2);
      expect(Array.from(out)).toEqual([0, 9.5]);
    } finally {
      lib.unload();
    }
  });

  withCompiler('a compile error carries the compiler message and the source path', async () => {
    const src = path.join(scratch(), 'broken.c');
    fs.writeFileSync(src, BROKEN);
    const err = await compileSharedObject(src, path.join(scratch(), 'broken.so')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    const e = err as ToolchainError;
    expect(e.code).toBe('compile');
    expect(e.sourcePath).toBe(src);
    expect(e.message).toContain(`failed to compile ${src}`);
    expect(e.message).toContain('tskc_undeclared_thing'); // from the compiler's own diagnostic
    expect(e.stderr).toContain('tskc_undeclared_thing');
  });

  test('a compiler that exits 0 but writes nothing is an error, not an empty shared object to cache', async () => {
    const src = path.join(scratch(), 'ok.c');
    fs.writeFileSync(src, 'int f(void) { return 1; }\n');
    const fake = { compiler: { name: 'true', path: '/bin/true', args: [], fromEnv: true }, version: 'true', openmp: false, workarounds: [] };
    const err = await compileSharedObject(src, path.join(scratch(), 'ok.so'), ['-O2'], { toolchain: fake }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    expect((err as Error).message).toMatch(/^true exited 0 but wrote no shared object for .*ok\.c\ncommand: \/bin\/true /);
  });

  withCompiler('a compiler without OpenMP: one warning, kernels built without -fopenmp', async () => {
    // A wrapper that refuses -fopenmp and otherwise runs the real compiler.
    const real = findCompiler();
    const fake = path.join(scratch(), 'no-openmp-cc');
    fs.writeFileSync(
      fake,
      `#!/bin/sh\nfor a in "$@"; do\n  if [ "$a" = -fopenmp ]; then echo "fake-cc: error: unsupported option '-fopenmp'" >&2; exit 1; fi\ndone\nexec "${real.path}" "$@"\n`,
      { mode: 0o755 },
    );
    const warnings: unknown[] = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((w: unknown) => void warnings.push(w)) as typeof process.emitWarning;
    try {
      const env = { ...process.env, CC: fake };
      const t = await detectToolchain(env);
      expect(t.openmp).toBe(false);
      expect(await detectToolchain(env)).toBe(t);
      expect(warnings.length).toBe(1);
      const message = String(warnings[0]);
      expect(message).toContain(fake);
      expect(message).toContain("unsupported option '-fopenmp'");
      expect(message).not.toContain('\n');

      const src = path.join(scratch(), 'omp.c');
      fs.writeFileSync(src, `void tskc_scale(float *x, int n) {\n#pragma omp parallel for\n  for (int i = 0; i < n; i++) x[i] *= 2;\n}\n`);
      const res = await compileSharedObject(src, path.join(scratch(), 'omp.so'), DEFAULT_CFLAGS, { toolchain: t });
      expect(res.command).not.toContain('-fopenmp');
      expect(res.command).toContain('-O3');
    } finally {
      process.emitWarning = emitWarning;
    }
  });
});
