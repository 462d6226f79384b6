/**
 * Every builtin of .tk against the TypeScript DSL call it lowers to: the same kernel written both ways
 * builds to the same IR.
 */
import { kernelDifference } from '../../../compiler/ir/equal.js';
import { ComposedLayout, Swizzle, parseComposedLayout, parseLayout, spatial } from '../../../compiler/layout/index.js';
import {
  abs, arange, barrier, dot, erf, exp, exp2, f16, f32, full, i32, input, kernel, load, log, log2, maximum, minimum, numPrograms,
  output, programId, rsqrt, scalar, sharedTile, sigmoid, sqrt, store, tanh, u8, where, zeros,
} from '../../../dsl/index.js';
import { cdiv, gridAdd, gridMul, tensor } from '../../../dsl/index.js';
import { compileTk } from '../../../dsl/text/index.js';

const only = (text: string) => {
  const defs = compileTk(text, 'builtins.tk');
  expect(defs).toHaveLength(1);
  return defs[0]!;
};

test('math, where, maximum/minimum, full, zeros, reductions, conversions and shapes', () => {
  const tk = only(`
    kernel k(x: in f32[8, 16], y: out f32[8, 16], s: f32, n: i32) grid(1) params(R = 8) {
      let r = arange(R).expand_dims(1);
      let c = arange(0, 16).expand_dims(0);
      let t = load(x[r, c]);
      let m = maximum(exp(t), log(t)) + minimum(exp2(t), log2(t)) * sqrt(abs(t)) - rsqrt(t) / tanh(t) + erf(t) % sigmoid(t);
      let w = where(t > s, m, 0.5) + full([8, 16], 2, f32) + zeros([1, 16], f32);
      let red = w.sum(1, keep_dims: true) + w.max(1, keep_dims: true) + w.min(1).expand_dims(1) + w.prod(1).expand_dims(1);
      let am = (w.argmax(0) + w.argmin(0) + n + num_programs(0) + program_id(0)).to(f32);
      let v = (red + am + (-w).T.permute(1, 0) + w.reshape([16, 8]).reshape([8, 16]) + w.sum(0).broadcast_to([8, 16])).to(f16).to(f32);
      let bits = v.bitcast(i32).bitcast(f32);
      store(y[r, c], bits);
    }`);
  const ts = kernel('k', { x: input(f32, [8, 16]), y: output(f32, [8, 16]), s: scalar(f32), n: scalar(i32) }, ({ x, y, s, n }, { R }) => {
    const r = arange(R).expandDims(1);
    const c = arange(0, 16).expandDims(0);
    const t = load(x, [r, c]);
    const m = maximum(exp(t), log(t)).add(minimum(exp2(t), log2(t)).mul(sqrt(abs(t)))).sub(rsqrt(t).div(tanh(t))).add(erf(t).rem(sigmoid(t)));
    const w = where(t.gt(s), m, 0.5).add(full([8, 16], 2, f32)).add(zeros([1, 16], f32));
    const red = w.sum(1, { keepDims: true }).add(w.max(1, { keepDims: true })).add(w.min(1).expandDims(1)).add(w.prod(1).expandDims(1));
    const am = w.argmax(0).add(w.argmin(0)).add(n).add(numPrograms(0)).add(programId(0)).to(f32);
    const v = red.add(am).add(w.neg().T.permute(1, 0)).add(w.reshape([16, 8]).reshape([8, 16])).add(w.sum(0).broadcastTo([8, 16])).to(f16).to(f32);
    store(y, [r, c], v.bitcast(i32).bitcast(f32));
  }, { params: { R: 8 }, grid: () => [1] });
  expect(kernelDifference(tk.build(), ts.build())).toBeUndefined();
  expect(kernelDifference(tk.build({ R: 1 }), ts.build({ R: 1 }))).toBeUndefined();
});

test('shared tiles, barrier, dot, layouts, small dtypes and grid arithmetic', () => {
  const tk = only(`
    // A kernel with every remaining construct.
    kernel k(a: in f16[M, 16], b: inout u8[M], c: out f32[M, 16]) grid(cdiv(M, BM) * 2 + 1 - 1, M) params(BM = 16) shapes(M = 64) {
      let rows = (program_id(0) * BM + arange(BM)).expand_dims(1);
      let cols = arange(16).expand_dims(0);
      let ok = rows < a.dim(0);
      let t = load(a[rows, cols], mask: ok, other: -inf, layout: spatial(4, 8).local(4, 2));
      let sh = shared([16, 16], f16);
      sh.store(t);
      barrier();
      let u = sh.load();
      let acc = dot(u, u.T, zeros([16, 16], f32));
      store(c[rows, cols], acc, mask: ok);
      store(b[rows.reshape([16])], load(b[rows.reshape([16])]) ^ 255);
    }`);
  const ts = kernel('k', { a: input(f16, ['M', 16]), b: tensor(u8, ['M']), c: output(f32, ['M', 16]) }, ({ a, b, c }, { BM }) => {
    const rows = programId(0).mul(BM).add(arange(BM)).expandDims(1);
    const cols = arange(16).expandDims(0);
    const ok = rows.lt(a.dim(0));
    const t = load(a, [rows, cols], { mask: ok, other: -Infinity, layout: spatial(4, 8).local(4, 2) });
    const sh = sharedTile([16, 16], f16);
    sh.store(t);
    barrier();
    const u = sh.load();
    const acc = dot(u, u.T, zeros([16, 16], f32));
    store(c, [rows, cols], acc, { mask: ok });
    store(b, [rows.reshape([16])], load(b, [rows.reshape([16])]).xor(255));
  }, { params: { BM: 16 }, grid: ({ M }, { BM }) => [{ op: 'sub', args: [gridAdd(gridMul(cdiv(M, BM), 2), 1), 1] }, M], shapes: { M: 64 } });
  expect(tk.options.shapes).toEqual({ M: 64 });
  const [x, y] = [tk.build(), ts.build()];
  expect(kernelDifference(x, y)).toBeUndefined();
});

test('memory layouts of shared tiles: cute(...) and swizzle(...)', () => {
  const tk = only(`
    kernel k(a: in f16[64, 64], c: out f16[64, 64]) grid(1) params(LD = 64) {
      let r = arange(64).expand_dims(1);
      let q = arange(64).expand_dims(0);
      let plain = shared([64, 64], f16, layout: cute((64, 64):(LD, 1)));
      let nested = shared([64, 64], f16, layout: cute((64, (8, 8)):(64, (1, LD / 8))));
      let sw = shared([64, 64], f16, layout: swizzle(3, 3, 3, (64, 64):(64, 1)));
      let off = shared([64, 64], f16, layout: swizzle(2, 4, 3, (64, 64):(1, 64), 8));
      plain.store(load(a[r, q]));
      nested.store(plain.load());
      sw.store(nested.load());
      off.store(sw.load());
      store(c[r, q], off.load());
    }`);
  const ts = kernel('k', { a: input(f16, [64, 64]), c: output(f16, [64, 64]) }, ({ a, c }, { LD }) => {
    const r = arange(64).expandDims(1);
    const q = arange(64).expandDims(0);
    const plain = sharedTile([64, 64], f16, { layout: parseLayout(`(64,64):(${LD},1)`) });
    const nested = sharedTile([64, 64], f16, { layout: parseLayout(`(64,(8,8)):(64,(1,${LD / 8}))`) });
    const sw = sharedTile([64, 64], f16, { layout: parseComposedLayout('Sw<3,3,3> o (64,64):(64,1)') });
    const off = sharedTile([64, 64], f16, { layout: new ComposedLayout(new Swizzle(2, 4, 3), parseLayout('(64,64):(1,64)'), 8) });
    plain.store(load(a, [r, q]));
    nested.store(plain.load());
    sw.store(nested.load());
    off.store(sw.load());
    store(c, [r, q], off.load());
  }, { params: { LD: 64 }, grid: () => [1] });
  expect(kernelDifference(tk.build(), ts.build())).toBeUndefined();
  expect(kernelDifference(tk.build({ LD: 128 }), ts.build({ LD: 128 }))).toBeUndefined();
  // The layouts are kept: a kernel without them differs.
  const bare = kernel('k', { a: input(f16, [64, 64]), c: output(f16, [64, 64]) }, ({ a, c }) => {
    const r = arange(64).expandDims(1);
    const q = arange(64).expandDims(0);
    const s = [0, 1, 2, 3].map(() => sharedTile([64, 64], f16));
    s[0]!.store(load(a, [r, q]));
    s[1]!.store(s[0]!.load());
    s[2]!.store(s[1]!.load());
    s[3]!.store(s[2]!.load());
    store(c, [r, q], s[3]!.load());
  }, { params: { LD: 64 }, grid: () => [1] });
  expect(kernelDifference(tk.build(), bare.build())).toBeDefined();
});
