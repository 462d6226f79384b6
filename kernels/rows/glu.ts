/**
 * Gated linear units: y = act(a) · g for the two halves of a gate-up projection, a and g [M, N], passed
 * as two tensors (each row, N <= BLOCK_N, in one program; a longer row fails the launch: rowFits), in f32 with one
 * rounding to the storage dtype. SwiGLU: act = silu. GeGLU: act = gelu (the exact form, with erf).
 */
import { type Dtype, f32, input, kernel, load, output, store } from '../../dsl/index.js';
import { ACTIVATIONS } from '../activations.js';
import { rowFits, rowOf } from './row.js';

function gluRows(name: string, d: Dtype, activation: 'silu' | 'gelu') {
  return kernel(
    `${name}_${d.name}`,
    { a: input(d, ['M', 'N']), g: input(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ a, g, y }, { BLOCK_N }) => {
      const { row, cols, ok } = rowOf(a, BLOCK_N);
      const at = load(a, [row, cols], { mask: ok }).to(f32);
      const out = ACTIVATIONS[activation](at).mul(load(g, [row, cols], { mask: ok }).to(f32));
      store(y, [row, cols], out.to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192 }, grid: ({ M }) => [M], requires: rowFits, shapes: { M: 4096, N: 8192 } },
  );
}

export const swigluRows = (d: Dtype) => gluRows('swiglu', d, 'silu');
export const gegluRows = (d: Dtype) => gluRows('geglu', d, 'gelu');

/** The float64 reference, elementwise: act(a) · g. */
export function gluReference(a: ArrayLike<number>, g: ArrayLike<number>, act: (x: number) => number): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => act(a[i]!) * g[i]!);
}
