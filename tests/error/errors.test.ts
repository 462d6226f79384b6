/**
 * Programs that must be rejected when the kernel is built, each in tests/error/cases/ with the exact
 * message expected (as Halide's test/error does): `expected` is the whole message, or `pattern` a
 * regular expression for messages that name generated values.
 */
import { readdirSync } from 'node:fs';
import { IrError } from '../../compiler/ir/errors.js';

interface ErrorCase {
  readonly expected?: string;
  readonly pattern?: RegExp;
  readonly build: () => unknown;
}

const dir = new URL('./cases/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();

describe('programs that must be rejected', () => {
  test('the suite is not empty', () => expect(files.length).toBeGreaterThanOrEqual(15));

  test.each(files)('%s', async (file) => {
    const c = (await import(new URL(file, dir).href)) as ErrorCase;
    let error: unknown;
    try {
      c.build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IrError);
    const message = (error as Error).message;
    if (c.pattern) expect(message).toMatch(c.pattern);
    else expect(message).toBe(c.expected ?? 'a case must export expected or pattern');
  });
});
