/**
 * Random tiled matmul kernels, for the GPU backends' tensor-core paths, which the small random
 * programs of random-program.ts never reach (their tiles are too small for mma.sync, and their loops
 * load nothing). Everything derives from one seed:
 * - 'gemm': c = epilogue(a · b) over a loop on K (optionally inside an outer loop, optionally with a
 *   second dot on the next K tile in the same iteration); b stored [N, K] (loaded and transposed) or
 *   [K, N] (loaded as it is, or through an identity permute); a and b widened to f32 before or after
 *   the transpose, or a's values changed on the way (truncated through i32), which must stay a load.
 * - 'attention': q loaded once before a loop over the key blocks j, s = q · kⱼᵀ, then acc += p · vⱼ with
 *   p = relu(s), or relu(s - rowmax(s) + 4) with the row sums of p carried too (a softmax's row
 *   statistics), rounded to the input type: a chain of two dots per iteration, one operand fixed.
 * Tiles, masks and fills, the input type (bf16, f16, f32) and the CUDA options (tensor cores or FMA,
 * accumulators in registers, cp.async stages, tf32, the block size) are drawn too.
 *
 * Inputs are small integers (a's are halves where a truncation must show), so every product and sum is
 * exact in f32 and tf32 whatever its order: the tensor cores' order differs from the interpreter's,
 * yet the results must be the same.
 */
import type { CudaEmitOptions } from '../../backends/cuda/index.js';
import { makeArguments } from '../../bin/launch-inputs.js';
import { type Dtype, bf16, f16, f32, i32 } from '../../compiler/ir/dtype.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { type Tile, arange, cdiv, dot, forRange, input, kernel, load, output, programId, scalar, store, zeros } from '../../dsl/index.js';
import { randInt, rng } from '../../examples/check.js';
import { Tensor } from '../../runtime/tensor.js';

export interface RandomMatmul {
  readonly seed: number;
  readonly kernel: Kernel;
  /** The extents to run it at (ragged against the tiles, mostly). */
  readonly symbols: Readonly<Record<string, number>>;
  /** Scalar arguments. */
  readonly scalars: Readonly<Record<string, number>>;
  readonly options: CudaEmitOptions;
  /** Whether a's inputs are halves (a truncation to integers changes them). */
  readonly halves: boolean;
  /** A line that says what was drawn, for failure messages. */
  readonly description: string;
}

export function randomMatmul(seed: number): RandomMatmul {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const d: Dtype = pick([bf16, bf16, f16, f32]);
  const options: CudaEmitOptions = {
    tensorCores: r() < 0.85,
    registerAccumulators: r() < 0.6,
    pipelineStages: pick([1, 2, 3, 3, 4]),
    tf32: d === f32 && r() < 0.7,
    ...(r() < 0.25 ? { threads: pick([32, 64, 128, 256]) } : {}),
  };
  const made = r() < 0.7 ? gemm(r, pick, d) : attention(r, pick, d);
  return { seed, ...made, options, description: `${made.description}, ${d.name}, options ${JSON.stringify(options)}` };
}

type Pick = <T>(xs: readonly T[]) => T;
type Made = Omit<RandomMatmul, 'seed' | 'options'>;

/** A fill for masked lanes: 0 mostly, small integers otherwise (visible in the sums). */
const fill = (r: () => number): number => (r() < 0.6 ? 0 : randInt(r, -2, 2));

function gemm(r: () => number, pick: Pick, d: Dtype): Made {
  // BM 20 takes no mma (M a multiple of 16) and leaves rows over from the C backend's 8- and 6-row blocks.
  const [BM, BN, BK] = [pick([16, 20, 32, 48, 64]), pick([8, 16, 24, 32, 64]), pick([8, 16, 32])];
  const bLayout = pick(['nk', 'kn'] as const);
  const aChange = r() < 0.2; // a truncated through i32: not a copy of the input
  const castFirst = r() < 0.5; // widen before the transpose, or after
  const identityPermute = bLayout === 'kn' && r() < 0.5;
  const secondDot = r() < 0.3;
  const outer = r() < 0.25;
  const withBias = r() < 0.5;
  const relu = r() < 0.5;
  const outType = r() < 0.3 && d !== f32 ? d : f32;
  const [fillA, fillB] = [fill(r), fill(r)];
  const name = `random_gemm_${BM}x${BN}x${BK}_${bLayout}`;
  const k = kernel(
    name,
    {
      a: input(d, ['M', 'K']),
      b: input(d, bLayout === 'nk' ? ['N', 'K'] : ['K', 'N']),
      bias: input(f32, ['N']),
      c: output(outType, ['M', 'N']),
      J: scalar(i32),
    },
    ({ a, b, bias, c, J }) => {
      const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1); // [BM, 1]
      const cols = programId(1).mul(BN).add(arange(BN)); // [BN]
      const [m, n, kk] = [a.dim(0), bLayout === 'nk' ? b.dim(0) : b.dim(1), a.dim(1)];
      const widen = (t: Tile) => (d === f32 ? t : t.to(f32));
      const operands = (k0: Tile): [Tile, Tile] => {
        const ks = k0.add(arange(BK));
        const inK = ks.expandDims(0).lt(kk);
        const loadedA = load(a, [rows, ks.expandDims(0)], { mask: rows.lt(m).and(inK), other: fillA });
        const x = aChange ? loadedA.to(i32).to(d).to(f32) : widen(loadedA);
        if (bLayout === 'nk') {
          const loadedB = load(b, [cols.expandDims(1), ks.expandDims(0)], { mask: cols.expandDims(1).lt(n).and(inK), other: fillB }); // [BN, BK]
          return [x, castFirst ? widen(loadedB).T : widen(loadedB.T)];
        }
        const loadedB = load(b, [ks.expandDims(1), cols.expandDims(0)], { mask: ks.expandDims(1).lt(kk).and(cols.expandDims(0).lt(n)), other: fillB }); // [BK, BN]
        if (!identityPermute) return [x, widen(loadedB)];
        return [x, castFirst ? widen(loadedB).permute(0, 1) : widen(loadedB.permute(0, 1))];
      };
      const kLoop = (from: Tile | number, init: Tile) =>
        forRange(from, kk, secondDot ? 2 * BK : BK, [init], (k0, [acc]) => {
          const first = dot(...operands(k0), acc!);
          return [secondDot ? dot(...operands(k0.add(BK)), first) : first];
        })[0]!;
      const total = outer ? forRange(0, J, 1, [zeros([BM, BN], f32)], (j, [sum]) => [kLoop(j.mul(BK), sum!)])[0]! : kLoop(0, zeros([BM, BN], f32));
      let y = total.mul(2);
      if (withBias) y = y.add(load(bias, [cols], { mask: cols.lt(n) }).expandDims(0));
      if (relu) y = y.maximum(0);
      store(c, [rows, cols.expandDims(0)], outType === f32 ? y : y.to(outType), { mask: rows.lt(m).and(cols.expandDims(0).lt(n)) });
    },
    { grid: ({ M, N }) => [cdiv(M, BM), cdiv(N, BN)] },
  ).build();
  const K = r() < 0.6 ? 8 * randInt(r, 1, 12) : randInt(r, 1, 90);
  return {
    kernel: k,
    symbols: { M: randInt(r, 1, 2 * BM + 7), N: randInt(r, 1, 2 * BN + 7), K },
    scalars: { J: outer ? randInt(r, 0, 3) : 0 },
    halves: aChange,
    description: `${name}: a ${aChange ? 'truncated' : 'widened'}, b ${bLayout}${bLayout === 'nk' ? (castFirst ? ' widened, then transposed' : ' transposed, then widened') : identityPermute ? (castFirst ? ' widened, then through an identity permute' : ' through an identity permute, then widened') : ''}${secondDot ? ', two dots' : ''}${outer ? ', inside an outer loop' : ''}, fills ${fillA}/${fillB}, out ${outType.name}`,
  };
}

function attention(r: () => number, pick: Pick, d: Dtype): Made {
  const [BM, BJ, D, DV] = [pick([16, 32, 64]), pick([16, 32]), pick([16, 32]), pick([8, 16, 32])];
  const fillK = fill(r);
  // p from s's row maxima (as a softmax takes them) and its row sums carried, or relu(s) alone.
  const rowWise = r() < 0.5;
  const name = `random_attention_${BM}x${BJ}_d${D}x${DV}`;
  const k = kernel(
    name,
    { q: input(d, ['M', 'D']), kt: input(d, ['S', 'D']), v: input(d, ['S', 'E']), o: output(f32, ['M', 'E']), l: output(f32, ['M']) },
    ({ q, kt, v, o, l }) => {
      const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1); // [BM, 1]
      const ds = arange(D).expandDims(0); // [1, D]
      const es = arange(DV).expandDims(0); // [1, DV]
      const widen = (t: Tile) => (d === f32 ? t : t.to(f32));
      const qs = widen(load(q, [rows, ds], { mask: rows.lt(q.dim(0)).and(ds.lt(q.dim(1))) })); // [BM, D], once
      const [acc, sums] = forRange(0, kt.dim(0), BJ, [zeros([BM, DV], f32), zeros([BM], f32)], (j0, [sum, rowSums]) => {
        const js = j0.add(arange(BJ)).expandDims(1); // [BJ, 1]
        const keys = widen(load(kt, [js, ds], { mask: js.lt(kt.dim(0)).and(ds.lt(kt.dim(1))), other: fillK })); // [BJ, D]
        const s = dot(qs, keys.T, zeros([BM, BJ], f32));
        // From the row maxima, values in [0, 4]: exact in every input type. relu(s) alone reaches D * 9,
        // which bf16 rounds past 256, the same on every backend (one rounding of an exact f32).
        const p = (rowWise ? s.sub(s.max(1, { keepDims: true })).add(4) : s).maximum(0).to(d === f32 ? f32 : d);
        const vs = widen(load(v, [js, es], { mask: js.lt(v.dim(0)).and(es.lt(v.dim(1))) })); // [BJ, DV]
        return [dot(widen(p), vs, sum!), rowWise ? rowSums!.add(widen(p).sum(1)) : rowSums!];
      });
      store(o, [rows, es], acc!, { mask: rows.lt(o.dim(0)).and(es.lt(o.dim(1))) });
      const flat = programId(0).mul(BM).add(arange(BM));
      store(l, [flat], sums!, { mask: flat.lt(l.dim(0)) });
    },
    { grid: ({ M }) => [cdiv(M, BM)] },
  ).build();
  return {
    kernel: k,
    symbols: { M: randInt(r, 1, 2 * BM + 7), D: randInt(r, Math.max(1, D - 7), D), S: randInt(r, 0, 3 * BJ + 5), E: randInt(r, Math.max(1, DV - 5), DV) },
    scalars: {},
    halves: false,
    description: `${name}${rowWise ? ', p from row maxima, row sums carried' : ''}, key fill ${fillK}`,
  };
}

/**
 * The arguments to run `p` on: its scalars, and its input tensors filled with small integers in
 * [-3, 3] (a's plus one half where the kernel truncates them), outputs NaN, all from p's seed.
 */
export function smallIntegerArguments(p: RandomMatmul): Record<string, Tensor | number> {
  const r = rng((p.seed ^ 0x5bd1e995) >>> 0); // not the stream that drew the kernel
  const args = { ...makeArguments(p.kernel, p.symbols, p.seed), ...p.scalars };
  for (const a of p.kernel.args) {
    const t = args[a.name!];
    if (!(t instanceof Tensor)) continue;
    if (a.type.kind === 'tensor' && a.type.access === 'out') t.fill(NaN);
    else t.setValues(t.toValues().map(() => randInt(r, -3, 3) + (p.halves && a.name === 'a' ? 0.5 : 0)));
  }
  return args;
}
