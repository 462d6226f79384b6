/**
 * Graph files for `tskc explain` and `tskc tune`: a .ts or .js file whose exports include graph
 * expressions (what graphInput(...) and its methods return). Each exported expression is an output,
 * named by its export.
 */
import type { Expr } from '../dsl/graph/expr.js';
import { rng } from '../examples/check.js';
import type { GraphProgram } from '../compiler/graph/program.js';
import { Tensor } from '../runtime/tensor.js';
import { UsageError, importScript, scriptPath } from './kernel-source.js';

/** Checked by shape: the file has its own copy of tskc's classes. */
function isExpr(x: unknown): x is Expr {
  const node = (x as { node?: { id?: unknown; op?: unknown; shape?: unknown } } | null)?.node;
  return typeof node === 'object' && node !== null && typeof node.id === 'number' && typeof node.op === 'object' && Array.isArray(node.shape);
}

/** The graph expressions `target` exports, by export name. */
export async function loadGraph(target: string): Promise<Record<string, Expr>> {
  const module = await importScript(scriptPath(target, 'exporting graph expressions'));
  const outputs = Object.fromEntries(Object.entries(module).filter(([, v]) => isExpr(v))) as Record<string, Expr>;
  if (Object.keys(outputs).length === 0) throw new UsageError(`${target} exports no graph expressions (export what graphInput(...) and its methods return)`);
  return outputs;
}

/** Random values in [-1, 1) for each input of the program, from `seed`. */
export function randomFeeds(program: GraphProgram, seed: number): Record<string, Tensor> {
  const r = rng(seed);
  const feeds: Record<string, Tensor> = {};
  for (const [name, node] of program.inputs) {
    const size = node.shape.reduce((a, b) => a * b, 1);
    feeds[name] = Tensor.fromValues(node.dtype, node.shape, Array.from({ length: size }, () => 2 * r() - 1));
  }
  return feeds;
}
