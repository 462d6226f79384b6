/**
 * The graph of whole-tensor expressions that dsl/graph builds and the fusion pass partitions: each node
 * is one op on whole tensors with a concrete shape and a float dtype.
 *
 * What a node means (reference.ts evaluates exactly this, in float64):
 * - every operand is read as f32, the op is computed in f32 arithmetic (constants are f32), and the
 *   result is rounded to the node's dtype. So a graph gives the same values however it is fused: a
 *   fused kernel rounds each node's value to its dtype where eager evaluation would have stored it.
 * - elementwise operands broadcast as numpy does (trailing dims aligned, extent-1 dims stretched);
 * - dtypes promote: f32 with anything is f32, f16 with bf16 is f32, a constant takes the other side's;
 * - reductions (sum, mean, max, min) run over the last axis, summing in f32 as `reduce` does;
 * - matmul takes a [M, K] and b [K, N] and accumulates in f32 (`dot`); a transposed input is a view.
 */
import { type Dtype, bf16, dtype, f16, f32 } from '../ir/dtype.js';
import { describeValue, reservedName, reservedNameMessage } from '../ir/errors.js';

export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

export type UnaryFn = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'sigmoid' | 'relu' | 'gelu' | 'silu';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export type ReduceFn = 'sum' | 'mean' | 'max' | 'min';


export type GraphOp =
  | { readonly kind: 'input'; readonly name: string }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'unary'; readonly fn: UnaryFn }
  | { readonly kind: 'binary'; readonly fn: BinaryFn }
  | { readonly kind: 'cast' }
  | { readonly kind: 'reduce'; readonly fn: ReduceFn; readonly keepDim: boolean }
  | { readonly kind: 'matmul' }
  | { readonly kind: 'transpose' };

export interface GraphNode {
  /** Creation order: operands always have smaller ids, so sorting by id is a topological order. */
  readonly id: number;
  readonly op: GraphOp;
  readonly inputs: readonly GraphNode[];
  readonly shape: readonly number[];
  readonly dtype: Dtype;
}

/**
 * The id counter, one for every copy of this module in the process: a graph file the command line loads
 * from source has its own copy, and a graph may mix its nodes with the installed copy's. With a counter
 * per copy two nodes could share an id, and `reachable` would drop one of them.
 */
const ids = ((globalThis as Record<symbol, unknown>)[Symbol.for('tskc.graph.nodeIds')] ??= { next: 0 }) as { next: number };

function node(op: GraphOp, inputs: readonly GraphNode[], shape: readonly number[], dtype: Dtype): GraphNode {
  // Kernels index tensors with 32-bit integers (an input's size is checked in inputNode).
  if (numel(shape) >= 2 ** 31) throw new GraphError(`${describeOp(op)}: its result [${shape.join(', ')}] has ${numel(shape)} elements, more than 32-bit indices reach`);
  return Object.freeze({ id: ids.next++, op, inputs: Object.freeze([...inputs]), shape: Object.freeze([...shape]), dtype });
}

const GRAPH_DTYPES: readonly Dtype[] = [f32, f16, bf16];

function checkDtype(what: string, d: Dtype): void {
  if (!GRAPH_DTYPES.includes(d)) throw new GraphError(`${what}: graph tensors are f32, f16 or bf16, not ${(d as Dtype | undefined)?.name ?? describeValue(d)}`);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A graph input, fed by name when the graph runs. */
export function inputNode(name: string, dtype: Dtype, shape: readonly number[]): GraphNode {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new GraphError(`input name ${JSON.stringify(name)}: expected a letter or _ then letters, digits or _`);
  // It becomes a kernel argument's name, where these are reserved (compiler/ir/errors.ts).
  if (reservedName(name)) throw new GraphError(reservedNameMessage('input name', name));
  checkDtype(`input ${name}`, dtype);
  if (!Array.isArray(shape)) throw new GraphError(`input ${name}: the shape must be an array of extents, got ${describeValue(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw new GraphError(`input ${name}: extent ${d} must be a positive integer`);
  }
  if (numel(shape) >= 2 ** 31) throw new GraphError(`input ${name}: ${numel(shape)} elements do not fit 32-bit indices`);
  return node({ kind: 'input', name }, [], shape, dtype);
}

/** A scalar constant; it takes the dtype of whatever it meets. */
export function constNode(value: number): GraphNode {
  if (typeof value !== 'number') throw new GraphError(`constant ${describeValue(value)} is not a number`);
  return node({ kind: 'const', value }, [], [], f32);
}

export function isConst(n: GraphNode): n is GraphNode & { op: { kind: 'const' } } {
  return n.op.kind === 'const';
}

/** The numpy broadcast of two shapes, or a GraphError naming the op. */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new GraphError(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (extents ${x} and ${y})`);
    return Math.max(x, y);
  });
}

function promote(a: GraphNode, b: GraphNode): Dtype {
  if (isConst(a)) return b.dtype;
  if (isConst(b) || a.dtype === b.dtype) return a.dtype;
  return f32;
}

export function unaryNode(fn: UnaryFn, x: GraphNode): GraphNode {
  if (isConst(x)) throw new GraphError(`${fn} of a constant: compute it in JavaScript`);
  return node({ kind: 'unary', fn }, [x], x.shape, x.dtype);
}

export function binaryNode(fn: BinaryFn, a: GraphNode, b: GraphNode): GraphNode {
  if (isConst(a) && isConst(b)) throw new GraphError(`${fn} of two constants: compute it in JavaScript`);
  return node({ kind: 'binary', fn }, [a, b], broadcastShape(fn, a.shape, b.shape), promote(a, b));
}

export function castNode(x: GraphNode, d: Dtype): GraphNode {
  checkDtype('cast', d);
  if (isConst(x)) throw new GraphError('cast of a constant: constants take the dtype of what they meet');
  return node({ kind: 'cast' }, [x], x.shape, d);
}

/** A reduction over `axis`, which must be the last one (-1 or rank - 1). */
export function reduceNode(fn: ReduceFn, x: GraphNode, axis: number, keepDim: boolean): GraphNode {
  const rank = x.shape.length;
  if (!Number.isInteger(axis)) throw new GraphError(`${fn}: the axis must be an integer (-1 or ${rank - 1}, the last), got ${describeValue(axis)}`);
  if (rank === 0) throw new GraphError(`${fn}: nothing to reduce in a scalar`);
  if (axis !== -1 && axis !== rank - 1) {
    throw new GraphError(`${fn} over axis ${axis} of a rank-${rank} tensor: graph reductions run over the last axis (-1); transpose the data first`);
  }
  const shape = keepDim ? [...x.shape.slice(0, -1), 1] : x.shape.slice(0, -1);
  return node({ kind: 'reduce', fn, keepDim }, [x], shape, x.dtype);
}

/** a [M, K] times b [K, N]. */
export function matmulNode(a: GraphNode, b: GraphNode): GraphNode {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new GraphError(`matmul of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]: graph matmul takes two rank-2 tensors`);
  }
  if (a.shape[1] !== b.shape[0]) throw new GraphError(`matmul of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]: inner extents ${a.shape[1]} and ${b.shape[0]} differ`);
  if (a.dtype !== b.dtype) throw new GraphError(`matmul of ${a.dtype.name} and ${b.dtype.name}: cast one side first`);
  return node({ kind: 'matmul' }, [a, b], [a.shape[0]!, b.shape[1]!], a.dtype);
}

/** The transpose of a rank-2 graph input: a view (no data moves), read with swapped strides. */
export function transposeNode(x: GraphNode): GraphNode {
  if (x.shape.length !== 2) throw new GraphError(`transpose of a rank-${x.shape.length} tensor: only rank 2 is supported`);
  if (x.op.kind !== 'input') {
    throw new GraphError('transpose of a computed tensor: graph transposes are views of inputs (transpose the input, or compute in the transposed order)');
  }
  return node({ kind: 'transpose' }, [x], [x.shape[1]!, x.shape[0]!], x.dtype);
}

/** Every node the outputs depend on, operands first (by id). */
export function reachable(outputs: readonly GraphNode[]): GraphNode[] {
  const seen = new Map<number, GraphNode>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n.id)) continue;
    seen.set(n.id, n);
    stack.push(...n.inputs);
  }
  return [...seen.values()].sort((a, b) => a.id - b.id);
}

/** The graph inputs the outputs read, by name; two different inputs with one name are an error. */
export function graphInputs(outputs: readonly GraphNode[]): Map<string, GraphNode> {
  const inputs = new Map<string, GraphNode>();
  for (const n of reachable(outputs)) {
    if (n.op.kind !== 'input') continue;
    const other = inputs.get(n.op.name);
    if (other && other !== n) throw new GraphError(`two different inputs are called ${n.op.name}`);
    inputs.set(n.op.name, n);
  }
  return inputs;
}

/** A short description of a node for plans and errors: `exp`, `sum(-1)`, `input x`. */
export function describeNode(n: GraphNode): string {
  return n.op.kind === 'cast' ? `to ${n.dtype.name}` : describeOp(n.op);
}

function describeOp(op: GraphOp): string {
  switch (op.kind) {
    case 'input':
      return `input ${op.name}`;
    case 'const':
      return String(op.value);
    case 'unary':
    case 'binary':
      return op.fn;
    case 'cast':
      return 'cast';
    case 'reduce':
      return `${op.fn}(-1)`;
    case 'matmul':
    case 'transpose':
      return op.kind;
  }
}

/**
 * The graph again, made with this module's constructors and dtypes, when it was made by another copy of
 * tskc (a graph file the command line loads from source): dtypes compare by identity. As is otherwise.
 */
export function adoptNodes(outputs: readonly GraphNode[]): GraphNode[] {
  if (reachable(outputs).every((n) => n.dtype === dtype(n.dtype.name))) return [...outputs];
  const made = new Map<number, GraphNode>();
  const adopt = (n: GraphNode): GraphNode => {
    const done = made.get(n.id);
    if (done) return done;
    const [a, b] = n.inputs.map(adopt);
    const op = n.op;
    const copy =
      op.kind === 'input' ? inputNode(op.name, dtype(n.dtype.name), n.shape)
      : op.kind === 'const' ? constNode(op.value)
      : op.kind === 'unary' ? unaryNode(op.fn, a!)
      : op.kind === 'binary' ? binaryNode(op.fn, a!, b!)
      : op.kind === 'cast' ? castNode(a!, dtype(n.dtype.name))
      : op.kind === 'reduce' ? reduceNode(op.fn, a!, -1, op.keepDim)
      : op.kind === 'matmul' ? matmulNode(a!, b!)
      : transposeNode(a!);
    made.set(n.id, copy);
    return copy;
  };
  // Operands first, so the copies keep the originals' order.
  for (const n of reachable(outputs)) adopt(n);
  return outputs.map(adopt);
}
