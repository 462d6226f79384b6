import fc from 'fast-check';
import { Layout, LayoutError, complement, flattenLayout, makeLayout, parseLayout } from '../../../compiler/layout/index.js';
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
    // Injective, but not stacked: a stride inside the extent below it does not by itself mean a collision.
    expect(() => complement(L('(2,2,3):(1,4,6)'))).toThrow(expect.objectContaining({ condition: 'not-complementable' }));
    expect(() => complement(L('(3,2):(2,3)'))).toThrow(expect.objectContaining({ condition: 'not-complementable' }));
    expect(() => complement(L('(2,3,2):(1,2,3)'))).toThrow(expect.objectContaining({ condition: 'not-injective' }));
  });

  test('the cotarget is a positive integer, and A a layout', () => {
    for (const m of [2.5, 0, -4, Number.NaN, '4']) {
      expect(() => complement(L('4:1'), m as number)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    }
    expect(() => complement('4:1' as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
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

  test('any layout: a complement exactly when A stacks, else not-injective or not-complementable as brute force says', () => {
    const seen = { complement: 0, 'not-injective': 0, 'not-complementable': 0 };
    fc.assert(
      fc.property(anyLayout, (a) => {
        const injective = isInjectiveByEnumeration(a);
        let c: Layout;
        try {
          c = complement(a, 64);
        } catch (e) {
          expect(e).toBeInstanceOf(LayoutError);
          const condition = (e as LayoutError).condition;
          expect(condition).toBe(injective ? 'not-complementable' : 'not-injective');
          seen[condition as keyof typeof seen]++;
          return;
        }
        seen.complement++;
        expect(injective).toBe(true);
        const imageA = new Set(domain(a).map((i) => a.at(i)));
        domain(c).slice(1).forEach((j) => expect(imageA.has(c.at(j))).toBe(false));
      }),
      { numRuns: 300 },
    );
    expect(seen.complement).toBeGreaterThan(0);
    expect(seen['not-injective']).toBeGreaterThan(0);
    expect(seen['not-complementable']).toBeGreaterThan(0);
  });
});

/** Whether A, its broadcast (stride-0) modes left out as complement leaves them out, reaches each offset once. */
function isInjectiveByEnumeration(a: Layout): boolean {
  const leaves = flattenLayout(a).modes();
  const moving = new Layout(
    leaves.map((m) => (m.stride === 0 ? 1 : m.shape)),
    leaves.map((m) => m.stride),
  );
  const offsets = domain(moving).map((i) => moving.at(i));
  return new Set(offsets).size === offsets.length;
}
