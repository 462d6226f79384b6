import fc from 'fast-check';
import {
  type IntTuple,
  Layout,
  LayoutError,
  flattenLayout,
  functionallyEqual,
  makeLayout,
  parseIntTuple,
  parseLayout,
} from '../../../compiler/layout/index.js';
import { anyLayout, domain } from './arbitraries.js';

const L = parseLayout;

describe('Layout', () => {
  test('(2,(2,2)):(4,(2,1)) evaluated at 0..7 gives 0 4 2 6 1 5 3 7', () => {
    const l = L('(2,(2,2)):(4,(2,1))');
    expect(domain(l).map((i) => l.at(i))).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
    expect(l.at([1, [1, 0]])).toBe(6);
    expect(l.at([1, 1])).toBe(6); // an integer inside a coordinate indexes the sub-shape colexicographically
  });

  test.each([
    ['8:1', 8, 8, 1, 0],
    ['(4,2):(2,1)', 8, 8, 2, 1],
    ['(2,(2,2)):(4,(2,1))', 8, 8, 2, 2],
    ['(4,3):(0,1)', 12, 3, 2, 1],
    ['(2,3):(6,1)', 6, 9, 2, 1],
  ])('%s: size %d, cosize %d, rank %d, depth %d', (text, size, cosize, r, d) => {
    const l = L(text);
    expect([l.size, l.cosize, l.rank, l.depth]).toEqual([size, cosize, r, d]);
  });

  test('modes, concatenation and flattening', () => {
    const l = L('(2,(3,4)):(1,(2,6))');
    expect(String(l.mode(1))).toBe('(3,4):(2,6)');
    expect(l.modes().map(String)).toEqual(['2:1', '(3,4):(2,6)']);
    expect(String(makeLayout(L('2:1'), L('(3,4):(2,6)')))).toBe('(2,(3,4)):(1,(2,6))');
    expect(String(flattenLayout(l))).toBe('(2,3,4):(1,2,6)');
    expect(L('5:2').mode(0).equals(L('5:2'))).toBe(true);
    expect(() => l.mode(2)).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
  });

  test('the default stride is compact and colexicographic', () => {
    expect(String(new Layout([2, [3, 4]]))).toBe('(2,(3,4)):(1,(2,6))');
    expect(String(L('(4,8)'))).toBe('(4,8):(1,4)');
  });

  test('structural and functional equality differ', () => {
    const a = L('(2,4):(1,2)');
    const b = L('8:1');
    expect(a.equals(b)).toBe(false);
    expect(functionallyEqual(a, b)).toBe(true);
    expect(functionallyEqual(a, L('(4,2):(2,1)'))).toBe(false);
    expect(functionallyEqual(a, L('4:1'))).toBe(false);
  });

  test('printing and parsing round-trip', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const back = L(String(l));
        expect(back.equals(l)).toBe(true);
      }),
    );
    expect(String(L(' ( 2 , ( 2,2 ) ) : ( 4,(2, 1) ) '))).toBe('(2,(2,2)):(4,(2,1))');
  });

  test.each([
    ['(2,3):(1)', 'not-congruent'],
    ['(2,3', 'parse'],
    ['(2,3):(1,2', 'parse'],
    ['(2,3):(1,2) x', 'parse'],
    ['(0,3):(1,2)', 'invalid-int-tuple'],
    ['(2,3):(1,-2)', 'invalid-int-tuple'],
    ['()', 'parse'],
    ['', 'parse'],
    ['Sw<3,3,3> o (8,8):(8,1)', 'parse'],
  ])('parseLayout(%j) fails with %s', (text, condition) => {
    expect(() => L(text)).toThrow(LayoutError);
    expect(() => L(text)).toThrow(expect.objectContaining({ condition }));
  });

  test('nesting is limited to 64 levels, so that deep text is a parse error and not a stack overflow', () => {
    const nested = (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`;
    expect(L(nested(64)).depth).toBe(64);
    expect(() => L(nested(65))).toThrow(expect.objectContaining({ condition: 'parse' }));
    expect(() => L(nested(1e5))).toThrow(expect.objectContaining({ condition: 'parse' }));
    expect(() => parseIntTuple(nested(1e5))).toThrow(expect.objectContaining({ condition: 'parse' }));
    let deep: IntTuple = 1;
    for (let i = 0; i < 1e5; i++) deep = [deep];
    expect(() => new Layout(deep)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
  });

  test('integers past 2^53 - 1 and text that is not a string are parse errors', () => {
    expect(() => L('(2,3):(1,99999999999999999999)')).toThrow(expect.objectContaining({ condition: 'parse' }));
    expect(() => parseIntTuple('9007199254740993')).toThrow(expect.objectContaining({ condition: 'parse' }));
    expect(() => L(42 as unknown as string)).toThrow(expect.objectContaining({ condition: 'parse' }));
  });

  test('parse errors name the column', () => {
    expect(() => L('(2,3):(1,x)')).toThrow(/column 10/);
  });

  test('a size or cosize past 2^53 - 1 is refused, and so is an offset past it', () => {
    expect(() => new Layout([2, 3], [1, 2 ** 52 + 1])).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => new Layout([2 ** 30, 2 ** 30])).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => new Layout([2 ** 27, 2 ** 27], [0, 0])).toThrow(expect.objectContaining({ condition: 'too-large' }));
    const edge = new Layout(2 ** 52, 2); // cosize 2^53 - 1: every offset is exact
    expect(edge.cosize).toBe(Number.MAX_SAFE_INTEGER);
    expect(edge.at(2 ** 52 - 1)).toBe(2 ** 53 - 2);
    expect(() => edge.at(2 ** 52)).toThrow(expect.objectContaining({ condition: 'too-large' })); // past the size
  });

  test('a tuple coordinate must lie inside each mode; a single index may run on along the last mode', () => {
    const l = L('(2,3):(1,2)');
    expect(() => l.at([5, 0])).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => l.at([0, 3])).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => L('(2,(2,2)):(4,(2,1))').at([1, 4])).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => L('(2,(2,2)):(4,(2,1))').at([1, [2, 0]])).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => l.at(-1)).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => l.at(1.5)).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(l.at(9)).toBe(9); // index 9 is coordinate (1, 4): past the size, along the last mode
    expect(l.at([1, 2])).toBe(5);
  });

  test('functions that take layouts refuse other values', () => {
    expect(() => makeLayout(L('2:1'), '3:2' as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    expect(() => flattenLayout({ shape: 2, stride: 1 } as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    expect(() => functionallyEqual(L('2:1'), null as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });

  test('constructor checks its arguments', () => {
    expect(() => new Layout([2, 3], 1)).toThrow(expect.objectContaining({ condition: 'not-congruent' }));
    expect(() => new Layout(2.5)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => new Layout([])).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
  });
});
