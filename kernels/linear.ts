/**
 * A linear layer with its epilogue fused: y = act(scale · x·Wᵀ + bias) + residual, for x [M, K] and
 * W [N, K] (the layout of a linear layer's weight), bias [N] and residual [M, N] optional. One program
 * computes a BM x BN tile of y, walking K in steps of BK with an f32 accumulator (`dot`); the epilogue
 * runs on the accumulator in registers, so y is written once and nothing else is.
 * Activations: none, relu, gelu (exact, with erf) and silu. x, W and y share the storage dtype.
 */
import { type Dtype, arange, cdiv, dot, f32, forRange, input, kernel, load, output, programId, store, zeros } from '../dsl/index.js';
import { ACTIVATIONS, type Activation } from './activations.js';

export type { Activation } from './activations.js';

export interface LinearOptions {
  readonly bias?: boolean;
  readonly activation?: Activation;
  readonly residual?: boolean;
}

/** The kernel for storage dtype d and the chosen epilogue; SCALE is a parameter (1 by default). */
export function linear(d: Dtype, options: LinearOptions = {}) {
  const { bias = false, activation = 'none', residual = false } = options;
  const args = {
    x: input(d, ['M', 'K']),
    w: input(d, ['N', 'K']),
    ...(bias ? { bias: input(d, ['N']) } : {}),
    ...(residual ? { residual: input(d, ['M', 'N']) } : {}),
    y: output(d, ['M', 'N']),
  };
  const name = ['linear', d.name, bias ? 'bias' : '', activation === 'none' ? '' : activation, residual ? 'residual' : ''].filter((p) => p !== '').join('_');
  return kernel(
    name,
    args,
    (a, { BM, BN, BK, SCALE }) => {
      const { x, w, y } = a;
      const [m, k, n] = [x.dim(0), x.dim(1), w.dim(0)];
      const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1); // [BM, 1]
      const cols = programId(1).mul(BN).add(arange(BN)); // [BN]
      const [rowOk, colOk] = [rows.lt(m), cols.lt(n)];
      const [acc] = forRange(0, k, BK, [zeros([BM, BN], f32)], (k0, [sum]) => {
        const ks = k0.add(arange(BK)).expandDims(0); // [1, BK]
        const xs = load(x, [rows, ks], { mask: rowOk.and(ks.lt(k)) }).to(f32); // [BM, BK]
        const ws = load(w, [cols.expandDims(1), ks], { mask: colOk.expandDims(1).and(ks.lt(k)) }).to(f32); // [BN, BK]
        return [dot(xs, ws.T, sum!)];
      });
      let out = SCALE === 1 ? acc! : acc!.mul(SCALE);
      if ('bias' in a) out = out.add(load(a.bias as typeof w, [cols], { mask: colOk }).to(f32).expandDims(0));
      out = ACTIVATIONS[activation](out);
      const mask = rowOk.and(colOk.expandDims(0));
      if ('residual' in a) out = out.add(load(a.residual as typeof y, [rows, cols.expandDims(0)], { mask }).to(f32));
      store(y, [rows, cols.expandDims(0)], out.to(d), { mask });
    },
    {
      params: { BM: 64, BN: 64, BK: 32, SCALE: 1 },
      grid: ({ M, N }, { BM, BN }) => [cdiv(M, BM), cdiv(N, BN)],
      shapes: { M: 1024, K: 1024, N: 1024 },
      flops: ({ M, N, K }) => 2 * M * N * K,
    },
  );
}

/** The float64 reference: x [m, k], w [n, k], bias [n] and residual [m, n] when given. */
export function linearReference(x: ArrayLike<number>, w: ArrayLike<number>, m: number, k: number, n: number, epilogue: { scale?: number; bias?: ArrayLike<number>; activation?: (v: number) => number; residual?: ArrayLike<number> }): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += x[i * k + q]! * w[j * k + q]!;
      let v = s * (epilogue.scale ?? 1) + (epilogue.bias?.[j] ?? 0);
      v = epilogue.activation ? epilogue.activation(v) : v;
      y[i * n + j] = v + (epilogue.residual?.[i * n + j] ?? 0);
    }
  }
  return y;
}
