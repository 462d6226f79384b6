/**
 * Rotary position embedding (the half-split form of GPT-NeoX and Llama): for x [S, H, D] (sequence,
 * heads, head dim D) and cos, sin [S, D/2], each pair (x_i, x_{i+D/2}) of head h at position s turns by
 * the angle whose cosine and sine are cos[s, i], sin[s, i]:
 *   y_i = x_i cos - x_{i+D/2} sin,   y_{i+D/2} = x_{i+D/2} cos + x_i sin.
 * x and y are taken as [S, H, 2, D/2], the same memory: an odd D cannot be passed, and a cos or sin of
 * another width is refused at launch (D2 is one symbol). One program per position and HEADS heads
 * (the last block of heads masked), D/2 <= BLOCK (a wider head fails the launch, naming D2 and BLOCK), in f32 (cos and sin
 * are f32, loaded once for the block's heads), one rounding to the storage dtype. On the CPU one head
 * a program is fastest (S=4096 H=32 D=128 in a C driver: 4.1 ms, against 6.2 with 2 heads and 6.9
 * with 8, whose tiles of several rows the C backend copies instead of reading in place).
 */
import { type Dtype, arange, atMost, cdiv, f32, input, kernel, load, output, programId, store } from '../../dsl/index.js';

export function rotaryRows(d: Dtype) {
  return kernel(
    `rotary_${d.name}`,
    { x: input(d, ['S', 'H', 2, 'D2']), cos: input(f32, ['S', 'D2']), sin: input(f32, ['S', 'D2']), y: output(d, ['S', 'H', 2, 'D2']) },
    ({ x, cos, sin, y }, { BLOCK, HEADS }) => {
      const [s, first] = [programId(0), programId(1).mul(HEADS)];
      const i = arange(BLOCK);
      const h = first.add(arange(HEADS)).expandDims(1).broadcastTo([HEADS, BLOCK]);
      const at = i.expandDims(0).broadcastTo([HEADS, BLOCK]);
      const inRow = i.lt(x.dim(3));
      const ok = at.lt(x.dim(3)).and(h.lt(x.dim(1)));
      const low = load(x, [s, h, 0, at], { mask: ok }).to(f32);
      const high = load(x, [s, h, 1, at], { mask: ok }).to(f32);
      const c = load(cos, [s, i], { mask: inRow });
      const n = load(sin, [s, i], { mask: inRow });
      store(y, [s, h, 0, at], low.mul(c).sub(high.mul(n)).to(d), { mask: ok });
      store(y, [s, h, 1, at], high.mul(c).add(low.mul(n)).to(d), { mask: ok });
    },
    { params: { BLOCK: 64, HEADS: 1 }, grid: ({ S, H }, { HEADS }) => [S, cdiv(H, HEADS)], requires: ({ D2 }, { BLOCK }) => [atMost(D2, BLOCK)], shapes: { S: 4096, H: 32, D2: 64 } },
  );
}

/** The float64 reference, x row-major [s, h, d], cos and sin [s, d/2]. */
export function rotaryReference(x: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, s: number, h: number, d: number): Float64Array {
  const y = new Float64Array(s * h * d);
  const half = d / 2;
  for (let p = 0; p < s; p++) {
    for (let q = 0; q < h; q++) {
      const base = (p * h + q) * d;
      for (let i = 0; i < half; i++) {
        const [lo, hi, c, n] = [x[base + i]!, x[base + i + half]!, cos[p * half + i]!, sin[p * half + i]!];
        y[base + i] = lo * c - hi * n;
        y[base + i + half] = hi * c + lo * n;
      }
    }
  }
  return y;
}
