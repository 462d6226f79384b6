/**
 * Diagnostics of `.tk` files: `file:line:col: message`, the source line and a caret under the column.
 */
import { EOF, type IToken } from 'chevrotain';

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

export class SourceText {
  private readonly lines: string[];
  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    this.lines = text.split(/\r\n|\r|\n/);
  }

  /** Line and column of a character offset. */
  position(offset: number): { line: number; column: number } {
    const before = this.text.slice(0, Math.max(0, offset)).split(/\r\n|\r|\n/);
    return { line: before.length, column: before[before.length - 1]!.length + 1 };
  }

  /** Where a token starts; the end of the text for EOF and tokens inserted by recovery. */
  tokenPosition(t: IToken | undefined): { line: number; column: number } {
    if (t !== undefined && t.tokenType !== EOF) {
      if (Number.isFinite(t.startLine) && Number.isFinite(t.startColumn)) return { line: t.startLine!, column: t.startColumn! };
      if (Number.isFinite(t.startOffset) && t.startOffset >= 0) return this.position(t.startOffset);
    }
    return this.position(this.text.trimEnd().length);
  }

  /**
   * Where a syntax error goes: at the token found, or right after the previous token when the found
   * one is on a later line (a `;` missing at the end of a line belongs there, not on the next line).
   */
  syntaxErrorPosition(found: IToken, previous: IToken | undefined): { line: number; column: number } {
    const prevLine = previous?.endLine;
    const prevColumn = previous?.endColumn;
    if (prevLine !== undefined && prevColumn !== undefined && Number.isFinite(prevLine) && Number.isFinite(prevColumn)) {
      const at = this.tokenPosition(found);
      if (found.tokenType === EOF || at.line > prevLine) return { line: prevLine, column: prevColumn + 1 };
    }
    return this.tokenPosition(found);
  }

  diagnostic(at: { line: number; column: number }, message: string): TkDiagnostic {
    return { file: this.file, line: at.line, column: at.column, message };
  }

  error(problems: readonly TkDiagnostic[]): TkError {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    const unique = sorted.filter((p, i) => i === 0 || p.line !== sorted[i - 1]!.line || p.column !== sorted[i - 1]!.column || p.message !== sorted[i - 1]!.message);
    return new TkError(unique.map((p) => this.render(p)).join('\n'), unique);
  }

  /** `file:line:col: message`, the line, and a caret under the column (tabs kept, so it lines up). */
  private render(p: TkDiagnostic): string {
    const line = this.lines[p.line - 1] ?? '';
    const pad = [...line.slice(0, p.column - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
    return `${p.file}:${p.line}:${p.column}: ${p.message}\n${line}\n${pad}^`;
  }
}
