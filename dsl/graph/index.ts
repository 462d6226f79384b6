/**
 * The graph API: whole-tensor expressions (expr.ts), lazy until compiled into fused tile kernels
 * (compile.ts, through the fusion pass of compiler/graph and the lowering in lower.ts). Run the result
 * with runGraph from tskc/runtime.
 */
export { Expr, type ExprLike, type ReduceOptions, graphInput } from './expr.js';
export { type CompileGraphOptions, type GraphOutputs, compileGraph } from './compile.js';
export { candidateParams, defaultParams, lowerGroup } from './lower.js';
export { GraphError } from '../../compiler/graph/nodes.js';
export type { FusionGroup, FusionPlan, GroupKind } from '../../compiler/graph/fusion.js';
export type { GraphProgram, GraphStep, StepParams } from '../../compiler/graph/program.js';
