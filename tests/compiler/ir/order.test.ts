import { type Tile, exp, f32, bf16, input, kernel, load, output, store, arange } from '../../../dsl/index.js';
import { type Kernel, type Op, type Value, walkOps } from '../../../compiler/ir/ir.js';
import { neverPositive } from '../../../compiler/ir/order.js';
import { flashAttention } from '../../../kernels/attention.js';
import { crossEntropyRows } from '../../../kernels/rows/cross-entropy.js';
import { logSoftmaxRows, softmaxRows } from '../../../kernels/rows/softmax.js';

/** Whether each exp of a built kernel (in its regions too) has an argument proven never positive. */
function provenExps(k: Kernel): boolean[] {
  const defs = new Map<Value, Op>();
  const proven: boolean[] = [];
  walkOps(k.body, (op) => {
    op.results.forEach((r) => defs.set(r, op));
    if (op.opcode === 'exp') proven.push(neverPositive(op.operands[0]!, (v) => defs.get(v)));
  });
  return proven;
}

/** For each exp in a kernel that stores exp(argument(x)) for x [8, 8], whether its argument is proven ≤ 0. */
function provenForExps(argument: (t: Tile, u: Tile) => Tile): boolean[] {
  const k = kernel('order', { x: input(f32, [8, 8]), u: input(f32, [8, 8]), y: output(f32, [8, 8]) }, ({ x, u, y }) => {
    const [i, j] = [arange(8).expandDims(1).broadcastTo([8, 8]), arange(8).expandDims(0).broadcastTo([8, 8])];
    store(y, [i, j], exp(argument(load(x, [i, j]), load(u, [i, j]))));
  }, { grid: () => [1] }).build();
  return provenExps(k);
}

describe('neverPositive: x − (a bound of x from above) is never positive', () => {
  test.each<[string, (t: Tile, u: Tile) => Tile]>([
    ['the max along rows, kept dims', (t) => t.sub(t.max(1, { keepDims: true }))],
    ['the max along rows, expanded back', (t) => t.sub(t.max(1).expandDims(1))],
    ['the max along columns (a [8] lines up with the last dim after axis 0 goes)', (t) => t.sub(t.max(0))],
    ['the max of a running max and the row max', (t, u) => t.sub(u.max(1).maximum(t.max(1)).expandDims(1))],
    ['a max of the value itself', (t, u) => t.sub(t.maximum(u))],
    ['a value minus itself', (t) => t.sub(t)],
  ])('proven: %s', (_, argument) => {
    expect(provenForExps(argument)).toEqual([true]);
  });

  test.each<[string, (t: Tile, u: Tile) => Tile]>([
    // [8] from axis 1 lines up with the last dim: element (i, j) is the max of row j, not of row i.
    ['the max along rows without its dim (transposed by the broadcast)', (t) => t.sub(t.max(1))],
    ['the max taken the other way round', (t) => t.max(1, { keepDims: true }).sub(t)],
    ['the max of another tile', (t, u) => t.sub(u.max(1, { keepDims: true }))],
    ['the min', (t) => t.sub(t.min(1, { keepDims: true }))],
    ['a min of the value itself', (t, u) => t.sub(t.minimum(u))],
    ['the sum', (t) => t.sub(t.sum(1, { keepDims: true }))],
    ['a product of the difference', (t) => t.sub(t.max(1, { keepDims: true })).mul(2)],
    ['the max of a scaled tile', (t) => t.sub(t.mul(0.5).max(1, { keepDims: true }))],
    ['a sum of the difference and a value', (t, u) => t.sub(t.max(1, { keepDims: true })).add(u)],
    ['the max along rows laid out as a column', (t) => t.sub(t.max(1, { keepDims: true }).reshape([1, 8]))],
    ['the max along rows viewed with its 1 in front', (t) => t.sub(t.max(1).expandDims(0))],
  ])('not proven: %s', (_, argument) => {
    expect(provenForExps(argument)).toEqual([false]);
  });

  // x [2, 1, 8]: extent-1 dims in the tile and in the maxima's kept shapes.
  test.each<[string, (t: Tile) => Tile, boolean]>([
    ['along the last axis, kept dims', (t) => t.sub(t.max(2, { keepDims: true })), true],
    ['along the first axis, dropped (a [1, 8] lines up after it)', (t) => t.sub(t.max(0)), true],
    ['along the last axis, dropped (a [2, 1] lines up with the wrong dims)', (t) => t.sub(t.max(2)), false],
  ])('3-D with an extent-1 dim, %s', (_, argument, proven) => {
    const k = kernel('order3', { x: input(f32, [2, 1, 8]), y: output(f32, [2, 1, 8]) }, ({ x, y }) => {
      const idx = [arange(2).reshape([2, 1, 1]).broadcastTo([2, 1, 8]), arange(1).reshape([1, 1, 1]).broadcastTo([2, 1, 8]), arange(8).reshape([1, 1, 8]).broadcastTo([2, 1, 8])];
      store(y, idx, exp(argument(load(x, idx))));
    }, { grid: () => [1] }).build();
    expect(provenExps(k)).toEqual([proven]);
  });

  // The library's exps of x - max x, a running max carried by a loop included (cross-entropy's chunks,
  // flash attention's key blocks): each one proven, so the C backend gives each the cheaper exp.
  test.each<[string, Kernel, number]>([
    ['softmax', softmaxRows(f32).build({ BLOCK_N: 64 }), 1],
    ['log-softmax', logSoftmaxRows(bf16).build({ BLOCK_N: 64 }), 1],
    ['cross-entropy', crossEntropyRows(f32).build(), 2],
    ['flash attention', flashAttention(f32, false).build(), 2],
    ['flash attention, causal', flashAttention(bf16, true).build(), 2],
  ])('every exp of the library %s is proven', (_, k, count) => {
    expect(provenExps(k)).toEqual(new Array<boolean>(count).fill(true));
  });
});

