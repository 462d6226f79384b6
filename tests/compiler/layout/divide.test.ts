import fc from 'fast-check';
import {
  type Tiler,
  complement,
  composition,
  flatDivide,
  makeLayout,
  functionallyEqual,
  logicalDivide,
  parseLayout,
  tiledDivide,
  zippedDivide,
} from '../../../compiler/layout/index.js';
import { domain, injectiveLayout, pow2InjectiveLayout, pow2Layout } from './arbitraries.js';

const L = parseLayout;

describe('divide', () => {
  test('logicalDivide((4,2,3):(2,1,8), 4:2) = ((2,2),(2,3)):((4,1),(2,8))', () => {
    expect(String(logicalDivide(L('(4,2,3):(2,1,8)'), L('4:2')))).toBe('((2,2),(2,3)):((4,1),(2,8))');
  });

  const a = L('(9,(4,8)):(59,(13,1))');
  const tiler: Tiler = [L('3:3'), L('(2,4):(1,8)')];

  test.each([
    [logicalDivide, '((3,3),((2,4),(2,2))):((177,59),((13,2),(26,1)))'],
    [zippedDivide, '((3,(2,4)),(3,(2,2))):((177,(13,2)),(59,(26,1)))'],
    [tiledDivide, '((3,(2,4)),3,(2,2)):((177,(13,2)),59,(26,1))'],
    [flatDivide, '(3,(2,4),3,(2,2)):(177,(13,2),59,(26,1))'],
  ])('%p of (9,(4,8)):(59,(13,1)) by <3:3, (2,4):(1,8)>', (divide, expected) => {
    expect(String(divide(a, tiler))).toBe(expected);
  });

  test('modes past the tiler are rest modes', () => {
    const b = L('(8,6,5):(1,8,48)');
    expect(String(zippedDivide(b, [2, 3]))).toBe('((2,3),(4,2,5)):((1,8),(2,24,48))');
    expect(String(tiledDivide(b, [2, 3]))).toBe('((2,3),4,2,5):((1,8),2,24,48)');
    expect(String(flatDivide(b, [2, 3]))).toBe('(2,3,4,2,5):(1,8,2,24,48)');
  });

  test('mode 0 of zippedDivide(A, B) equals composition(A, B)', () => {
    fc.assert(
      fc.property(pow2Layout, pow2InjectiveLayout, (a, b) => {
        if (b.cosize > a.size) return;
        expect(zippedDivide(a, b).mode(0).equals(composition(a, b))).toBe(true);
      }),
    );
    expect(zippedDivide(a, tiler).mode(0).equals(composition(a, tiler))).toBe(true);
  });

  test('permutes the domain of A when B and its repetitions tile [0, size(A)) exactly', () => {
    let checked = 0;
    fc.assert(
      fc.property(injectiveLayout, injectiveLayout, (a, b) => {
        if (makeLayout(b, complement(b, a.size)).size !== a.size) return;
        let d;
        try {
          d = logicalDivide(a, b);
        } catch {
          return; // the divisibility conditions fail; composition's own tests cover the error
        }
        const offsets = (l: typeof a) => domain(l).map((i) => l.at(i)).sort((x, y) => x - y);
        expect(offsets(d)).toEqual(offsets(a));
        checked++;
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(30);
  });

  test('dividing by the whole layout leaves one tile', () => {
    const b = L('(4,8):(8,1)');
    const d = logicalDivide(b, b.size);
    expect(functionallyEqual(d.mode(0), b)).toBe(true);
    expect(d.mode(1).size).toBe(1);
  });
});
