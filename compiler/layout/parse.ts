/**
 * Reading CuTe notation: integer tuples `(2,(3,4))`, layouts `(2,(2,2)):(4,(2,1))` (the stride may be
 * left out for the compact colexicographic one) and swizzled layouts `Sw<3,3,3> o 0 o (8,8):(8,1)`
 * (the offset may be left out). Whitespace is allowed between tokens. Errors name the column.
 * Tuples nest at most MAX_DEPTH (64) deep, integers are safe integers; the rest is a 'parse' error.
 */
import { LayoutError } from './errors.js';
import { type IntTuple, MAX_DEPTH, describeValue } from './int-tuple.js';
import { Layout } from './layout.js';
import { ComposedLayout, Swizzle } from './swizzle.js';

/** A cursor over the text; every method skips leading whitespace. */
class Reader {
  private pos = 0;
  private readonly text: string;

  constructor(text: unknown) {
    if (typeof text !== 'string') throw new LayoutError('parse', `expected text, got ${describeValue(text)}`);
    this.text = text;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  fail(expected: string): never {
    this.skipSpace();
    const found = this.pos < this.text.length ? `'${this.text[this.pos]}'` : 'end of text';
    const text = this.text.length > 80 ? `${this.text.slice(0, 80)}...` : this.text;
    throw new LayoutError('parse', `expected ${expected} at column ${this.pos + 1} of "${text}", found ${found}`);
  }

  peek(token: string): boolean {
    this.skipSpace();
    return this.text.startsWith(token, this.pos);
  }

  accept(token: string): boolean {
    if (!this.peek(token)) return false;
    this.pos += token.length;
    return true;
  }

  expect(token: string): void {
    if (!this.accept(token)) this.fail(`'${token}'`);
  }

  integer(): number {
    this.skipSpace();
    const integer = /-?\d+/y;
    integer.lastIndex = this.pos;
    const m = integer.exec(this.text);
    if (!m) this.fail('an integer');
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) this.fail('an integer of at most 2^53 - 1');
    this.pos += m[0].length;
    return n;
  }

  /** An integer or a tuple, inside `level` enclosing tuples. */
  intTuple(level = 0): IntTuple {
    if (!this.peek('(')) return this.integer();
    if (level >= MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} nested tuples`);
    this.expect('(');
    const items = [this.intTuple(level + 1)];
    while (this.accept(',')) items.push(this.intTuple(level + 1));
    this.expect(')');
    return items;
  }

  layout(): Layout {
    const shape = this.intTuple();
    return this.accept(':') ? new Layout(shape, this.intTuple()) : new Layout(shape);
  }

  end(): void {
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('end of text');
  }
}

/** Parses an integer tuple such as `(2,(3,4))`. */
export function parseIntTuple(text: string): IntTuple {
  const r = new Reader(text);
  const t = r.intTuple();
  r.end();
  return t;
}

/** Parses `shape:stride` (or a bare shape, with compact strides); the inverse of String(layout). */
export function parseLayout(text: string): Layout {
  const r = new Reader(text);
  if (r.peek('Sw<')) r.fail('a layout (a swizzled layout needs parseComposedLayout)');
  const l = r.layout();
  r.end();
  return l;
}

/** Parses `Sw<B,M,S> o [offset o] layout`; the inverse of String(composedLayout). */
export function parseComposedLayout(text: string): ComposedLayout {
  const r = new Reader(text);
  r.expect('Sw<');
  const bits = r.integer();
  r.expect(',');
  const base = r.integer();
  r.expect(',');
  const shift = r.integer();
  r.expect('>');
  r.expect('o');
  let offset = 0;
  if (!r.peek('(')) {
    // Either `offset o layout` or a layout whose shape is a bare integer (`Sw<..> o 8:1`).
    const n = r.integer();
    if (r.accept('o')) offset = n;
    else {
      const l = r.accept(':') ? new Layout(n, r.intTuple()) : new Layout(n);
      r.end();
      return new ComposedLayout(new Swizzle(bits, base, shift), l);
    }
  }
  const l = r.layout();
  r.end();
  return new ComposedLayout(new Swizzle(bits, base, shift), l, offset);
}
