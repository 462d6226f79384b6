import fc from 'fast-check';
import { type IntTuple, Layout, LayoutError, type Tiler, composition, makeLayout, parseLayout, product } from '../../../compiler/layout/index.js';
import { anyLayout, domain, pow2InjectiveLayout, pow2Layout } from './arbitraries.js';

const L = parseLayout;

describe('composition', () => {
  test.each([
    ['(6,2):(8,2)', '(4,3):(3,1)', '((2,2),3):((24,2),8)'],
    ['20:2', '(5,4):(4,1)', '(5,4):(8,2)'],
    ['(4,3):(3,1)', '(6,2):(2,1)', '((2,3),2):((6,1),3)'],
    ['(10,2):(16,4)', '(5,4):(1,5)', '(5,(2,2)):(16,(80,4))'],
    ['(4,2):(2,1)', '8:1', '(4,2):(2,1)'],
    ['8:1', '(4,2):(2,1)', '(4,2):(2,1)'],
    ['(4,2):(2,1)', '4:0', '4:0'],
    ['(2,4):(1,8)', '2:2', '2:8'],
    // A's last leaf is unbounded, even with size 1: its stride is the step past A's size.
    ['1:8', '4:1', '4:8'],
    ['(4,1):(1,0)', '8:1', '(4,2):(1,0)'],
    ['(2,1):(1,2)', '4:1', '4:1'],
    // A size-1 leaf of B composes to 1:0 whatever its stride.
    ['(3,4):(1,5)', '(3,1):(1,2)', '(3,1):(1,0)'],
  ])('%s ∘ %s = %s', (a, b, expected) => {
    expect(String(composition(L(a), L(b)))).toBe(expected);
  });

  test('a tiler composes mode by mode and keeps the other modes', () => {
    const a = L('(9,(4,8)):(59,(13,1))');
    expect(String(composition(a, [L('3:3'), L('(2,4):(1,8)')]))).toBe('(3,(2,4)):(177,(13,2))');
    expect(String(composition(L('(4,6,5):(1,4,24)'), [2, L('3:2')]))).toBe('(2,3,5):(1,8,24)');
    expect(() => composition(L('(4,6):(1,4)'), [2, 2, 2])).toThrow(expect.objectContaining({ condition: 'rank-mismatch' }));
  });

  test('refuses what breaks the divisibility conditions', () => {
    expect(() => composition(L('(3,4):(1,5)'), L('3:2'))).toThrow(expect.objectContaining({ condition: 'stride-divisibility' }));
    expect(() => composition(L('(4,3):(1,8)'), L('6:1'))).toThrow(expect.objectContaining({ condition: 'shape-divisibility' }));
    // Each leaf alone composes, but 1 + 1 carries out of A's first mode: A(2) = 1, not A(1) + A(1) = 0.
    expect(() => composition(L('(2,4):(0,1)'), L('(4,4):(1,1)'))).toThrow(expect.objectContaining({ condition: 'mode-overlap' }));
  });

  test('R(i) == A(B(i)) and R has the shape of B, for power-of-two A and injective B (always composable)', () => {
    fc.assert(
      fc.property(pow2Layout, pow2InjectiveLayout, (a, b0) => {
        const b = fitInto(b0, a.size);
        const r = composition(a, b);
        expect(r.size).toBe(b.size);
        domain(b).forEach((i) => expect(r.at(i)).toBe(a.at(b.at(i))));
        expect(refines(r.shape, b.shape)).toBe(true);
      }),
    );
  });

  test('R(i) == A(B(i)) past the size of A too (its last mode is unbounded), for power-of-two A and injective B', () => {
    let past = 0;
    fc.assert(
      fc.property(pow2Layout, pow2InjectiveLayout, (a, b) => {
        const r = composition(a, b);
        expect(r.size).toBe(b.size);
        expect(domain(b).map((i) => r.at(i))).toEqual(domain(b).map((i) => a.at(b.at(i))));
        if (b.cosize > a.size) past++;
      }),
    );
    expect(past).toBeGreaterThan(10);
  });

  test('a size-1 leaf of B adds no condition: it composes to 1:0', () => {
    fc.assert(
      fc.property(anyLayout, anyLayout, fc.integer({ min: 0, max: 12 }), (a, b0, d) => {
        const b = fitInto(b0, a.size);
        let r: Layout;
        try {
          r = composition(a, b);
        } catch {
          return;
        }
        const withUnit = composition(a, makeLayout(b, new Layout(1, d)));
        expect(withUnit.mode(0).equals(r)).toBe(true);
        expect(String(withUnit.mode(1))).toBe('1:0');
      }),
    );
  });

  test('arguments that are not layouts or tilers are refused', () => {
    const bad: unknown[] = ['2', 0, -1, 2.5, [], [2, '2'], null, undefined, { shape: 4, stride: 1 }];
    for (const t of bad) {
      expect(() => composition(L('8:1'), t as Tiler)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    }
    expect(() => composition('8:1' as unknown as Layout, 2)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });

  test('any layouts: either a typed error or R(i) == A(B(i))', () => {
    let composed = 0;
    fc.assert(
      fc.property(anyLayout, anyLayout, (a, b0) => {
        const b = fitInto(b0, a.size);
        let r: Layout;
        try {
          r = composition(a, b);
        } catch (e) {
          expect(e).toBeInstanceOf(LayoutError);
          return;
        }
        composed++;
        domain(b).forEach((i) => expect(r.at(i)).toBe(a.at(b.at(i))));
      }),
      { numRuns: 500 },
    );
    expect(composed).toBeGreaterThan(100);
  });
});

/** Whether `r` is `b` with some leaves split into sub-modes (CuTe: b is compatible with r). */
function refines(r: IntTuple, b: IntTuple): boolean {
  if (typeof b === 'number') return product(r) === b;
  return Array.isArray(r) && r.length === b.length && b.every((bm, i) => refines(r[i]!, bm));
}

/** B with its strides scaled down so that its image stays inside [0, size) of the layout it feeds. */
function fitInto(b: Layout, size: number): Layout {
  while (b.cosize > size) {
    const strides = JSON.parse(JSON.stringify(b.stride).replace(/\d+/g, (d) => String(Math.floor(Number(d) / 2))));
    const shapes = JSON.parse(JSON.stringify(b.shape).replace(/\d+/g, (d) => String(Math.max(1, Math.floor(Number(d) / 2)))));
    b = new Layout(shapes, strides);
  }
  return b;
}
