/**
 * Flash-attention forward: o = softmax(q·kᵀ · SCALE [+ causal mask]) · v for q, k, v, o [B, H, S, D]
 * (D <= BLOCK_D). One program per (query block of BM rows, batch · head): it walks the keys in blocks
 * of BN, keeping per query row the running maximum m, the running sum l of exp(s − m) and the
 * unnormalized output, all rescaled by exp(m_old − m_new) when the maximum grows, so the S x S scores
 * never leave registers. Causal: a query sees the keys at or before its position, and the walk stops at
 * the block holding the diagonal. In f32 whatever the storage dtype; one rounding at the store. SCALE
 * is 1/√64 by default: pass 1/√D for another head dim, and BLOCK_D >= D (a wider head fails the launch, naming D and BLOCK_D).
 *
 * Every query row sees at least key 0, in the first key block, so its maximum is finite from the first
 * step on (no exp(−inf − (−inf))).
 *
 * With 16-bit storage (bf16, f16) both dots take 16-bit operands, as FlashAttention-2 arranges, so that
 * they run on tensor cores (CUDA's mma.sync): SCALE multiplies the scores after q·kᵀ rather than q
 * before it, and p is rounded to the storage dtype for p·v (its row sums l stay in f32). Other dtypes
 * scale q once and keep p in f32.
 */
import { type Dtype, arange, atMost, cdiv, dot, gridMul, exp, f32, forRange, full, input, kernel, load, minimum, output, programId, store, where, zeros } from '../dsl/index.js';

export function flashAttention(d: Dtype, causal: boolean) {
  return kernel(
    `attention_${d.name}${causal ? '_causal' : ''}`,
    { q: input(d, ['B', 'H', 'S', 'D']), k: input(d, ['B', 'H', 'S', 'D']), v: input(d, ['B', 'H', 'S', 'D']), o: output(d, ['B', 'H', 'S', 'D']) },
    ({ q, k, v, o }, { BM, BN, BLOCK_D, SCALE }) => {
      const heads = q.dim(1);
      const [s, dim] = [q.dim(2), q.dim(3)];
      const bh = programId(1);
      const [b, h] = [bh.div(heads), bh.rem(heads)];
      const rows = programId(0).mul(BM).add(arange(BM)); // query positions [BM]
      const cols = arange(BLOCK_D).expandDims(0); // [1, BLOCK_D]
      const rowOk = rows.lt(s).expandDims(1);
      const colOk = cols.lt(dim);
      const sixteenBit = d.kind === 'float' && d.bits === 16;
      const qLoaded = load(q, [b, h, rows.expandDims(1), cols], { mask: rowOk.and(colOk) }).to(f32); // [BM, BLOCK_D]
      const qs = sixteenBit ? qLoaded : qLoaded.mul(SCALE);
      const end = causal ? minimum(s, programId(0).add(1).mul(BM)) : s;
      const [, l, acc] = forRange(0, end, BN, [full([BM], -Infinity, f32), zeros([BM], f32), zeros([BM, BLOCK_D], f32)], (k0, [mPrev, lPrev, accPrev]) => {
        const keys = k0.add(arange(BN)); // [BN]
        const keyOk = keys.lt(s).expandDims(1).and(colOk); // [BN, BLOCK_D]
        const ks = load(k, [b, h, keys.expandDims(1), cols], { mask: keyOk }).to(f32);
        const vs = load(v, [b, h, keys.expandDims(1), cols], { mask: keyOk }).to(f32);
        let visible = keys.lt(s).expandDims(0).broadcastTo([BM, BN]);
        if (causal) visible = visible.and(keys.expandDims(0).le(rows.expandDims(1)));
        const qk = dot(qs, ks.T, zeros([BM, BN], f32));
        const scores = where(visible, sixteenBit ? qk.mul(SCALE) : qk, -Infinity); // [BM, BN]
        const mNext = mPrev!.maximum(scores.max(1));
        const p = exp(scores.sub(mNext.expandDims(1)));
        const rescale = exp(mPrev!.sub(mNext));
        const weights = sixteenBit ? p.to(d).to(f32) : p;
        return [mNext, lPrev!.mul(rescale).add(p.sum(1)), dot(weights, vs, accPrev!.mul(rescale.expandDims(1)))];
      });
      store(o, [b, h, rows.expandDims(1), cols], acc!.div(l!.expandDims(1)).to(d), { mask: rowOk.and(colOk) });
    },
    {
      params: { BM: 32, BN: 32, BLOCK_D: 64, SCALE: 0.125 },
      grid: ({ B, H, S }, { BM }) => [cdiv(S, BM), gridMul(B, H)],
      requires: ({ D }, { BLOCK_D }) => [atMost(D, BLOCK_D)],
      shapes: { B: 1, H: 8, S: 1024, D: 64 },
      flops: ({ B, H, S, D }) => (causal ? 2 : 4) * B * H * S * S * D,
    },
  );
}

/** The float64 reference: q, k, v row-major [b, h, s, d]. */
export function attentionReference(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, [bs, hs, s, dim]: readonly [number, number, number, number], scale: number, causal: boolean): Float64Array {
  const o = new Float64Array(bs * hs * s * dim);
  for (let bh = 0; bh < bs * hs; bh++) {
    const base = bh * s * dim;
    for (let i = 0; i < s; i++) {
      const scores = Array.from({ length: causal ? i + 1 : s }, (_, j) => {
        let dotProduct = 0;
        for (let c = 0; c < dim; c++) dotProduct += q[base + i * dim + c]! * k[base + j * dim + c]!;
        return dotProduct * scale;
      });
      const max = Math.max(...scores);
      const weights = scores.map((x) => Math.exp(x - max));
      const total = weights.reduce((a, x) => a + x, 0);
      for (let c = 0; c < dim; c++) o[base + i * dim + c] = weights.reduce((a, w, j) => a + w * v[base + j * dim + c]!, 0) / total;
    }
  }
  return o;
}
