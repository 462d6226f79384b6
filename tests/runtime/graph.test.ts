/**
 * runGraph's contract (runtime/graph.ts): inputs checked by name, dtype and shape; outputs written into
 * given tensors when asked, with mistakes named; intermediates reused between runs but never a tensor
 * the caller holds; and what compileGraph refuses as an output.
 */
import { f32, bf16 } from '../../compiler/ir/dtype.js';
import { compileGraph, graphInput } from '../../dsl/graph/index.js';
import { device } from '../../runtime/device.js';
import { runGraph } from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';

const interp = device('interp');
const x = graphInput('x', f32, [3, 5]);
const h = x.mul(2).exp(); // an intermediate of the next program: s needs h from another kernel
const program = compileGraph({ y: h.sum(-1), z: h.sub(1) }, { fuse: false });
const values = (seed: number) => Tensor.fromValues(f32, [3, 5], Array.from({ length: 15 }, (_, i) => Math.sin(seed + i)));

test('inputs are checked by name, dtype and shape', async () => {
  await expect(runGraph(interp, program, {})).rejects.toThrow('graph input x (f32[3, 5]) is not given');
  await expect(runGraph(interp, program, { x: Tensor.empty(bf16, [3, 5]) })).rejects.toThrow('graph input x: expected f32[3, 5], got bf16[3, 5]');
  await expect(runGraph(interp, program, { x: Tensor.empty(f32, [5, 3]) })).rejects.toThrow('expected f32[3, 5], got f32[5, 3]');
  await expect(runGraph(interp, program, { x: values(0), q: values(1) })).rejects.toThrow('q is not an input of the graph (its inputs: x)');
});

test('results of one run are not overwritten by the next, though intermediates are reused', async () => {
  const first = await runGraph(interp, program, { x: values(0) });
  const kept = first['z']!.toValues();
  const second = await runGraph(interp, program, { x: values(7) });
  expect(first['z']!.toValues()).toEqual(kept);
  expect(second['z']).not.toBe(first['z']);
  expect(second['z']!.toValues()).not.toEqual(kept);
});

test('outputs go into the tensors given, and mistakes are named', async () => {
  const z = Tensor.empty(f32, [3, 5]);
  const out = await runGraph(interp, program, { x: values(0) }, { outputs: { z } });
  expect(out['z']).toBe(z);
  expect(z.toValues()).toEqual((await runGraph(interp, program, { x: values(0) }))['z']!.toValues());
  await expect(runGraph(interp, program, { x: values(0) }, { outputs: { w: z } })).rejects.toThrow('w is not an output of the graph (its outputs: y, z)');
  await expect(runGraph(interp, program, { x: values(0) }, { outputs: { y: z } })).rejects.toThrow('output y: expected a Tensor f32[3]');
  const feed = values(0);
  await expect(runGraph(interp, program, { x: feed }, { outputs: { z: feed } })).rejects.toThrow("output z: the tensor's memory is also an input's");
  // Another tensor over the same memory is refused as well (review: only the same object was).
  const view = Tensor.fromStorage(f32, [3, 5], feed.storage);
  await expect(runGraph(interp, program, { x: feed }, { outputs: { z: view } })).rejects.toThrow("output z: the tensor's memory is also an input's");
  const twice = compileGraph({ a: x.exp(), b: x.neg() });
  const t = Tensor.empty(f32, [3, 5]);
  await expect(runGraph(interp, twice, { x: feed }, { outputs: { a: t, b: t } })).rejects.toThrow('output b: the tensor is given for another output too');
  const e = x.exp();
  const same = compileGraph({ a: e, b: e });
  await expect(runGraph(interp, same, { x: feed }, { outputs: { a: t, b: Tensor.empty(f32, [3, 5]) } })).rejects.toThrow('output b is the same value as another output');
  const both = await runGraph(interp, same, { x: feed }, { outputs: { a: t } });
  expect(both['a']).toBe(t);
  expect(both['b']).toBe(t);
});

test('an input, or a transposed input, is not an output', () => {
  expect(() => compileGraph({ y: x })).toThrow('output y is the graph input x itself: nothing computes it');
  expect(() => compileGraph({ y: x.T })).toThrow('output y is the graph input x.T itself');
});

test('feeds and outputs that are not records of tensors are named, not TypeErrors', async () => {
  await expect(runGraph(interp, program, undefined as never)).rejects.toThrow('graph inputs: expected a record of tensors by input name, got nothing');
  await expect(runGraph(interp, program, { x: values(0) }, { outputs: 3 as never })).rejects.toThrow('graph outputs: expected a record of tensors by output name, got 3');
});
