/** CUDA code generation cases that need no compiler: found in review. */
import { emitCuda } from '../../../backends/cuda/index.js';
import type { KernelHints } from '../../../compiler/ir/ir.js';
import { arange, dot, dtype, f32, i32, input, kernel, load, output, programId, scalar, store, tensor, zeros } from '../../../dsl/index.js';

describe('CUDA emitter', () => {
  test('an affine index too long to inline (held in registers) takes the per-lane path', () => {
    const k = kernel('long_index', { x: input(f32, ['N']), y: output(f32, ['N']), s: scalar(i32) }, ({ x, y, s }) => {
      let idx = arange(64).add(programId(0).mul(64));
      for (let q = 0; q < 30; q++) idx = idx.add(s).sub(s);
      store(y, [idx], load(x, [idx]));
    }, { grid: () => [1] });
    expect(() => emitCuda(k.build())).not.toThrow();
  });

  test('a store to an inout tensor is followed by a barrier before later loads', () => {
    const k = kernel('rw', { x: tensor(f32, [64]) }, ({ x }) => {
      const i = arange(64);
      store(x, [i], load(x, [i]).mul(2));
      store(x, [i], load(x, [arange(64).mul(-1).add(63)]));
    }, { grid: () => [1] });
    const source = emitCuda(k.build()).source;
    const body = source.slice(source.indexOf('tskc_kernel('));
    expect(body.match(/__syncthreads\(\);/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test('minBlocksPerSm becomes the second __launch_bounds__ argument (1 by default); out of range it is refused', () => {
    const k = kernel('copy', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = programId(0).mul(256).add(arange(256));
      store(y, [i], load(x, [i], { mask: i.lt(x.dim(0)) }), { mask: i.lt(x.dim(0)) });
    }, { grid: () => [1] }).build();
    expect(emitCuda(k, { threads: 128 }).source).toContain('__launch_bounds__(128, 1)');
    expect(emitCuda(k, { threads: 128, minBlocksPerSm: 4 }).source).toContain('__launch_bounds__(128, 4)');
    expect(() => emitCuda(k, { minBlocksPerSm: 0 })).toThrow(/minBlocksPerSm must be an integer from 1 to 32, got 0/);
  });

  test("a kernel's launch hints set the block and __launch_bounds__ unless the options do; a function of the params may withhold them", () => {
    const hinted = (hints: KernelHints | ((params: { BLOCK_N: number }) => KernelHints) | undefined) =>
      kernel('copy_rows', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }, { BLOCK_N }) => {
        const cols = arange(BLOCK_N);
        store(y, [programId(0), cols], load(x, [programId(0), cols]));
      }, { params: { BLOCK_N: 1024 }, grid: ({ M }) => [M], ...(hints ? { hints } : {}) });
    const bounds = (source: string) => /__launch_bounds__\((\d+), (\d+)\)/.exec(source)!.slice(1).map(Number);
    const plain = hinted(undefined).build();
    const fixed = hinted({ cuda: { threads: 512, minBlocksPerSm: 2 } }).build();
    expect(bounds(emitCuda(plain).source)).toEqual([128, 1]);
    expect(fixed.hints).toEqual({ cuda: { threads: 512, minBlocksPerSm: 2 } });
    expect(bounds(emitCuda(fixed).source)).toEqual([512, 2]);
    // The hinted blocks per SM belong to the hinted block size.
    expect(bounds(emitCuda(fixed, { threads: 64 }).source)).toEqual([64, 1]);
    expect(bounds(emitCuda(fixed, { threads: 512 }).source)).toEqual([512, 2]);
    expect(bounds(emitCuda(fixed, { minBlocksPerSm: 1 }).source)).toEqual([512, 1]);
    const bySize = hinted(({ BLOCK_N }: { BLOCK_N: number }) => (BLOCK_N <= 1024 ? { cuda: { minBlocksPerSm: 3 } } : {}));
    expect(bounds(emitCuda(bySize.build()).source)).toEqual([128, 3]);
    expect(bounds(emitCuda(bySize.build({ BLOCK_N: 4096 })).source)).toEqual([256, 1]);
  });

  describe('tensorCores: dot on mma.sync', () => {
    // acc + a · b for [M, K] x [K, N] tiles of `operand` values, widened to f32 before the dot as the kernels do.
    const matmul = (operand: 'bf16' | 'f16' | 'f32', [M, N, K]: [number, number, number]) =>
      kernel('mm', { a: input(dtype(operand), [M, K]), b: input(dtype(operand), [K, N]), c: output(f32, [M, N]) }, ({ a, b, c }) => {
        const [i, j, q] = [arange(M).expandDims(1), arange(N).expandDims(0), arange(K)];
        const x = load(a, [i, q.expandDims(0)]).to(f32);
        const y = load(b, [q.expandDims(1), j]).to(f32);
        store(c, [i, j], dot(x, y, zeros([M, N], f32)));
      }, { grid: () => [1] }).build();
    const mma = (k: ReturnType<typeof matmul>, tensorCores = true) => emitCuda(k, { tensorCores }).source.match(/mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.(\w+)/)?.[1];

    test('bf16 and f16 operands (widened to f32) take the tensor cores when M, N, K are multiples of 16, 8, 16', () => {
      expect(mma(matmul('bf16', [32, 16, 32]))).toBe('bf16');
      expect(mma(matmul('f16', [16, 8, 16]))).toBe('f16');
    });

    test('by default; not with tensorCores: false, for f32 operands, for tiles off the 16 x 8 x 16 grid, or past 48 KiB of staging', () => {
      expect(emitCuda(matmul('bf16', [32, 16, 32])).source).toContain('mma.sync');
      expect(mma(matmul('bf16', [32, 16, 32]), false)).toBeUndefined();
      expect(mma(matmul('f32', [32, 16, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [8, 16, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [32, 12, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [32, 16, 24]))).toBeUndefined();
      expect(mma(matmul('bf16', [128, 128, 32]))).toBeUndefined(); // 8 + 8 + 64 KiB
      expect(mma(matmul('bf16', [64, 128, 32]))).toBe('bf16'); // 4 + 8 + 32 KiB
    });

    test('registerAccumulators: the block size that gives the result its fragment layout, the accumulator never staged', () => {
      const marker = 'mma.sync on the accumulator in registers';
      const staged = emitCuda(matmul('bf16', [64, 64, 32]));
      const inRegisters = emitCuda(matmul('bf16', [64, 64, 32]), { registerAccumulators: true });
      expect([staged.threads, inRegisters.threads]).toEqual([256, 128]);
      expect(inRegisters.source).toContain(marker);
      expect(staged.source).not.toContain(marker);
      expect(inRegisters.sharedBytes).toBe(2 * 64 * (32 + 8) * 2); // a and b as 16-bit codes, rows padded by 8; no f32 accumulator
      // Past 48 KiB with the accumulator staged, within it without: 2 x 128 x (32 + 8) codes, 20 KiB.
      expect(emitCuda(matmul('bf16', [128, 128, 32]), { registerAccumulators: true }).source).toContain(marker);
      // No layout at the given block size (64 rows, 64 row groups): the staged path.
      expect(emitCuda(matmul('bf16', [64, 64, 32]), { registerAccumulators: true, threads: 256 }).source).not.toContain(marker);
      // A kernel without such a dot keeps the usual block size.
      const f32Dot = emitCuda(matmul('f32', [64, 64, 32]), { registerAccumulators: true });
      expect(f32Dot.source).not.toContain('mma.sync');
      expect(f32Dot.threads).toBe(emitCuda(matmul('f32', [64, 64, 32])).threads);
    });
  });
});
