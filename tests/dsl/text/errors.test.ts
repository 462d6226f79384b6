/**
 * .tk programs that must be rejected: each file in tests/error/tk/ starts with one or more lines
 * `// expect: LINE:COL: MESSAGE-FRAGMENT`, and compiling it must report exactly those diagnostics, in
 * order (the position exactly, the message containing the fragment), rendered with the source line
 * and a caret.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { TkError, compileTk } from '../../../dsl/text/index.js';

const dir = new URL('../../error/tk/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.tk')).sort();

interface Expectation {
  readonly line: number;
  readonly column: number;
  readonly fragment: string;
}

function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of text.split('\n')) {
    const m = /^\/\/ expect: (\d+):(\d+): (.+)$/.exec(line);
    if (m === null) break;
    out.push({ line: Number(m[1]), column: Number(m[2]), fragment: m[3]! });
  }
  return out;
}

describe('.tk programs that must be rejected (tests/error/tk)', () => {
  test('the suite has at least 12 programs', () => expect(files.length).toBeGreaterThanOrEqual(12));

  test.each(files)('%s', (file) => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const expected = expectations(text);
    expect(expected.length).toBeGreaterThan(0);
    let error: unknown;
    try {
      for (const k of compileTk(text, file)) k.build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TkError);
    const { diagnostics, message } = error as TkError;
    expect(diagnostics.map((d) => `${d.line}:${d.column}`)).toEqual(expected.map((x) => `${x.line}:${x.column}`));
    const lines = text.split('\n');
    expected.forEach((x, i) => {
      const d = diagnostics[i]!;
      expect(d.file).toBe(file);
      expect(d.message).toContain(x.fragment);
      // file:line:col: message, the source line, a caret under the column.
      const caret = `${' '.repeat(x.column - 1)}^`;
      expect(message).toContain(`${file}:${x.line}:${x.column}: ${d.message}\n${lines[x.line - 1]}\n${caret}`);
    });
  });
});
