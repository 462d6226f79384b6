/**
 * Source text for diagnostics, shared by the two chevrotain parsers (the IR text form and the .tk
 * language): positions of offsets and tokens, where a syntax error belongs, and the rendering
 * `file:line:col: message`, the source line and a caret under the column.
 */
import { EOF, type IToken } from 'chevrotain';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Diagnostic extends Position {
  readonly message: string;
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
  position(offset: number): Position {
    const before = this.text.slice(0, Math.max(0, offset)).split(/\r\n|\r|\n/);
    return { line: before.length, column: before[before.length - 1]!.length + 1 };
  }

  /** Where a token starts; the end of the text (after its last visible character) for EOF and tokens inserted by recovery. */
  tokenPosition(t: IToken | undefined): Position {
    if (t !== undefined && t.tokenType !== EOF) {
      if (Number.isFinite(t.startLine) && Number.isFinite(t.startColumn)) return { line: t.startLine!, column: t.startColumn! };
      if (Number.isFinite(t.startOffset) && t.startOffset >= 0) return this.position(t.startOffset);
    }
    return this.position(this.text.trimEnd().length);
  }

  /**
   * Where a syntax error goes: at the token found, or right after the previous token when the found
   * one is on a later line (a `]` or `;` missing at the end of a line belongs there, not on the next).
   */
  syntaxErrorPosition(found: IToken, previous: IToken | undefined): Position {
    const prevLine = previous?.endLine;
    const prevColumn = previous?.endColumn;
    if (prevLine !== undefined && prevColumn !== undefined && Number.isFinite(prevLine) && Number.isFinite(prevColumn)) {
      const at = this.tokenPosition(found);
      if (found.tokenType === EOF || at.line > prevLine) return { line: prevLine, column: prevColumn + 1 };
    }
    return this.tokenPosition(found);
  }

  /** The problems in source order, each position and message once. */
  static sorted<D extends Diagnostic>(problems: readonly D[]): D[] {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    return sorted.filter((p, i) => i === 0 || p.line !== sorted[i - 1]!.line || p.column !== sorted[i - 1]!.column || p.message !== sorted[i - 1]!.message);
  }

  /** `file:line:col: message`, the line, and a caret under the column (tabs kept, so it lines up). */
  render(p: Diagnostic): string {
    const line = this.lines[p.line - 1] ?? '';
    const pad = [...line.slice(0, p.column - 1)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
    return `${this.file}:${p.line}:${p.column}: ${p.message}\n${line}\n${pad}^`;
  }
}
