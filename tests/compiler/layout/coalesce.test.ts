import fc from 'fast-check';
import { type IntTuple, type Layout, coalesce, filter, functionallyEqual, parseIntTuple, parseLayout } from '../../../compiler/layout/index.js';
import { coalesceUnbounded } from '../../../compiler/layout/coalesce.js';
import { anyLayout, domain } from './arbitraries.js';

const L = parseLayout;

describe('coalesce', () => {
  test.each([
    ['(2,(1,6)):(1,(6,2))', '12:1'],
    ['((2,2),(2,2)):((1,4),(8,32))', '(2,4,2):(1,4,32)'],
    ['(2,4):(1,2)', '8:1'],
    ['(4,2):(2,1)', '(4,2):(2,1)'],
    ['(1,1):(7,9)', '1:0'],
    ['(2,3):(0,0)', '6:0'],
    ['(3,1,5):(1,9,3)', '15:1'],
  ])('coalesce(%s) = %s', (a, expected) => {
    expect(String(coalesce(L(a)))).toBe(expected);
  });

  test.each([
    ['(2,(1,6)):(1,(6,2))', '(1,1)', '(2,6):(1,2)'],
    ['((2,2),(3,4)):((1,2),(4,12))', '(1,1)', '(4,12):(1,4)'],
    ['((2,2),(3,4)):((1,2),(4,12))', '(1,(1,1))', '(4,(3,4)):(1,(4,12))'],
  ])('coalesce(%s, profile %s) = %s', (a, profile, expected) => {
    expect(String(coalesce(L(a), parseIntTuple(profile)))).toBe(expected);
  });

  test('a profile longer than the layout, or not an integer tuple, is refused', () => {
    expect(() => coalesce(L('(2,3):(1,2)'), parseIntTuple('(1,1,1)'))).toThrow(expect.objectContaining({ condition: 'rank-mismatch' }));
    expect(() => coalesce(L('((2,2),3):((1,2),4)'), parseIntTuple('((1,1,1),1)'))).toThrow(expect.objectContaining({ condition: 'rank-mismatch' }));
    expect(() => coalesce(L('(2,3):(1,2)'), 2.5)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => coalesce(L('(2,3):(1,2)'), [] as IntTuple)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => coalesce('8:1' as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    expect(String(coalesce(L('(2,3,4):(1,2,6)'), parseIntTuple('(1,1)')))).toBe('(2,3,4):(1,2,6)');
  });

  test('keeps the function, flattens to depth <= 1, and leaves nothing to merge', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const c = coalesce(l);
        expect(functionallyEqual(c, l)).toBe(true);
        expect(c.depth).toBeLessThanOrEqual(1);
        const modes = c.modes();
        modes.slice(1).forEach((m, i) => expect(modes[i]!.size * (modes[i]!.stride as number)).not.toBe(m.stride));
        expect(coalesce(c).equals(c)).toBe(true);
      }),
    );
  });

  test('by mode keeps the top-level shape and the function', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const profile = l.modes().map(() => 1);
        const c = coalesce(l, profile);
        expect(c.rank).toBe(l.rank === 1 && typeof l.shape === 'number' ? 1 : l.rank);
        expect(functionallyEqual(c, l)).toBe(true);
        l.modes().forEach((m, i) => expect(c.mode(i).size).toBe(m.size));
      }),
    );
  });
});

describe('coalesceUnbounded (how composition reads A)', () => {
  test.each([
    ['1:8', '1:8'],
    ['(4,1):(1,0)', '(4,1):(1,0)'],
    ['(2,1):(1,2)', '2:1'],
    ['(2,(1,6)):(1,(6,2))', '12:1'],
    ['(3,1,1):(1,9,3)', '3:1'],
    ['(3,1,1):(1,9,4)', '(3,1):(1,4)'],
  ])('coalesceUnbounded(%s) = %s', (a, expected) => {
    expect(String(coalesceUnbounded(L(a)))).toBe(expected);
  });

  test('keeps the function past the size, along the last leaf, and flattens to depth <= 1', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const c = coalesceUnbounded(l);
        const past = [...Array(3 * l.size).keys()];
        expect(past.map((i) => c.at(i))).toEqual(past.map((i) => l.at(i)));
        expect(c.depth).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('filter', () => {
  test.each([
    ['(4,3):(0,1)', '3:1'],
    ['(2,(3,4)):(1,(0,4))', '(2,4):(1,4)'],
    ['(2,2):(0,0)', '1:0'],
  ])('filter(%s) = %s', (a, expected) => {
    expect(String(filter(L(a)))).toBe(expected);
  });

  test('keeps the image of the layout', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const image = (x: { at(i: number): number; size: number }) => [...new Set(domain(x).map((i) => x.at(i)))].sort((a, b) => a - b);
        expect(image(filter(l))).toEqual(image(l));
      }),
    );
  });
});
