/**
 * A compiled graph: the fusion plan and one tile kernel per group, with which tensor each kernel
 * argument is. dsl/graph makes programs (compileGraph), runtime/graph runs them; this file holds only
 * what both need to agree on, plus what a plan costs in memory traffic.
 */
import type { Kernel } from '../ir/ir.js';
import type { FusionGroup, FusionOptions, FusionPlan } from './fusion.js';
import { type GraphNode, describeNode, numel } from './nodes.js';

export type StepParams = Readonly<Record<string, number>>;

export interface StepArgument {
  /** The kernel argument's name. */
  readonly arg: string;
  /** The tensor it is: a graph input (for a transposed input, the input itself) or a group's node. */
  readonly node: GraphNode;
  readonly role: 'in' | 'out';
}

export interface GraphStep {
  readonly group: FusionGroup;
  readonly params: StepParams;
  readonly kernel: Kernel;
  readonly args: readonly StepArgument[];
  /** What identifies the group's computation (not its place in a graph): the key of tuned choices. */
  readonly signature: string;
  /** The tile sizes worth trying for it (the autotuner's search space), the current ones first. */
  readonly candidates: readonly StepParams[];
  /** The same step with other tile sizes. */
  rebuild(params: StepParams): GraphStep;
}

export interface GraphProgram {
  readonly plan: FusionPlan;
  readonly steps: readonly GraphStep[];
  /** The graph inputs by name. */
  readonly inputs: ReadonlyMap<string, GraphNode>;
  /** The outputs by the names they were given. */
  readonly outputs: ReadonlyMap<string, GraphNode>;
  /** The options the plan was made with. */
  readonly fusion: FusionOptions;
}

/** Bytes of one element in memory. */
export function elementBytes(n: GraphNode): number {
  return n.dtype.bits / 8;
}

/** Bytes of the whole tensor n. */
export function tensorBytes(n: GraphNode): number {
  return numel(n.shape) * elementBytes(n);
}

/** The tensor a group input reads: the input under a transpose, else the node itself. */
export function storageOf(n: GraphNode): GraphNode {
  return n.op.kind === 'transpose' ? n.inputs[0]! : n;
}

/**
 * The bytes a group moves at the least: each tensor it reads once, each it writes once. (A matmul reads
 * its operands once per tile of the other side; caches absorb much of that, and it is not counted.)
 */
export function groupBytes(group: FusionGroup): { read: number; written: number } {
  const read = new Map<number, GraphNode>();
  for (const n of group.inputs) read.set(storageOf(n).id, storageOf(n));
  return {
    read: [...read.values()].reduce((s, n) => s + tensorBytes(n), 0),
    written: group.outputs.reduce((s, n) => s + tensorBytes(n), 0),
  };
}

/**
 * A group's computation as text with the graph's ids replaced by positions, so two groups doing the
 * same work on tensors of the same shapes and dtypes have the same signature.
 */
export function groupSignature(group: FusionGroup): string {
  const local = new Map<number, string>();
  group.inputs.forEach((n, i) => local.set(n.id, `in${i}`));
  const inputs = group.inputs.map((n) => `${describeNode(n).replace(/^input .*/, 'input')} ${n.dtype.name}[${n.shape.join(',')}]`);
  const nodes = group.nodes.map((n, i) => {
    local.set(n.id, `v${i}`);
    const operands = n.inputs.map((o) => (o.op.kind === 'const' ? `const ${o.op.value}` : local.get(o.id)));
    const frame = group.rowValued.includes(n) ? ' per-row' : '';
    return `${describeNode(n)} ${n.dtype.name}[${n.shape.join(',')}](${operands.join(',')})${frame}`;
  });
  const outputs = group.outputs.map((n) => local.get(n.id));
  return [`${group.kind}[${group.shape.join(',')}]${group.k === undefined ? '' : ` k=${group.k}`}${group.wholeRows ? ' rows' : ''}`, ...inputs, ...nodes, `out ${outputs.join(',')}`].join('\n');
}
