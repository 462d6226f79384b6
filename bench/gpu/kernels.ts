/**
 * The kernels the GPU benchmarks time, written in the DSL like any user kernel: a copy, and bf16 row
 * softmax, layer norm and RMS norm computing in f32 with one block per row (rows up to BLOCK_N long).
 */
import { type Dtype, arange, bf16, cdiv, exp, f32, input, kernel, load, output, programId, rsqrt, store, where } from '../../dsl/index.js';

export const copy = kernel(
  'copy',
  { x: input(f32, ['N']), y: output(f32, ['N']) },
  ({ x, y }, { BLOCK }) => {
    const i = programId(0).mul(BLOCK).add(arange(BLOCK));
    const ok = i.lt(x.dim(0));
    store(y, [i], load(x, [i], { mask: ok }), { mask: ok });
  },
  { params: { BLOCK: 4096 }, grid: ({ N }, { BLOCK }) => [cdiv(N, BLOCK)], shapes: { N: 1 << 28 } },
);

export function softmaxRows(d: Dtype = bf16) {
  return kernel(
    `softmax_${d.name}`,
    { x: input(d, ['M', 'N']), y: output(d, ['M', 'N']) },
    ({ x, y }, { BLOCK_N }) => {
      const row = programId(0);
      const cols = arange(BLOCK_N);
      const ok = cols.lt(x.dim(1));
      const t = load(x, [row, cols], { mask: ok, other: -Infinity }).to(f32);
      const e = exp(t.sub(t.max(0)));
      store(y, [row, cols], e.div(e.sum(0)).to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192 }, grid: ({ M }) => [M], shapes: { M: 4096, N: 8192 } },
  );
}

export function layerNormRows(d: Dtype = bf16) {
  return kernel(
    `layer_norm_${d.name}`,
    { x: input(d, ['M', 'N']), w: input(d, ['N']), b: input(d, ['N']), y: output(d, ['M', 'N']) },
    ({ x, w, b, y }, { BLOCK_N, EPS }) => {
      const row = programId(0);
      const cols = arange(BLOCK_N);
      const n = x.dim(1);
      const ok = cols.lt(n);
      const t = load(x, [row, cols], { mask: ok }).to(f32);
      const count = n.to(f32);
      const mean = t.sum(0).div(count);
      const centered = where(ok, t.sub(mean), 0);
      const variance = centered.mul(centered).sum(0).div(count);
      const normalized = centered.mul(rsqrt(variance.add(EPS)));
      const out = normalized.mul(load(w, [cols], { mask: ok }).to(f32)).add(load(b, [cols], { mask: ok }).to(f32));
      store(y, [row, cols], out.to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192, EPS: 1e-5 }, grid: ({ M }) => [M], shapes: { M: 4096, N: 8192 } },
  );
}

export function rmsNormRows(d: Dtype = bf16) {
  return kernel(
    `rms_norm_${d.name}`,
    { x: input(d, ['M', 'N']), w: input(d, ['N']), y: output(d, ['M', 'N']) },
    ({ x, w, y }, { BLOCK_N, EPS }) => {
      const row = programId(0);
      const cols = arange(BLOCK_N);
      const n = x.dim(1);
      const ok = cols.lt(n);
      const t = load(x, [row, cols], { mask: ok }).to(f32);
      const meanSquare = t.mul(t).sum(0).div(n.to(f32));
      const out = t.mul(rsqrt(meanSquare.add(EPS))).mul(load(w, [cols], { mask: ok }).to(f32));
      store(y, [row, cols], out.to(d), { mask: ok });
    },
    { params: { BLOCK_N: 8192, EPS: 1e-6 }, grid: ({ M }) => [M], shapes: { M: 4096, N: 8192 } },
  );
}
