/** The float64 reference the low-bit kernels are checked against. */
import type { QuantizedWeight } from './quantize.js';

/** The float64 reference of the low-bit GEMV and GEMM: y = x · dequantize(W)ᵀ with the same grouping (x as given, y unrounded). */
export function lowbitMatmulReference(x: Float64Array, m: number, q: QuantizedWeight, codes: Float64Array): Float64Array {
  const groups = q.k / q.group;
  const y = new Float64Array(m * q.n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < q.n; j++) {
      let total = 0;
      for (let g = 0; g < groups; g++) {
        const zero = q.zeros?.[j * groups + g] ?? 0;
        let part = 0;
        for (let kk = g * q.group; kk < (g + 1) * q.group; kk++) part += x[i * q.k + kk]! * (codes[j * q.k + kk]! - zero);
        total += part * q.scales[j * groups + g]!;
      }
      y[i * q.n + j] = total;
    }
  }
  return y;
}
