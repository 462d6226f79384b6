/**
 * Gated linear units on the two halves of a projection: y = act(a) · g for a, g [M, N] (each row,
 * N <= BLOCK_N, in one program), in f32 with one rounding to the storage dtype.
 * SwiGLU: act = silu(a) = a · sigmoid(a). GeGLU: act = gelu(a) = a/2 · (1 + erf(a/√2)) (the exact gelu).
 */
import { type Dtype, arange, erf as erfTile, f32, input, kernel, load, output, programId, sigmoid, store } from '../../dsl/index.js';
import { erf } from '../../compiler/interpret/scalar-math.js';

function gluRows(name: string, d: Dtype, activation: (a: ReturnType<typeof load>) => ReturnType<typeof load>) {
  return kernel(
    `${name}_${d.name}`,
    { a: input(d, ['M', 'N']), g: input(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ a, g, y }, { BLOCK_N }) => {
      const row = programId(0);
      const cols = arange(BLOCK_N);
      const ok = cols.lt(a.dim(1));
      const at = load(a, [row, cols], { mask: ok }).to(f32);
      const out = activation(at).mul(load(g, [row, cols], { mask: ok }).to(f32));
      store(y, [row, cols], out.to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192 }, grid: ({ M }) => [M], shapes: { M: 4096, N: 8192 } },
  );
}

export const swigluRows = (d: Dtype) => gluRows('swiglu', d, (a) => a.mul(sigmoid(a)));
export const gegluRows = (d: Dtype) => gluRows('geglu', d, (a) => a.mul(0.5).mul(erfTile(a.mul(Math.SQRT1_2)).add(1)));

/** The float64 references, elementwise. */
export const silu = (a: number) => a / (1 + Math.exp(-a));
export function gelu(a: number): number {
  return 0.5 * a * (1 + erf(a / Math.SQRT2));
}
export function gluReference(a: ArrayLike<number>, g: ArrayLike<number>, act: (x: number) => number): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => act(a[i]!) * g[i]!);
}

