/**
 * examples/graph.ts, compiled and run on the interpreter and the C backend from fresh random inputs,
 * against the graph's float64 reference, outputs poisoned; and the plan its header describes.
 */
import { jest } from '@jest/globals';
import { evaluateReference } from '../../compiler/graph/reference.js';
import { compileGraph } from '../../dsl/graph/index.js';
import { freshSeed, randomTensor, rng } from '../../examples/check.js';
import * as graph from '../../examples/graph.js';
import { device } from '../../runtime/device.js';
import { runGraph } from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';
import { testWithCompiler } from '../runtime/cpu/harness.js';

jest.setTimeout(120_000);
const testC = testWithCompiler('examples/graph.ts on the C backend');
const outputs = { h: graph.h, out: graph.out, scores: graph.scores };

test('the plan is the one examples/graph.ts describes', () => {
  const kernels = compileGraph(outputs).steps.map((s) => [s.group.kind, s.group.nodes.filter((n) => n.op.kind === 'matmul').length, s.group.outputs.length]);
  expect(kernels).toEqual([['rows', 0, 2], ['matmul', 2, 1], ['matmul', 1, 1], ['matmul', 1, 1]]);
});

for (const [backend, it] of [['interp', test], ['cpu', testC]] as const) {
  it(`runs on ${backend} and matches the float64 reference`, async () => {
    const seed = freshSeed();
    const r = rng(seed);
    const program = compileGraph(outputs);
    const values = Object.fromEntries([...program.inputs].map(([name, n]) => [name, randomTensor(r, n.shape, -1, 1, n.dtype)]));
    const got = await runGraph(device(backend), program, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Tensor.fromHostTensor(v)])), { poison: true });
    const want = evaluateReference([graph.h.node, graph.out.node, graph.scores.node], Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.data])));
    ['h', 'out', 'scores'].forEach((name, i) => {
      const g = got[name]!.toValues();
      const w = want[i]!;
      const largest = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const bound = (name === 'scores' ? 2 ** -7 : 2 ** -16) * largest;
      for (let j = 0; j < w.length; j++) if (!(Math.abs(g[j]! - w[j]!) <= bound)) throw new Error(`${name}[${j}] = ${g[j]}, reference ${w[j]} (seed ${seed})`);
    });
  });
}
