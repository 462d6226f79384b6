/**
 * Diagnostics of `.tk` files: `file:line:col: message`, the source line and a caret under the column.
 */
import type { IToken } from 'chevrotain';
import { type Position, SourceText as SharedSourceText } from '../../compiler/ir/source-text.js';

export interface TkDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Every problem found in a `.tk` file (or while building one of its kernels), each rendered in `message`. */
export class TkError extends Error {
  constructor(
    message: string,
    readonly diagnostics: readonly TkDiagnostic[],
  ) {
    super(message);
    this.name = 'TkError';
  }
}

/** A problem found while lowering, at a token; turned into a TkError by the caller. */
export class LowerError extends Error {
  constructor(
    readonly token: IToken | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The shared source text, with the .tk diagnostics and error built from it. */
export class SourceText extends SharedSourceText {
  diagnostic(at: Position, message: string): TkDiagnostic {
    return { file: this.file, line: at.line, column: at.column, message };
  }

  error(problems: readonly TkDiagnostic[]): TkError {
    const unique = SharedSourceText.sorted(problems);
    return new TkError(unique.map((p) => this.render(p)).join('\n'), unique);
  }
}
