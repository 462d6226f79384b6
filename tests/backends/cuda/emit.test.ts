/** CUDA code generation cases that need no compiler: found in review. */
import { emitCuda } from '../../../backends/cuda/index.js';
import type { Dtype } from '../../../compiler/ir/dtype.js';
import type { KernelHints } from '../../../compiler/ir/ir.js';
import { type Tile, arange, bf16, dot, dtype, f32, forRange, i32, input, kernel, load, output, programId, scalar, store, tensor, zeros } from '../../../dsl/index.js';
import { flashAttention } from '../../../kernels/attention.js';
import { linear } from '../../../kernels/linear.js';

describe('CUDA emitter', () => {
  test('an affine index too long to inline (held in registers) takes the per-lane path', () => {
    const k = kernel('long_index', { x: input(f32, ['N']), y: output(f32, ['N']), s: scalar(i32) }, ({ x, y, s }) => {
      let idx = arange(64).add(programId(0).mul(64));
      for (let q = 0; q < 30; q++) idx = idx.add(s).sub(s);
      store(y, [idx], load(x, [idx]));
    }, { grid: () => [1] });
    expect(() => emitCuda(k.build())).not.toThrow();
  });

  test("a value per row read into a tile's shape (the tile GEMV's scales) is read once per chunk of a thread's lanes", () => {
    // y[r, c] = x[r, c] * s[r], s loaded as a [16, 64] tile: every lane of a chunk has the row's offset.
    const k = kernel('row_scale', { x: input(f32, [16, 64]), s: input(f32, [16]), y: output(f32, [16, 64]) }, ({ x, s, y }) => {
      const [rows, cols] = [arange(16).expandDims(1), arange(64).expandDims(0)];
      const scale = load(s, [rows.add(cols.mul(0))]);
      store(y, [rows, cols], load(x, [rows, cols]).mul(scale));
    }, { grid: () => [1] });
    const source = emitCuda(k.build()).source;
    expect(source).toContain('const float each = (float)((const float *)a1)[off[s]];');
    expect(source).toContain('= ok[s + v] ? each : ');
  });

  test('bounds masks leave the lanes inside the tensor no mask to test; another affine mask is tested block-wide first; a mask of loaded data per lane', () => {
    const copyMasked = (name: string, mask: (rows: Tile, cols: Tile, x: { dim(d: number): Tile }) => Tile) =>
      kernel(name, { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) }, ({ x, y }) => {
        const [rows, cols] = [programId(0).mul(16).add(arange(16)).expandDims(1), arange(64).expandDims(0)];
        const ok = mask(rows, cols, x);
        store(y, [rows, cols], load(x, [rows, cols], { mask: ok }).mul(2), { mask: ok });
      }, { grid: () => [1] }).build();
    // The load's and the store's: inside the tensor no mask, else lane by lane.
    const bounds = emitCuda(copyMasked('bounds', (rows, cols, x) => rows.lt(x.dim(0)).and(cols.lt(x.dim(1))))).source;
    expect(bounds.match(/ok\[v\] = valid && true;/g)?.length).toBe(2);
    expect(bounds).not.toMatch(/\} else if \(/);
    // Literal extents (dim() folds to the number): the same two paths.
    const literal = kernel('literal_bounds', { x: input(f32, [40, 100]), y: output(f32, [40, 100]) }, ({ x, y }) => {
      const [rows, cols] = [programId(0).mul(16).add(arange(16)).expandDims(1), arange(64).expandDims(0)];
      const ok = rows.lt(x.dim(0)).and(cols.lt(x.dim(1)));
      store(y, [rows, cols], load(x, [rows, cols], { mask: ok }), { mask: ok });
    }, { grid: () => [3] }).build();
    const literalSource = emitCuda(literal).source;
    expect(literalSource.match(/ok\[v\] = valid && true;/g)?.length).toBe(2);
    expect(literalSource).not.toMatch(/\} else if \(/);
    // Compared with another bound (here the other dim): three paths, the mask tested once for the block first.
    const crossed = emitCuda(copyMasked('crossed', (rows, cols, x) => rows.lt(x.dim(1)).and(cols.lt(x.dim(0))))).source;
    expect(crossed.match(/ok\[v\] = valid && true;/g)?.length).toBe(2);
    expect(crossed.match(/\} else if \(/g)?.length).toBe(2);
    const dataMasked = kernel('data_masked', { x: input(f32, [16, 64]), y: output(f32, [16, 64]) }, ({ x, y }) => {
      const [rows, cols] = [arange(16).expandDims(1), arange(64).expandDims(0)];
      const v = load(x, [rows, cols]);
      store(y, [rows, cols], v, { mask: v.gt(0) });
    }, { grid: () => [1] });
    const data = emitCuda(dataMasked.build()).source;
    expect(data).not.toMatch(/\} else if \(/);
    // The unmasked load's; the store tests its mask per lane.
    expect(data.match(/ok\[v\] = valid && true;/g)?.length).toBe(1);
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

  test("a thread's chunks hold 16 bytes of the kernel's narrowest tensor (8 bf16, 4 f32) unless maxVec says; out of range it is refused", () => {
    const copyOf = (d: Dtype) =>
      kernel('copy', { x: input(d, ['N']), y: output(d, ['N']) }, ({ x, y }) => {
        const i = programId(0).mul(1024).add(arange(1024));
        store(y, [i], load(x, [i], { mask: i.lt(x.dim(0)) }), { mask: i.lt(x.dim(0)) });
      }, { grid: () => [1] }).build();
    const chunkOf = (source: string) => Number(/chunk \* (\d+) \+ v/.exec(source)?.[1]);
    expect(chunkOf(emitCuda(copyOf(bf16)).source)).toBe(8);
    expect(chunkOf(emitCuda(copyOf(f32)).source)).toBe(4);
    expect(chunkOf(emitCuda(copyOf(dtype('u8'))).source)).toBe(8);
    expect(chunkOf(emitCuda(copyOf(i32)).source)).toBe(4);
    expect(chunkOf(emitCuda(copyOf(f32), { maxVec: 8 }).source)).toBe(8);
    // f32 in 16-byte vectors, consecutive threads on consecutive vectors.
    expect(emitCuda(copyOf(f32)).source).toContain('const int chunk = c * 128 + tid % 128;');
    expect(() => emitCuda(copyOf(f32), { maxVec: 3 })).toThrow(/maxVec must be a power of two from 1 to 8, got 3/);
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
    // Hints for one architecture replace the general ones whole, on it only.
    const perArch = hinted({ cuda: { threads: 512, minBlocksPerSm: 2, perArch: { sm_90: { minBlocksPerSm: 3 }, sm_80: { threads: 256 } } } }).build();
    expect(bounds(emitCuda(perArch).source)).toEqual([512, 2]);
    expect(bounds(emitCuda(perArch, { arch: 'sm_90' }).source)).toEqual([128, 3]);
    expect(bounds(emitCuda(perArch, { arch: 'sm_80' }).source)).toEqual([256, 1]);
    expect(bounds(emitCuda(perArch, { arch: 'sm_86' }).source)).toEqual([512, 2]);
    expect(bounds(emitCuda(perArch, { arch: 'sm_90', minBlocksPerSm: 1 }).source)).toEqual([128, 1]);
    expect(() => emitCuda(perArch, { arch: '90' })).toThrow("CUDA backend: arch must name an architecture such as sm_90, got '90'");
  });

  test('a bf16 tile read only element by element stays as its codes, two to a register; its f32 cast is decoded where read', () => {
    const scaled = kernel('scaled_rows', { x: input(bf16, ['M', 'N']), y: output(bf16, ['M', 'N']) }, ({ x, y }) => {
      const [row, cols] = [programId(0), arange(2048)];
      const ok = cols.lt(x.dim(1));
      const t = load(x, [row, cols], { mask: ok }).to(f32);
      store(y, [row, cols], t.mul(t.sum(0)).to(bf16), { mask: ok });
    }, { grid: ({ M }) => [M] }).build();
    const source = emitCuda(scaled, { threads: 256 }).source;
    // 2048 / 256 = 8 codes a thread, in 4 words loaded as they lie; no float array holds x or its cast.
    expect(source).toMatch(/uint32_t v\d+w\[4\] = \{\};/);
    expect(source).toContain('= u.word[v / 2];');
    expect(source).not.toContain('tskc_bf16_value((uint32_t)u.lane[v])');
    // Read as the cast: the half of its word, one shift.
    expect(source).toMatch(/tskc_bf16_value\(\(uint32_t\)\(uint16_t\)\(v\d+w\[\(r\) \/ 2\] >> \(16 \* \(\(r\) % 2\)\)\)\)/);
    // A tile that is transposed (a gather, which aliases or stages registers) is not packed.
    const transpose = kernel('transpose', { a: input(bf16, [32, 32]), c: output(bf16, [32, 32]) }, ({ a, c }) => {
      const [r, k] = [arange(32).expandDims(1), arange(32).expandDims(0)];
      store(c, [r, k], load(a, [r, k]).T);
    }, { grid: () => [1] }).build();
    expect(emitCuda(transpose).source).not.toContain('u.word[');
    expect(emitCuda(transpose).source).toContain('tskc_bf16_value((uint32_t)u.lane[v])');
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
    // With the accumulator staged (registerAccumulators: false), whose shared memory bounds the tiles.
    const mma = (k: ReturnType<typeof matmul>, tensorCores = true) => emitCuda(k, { tensorCores, registerAccumulators: false }).source.match(/mma\.sync\.aligned\.m16n8k16\.row\.col\.f32\.(\w+)/)?.[1];

    test('bf16 and f16 operands (widened to f32) take the tensor cores when M, N, K are multiples of 16, 8, 16', () => {
      expect(mma(matmul('bf16', [32, 16, 32]))).toBe('bf16');
      expect(mma(matmul('f16', [16, 8, 16]))).toBe('f16');
    });

    test('by default; not with tensorCores: false, for f32 operands, for tiles off the 16 x 8 x 16 grid, or past 48 KiB of staging', () => {
      expect(emitCuda(matmul('bf16', [32, 16, 32])).source).toContain('mma.sync');
      expect(emitCuda(matmul('bf16', [128, 128, 32])).source).toContain('mma.sync'); // the accumulator in registers: 18.5 KiB staged
      expect(mma(matmul('bf16', [32, 16, 32]), false)).toBeUndefined();
      expect(mma(matmul('f32', [32, 16, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [8, 16, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [32, 12, 32]))).toBeUndefined();
      expect(mma(matmul('bf16', [32, 16, 24]))).toBeUndefined();
      expect(mma(matmul('bf16', [128, 128, 32]))).toBeUndefined(); // 8 + 8 + 64 KiB
      expect(mma(matmul('bf16', [64, 128, 32]))).toBe('bf16'); // 4 + 8 + 32 KiB
    });

    test('tf32: f32 operands on mma.sync.m16n8k8 (K a multiple of 8), rounded to tf32; 16-bit operands keep their format', () => {
      const format = (source: string) => source.match(/mma\.sync\.aligned\.(m16n8k\d+)\.row\.col\.f32\.(\w+)/)?.slice(1, 3).join(' ');
      const staged = emitCuda(matmul('f32', [32, 16, 24]), { tf32: true, registerAccumulators: false }).source;
      expect(format(staged)).toBe('m16n8k8 tf32');
      expect(staged).toContain('cvt.rna.tf32.f32');
      expect(format(emitCuda(matmul('f32', [64, 64, 32]), { tf32: true, registerAccumulators: true }).source)).toBe('m16n8k8 tf32');
      expect(format(emitCuda(matmul('f32', [32, 16, 24])).source)).toBeUndefined();
      expect(format(emitCuda(matmul('f32', [32, 16, 20]), { tf32: true }).source)).toBeUndefined();
      expect(format(emitCuda(matmul('f32', [32, 16, 24]), { tf32: true, tensorCores: false }).source)).toBeUndefined();
      expect(format(emitCuda(matmul('bf16', [32, 16, 32]), { tf32: true }).source)).toBe('m16n8k16 bf16');
    });

    test('registerAccumulators (the default): the block size that gives the result its fragment layout, the accumulator never staged', () => {
      const marker = 'mma.sync on the accumulator in registers';
      const staged = emitCuda(matmul('bf16', [64, 64, 32]), { registerAccumulators: false });
      const inRegisters = emitCuda(matmul('bf16', [64, 64, 32]));
      expect(emitCuda(matmul('bf16', [64, 64, 32]), { registerAccumulators: true }).source).toBe(inRegisters.source);
      expect([staged.threads, inRegisters.threads]).toEqual([256, 128]);
      expect(inRegisters.source).toContain(marker);
      expect(staged.source).not.toContain(marker);
      // a [64, 32] and b [32, 64] (k-major) as 16-bit codes, rows padded by 8; no f32 accumulator.
      expect(inRegisters.sharedBytes).toBe(64 * (32 + 8) * 2 + 32 * (64 + 8) * 2);
      // Past 48 KiB with the accumulator staged, within it without: 2 x 128 x (32 + 8) codes, 20 KiB.
      expect(emitCuda(matmul('bf16', [128, 128, 32]), { registerAccumulators: true }).source).toContain(marker);
      // K much larger than N: staged k-major, b would pass 48 KiB (16 x 728 + 720 x 24 codes), so the accumulator is staged.
      expect(emitCuda(matmul('bf16', [16, 16, 720]), { registerAccumulators: true }).source).not.toContain(marker);
      // No layout at the given block size (64 rows, 64 row groups): the staged path.
      expect(emitCuda(matmul('bf16', [64, 64, 32]), { registerAccumulators: true, threads: 256 }).source).not.toContain(marker);
      // A kernel without such a dot keeps the usual block size.
      const f32Dot = emitCuda(matmul('f32', [64, 64, 32]), { registerAccumulators: true });
      expect(f32Dot.source).not.toContain('mma.sync');
      expect(f32Dot.threads).toBe(emitCuda(matmul('f32', [64, 64, 32]), { registerAccumulators: false }).threads);
    });
  });

  test("registerAccumulators: flash attention's row statistics (max, sum, rescale) stay in the fragments' rows, and p @ v takes p's A fragments from its registers", () => {
    const exchanges = (source: string) => (source.match(/\(tskc_scratch \+/g) ?? []).length;
    const barriers = (source: string) => (source.match(/__syncthreads\(\)/g) ?? []).length;
    const aFromShared = (source: string) => (source.match(/TSKC_LDMATRIX_X4\(a0/g) ?? []).length;
    for (const causal of [false, true]) {
      const k = flashAttention(bf16, causal).build({});
      const inRegisters = emitCuda(k, { registerAccumulators: true }).source;
      expect(inRegisters).toContain('mma.sync on the accumulator in registers');
      // One barrier in the key loop (after the wait for its copies), one after it; q's A fragments
      // come from its staging, p's from registers.
      expect([exchanges(inRegisters), barriers(inRegisters), aFromShared(inRegisters)]).toEqual([0, 2, 1]);
      // With the scores staged, every statistic goes through shared memory.
      expect(exchanges(emitCuda(k, { registerAccumulators: false }).source)).toBeGreaterThan(0);
    }
  });

  describe('pipelineStages: cp.async copies of the register path\'s operands, iterations ahead', () => {
    const copies = (source: string) => (source.match(/TSKC_CP_ASYNC_CG16\(to/g) ?? []).length;
    /** The wait in the loop's body: for the group of this iteration, with stages - 2 later ones in flight. */
    const loopWait = (source: string) => source.slice(source.indexOf('else for (long long')).match(/TSKC_CP_ASYNC_WAIT\((\d)\)/)?.[1];

    test('a linear layer copies x and w ahead by 2 iterations (3 stages) by default, by 1 with 2, not with 1', () => {
      const k = linear(bf16).build({});
      const [three, two, one] = [3, 2, 1].map((pipelineStages) => emitCuda(k, { registerAccumulators: true, pipelineStages }));
      // a and b as 16-bit codes, rows padded by 8: b copied n-major (as W's rows), or staged k-major.
      const stage = 2 * 64 * (32 + 8) * 2;
      expect([three, two, one].map((source) => source!.sharedBytes)).toEqual([3 * stage, 2 * stage, 64 * (32 + 8) * 2 + 32 * (64 + 8) * 2]);
      expect(one!.source).toContain('ldmatrix.sync.aligned.m8n8.x4.trans');
      expect([loopWait(three!.source), loopWait(two!.source)]).toEqual(['1', '0']);
      // x and w: in the prologue once per stage ahead and in the body once, each with a path inside the
      // tensor (where the bounds masks are on) and one lane by lane.
      expect(copies(three!.source)).toBe(2 * 2 * (2 + 1));
      // The prologue comes before the loop, the drain after it.
      const src = three!.source;
      expect(src.indexOf('cp.async: the operands of the first 2')).toBeLessThan(src.indexOf('else for (long long'));
      expect(src.lastIndexOf('TSKC_CP_ASYNC_WAIT(0)')).toBeGreaterThan(src.indexOf('else for (long long'));
      expect(one!.source).not.toContain('CP_ASYNC');
      expect(() => emitCuda(k, { registerAccumulators: true, pipelineStages: 0 })).toThrow(/pipelineStages must be an integer from 1 to 8, got 0/);
    });

    test('fewer stages where the ring would pass PIPELINE_RING_BYTES: 2 of 36 KiB at 128 x 128 x 64', () => {
      const big = emitCuda(linear(bf16).build({ BM: 128, BN: 128, BK: 64 }), { registerAccumulators: true });
      expect(big.source).toContain('mma.sync on the accumulator in registers');
      expect(loopWait(big.source)).toBe('0');
      expect(big.sharedBytes).toBeGreaterThanOrEqual(2 * 2 * 128 * (64 + 8) * 2);
    });

    // A 64 x 64 tile of a[M, K] · b[N, K]ᵀ, walking K by 32; `variant` breaks one condition of copying ahead.
    const looped = (variant: 'plain' | 'carried index' | 'operand used twice' | 'index in registers') =>
      kernel('mm_loop', { a: input(bf16, ['M', 'K']), b: input(bf16, ['N', 'K']), c: output(f32, ['M', 'N']), s: scalar(i32) }, ({ a, b, c, s }) => {
        const [rows, cols] = [arange(64).expandDims(1), arange(64)];
        const step = (k0: Tile, sums: Tile[]) => {
          let ks = k0.add(arange(32)).expandDims(0);
          // Past the length an index expression is repeated: held in registers, this iteration's only.
          if (variant === 'index in registers') for (let q = 0; q < 30; q++) ks = ks.add(s).sub(s);
          const x = load(a, [rows, ks], { mask: ks.lt(a.dim(1)) }).to(f32);
          const w = load(b, [cols.expandDims(1), ks], { mask: ks.lt(b.dim(1)) }).to(f32).T;
          return variant === 'operand used twice' ? [dot(x, w, sums[0]!), dot(x, w, sums[1]!)] : [dot(x, w, sums[0]!)];
        };
        const zero = zeros([64, 64], f32);
        const out =
          variant === 'carried index'
            ? forRange(0, a.dim(1), 32, [zero, zeros([], i32)], (_, [sum, k0]) => [...step(k0!, [sum!]), k0!.add(32)])[0]!
            : variant === 'operand used twice'
              ? forRange(0, a.dim(1), 32, [zero, zero], (k0, sums) => step(k0, sums)).reduce((p, q) => p.add(q))
              : forRange(0, a.dim(1), 32, [zero], (k0, sums) => step(k0, sums))[0]!;
        store(c, [rows, cols.expandDims(0)], out);
      }, { grid: () => [1] }).build();

    test.each(['carried index', 'operand used twice', 'index in registers'] as const)('not where the operands are not copyable ahead: %s', (variant) => {
      expect(copies(emitCuda(looped('plain'), { registerAccumulators: true }).source)).toBeGreaterThan(0);
      const source = emitCuda(looped(variant), { registerAccumulators: true }).source;
      expect(source).toContain('mma.sync on the accumulator in registers');
      expect(source).not.toContain('CP_ASYNC');
    });
  });
});
