/**
 * The float64 reference of a graph: every node evaluated on whole arrays, in float64, its result
 * rounded to f32 and then to the node's dtype (nodes.ts says what each op means). Kernels compute in f32
 * and with their own exp/erf, so they match this to a tolerance, not bit for bit; two plans of one graph
 * (fused and not) match each other exactly on one device.
 */
import { convertNumber } from '../ir/dtype-convert.js';
import { erf } from '../interpret/scalar-math.js';
import { type BinaryFn, GraphError, type GraphNode, type UnaryFn, numel, reachable } from './nodes.js';

/** Row-major values of each input, by input name. */
export type ReferenceFeeds = Readonly<Record<string, ArrayLike<number>>>;

const UNARY: Record<UnaryFn, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: Math.tanh,
  erf,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
};

const BINARY: Record<BinaryFn, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
};

/** The values of `outputs` (row-major, float64 arrays holding values of each node's dtype). */
export function evaluateReference(outputs: readonly GraphNode[], feeds: ReferenceFeeds): Float64Array[] {
  const values = new Map<number, Float64Array>();
  for (const n of reachable(outputs)) values.set(n.id, evaluateNode(n, values, feeds));
  return outputs.map((o) => values.get(o.id)!);
}

function evaluateNode(n: GraphNode, values: Map<number, Float64Array>, feeds: ReferenceFeeds): Float64Array {
  const round = (x: number) => convertNumber(n.dtype, Math.fround(x));
  const operand = (i: number) => values.get(n.inputs[i]!.id)!;
  const out = new Float64Array(numel(n.shape));
  switch (n.op.kind) {
    case 'input': {
      const data = feeds[n.op.name];
      if (data === undefined) throw new GraphError(`no values for input ${n.op.name}`);
      if (data.length !== out.length) throw new GraphError(`input ${n.op.name}: ${data.length} values for ${out.length} elements`);
      for (let i = 0; i < out.length; i++) out[i] = convertNumber(n.dtype, data[i]!);
      return out;
    }
    case 'const':
      out[0] = Math.fround(n.op.value);
      return out;
    case 'transpose': {
      const [rows, cols] = n.inputs[0]!.shape as [number, number];
      const x = operand(0);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!;
      return out;
    }
    case 'unary':
    case 'cast': {
      const f = n.op.kind === 'unary' ? UNARY[n.op.fn] : (x: number) => x;
      const x = operand(0);
      for (let i = 0; i < out.length; i++) out[i] = round(f(x[i]!));
      return out;
    }
    case 'binary': {
      const f = BINARY[n.op.fn];
      const [a, b] = [0, 1].map((i) => broadcastIndexer(n.inputs[i]!.shape, n.shape));
      const [x, y] = [operand(0), operand(1)];
      for (let i = 0; i < out.length; i++) out[i] = round(f(x[a!(i)]!, y[b!(i)]!));
      return out;
    }
    case 'reduce': {
      const x = operand(0);
      const c = n.inputs[0]!.shape[n.inputs[0]!.shape.length - 1]!;
      for (let r = 0; r < out.length; r++) {
        const row = x.subarray(r * c, (r + 1) * c);
        const fn = n.op.fn;
        // A loop, not Math.max(...row): spreading a long row overflows the stack.
        const s = row.reduce((p, v) => (fn === 'max' ? Math.max(p, v) : fn === 'min' ? Math.min(p, v) : p + v), fn === 'max' ? -Infinity : fn === 'min' ? Infinity : 0);
        out[r] = fn === 'mean' ? round(Math.fround(s) / c) : round(s);
      }
      return out;
    }
    case 'matmul': {
      const [m, k] = n.inputs[0]!.shape as [number, number];
      const nn = n.shape[1]!;
      const [a, b] = [operand(0), operand(1)];
      for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[i * k + q]! * b[q * nn + j]!;
        out[i * nn + j] = round(s);
      }
      return out;
    }
  }
}

/** For an operand of shape `from` broadcast to `to`: the operand's flat index of each flat index of `to`. */
export function broadcastIndexer(from: readonly number[], to: readonly number[]): (i: number) => number {
  const rank = to.length;
  const extents = to.map((_, a) => from[a - (rank - from.length)] ?? 1);
  const strides = new Array<number>(rank).fill(0);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    strides[a] = extents[a] === 1 ? 0 : s;
    s *= extents[a]!;
  }
  return (i) => {
    let offset = 0;
    for (let a = rank - 1; a >= 0; a--) {
      const coordinate = i % to[a]!;
      i = (i - coordinate) / to[a]!;
      offset += coordinate * strides[a]!;
    }
    return offset;
  };
}
