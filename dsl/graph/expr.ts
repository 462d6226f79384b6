/**
 * Whole-tensor expressions that stay lazy until run: each method adds a node to the graph
 * (compiler/graph/nodes.ts says what each means) and nothing is computed until compileGraph plans and
 * lowers the graph and a device runs it.
 *
 *   const x = graphInput('x', bf16, [4096, 8192]);
 *   const y = x.softmax();                        // max, sub, exp, sum, div: one kernel
 *   const h = a.matmul(w.T).add(bias).gelu();     // the bias and gelu run in the matmul's epilogue
 */
import type { Dtype } from '../../compiler/ir/dtype.js';
import { f32 } from '../../compiler/ir/dtype.js';
import { describeValue } from '../../compiler/ir/errors.js';
import {
  type BinaryFn,
  GraphError,
  type GraphNode,
  type ReduceFn,
  type UnaryFn,
  binaryNode,
  castNode,
  constNode,
  inputNode,
  matmulNode,
  reduceNode,
  transposeNode,
  unaryNode,
} from '../../compiler/graph/nodes.js';

export type ExprLike = Expr | number;

export interface ReduceOptions {
  /** Keep the reduced axis with extent 1, so the result broadcasts back against the input. */
  readonly keepDim?: boolean;
}

/**
 * The node of an expression, or undefined where `x` is none. Checked by shape, not instanceof: a graph
 * file loaded from source has its own copy of the classes.
 */
export function graphNodeOf(x: unknown): GraphNode | undefined {
  const node = (x as { node?: Partial<GraphNode> } | null | undefined)?.node;
  return node !== null && typeof node === 'object' && typeof node.id === 'number' && Array.isArray(node.shape) && Array.isArray(node.inputs) ? (node as GraphNode) : undefined;
}

/** An operand of `op`: an expression's node, or a number's constant. */
function operandOf(op: string, x: unknown): GraphNode {
  if (typeof x === 'number') return constNode(x);
  const node = graphNodeOf(x);
  if (node === undefined) throw new GraphError(`${op}: the operand must be a graph expression or a number, got ${describeValue(x)}`);
  return node;
}

export class Expr {
  constructor(readonly node: GraphNode) {}

  get shape(): readonly number[] {
    return this.node.shape;
  }

  get dtype(): Dtype {
    return this.node.dtype;
  }

  private binary(fn: BinaryFn, o: ExprLike): Expr {
    return new Expr(binaryNode(fn, this.node, operandOf(fn, o)));
  }

  private unary(fn: UnaryFn): Expr {
    return new Expr(unaryNode(fn, this.node));
  }

  private reduce(fn: ReduceFn, axis: number, options: ReduceOptions): Expr {
    return new Expr(reduceNode(fn, this.node, axis, options.keepDim ?? false));
  }

  add(o: ExprLike): Expr { return this.binary('add', o); }
  sub(o: ExprLike): Expr { return this.binary('sub', o); }
  mul(o: ExprLike): Expr { return this.binary('mul', o); }
  div(o: ExprLike): Expr { return this.binary('div', o); }
  maximum(o: ExprLike): Expr { return this.binary('max', o); }
  minimum(o: ExprLike): Expr { return this.binary('min', o); }

  neg(): Expr { return this.unary('neg'); }
  abs(): Expr { return this.unary('abs'); }
  exp(): Expr { return this.unary('exp'); }
  log(): Expr { return this.unary('log'); }
  sqrt(): Expr { return this.unary('sqrt'); }
  rsqrt(): Expr { return this.unary('rsqrt'); }
  tanh(): Expr { return this.unary('tanh'); }
  erf(): Expr { return this.unary('erf'); }
  sigmoid(): Expr { return this.unary('sigmoid'); }
  relu(): Expr { return this.unary('relu'); }
  /** The exact gelu, x/2 · (1 + erf(x/√2)). */
  gelu(): Expr { return this.unary('gelu'); }
  silu(): Expr { return this.unary('silu'); }

  /** The values converted to `d` (f32, f16 or bf16). */
  to(d: Dtype): Expr {
    return d === this.dtype ? this : new Expr(castNode(this.node, d));
  }

  // Reductions over the last axis (axis -1, or rank - 1).
  sum(axis = -1, options: ReduceOptions = {}): Expr { return this.reduce('sum', axis, options); }
  mean(axis = -1, options: ReduceOptions = {}): Expr { return this.reduce('mean', axis, options); }
  max(axis = -1, options: ReduceOptions = {}): Expr { return this.reduce('max', axis, options); }
  min(axis = -1, options: ReduceOptions = {}): Expr { return this.reduce('min', axis, options); }

  /** this [M, K] times o [K, N], accumulated in f32. */
  matmul(o: Expr): Expr {
    const other = graphNodeOf(o);
    if (other === undefined) throw new GraphError(`matmul: the operand must be a graph expression, got ${describeValue(o)}`);
    return new Expr(matmulNode(this.node, other));
  }

  /** The transpose of a rank-2 graph input (a view: no data moves). */
  get T(): Expr {
    return new Expr(transposeNode(this.node));
  }

  /** Softmax over the last axis, computed in f32 and rounded to this dtype. */
  softmax(): Expr {
    const x = this.to(f32);
    const e = x.sub(x.max(-1, { keepDim: true })).exp();
    return e.div(e.sum(-1, { keepDim: true })).to(this.dtype);
  }

  /** Log-softmax over the last axis, in f32. */
  logSoftmax(): Expr {
    const x = this.to(f32);
    const shifted = x.sub(x.max(-1, { keepDim: true }));
    return shifted.sub(shifted.exp().sum(-1, { keepDim: true }).log()).to(this.dtype);
  }

  /** log Σ exp over the last axis, in f32. */
  logsumexp(options: ReduceOptions = {}): Expr {
    const x = this.to(f32);
    const keepDim = options.keepDim ?? false;
    const sum = x.sub(x.max(-1, { keepDim: true })).exp().sum(-1, { keepDim });
    // The max again in the result's shape: one more reduction in the same kernel, no data movement.
    return sum.log().add(keepDim ? x.max(-1, { keepDim: true }) : x.max(-1)).to(this.dtype);
  }

  /** x / √(mean(x²) + eps) · weight over the last axis, in f32. */
  rmsNorm(weight?: Expr, eps = 1e-6): Expr {
    const x = this.to(f32);
    const y = x.mul(x.mul(x).mean(-1, { keepDim: true }).add(eps).rsqrt());
    return (weight ? y.mul(weight.to(f32)) : y).to(this.dtype);
  }

  /** (x − mean) / √(var + eps) · weight + bias over the last axis, in f32. */
  layerNorm(weight?: Expr, bias?: Expr, eps = 1e-5): Expr {
    const x = this.to(f32);
    const d = x.sub(x.mean(-1, { keepDim: true }));
    let y = d.mul(d.mul(d).mean(-1, { keepDim: true }).add(eps).rsqrt());
    if (weight) y = y.mul(weight.to(f32));
    if (bias) y = y.add(bias.to(f32));
    return y.to(this.dtype);
  }
}

/** A graph input called `name`, fed with a tensor of this dtype and shape when the graph runs. */
export function graphInput(name: string, dtype: Dtype, shape: readonly number[]): Expr {
  return new Expr(inputNode(name, dtype, shape));
}
