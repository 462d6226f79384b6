/**
 * The generated C has no undefined behaviour: the examples and random programs are compiled into
 * a small C driver with -fsanitize=address,undefined (any report aborts) and run on tensors allocated
 * to their exact size, so that an access one element past a tensor is caught.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { emitC } from '../../../backends/c/index.js';
import { type Kernel, evalGridExpr } from '../../../compiler/ir/ir.js';
import { arange, cdiv, dot, f32, gridAdd, i32, input, kernel, load, output, programId, store, u32, zeros } from '../../../dsl/index.js';
import { exampleKernels } from '../../../examples/index.js';
import { freshSeed } from '../../../examples/check.js';
import { findCompiler } from '../../../runtime/cpu/toolchain.js';
import { allocateStorage } from '../../../runtime/tensor.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tskc-sanitize-'));
const testC = testWithCompiler('the sanitizer tests');

/** A C main() that allocates every argument to its exact size, fills it with noise and calls the kernel. */
function driver(kernel: Kernel, symbols: Record<string, number>, order: readonly string[]): string {
  const grid = [...kernel.grid.map((g) => evalGridExpr(g, symbols)), 1, 1, 1].slice(0, 3);
  const lines = ['#include <stdint.h>', '#include <stdio.h>', '#include <stdlib.h>', 'void tskc_kernel(void *const *, const int64_t *, const int64_t *, int64_t *);', 'int main(void) {', `  void *args[${Math.max(kernel.args.length, 1)}];`, '  uint32_t noise = 12345u;'];
  kernel.args.forEach((a, i) => {
    if (a.type.kind === 'tile') {
      lines.push(`  double s${i} = 1.5; args[${i}] = &s${i};`);
      return;
    }
    const count = a.type.shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : symbols[d]!), 1);
    const bytes = allocateStorage(a.type.dtype, count).byteLength;
    lines.push(`  unsigned char *t${i} = malloc(${Math.max(bytes, 1)});`);
    lines.push(`  for (long k = 0; k < ${bytes}; k++) { noise = noise * 1664525u + 1013904223u; t${i}[k] = (unsigned char)(noise >> 24); }`);
    lines.push(`  args[${i}] = t${i};`);
  });
  lines.push(`  const int64_t symbols[${Math.max(order.length, 1)}] = { ${order.map((s) => symbols[s]).join(', ') || 0} };`);
  lines.push(`  const int64_t grid[3] = { ${grid.join(', ')} };`);
  lines.push('  int64_t status = 0;');
  lines.push('  tskc_kernel(args, symbols, grid, &status);');
  kernel.args.forEach((a, i) => a.type.kind === 'tensor' && lines.push(`  free(t${i});`));
  lines.push('  if (status != 0) { fprintf(stderr, "status %lld\\n", (long long)status); return 3; }', '  return 0;', '}');
  return lines.join('\n');
}

async function sanitize(name: string, kernel: Kernel, symbols: Record<string, number>): Promise<void> {
  const c = emitC(kernel);
  writeFileSync(join(dir, `${name}.c`), c.source);
  writeFileSync(join(dir, `${name}-main.c`), driver(kernel, symbols, c.symbols));
  const cc = findCompiler();
  const exe = join(dir, name);
  await run(cc.path, [...cc.args, '-std=c11', '-O1', '-g', '-fopenmp', '-ffp-contract=off', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe, join(dir, `${name}.c`), join(dir, `${name}-main.c`), '-lm']);
  const { stderr } = await run(exe, [], { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' } });
  expect(stderr).toBe('');
}

describe('generated C under AddressSanitizer and UndefinedBehaviorSanitizer', () => {
  const shapes: Record<string, Record<string, number>> = {
    vector_add: { N: 1500 },
    softmax: { M: 5, N: 999 },
    layer_norm: { M: 3, N: 333 },
    matmul: { M: 37, K: 19, N: 45 },
  };
  testC.each(Object.keys(exampleKernels))('%s', async (name) => {
    await sanitize(name, (exampleKernels as Record<string, { build(): Kernel }>)[name]!.build(), shapes[name]!);
  }, 120_000);

  // Found by the fuzzer: u32 operands above 2^31 multiplied in int64 overflowed (the driver's noise
  // fills them with such values).
  testC('dot of u32 operands into an i32 accumulator', async () => {
    const k = kernel('u32_dot', { a: input(u32, [4, 4]), y: output(i32, [4, 4]) }, ({ a, y }) => {
      const rows = arange(4).expandDims(1);
      const cols = arange(4).expandDims(0);
      const x = load(a, [rows, cols]);
      store(y, [rows, cols], dot(x, x, zeros([4, 4], i32)));
    }, { grid: () => [1] });
    await sanitize('u32_dot', k.build(), {});
  }, 120_000);

  // Blocks whose columns run past the end of the rows, and whole blocks past it (every lane off):
  // each clipped row reads and writes only its lanes inside (backends/clike/affine.ts: clipped).
  testC('blocks that run past the end of the last dim', async () => {
    const k = kernel('clipped', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
      const rows = programId(0).mul(4).add(arange(4)).expandDims(1);
      const cols = programId(1).mul(32).add(arange(32)).expandDims(0);
      const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
      store(y, [rows, cols], load(x, [rows, cols], { mask: ok }).add(1), { mask: ok });
    }, { grid: ({ M, N }) => [cdiv(M, 4), gridAdd(cdiv(N, 32), 2)] });
    await sanitize('clipped', k.build(), { M: 8, N: 37 });
  }, 120_000);

  const seed = freshSeed();
  testC(`random programs from seed ${seed}`, async () => {
    for (let i = 0; i < 6; i++) await sanitize(`fuzz${i}`, randomProgram((seed + i) >>> 0).kernel, {});
  }, 300_000);
});
