/**
 * The `.tk` kernel language: a small text form of the kernels the TypeScript DSL writes (see
 * docs/language.md). A file is parsed with chevrotain (syntax.ts) and lowered by calling the DSL
 * itself (lower.ts), so a kernel written both ways gives the same Tile IR.
 *
 *   const [softmax] = compileTk(readFileSync('softmax.tk', 'utf8'), 'softmax.tk');
 *   const ir = softmax.build({ BLOCK_N: 256 });
 *
 * Every problem is a TkError listing `file:line:col: message`, the source line and a caret.
 */
import type { KernelDef, Params } from '../kernel.js';
import type { ArgSpec } from '../tensor.js';
import { SourceText, type TkDiagnostic, TkError } from './errors.js';
import { TkKernelDef, asTkError, defineKernel } from './lower.js';
import { parseTk } from './syntax.js';

export { TkError, type TkDiagnostic } from './errors.js';
export { TkKernelDef } from './lower.js';

/**
 * The kernels defined in a `.tk` file, in order. Each is checked by building it with its default
 * params, so every syntax error, header error and (first) error of each kernel body is reported at
 * once, as one TkError. `build(params)` of a returned kernel reports errors as TkErrors too.
 */
export function compileTk(source: string, file = '<tk>'): KernelDef<Record<string, ArgSpec>, Params>[] {
  const text = new SourceText(source, file);
  try {
    return compile(text);
  } catch (e) {
    throw asTkError(e, text, undefined);
  }
}

function compile(text: SourceText): TkKernelDef[] {
  const { kernels, lexProblems, syntaxProblems } = parseTk(text.text);
  const problems: TkDiagnostic[] = lexProblems.map((p) =>
    text.diagnostic(p.line !== undefined && p.column !== undefined ? { line: p.line, column: p.column } : text.position(p.offset), p.message),
  );
  // Recovery is a guess: after the first error on a line the rest of the line is mostly noise.
  const lines = new Set(problems.map((p) => p.line));
  for (const e of syntaxProblems) {
    const pos = text.syntaxErrorPosition(e.token, e.previous);
    if (lines.has(pos.line) || (e.name === 'NotAllInputParsedException' && problems.length > 0)) continue;
    lines.add(pos.line);
    problems.push(text.diagnostic(pos, e.message));
  }
  if (problems.length > 0) throw text.error(problems);

  const defs: TkKernelDef[] = [];
  const names = new Map<string, number>();
  for (const k of kernels) {
    const seen = names.get(k.name.image);
    if (seen !== undefined) problems.push(text.diagnostic(text.tokenPosition(k.name), `kernel ${k.name.image} is already defined at line ${seen}`));
    else names.set(k.name.image, k.name.startLine ?? 0);
    const def = defineKernel(k, text, problems);
    if (def !== undefined) defs.push(def);
  }
  if (problems.length > 0) throw text.error(problems);

  for (const def of defs) {
    try {
      def.build();
    } catch (e) {
      if (e instanceof TkError) problems.push(...e.diagnostics);
      else throw e;
    }
  }
  if (problems.length > 0) throw text.error(problems);
  return defs;
}
