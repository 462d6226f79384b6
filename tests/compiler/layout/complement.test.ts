import fc from 'fast-check';
import { Layout, LayoutError, complement, makeLayout, parseLayout } from '../../../compiler/layout/index.js';
import { anyLayout, domain, injectiveLayout } from './arbitraries.js';

const L = parseLayout;

describe('complement', () => {
  test.each([
    ['4:1', '6:4'],
    ['6:4', '4:1'],
    ['(4,6):(1,4)', '1:0'],
    ['4:2', '(2,3):(1,8)'],
    ['(2,4):(1,6)', '3:2'],
    ['(2,2):(1,6)', '(3,2):(2,12)'],
  ])('complement(%s, 24) = %s', (a, expected) => {
    expect(String(complement(L(a), 24))).toBe(expected);
  });

  test('ignores broadcast modes, and M defaults to 1 (the gaps only)', () => {
    expect(String(complement(L('(4,3):(1,0)'), 24))).toBe('6:4');
    expect(String(complement(L('4:2')))).toBe('2:1');
    expect(String(complement(L('(2,2):(1,8)')))).toBe('4:2');
  });

  test('refuses layouts it cannot complete', () => {
    expect(() => complement(L('(2,2):(1,1)'), 8)).toThrow(expect.objectContaining({ condition: 'not-injective' }));
    expect(() => complement(L('(3,2):(1,2)'), 8)).toThrow(expect.objectContaining({ condition: 'not-injective' }));
    expect(() => complement(L('(2,2):(1,3)'), 8)).toThrow(expect.objectContaining({ condition: 'not-complementable' }));
  });

  test('is disjoint from A, strictly ordered, and (A, C) is a bijection onto [0, size(A)·size(C)) covering M', () => {
    fc.assert(
      fc.property(injectiveLayout, fc.integer({ min: 1, max: 200 }), (a, m) => {
        const c = complement(a, m);
        const strides = c.modes().map((x) => x.stride as number);
        if (c.size > 1) strides.slice(1).forEach((s, i) => expect(s).toBeGreaterThan(strides[i]!));
        const imageA = new Set(domain(a).map((i) => a.at(i)));
        domain(c).slice(1).forEach((j) => expect(imageA.has(c.at(j))).toBe(false));
        const both = makeLayout(a, c);
        const image = domain(both).map((i) => both.at(i)).sort((x, y) => x - y);
        expect(image).toEqual(domain(both));
        expect(both.size).toBeGreaterThanOrEqual(m);
      }),
    );
  });

  test('any layout: a complement, or a typed error exactly when A is not injective or not complementable', () => {
    fc.assert(
      fc.property(anyLayout, (a) => {
        let c: Layout;
        try {
          c = complement(a, 64);
        } catch (e) {
          expect(e).toBeInstanceOf(LayoutError);
          return;
        }
        const imageA = new Set(domain(a).map((i) => a.at(i)));
        domain(c).slice(1).forEach((j) => expect(imageA.has(c.at(j))).toBe(false));
      }),
    );
  });
});
