/**
 * Property tests of the graph compiler (compiler/graph, dsl/graph, runtime/graph) over random graphs.
 *
 * Each run draws fresh graphs; every failure message names the seed and prints the graph as code
 * (TSKC_GRAPH_SEED=<seed> replays a run). A graph has inputs whose shapes broadcast against a random
 * [R, C] or [A, B, C], then random elementwise ops (transcendentals kept finite), last-axis
 * reductions, casts, matmuls (transposed inputs too) and softmax / norms, with 1-3 outputs. Checked:
 * 1. the fusion plan is valid: each computed node is in exactly one group; a group reads only graph
 *    inputs (maybe transposed) and outputs of earlier groups, so the plan is acyclic and runs in order;
 *    whatever leaves a group is among its outputs; nodes fit their group's space; row-holding groups
 *    respect maxRow / maxMatmulRow; fusing never adds groups;
 * 2. fused and unfused programs agree bit for bit on one device: every node is rounded to its dtype
 *    in both, so fusion must not change a result;
 * 3. the outputs, written over NaN poison, match the float64 reference within an error bound
 *    propagated through the graph (rounding to each node's dtype, f32 transcendentals, K-term sums).
 * Then hand-made graphs aimed at single fusion rules.
 */
import { type Dtype, bf16, f32 } from '../../../compiler/ir/dtype.js';
import type { GraphProgram } from '../../../compiler/graph/program.js';
import { type BinaryFn, type GraphNode, type UnaryFn, broadcastShape, numel, reachable, sameShape } from '../../../compiler/graph/nodes.js';
import { broadcastIndexer, evaluateReference } from '../../../compiler/graph/reference.js';
import { type Expr, graphInput } from '../../../dsl/graph/expr.js';
import { compileGraph } from '../../../dsl/graph/compile.js';
import { type Device, device } from '../../../runtime/device.js';
import { compileOnce, runGraph } from '../../../runtime/graph.js';
import { Tensor } from '../../../runtime/tensor.js';
import { freshSeed, randInt, rng } from '../../../examples/check.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

interface Limits { readonly maxRow: number; readonly maxMatmulRow: number }
interface Graph { readonly outputs: Record<string, Expr>; readonly feeds: Record<string, Tensor>; readonly limits: Limits; readonly text: string }

const SEED = process.env['TSKC_GRAPH_SEED'] ? Number(process.env['TSKC_GRAPH_SEED']) : freshSeed();
const EPS = 2 ** -23;
const last = (s: readonly number[]) => s[s.length - 1] ?? 1;
const isComputed = (n: GraphNode) => !['input', 'const', 'transpose'].includes(n.op.kind);
const broadcasts = (a: readonly number[], b: readonly number[]) => { try { return broadcastShape('', a, b).length <= 3; } catch { return false; } };
const into = (a: readonly number[], space: readonly number[]) => broadcasts(a, space) && sameShape(broadcastShape('', a, space), space);
const fail = (message: string): never => { throw new Error(message); };

type Op = [string, (e: Expr) => Expr];
const UNARY: Op[] = [
  ['tanh().exp()', (e) => e.tanh().exp()], ['abs().add(1).log()', (e) => e.abs().add(1).log()],
  ['abs().sqrt()', (e) => e.abs().sqrt()], ['abs().add(0.5).rsqrt()', (e) => e.abs().add(0.5).rsqrt()],
  ...(['neg', 'abs', 'tanh', 'erf', 'sigmoid', 'relu', 'gelu', 'silu'] as const).map((fn): Op => [`${fn}()`, (e) => e[fn]()]),
];
const ROWWISE: Op[] = [
  ['softmax()', (e) => e.softmax()], ['logSoftmax()', (e) => e.logSoftmax()], ['logsumexp()', (e) => e.logsumexp()],
  ['logsumexp({ keepDim: true })', (e) => e.logsumexp({ keepDim: true })], ['rmsNorm()', (e) => e.rmsNorm()], ['layerNorm()', (e) => e.layerNorm()],
];
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;

/** A random graph from `seed`; `small` keeps shapes and op counts down (for the C compiler). */
function randomGraph(seed: number, small: boolean): Graph {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const pool: { e: Expr; name: string }[] = [];
  /** A node passing `ok`, later ones likelier (deeper graphs). */
  const node = (ok: (e: Expr) => boolean = () => true) => { const c = pool.filter((p) => ok(p.e)); return c[Math.floor(Math.sqrt(r()) * c.length)]; };
  const lines: string[] = [];
  const feeds: Record<string, Tensor> = {};
  const add = (e: Expr, text: string) => {
    pool.push({ e, name: `v${pool.length}` });
    lines.push(`const v${pool.length - 1} = ${text}; // ${e.dtype.name}[${e.shape.join(', ')}]`);
    return pool[pool.length - 1]!;
  };
  const input = (shape: readonly number[], d: Dtype) => {
    const name = `v${pool.length}`;
    feeds[name] = Tensor.fromValues(d, shape, Array.from({ length: numel(shape) }, () => 4 * r() - 2));
    return add(graphInput(name, d, shape), `graphInput('${name}', ${d.name}, [${shape.join(', ')}])`);
  };
  const dtype = () => (r() < 0.8 ? f32 : bf16);
  const C = randInt(r, 1, small ? 24 : 70);
  // Square spaces now and then: a value per row ([R]) then has a row of columns' shape, where
  // broadcasting mistakes show.
  const lead = r() < 0.25 ? [randInt(r, 1, 3), randInt(r, 1, 4)] : [r() < 0.3 ? C : randInt(r, 1, small ? 4 : 9)];
  const variants = lead.length === 2 ? [[...lead, C], [lead[0]!, 1, C], [lead[1]!, C], [C], [...lead, 1]] : [[...lead, C], [C], [lead[0]!, 1], [1, C]];
  input([...lead, C], dtype());
  for (let i = randInt(r, 0, 2); i > 0; i--) input(pick(variants), dtype());

  for (let ops = randInt(r, small ? 2 : 3, small ? 4 : 10); ops > 0; ops--) {
    const kind = pick(['unary', 'binary', 'binary', 'reduce', 'reduce', 'cast', 'matmul', 'matmul', 'rowwise']);
    const x = node((e) => e.shape.length > 0)!;
    if (kind === 'binary') {
      const fn = pick(BINARY);
      const y = r() < 0.25 ? undefined : node((e) => broadcasts(x.e.shape, e.shape));
      if (!y) { const c = pick([0.5, -1.5, 2, 3]); add(x.e[fn](c), `${x.name}.${fn}(${c})`); }
      else if (fn === 'div') add(x.e.div(y.e.abs().add(1)), `${x.name}.div(${y.name}.abs().add(1))`);
      else add(x.e[fn](y.e), `${x.name}.${fn}(${y.name})`);
    } else if (kind === 'reduce') {
      const [fn, keepDim] = [pick(['sum', 'mean', 'max', 'min'] as const), r() < 0.5];
      add(x.e[fn](-1, { keepDim }), `${x.name}.${fn}(-1, { keepDim: ${keepDim} })`);
    } else if (kind === 'cast') {
      const d = x.e.dtype === f32 ? bf16 : f32;
      add(x.e.to(d), `${x.name}.to(${d.name})`);
    } else if (kind === 'rowwise') {
      const [text, f] = pick(ROWWISE);
      add(f(x.e), `${x.name}.${text}`);
    } else if (kind === 'matmul' && node((e) => e.shape.length === 2)) {
      const a = node((e) => e.shape.length === 2)!;
      const [m, k] = a.e.shape as [number, number];
      const n = r() < 0.3 ? k : randInt(r, 1, small ? 24 : 70); // N = K: a result can meet its operand
      const b = node((e) => e.shape.length === 2 && e.shape[0] === k && e.dtype === a.e.dtype);
      const how = r();
      if (how < 0.2 && a.e.node.op.kind === 'input') { const w = input([m, n], a.e.dtype); add(a.e.T.matmul(w.e), `${a.name}.T.matmul(${w.name})`); }
      else if (how < 0.5 && b) add(a.e.matmul(b.e), `${a.name}.matmul(${b.name})`);
      else if (how < 0.8) { const w = input([n, k], a.e.dtype); add(a.e.matmul(w.e.T), `${a.name}.matmul(${w.name}.T)`); }
      else { const w = input([k, n], a.e.dtype); add(a.e.matmul(w.e), `${a.name}.matmul(${w.name})`); }
    } else {
      const [text, f] = pick(UNARY);
      add(f(x.e), `${x.name}.${text}`);
    }
  }
  const outputs: Record<string, Expr> = { y: pool[pool.length - 1]!.e };
  const names = [`y: ${pool[pool.length - 1]!.name}`];
  for (let i = randInt(r, 0, 2); i > 0; i--) {
    const o = node((e) => isComputed(e.node) && !Object.values(outputs).includes(e));
    if (o) (outputs[`o${i}`] = o.e), names.push(`o${i}: ${o.name}`);
  }
  const reduced = reachable(Object.values(outputs).map((e) => e.node)).filter((n) => n.op.kind === 'reduce').map((n) => last(n.inputs[0]!.shape));
  const limits = { maxRow: r() < 0.5 ? 16384 : Math.max(1, ...reduced), maxMatmulRow: pick([256, 32, 8]) };
  return { outputs, feeds, limits, text: [...lines, `outputs { ${names.join(', ')} }, ${JSON.stringify(limits)}`].join('\n') };
}

/** Property 1: what a plan must be, whatever it fuses. */
function checkPlan(fused: GraphProgram, unfused: GraphProgram, { maxRow, maxMatmulRow }: Limits): void {
  const { groups, outputs } = fused.plan;
  const home = new Map<number, number>();
  groups.forEach((g, i) => {
    if (g.id !== i) fail(`group ${g.id} is at position ${i}`);
    for (const n of g.nodes) if (home.has(n.id)) fail(`node ${n.id} is in groups ${home.get(n.id)} and ${i}`); else home.set(n.id, i);
  });
  for (const n of reachable(outputs)) if (home.has(n.id) !== isComputed(n)) fail(`node ${n.id} (${n.op.kind}) is ${home.has(n.id) ? '' : 'not '}in a group`);
  for (const g of groups) {
    const own = new Set(g.nodes.map((n) => n.id));
    const rows = g.shape.slice(0, -1);
    for (const n of g.nodes) {
      for (const o of n.inputs) if (!own.has(o.id) && o.op.kind !== 'const' && !g.inputs.includes(o)) fail(`group ${g.id} reads node ${o.id} but does not list it`);
      // Computed over S (a prologue may compute a narrower operand, broadcast into S) or once per row.
      if (!(into(n.shape, g.shape) || (g.wholeRows && into(n.shape, rows)))) fail(`node ${n.id} of shape [${n.shape}] in group ${g.id} over [${g.shape}]`);
      if (n.op.kind === 'reduce' && !(g.wholeRows && sameShape(n.inputs[0]!.shape, g.shape))) fail(`reduction ${n.id} in group ${g.id} does not hold whole rows of its operand`);
      if (n.op.kind === 'matmul' && (g.kind !== 'matmul' || g.k !== n.inputs[0]!.shape[1])) fail(`matmul ${n.id} in ${g.kind} group ${g.id} (k ${g.k})`);
    }
    for (const i of g.inputs) {
      if (i.op.kind === 'input' || (i.op.kind === 'transpose' && i.inputs[0]!.op.kind === 'input')) continue;
      const p = home.get(i.id);
      if (p === undefined || p >= g.id || !groups[p]!.outputs.includes(i)) fail(`group ${g.id} reads node ${i.id}, which is not an output of an earlier group (it is in ${p})`);
    }
    const whole = (o: GraphNode) => sameShape(o.shape, g.shape) || (g.wholeRows && (sameShape(o.shape, rows) || sameShape(o.shape, [...rows, 1])));
    for (const o of g.outputs) if (!whole(o)) fail(`group ${g.id} over [${g.shape}] writes node ${o.id} of shape [${o.shape}]`);
    if ((g.kind === 'rows' || g.wholeRows) && last(g.shape) > (g.kind === 'matmul' ? maxMatmulRow : maxRow)) fail(`group ${g.id} holds rows of ${last(g.shape)}`);
  }
  for (const o of outputs) if (!groups[home.get(o.id)!]!.outputs.includes(o)) fail(`graph output ${o.id} is not written by its group`);
  if (groups.length > unfused.plan.groups.length) fail(`${groups.length} fused groups, ${unfused.plan.groups.length} unfused`);
}

/**
 * a * b for error terms, where a bound may be infinite (no bound: an exp that overflows, a division by
 * what may be zero) and the other factor exactly 0: the term is then 0, not NaN (a NaN bound failed
 * every comparison, and a value within any bound with it).
 */
const times = (a: number, b: number) => (a === 0 || b === 0 ? 0 : a * b);

/** Per element, how far a correct f32 kernel may be from the reference: first-order error propagation. */
function errorBounds(nodes: readonly GraphNode[], value: Map<number, Float64Array>): Map<number, Float64Array> {
  const err = new Map<number, Float64Array>();
  for (const n of nodes) {
    const v = value.get(n.id)!;
    const [x, y] = n.inputs.map((o) => value.get(o.id)!);
    const [ex, ey] = n.inputs.map((o) => err.get(o.id)!);
    const e = new Float64Array(v.length);
    const op = n.op;
    if (op.kind === 'cast') e.set(ex!);
    else if (op.kind === 'unary') for (let i = 0; i < e.length; i++) e[i] = unaryError(op.fn, x![i]!, v[i]!, ex![i]!);
    else if (op.kind === 'binary') {
      const [ia, ib] = n.inputs.map((o) => broadcastIndexer(o.shape, n.shape)) as [(i: number) => number, (i: number) => number];
      for (let i = 0; i < e.length; i++) e[i] = binaryError(op.fn, x![ia(i)]!, y![ib(i)]!, ex![ia(i)]!, ey![ib(i)]!);
    } else if (op.kind === 'reduce') {
      const c = last(n.inputs[0]!.shape);
      for (let row = 0; row < e.length; row++) {
        let [sum, most, size] = [0, 0, 0];
        for (let j = row * c; j < (row + 1) * c; j++) (sum += ex![j]!), (most = Math.max(most, ex![j]!)), (size += Math.abs(x![j]!));
        e[row] = op.fn === 'max' || op.fn === 'min' ? most : (sum + c * EPS * size) / (op.fn === 'mean' ? c : 1);
      }
    } else if (op.kind === 'matmul') {
      const [k, cols] = [n.inputs[0]!.shape[1]!, n.shape[1]!];
      for (let i = 0; i < e.length; i++) {
        let [sum, size] = [0, 0];
        for (let q = 0, a = Math.floor(i / cols) * k, b = i % cols; q < k; q++, a++, b += cols) {
          (sum += times(Math.abs(x![a]!), ey![b]!) + times(Math.abs(y![b]!), ex![a]!) + times(ex![a]!, ey![b]!)), (size += Math.abs(x![a]! * y![b]!));
        }
        e[i] = sum + k * EPS * size; // and the f32 sum's rounding
      }
    }
    // The op's f32 rounding and the rounding to the node's dtype (inputs and constants are exact).
    if (isComputed(n)) for (let i = 0; i < e.length; i++) e[i]! += (2 ** -n.dtype.mantissaBits! + EPS) * Math.abs(v[i]!);
    err.set(n.id, e);
  }
  return err;
}

/** |f(x ± e) − f(x)| to first order, plus an f32 transcendental's own error (the kernels use their own). */
function unaryError(fn: UnaryFn, x: number, v: number, e: number): number {
  const own = 8 * EPS * Math.abs(v);
  switch (fn) {
    case 'neg': case 'abs': case 'relu': return e;
    case 'exp': return times(Math.exp(x + e), e) + own;
    case 'log': return x > e ? e / (x - e) + own : Infinity;
    case 'sqrt': return (e === 0 ? 0 : Math.min(Math.sqrt(e), e / (2 * Math.sqrt(Math.max(x - e, 0))))) + own; // sqrt(0) exactly: 0/0 would make the bound NaN
    case 'rsqrt': return x > e ? e / (2 * (x - e) ** 1.5) + own : Infinity;
    default: return 1.2 * e + own + 8 * EPS * Math.abs(x); // slopes ≤ 1.13; gelu's 1 + erf cancels
  }
}

function binaryError(fn: BinaryFn, a: number, b: number, ea: number, eb: number): number {
  if (fn === 'add' || fn === 'sub') return ea + eb;
  if (fn === 'mul') return times(Math.abs(a), eb) + times(Math.abs(b), ea) + times(ea, eb);
  if (fn === 'div') return Math.abs(b) > eb ? (times(ea, Math.abs(b)) + times(Math.abs(a), eb)) / (Math.abs(b) * (Math.abs(b) - eb)) : Infinity;
  return Math.max(ea, eb);
}

/** Properties 1-3 for one graph on `dev`. */
async function checkGraph(dev: Device, { outputs, feeds: given, limits }: Graph): Promise<void> {
  const fused = compileGraph(outputs, { ...limits, fuse: true });
  const unfused = compileGraph(outputs, { ...limits, fuse: false });
  const feeds = Object.fromEntries([...fused.inputs.keys()].map((k) => [k, given[k]!])); // the inputs the outputs read
  checkPlan(fused, unfused, limits);
  // Compiled up front, in parallel (the C compiler is the slow part); runGraph reuses them.
  await Promise.all([...fused.steps, ...unfused.steps].map((s) => compileOnce(dev, s.kernel)));
  const got = await runGraph(dev, fused, feeds, { poison: true });
  const plain = await runGraph(dev, unfused, feeds, { poison: true });
  const nodes = reachable(Object.values(outputs).map((e) => e.node));
  const reference = evaluateReference(nodes, Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.toValues()])));
  const value = new Map(nodes.map((n, i) => [n.id, reference[i]!]));
  const bound = errorBounds(nodes, value);
  for (const [name, e] of Object.entries(outputs)) {
    const [g, p, want, b] = [got[name]!.toValues(), plain[name]!.toValues(), value.get(e.node.id)!, bound.get(e.node.id)!];
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(g[i], p[i])) fail(`output ${name}[${i}]: fused ${g[i]}, unfused ${p[i]}`);
      if (!Object.is(g[i], want[i]) && !(Math.abs(g[i]! - want[i]!) <= 2 * b[i]! + 2 ** -126)) fail(`output ${name}[${i}] is ${g[i]}, reference ${want[i]} (bound ${2 * b[i]!})`);
    }
  }
}

async function checkRandom(dev: Device, index: number, small: boolean): Promise<void> {
  const seed = (SEED + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  let graph: Graph | undefined;
  try {
    await checkGraph(dev, (graph = randomGraph(seed, small)));
  } catch (e) {
    throw new Error(`random graph ${index} of TSKC_GRAPH_SEED=${SEED} (graph seed ${seed}) on ${dev.kind}:\n${graph?.text ?? ''}\n${e instanceof Error ? e.stack : e}`);
  }
}

const interp = device('interp');
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe(`random graphs (TSKC_GRAPH_SEED=${SEED})`, () => {
  test.each(range(0, 40))('interp graph %i', (i) => checkRandom(interp, i, false));
  testWithCompiler('random graphs on cpu').each(range(100, 15))('cpu graph %i', (i) => checkRandom(device('cpu'), i, true), 30_000);
});

/** f32 inputs of these shapes, with values from a fixed seed. */
function inputs<K extends string>(shapes: Record<K, number[]>): [Record<K, Expr>, Record<string, Tensor>] {
  const [r, entries] = [rng(7), Object.entries(shapes) as [K, number[]][]];
  const feeds = Object.fromEntries(entries.map(([k, s]) => [k, Tensor.fromValues(f32, s, Array.from({ length: numel(s) }, () => 4 * r() - 2))]));
  return [Object.fromEntries(entries.map(([k, s]) => [k, graphInput(k, f32, s)])) as Record<K, Expr>, feeds];
}
const LIMITS: Limits = { maxRow: 16384, maxMatmulRow: 256 };
const check = (outputs: Record<string, Expr>, feeds: Record<string, Tensor>, limits = LIMITS) => checkGraph(interp, { outputs, feeds, limits, text: '' });
const kinds = (outputs: Record<string, Expr>, limits = LIMITS) => compileGraph(outputs, limits).plan.groups.map((g) => g.kind);

describe('fusion rules', () => {
  test('a node whose other operand depends on the latest fitting group starts a new group (no cycle)', async () => {
    // a is in G1 [5, 12]; the row sum of a · w is in the matmul group G2, which reads G1. a + sum fits
    // G1 only, and joining G1 would make G1 read G2: it needs a group of its own, after G2, and the
    // final horizontal merge must not put it back into G1 (same space, but a path between them).
    const [{ x, w }, feeds] = inputs({ x: [5, 12], w: [12, 7] });
    const a = x.exp();
    const outputs = { y: a.add(a.matmul(w).sum(-1, { keepDim: true })) };
    await check(outputs, feeds);
    expect(kinds(outputs)).toEqual(['elementwise', 'matmul', 'elementwise']);
  });

  test('a matmul epilogue reduces rows only up to maxMatmulRow', async () => {
    const [{ x, w }, feeds] = inputs({ x: [6, 9], w: [40, 9] });
    const s = x.matmul(w.T);
    for (const [maxMatmulRow, want] of [[64, ['matmul']], [32, ['matmul', 'rows']]] as const) {
      await check({ y: s.softmax(), s }, feeds, { maxRow: 16384, maxMatmulRow });
      expect(kinds({ y: s.softmax(), s }, { maxRow: 16384, maxMatmulRow })).toEqual(want);
    }
  });

  test('groups over one space with no path between them merge, into the matmul epilogue too', async () => {
    // exp(x) and p · q are independent [4, 10] groups that e + p · q merges (the row sum joins them);
    // h, from x alone, merges at the end. Every output must still be written.
    const [{ x, p, q }, feeds] = inputs({ x: [4, 10], p: [4, 3], q: [3, 10] });
    const e = x.exp();
    const outputs = { y: e.add(p.matmul(q)).sum(-1), e, h: x.neg().maximum(0) };
    await check(outputs, feeds);
    const [group, ...rest] = compileGraph(outputs, LIMITS).plan.groups;
    expect([group!.kind, group!.wholeRows, group!.outputs.length, rest.length]).toEqual(['matmul', true, 3, 0]);
  });

  test('a value per row (reduced without keepDim) broadcasts as numpy says: along the last axis', async () => {
    // max(x) · max(r) is one value per row of x [3, 4] and of r [3, 1]: in the rows group over r,
    // max(x) must be read per row. min(s) + s, with s [3, 3], adds min(s)[j] to column j: there the
    // shape [3] of a per-row value of s is that of a row of columns, and the columns win.
    const [{ x, r, s }, feeds] = inputs({ x: [3, 4], r: [3, 1], s: [3, 3] });
    await check({ y: x.max(-1).mul(r.max(-1)) }, feeds);
    await check({ y: s.min(-1).add(s) }, feeds);
  });

  test('what review found: per-row values met by a merged group, h · W + h, an input called like an intermediate', async () => {
    const [{ a, b, x, w }, feeds] = inputs({ a: [4, 4], b: [4, 4], x: [4, 8], w: [8, 8] });
    await check({ y: b.exp().sub(a.max(-1)) }, feeds);
    await check({ y: a.max(-1, { keepDim: true }).minimum(a.sum(-1)) }, feeds);
    const h = x.mul(2);
    await check({ y: h.matmul(w).add(h) }, feeds);
    // An input named t<id> of an intermediate in the same kernel: each must stay its own argument.
    const e = a.exp();
    const named = graphInput(`t${e.node.id}`, f32, [4, 4]);
    await check({ y: e.matmul(b).add(named) }, { ...feeds, [`t${e.node.id}`]: feeds['b']! });
  });

  test('a matmul group merged into an earlier elementwise group keeps its K', async () => {
    // exp(z) (group 0) and x · w (group 1) merge, horizontally or as a node joins, into group 0, which
    // becomes a matmul group: it must take the matmul's K (this test found that it did not).
    const [{ x, w, z }, feeds] = inputs({ x: [2, 3], w: [3, 4], z: [2, 4] });
    await check({ e: z.exp(), y: x.matmul(w) }, feeds);
    await check({ y: x.matmul(w).add(z.exp()) }, feeds);
  });
});
