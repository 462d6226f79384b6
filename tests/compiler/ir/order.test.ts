import { type Tile, exp, f32, input, kernel, load, output, store, arange } from '../../../dsl/index.js';
import { type Op, type Value, walkOps } from '../../../compiler/ir/ir.js';
import { neverPositive } from '../../../compiler/ir/order.js';

/** For each exp in a kernel that stores exp(argument(x)) for x [8, 8], whether its argument is proven ≤ 0. */
function provenForExps(argument: (t: Tile, u: Tile) => Tile): boolean[] {
  const k = kernel('order', { x: input(f32, [8, 8]), u: input(f32, [8, 8]), y: output(f32, [8, 8]) }, ({ x, u, y }) => {
    const [i, j] = [arange(8).expandDims(1).broadcastTo([8, 8]), arange(8).expandDims(0).broadcastTo([8, 8])];
    store(y, [i, j], exp(argument(load(x, [i, j]), load(u, [i, j]))));
  }, { grid: () => [1] }).build();
  const defs = new Map<Value, Op>();
  const exps: Op[] = [];
  walkOps(k.body, (op) => {
    op.results.forEach((r) => defs.set(r, op));
    if (op.opcode === 'exp') exps.push(op);
  });
  return exps.map((op) => neverPositive(op.operands[0]!, (v) => defs.get(v)));
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
  ])('not proven: %s', (_, argument) => {
    expect(provenForExps(argument)).toEqual([false]);
  });
});
