/**
 * compileGraph: plans a graph's fusion and lowers each group to a tile kernel. The result (a
 * GraphProgram) runs on any device through runtime/graph.ts (`runGraph`), and `tskc explain` prints it.
 */
import { type FusionOptions, planFusion } from '../../compiler/graph/fusion.js';
import { GraphError, type GraphNode, adoptNodes, graphInputs } from '../../compiler/graph/nodes.js';
import { type GraphProgram, type GraphStep, type StepParams, groupSignature } from '../../compiler/graph/program.js';
import type { FusionGroup } from '../../compiler/graph/fusion.js';
import { describeValue } from '../../compiler/ir/errors.js';
import { type Expr, graphNodeOf } from './expr.js';
import { candidateParams, lowerGroup } from './lower.js';

export interface CompileGraphOptions extends FusionOptions {
  /** Tile sizes for a group, by its signature (what `tskc tune` found); the defaults otherwise. */
  readonly params?: (signature: string, group: FusionGroup) => StepParams | undefined;
}

/** The outputs, named: a record of expressions, or one expression (called `y`). */
export type GraphOutputs = Expr | Readonly<Record<string, Expr>>;

export function compileGraph(outputs: GraphOutputs, options: CompileGraphOptions = {}): GraphProgram {
  if (outputs === null || typeof outputs !== 'object') throw new GraphError(`compileGraph: the outputs must be an expression or a record of them by name, got ${describeValue(outputs)}`);
  const single = graphNodeOf(outputs);
  const given = single ? [['y', single] as const] : Object.entries(outputs).map(([k, e]) => [k, nodeOf(k, e)] as const);
  if (given.length === 0) throw new GraphError('compileGraph: no outputs');
  for (const [name, n] of given) {
    if (n.op.kind === 'input' || n.op.kind === 'transpose') throw new GraphError(`output ${name} is the graph input ${n.op.kind === 'input' ? n.op.name : `${(n.inputs[0]!.op as { name: string }).name}.T`} itself: nothing computes it`);
  }
  const adopted = adoptNodes(given.map(([, n]) => n));
  const named = new Map<string, GraphNode>(given.map(([k], i) => [k, adopted[i]!]));
  const plan = planFusion([...new Set(named.values())], options);
  const steps = plan.groups.map((group) => {
    const signature = groupSignature(group);
    const chosen = options.params?.(signature, group);
    try {
      return makeStep(group, signature, chosen ?? {});
    } catch (e) {
      // Stored tile sizes that no longer fit the group (a changed lowering): the defaults instead.
      if (chosen === undefined || !(e instanceof GraphError)) throw e;
      return makeStep(group, signature, {});
    }
  });
  const fusion = { ...(options.fuse === undefined ? {} : { fuse: options.fuse }), ...(options.maxRow === undefined ? {} : { maxRow: options.maxRow }), ...(options.maxMatmulRow === undefined ? {} : { maxMatmulRow: options.maxMatmulRow }) };
  return Object.freeze({ plan, steps: Object.freeze(steps), inputs: graphInputs([...named.values()]), outputs: named, fusion });
}

function nodeOf(name: string, e: unknown): GraphNode {
  const node = graphNodeOf(e);
  if (node === undefined) throw new GraphError(`output ${name} is not a graph expression`);
  return node;
}

function makeStep(group: FusionGroup, signature: string, params: StepParams): GraphStep {
  const { kernel, args } = lowerGroup(group, params);
  const candidates = candidateParams(group);
  const chosen = kernel.params;
  return Object.freeze({
    group,
    params: chosen,
    kernel,
    args,
    signature,
    candidates: [chosen, ...candidates.filter((c) => JSON.stringify({ ...chosen, ...c }) !== JSON.stringify(chosen))],
    rebuild: (p: StepParams) => makeStep(group, signature, p),
  });
}
