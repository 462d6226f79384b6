/**
 * The fusion pass's plans for the cases the design names: elementwise chains, reductions with their
 * prologues and epilogues, matmul epilogues (with row-wise ops only when a tile covers the row),
 * horizontal fusion, and what must not fuse. Each test states the plan it expects (kernels, what each
 * computes, what goes to memory), so a rule that changes shows here; the results of such plans are
 * checked in tests/dsl/graph.test.ts.
 */
import { planFusion, type FusionPlan } from '../../../compiler/graph/fusion.js';
import { GraphError, type GraphNode } from '../../../compiler/graph/nodes.js';
import { explainProgram } from '../../../compiler/graph/explain.js';
import { evaluateReference } from '../../../compiler/graph/reference.js';
import { compileGraph, graphInput, type Expr } from '../../../dsl/graph/index.js';
import { device } from '../../../runtime/device.js';
import { runGraph } from '../../../runtime/graph.js';
import { Tensor } from '../../../runtime/tensor.js';
import { bf16, f32, i32 } from '../../../compiler/ir/dtype.js';

const plan = (outputs: Expr[], options = {}): FusionPlan => planFusion(outputs.map((e) => e.node), options);
const kinds = (p: FusionPlan) => p.groups.map((g) => g.kind);
/** The nodes each group writes, as the expressions' nodes. */
const written = (p: FusionPlan) => p.groups.map((g) => g.outputs);

describe('vertical fusion', () => {
  test('an elementwise chain is one kernel that writes only its result', () => {
    const x = graphInput('x', f32, [100, 30]);
    const y = x.mul(2).add(1).tanh().exp();
    const p = plan([y]);
    expect(kinds(p)).toEqual(['elementwise']);
    expect(p.groups[0]!.nodes).toHaveLength(4);
    expect(written(p)).toEqual([[y.node]]);
  });

  test('softmax (max, sub, exp, sum, div) is one rows kernel: the reductions take their prologue and epilogue', () => {
    const x = graphInput('x', f32, [64, 1000]);
    const y = x.softmax();
    const p = plan([y]);
    expect(kinds(p)).toEqual(['rows']);
    expect(p.groups[0]!.wholeRows).toBe(true);
    expect(written(p)).toEqual([[y.node]]);
    expect(p.groups[0]!.inputs.map((n) => n.op)).toEqual([{ kind: 'input', name: 'x' }]);
  });

  test('a residual add fused into the RMS norm after it writes both the sum and the norm', () => {
    const [x, r, w] = [graphInput('x', bf16, [8, 512]), graphInput('r', bf16, [8, 512]), graphInput('w', bf16, [512])];
    const h = x.add(r);
    const y = h.rmsNorm(w);
    const p = plan([h, y]);
    expect(kinds(p)).toEqual(['rows']);
    expect(written(p)).toEqual([[h.node, y.node]]);
  });

  test('the mean of squares (x·x, then sum) is a reduction with its prologue, writing only one value per row', () => {
    const x = graphInput('x', f32, [5, 7, 9]);
    const s = x.mul(x).mean(-1, { keepDim: true });
    const p = plan([s]);
    expect(kinds(p)).toEqual(['rows']);
    expect(p.groups[0]!.shape).toEqual([5, 7, 9]);
    expect(written(p)).toEqual([[s.node]]);
  });

  test('a value per row is used against the row it came from without leaving the kernel (layer norm)', () => {
    const [x, w, b] = [graphInput('x', f32, [3, 40]), graphInput('w', f32, [40]), graphInput('b', f32, [40])];
    expect(kinds(plan([x.layerNorm(w, b)]))).toEqual(['rows']);
  });
});

describe('matmul epilogues', () => {
  const x = graphInput('x', bf16, [100, 64]);
  const w = graphInput('w', bf16, [300, 64]);
  const bias = graphInput('bias', bf16, [300]);
  const residual = graphInput('residual', bf16, [100, 300]);

  test('scale, bias, activation and residual run on the accumulator: one kernel, W read transposed', () => {
    const y = x.matmul(w.T).mul(0.5).add(bias).gelu().add(residual);
    const p = plan([y]);
    expect(kinds(p)).toEqual(['matmul']);
    expect(p.groups[0]!.k).toBe(64);
    expect(written(p)).toEqual([[y.node]]);
    expect(p.groups[0]!.inputs).toEqual([x.node, bias.node, residual.node, w.T.node].map((n) => expect.objectContaining({ op: n.op, shape: n.shape })));
  });

  test('a softmax after a matmul joins its epilogue when one tile covers the row, and is its own kernel when not', () => {
    const narrow = graphInput('v', bf16, [200, 64]);
    expect(kinds(plan([x.matmul(narrow.T).add(1).softmax()]))).toEqual(['matmul']);
    // N = 300 > maxMatmulRow (256): the softmax reads the matmul's result from memory.
    const wide = x.matmul(w.T).add(bias).gelu();
    const p = plan([wide.softmax()]);
    expect(kinds(p)).toEqual(['matmul', 'rows']);
    expect(written(p)[0]).toEqual([wide.node]);
    expect(kinds(plan([wide.softmax()], { maxMatmulRow: 512 }))).toEqual(['matmul']);
  });

  test('two matmuls over the same grid and K share one kernel, with the product of their results in the epilogue (SwiGLU)', () => {
    const [wg, wu] = [graphInput('wg', bf16, [300, 64]), graphInput('wu', bf16, [300, 64])];
    const y = x.matmul(wg.T).silu().mul(x.matmul(wu.T));
    const p = plan([y]);
    expect(kinds(p)).toEqual(['matmul']);
    expect(p.groups[0]!.nodes.filter((n) => n.op.kind === 'matmul')).toHaveLength(2);
    expect(written(p)).toEqual([[y.node]]);
  });

  test('a matmul of a computed operand reads it from memory: the producer is its own kernel', () => {
    const y = x.mul(2).matmul(w.T);
    const p = plan([y]);
    expect(kinds(p)).toEqual(['elementwise', 'matmul']);
    expect(p.groups[1]!.inputs).toContain(p.groups[0]!.outputs[0]);
  });
});

describe('horizontal fusion', () => {
  test('independent work over the same space shares one launch', () => {
    const [a, b] = [graphInput('a', f32, [30, 40]), graphInput('b', f32, [30, 40])];
    const p = plan([a.exp(), b.softmax(), a.add(b)]);
    expect(kinds(p)).toEqual(['rows']);
    expect(p.groups[0]!.outputs).toHaveLength(3);
  });

  test('work over different spaces does not merge', () => {
    const [a, b] = [graphInput('a', f32, [30, 40]), graphInput('b', f32, [40, 30])];
    expect(kinds(plan([a.exp(), b.exp()]))).toEqual(['elementwise', 'elementwise']);
  });

  test('a group never merges with one that depends on it', () => {
    const x = graphInput('x', f32, [16, 300]);
    const w = graphInput('w', f32, [300, 300]);
    const y = x.matmul(w); // N = 300: a reduction after it cannot join
    const m = y.max(-1, { keepDim: true }); // rows group reading y
    const z = y.exp().sub(m); // joins the rows group, which depends on the matmul; exp moves there too
    const p = plan([z]);
    expect(kinds(p)).toEqual(['matmul', 'rows']);
    expect(p.groups[1]!.inputs).toEqual([y.node]);
    expect(p.groups[0]!.outputs).toEqual([y.node]);
  });
});

describe('what review found', () => {
  test('a value per row in a group merged in is not read per row by a full consumer (numpy: along the columns)', () => {
    const [a, b] = [graphInput('a', f32, [4, 4]), graphInput('b', f32, [4, 4])];
    const n = b.exp().sub(a.max(-1)); // exp(b[i, j]) - max(a[j, :])
    const p = plan([n]);
    const home = p.groups.find((g) => g.nodes.includes(n.node))!;
    const max = n.node.inputs[1]!;
    expect(home.nodes.includes(max) && home.rowValued.includes(max)).toBe(false);
  });

  test('an operand of a matmul stays out of the matmul\'s group though its other user joins it (h · W + h)', () => {
    const [x, w] = [graphInput('x', f32, [4, 8]), graphInput('w', f32, [8, 8])];
    const h = x.mul(2);
    const p = plan([h.matmul(w).add(h)]);
    const mm = p.groups.find((g) => g.kind === 'matmul')!;
    expect(mm.nodes).not.toContain(h.node);
    expect(mm.inputs).toContain(h.node);
  });
});

describe('limits', () => {
  test('the unfused plan has one kernel per op', () => {
    const x = graphInput('x', f32, [4, 10]);
    expect(plan([x.softmax()], { fuse: false }).groups).toHaveLength(5);
  });

  test('a reduction over a row longer than a program holds is refused with the limit', () => {
    const x = graphInput('x', f32, [2, 20000]);
    expect(() => plan([x.sum()])).toThrow(/rows of 20000 elements: .* at most 16384/);
    expect(() => plan([x.sum()], { maxRow: 32768 })).not.toThrow();
  });

  test('graph build errors name the op and the shapes', () => {
    const x = graphInput('x', f32, [4, 10]);
    expect(() => x.add(graphInput('y', f32, [4, 9]))).toThrow(new GraphError('add: shapes [4, 10] and [4, 9] do not broadcast (extents 10 and 9)'));
    expect(() => x.sum(0)).toThrow(/over axis 0 .* the last axis/);
    expect(() => x.exp().T).toThrow(/transpose of a computed tensor/);
    expect(() => x.matmul(x)).toThrow(/inner extents 10 and 4 differ/);
    expect(() => graphInput('x', bf16, [2]).matmul(x)).toThrow(/rank-2/);
    expect(() => graphInput('bad name', f32, [2])).toThrow(/input name/);
    // Kernel arguments take the inputs' names: toString was found as an inherited property (a TypeError in explain and tune).
    expect(() => graphInput('toString', f32, [2])).toThrow(new GraphError('input name toString is reserved (every JavaScript object has a property of that name)'));
    expect(() => graphInput('i', i32, [2])).toThrow(/f32, f16 or bf16, not i32/);
  });

  test('a computed tensor past 32-bit indices is refused when built, naming the op', () => {
    const [col, row] = [graphInput('c', f32, [65536, 1]), graphInput('r', f32, [1, 65536])];
    expect(() => col.add(row)).toThrow(new GraphError('add: its result [65536, 65536] has 4294967296 elements, more than 32-bit indices reach'));
    expect(() => graphInput('a', f32, [50000, 2]).matmul(graphInput('b', f32, [2, 50000]))).toThrow(/^matmul: its result \[50000, 50000\]/);
  });

  test('misuse from JavaScript is a GraphError, not a TypeError', () => {
    const x = graphInput('x', f32, [4, 10]);
    const cases: [() => unknown, RegExp][] = [
      [() => x.add('1' as never), /^add: the operand must be a graph expression or a number, got "1"$/],
      [() => x.mul(undefined as never), /^mul: .* got nothing$/],
      [() => x.sub(1n as never), /^sub: .* got 1n$/],
      [() => x.matmul(3 as never), /^matmul: the operand must be a graph expression, got 3$/],
      [() => x.to(undefined as never), /^cast: graph tensors are f32, f16 or bf16, not nothing$/],
      [() => x.sum('1' as never), /^sum: the axis must be an integer \(-1 or 1, the last\), got "1"$/],
      [() => graphInput('a', f32, 5 as never), /^input a: the shape must be an array of extents, got 5$/],
      [() => graphInput('a', undefined as never, [3]), /^input a: graph tensors are f32, f16 or bf16, not nothing$/],
      [() => graphInput(7 as never, f32, [3]), /^input name 7: expected a letter/],
      [() => compileGraph(null as never), /^compileGraph: the outputs must be an expression or a record of them by name, got null$/],
      [() => compileGraph({ y: x.exp() }, { maxRow: NaN }), /^fusion option maxRow: expected a positive integer, got NaN$/],
      [() => compileGraph({ y: x.exp() }, { maxMatmulRow: -1 }), /^fusion option maxMatmulRow: expected a positive integer, got -1$/],
    ];
    for (const [f, message] of cases) {
      expect(f).toThrow(GraphError);
      expect(f).toThrow(message);
    }
  });

  test('a long chain of dependent groups plans in one pass over the pairs (review: time grew as the cube)', () => {
    const first = graphInput('h', f32, [8, 8]);
    const w = graphInput('w', f32, [8, 8]);
    let h = first;
    for (let i = 0; i < 1000; i++) h = h.matmul(w);
    const p = plan([h]);
    expect(p.groups).toHaveLength(1000);
    // Each matmul reads the one before it: dependencies first, and nothing merged.
    p.groups.forEach((g, i) => expect(g.nodes[0]!.inputs[0]).toBe(i === 0 ? first.node : p.groups[i - 1]!.nodes[0]));
  });

  test('every node of a plan is computed by exactly one group, after the groups it reads', () => {
    const [a, b, w] = [graphInput('a', f32, [20, 30]), graphInput('b', f32, [20, 30]), graphInput('w', f32, [30, 30])];
    const s = a.add(b).softmax();
    const outputs = [s, s.matmul(w).relu().add(a).layerNorm(), b.sum(-1)];
    const p = plan(outputs);
    const home = new Map<GraphNode, number>();
    for (const g of p.groups) for (const n of g.nodes) {
      expect(home.has(n)).toBe(false);
      home.set(n, g.id);
      for (const o of n.inputs) if (home.has(o) && home.get(o) !== g.id) expect(p.groups[home.get(o)!]!.outputs).toContain(o);
    }
    for (const g of p.groups) for (const i of g.inputs) if (home.has(i)) expect(home.get(i)!).toBeLessThan(g.id);
  });
});

describe('what the second review found', () => {
  test('explain prints a plan that compiled, though one kernel per op would break the row limit', () => {
    // One matmul kernel holds whole rows of 16 (maxMatmulRow); a softmax alone would need maxRow >= 16.
    const [x, w] = [graphInput('x', f32, [8, 32]), graphInput('w', f32, [32, 16])];
    const program = compileGraph({ y: x.matmul(w).softmax() }, { maxRow: 8 });
    expect(program.steps).toHaveLength(1);
    expect(explainProgram(program)).toMatch(/1 kernel \(one per op: \d+\)/);
  });

  test('explain says when an input is read both directly and transposed, and keeps intermediates apart from inputs', () => {
    const x = graphInput('x', f32, [6, 6]);
    expect(explainProgram(compileGraph({ y: x.add(x.T) }))).toContain('reads  x f32[6, 6] (and transposed)');
    expect(explainProgram(compileGraph({ y: x.T.exp() }))).toContain('reads  x f32[6, 6] (transposed)');
    // An input named like the intermediate t<id> it meets.
    const e = x.exp();
    const named = graphInput(`t${e.node.id}`, f32, [6, 6]);
    const text = explainProgram(compileGraph({ y: e.add(named).exp(), s: e.sum() }, { fuse: false }));
    expect(text).toContain(`writes t${e.node.id}_ f32[6, 6]`);
    expect(text).toContain(`reads  t${e.node.id}_ f32[6, 6], t${e.node.id} f32[6, 6]`);
  });

  test('a graph mixing expressions of two copies of tskc keeps every input (node ids were per copy)', async () => {
    // dist/ is another copy of the modules (npm test builds it first), as a graph file loaded from source is.
    const other = (await import(new URL('../../../dist/dsl/graph/index.js', import.meta.url).href)) as typeof import('../../../dsl/graph/index.js');
    const otherF32 = ((await import(new URL('../../../dist/compiler/ir/dtype.js', import.meta.url).href)) as typeof import('../../../compiler/ir/dtype.js')).f32;
    const a = other.graphInput('a', otherF32, [4]);
    const b = graphInput('b', f32, [4]);
    expect(a.node.id).not.toBe(b.node.id);
    const program = compileGraph({ y: b.add(a as unknown as Expr) });
    expect([...program.inputs.keys()].sort()).toEqual(['a', 'b']);
    const { y } = await runGraph(device('interp'), program, { a: Tensor.fromValues(f32, [4], [1, 2, 3, 4]), b: Tensor.fromValues(f32, [4], [10, 20, 30, 40]) });
    expect(y!.toValues()).toEqual(Float64Array.from([11, 22, 33, 44]));
  });

  test('the float64 reference reduces rows of any length (Math.max(...row) overflowed the stack)', () => {
    const x = graphInput('x', f32, [1, 300_000]);
    const data = Float64Array.from({ length: 300_000 }, (_, i) => Math.sin(i));
    data[123_456] = 2;
    data[234_567] = -2;
    const [max, min] = evaluateReference([x.max().node, x.min().node], { x: data });
    expect([max![0], min![0]]).toEqual([2, -2]);
  });
});
