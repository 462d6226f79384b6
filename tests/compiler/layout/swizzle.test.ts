import fc from 'fast-check';
import {
  ComposedLayout,
  type Layout,
  Swizzle,
  parseComposedLayout,
  parseLayout,
} from '../../../compiler/layout/index.js';

describe('Swizzle', () => {
  test('Swizzle(3,3,3) maps 0, 8, 64, 72, 128, 512, 520 to 0, 8, 72, 64, 144, 512, 520', () => {
    const s = new Swizzle(3, 3, 3);
    expect([0, 8, 64, 72, 128, 512, 520].map((x) => s.apply(x))).toEqual([0, 8, 72, 64, 144, 512, 520]);
  });

  test('a negative shift moves low bits up', () => {
    const s = new Swizzle(2, 0, -3);
    expect(s.apply(0b00001)).toBe(0b01001);
    expect(s.apply(0b00011)).toBe(0b11011);
    expect(s.apply(0b11000)).toBe(0b11000);
  });

  test('every swizzle is its own inverse and a permutation of each period', () => {
    const swizzle = fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 5 }), fc.boolean())
      .filter(([b, , s]) => s >= b)
      .map(([b, m, s, neg]) => new Swizzle(b, m, neg ? -s : s));
    fc.assert(
      fc.property(swizzle, fc.integer({ min: 0, max: 1 << 20 }), (s, x) => {
        expect(s.apply(s.apply(x))).toBe(x);
        expect(Math.floor(s.apply(x) / s.period)).toBe(Math.floor(x / s.period));
      }),
    );
    const s = new Swizzle(2, 1, 3);
    const image = new Set(Array.from({ length: s.period }, (_, x) => s.apply(x)));
    expect(image.size).toBe(s.period);
  });

  test.each([
    [-1, 3, 3],
    [3, -1, 3],
    [3, 3, 2],
    [3, 3, -2],
    [8, 12, 12],
    [1.5, 3, 3],
  ])('Swizzle(%d,%d,%d) is refused', (b, m, s) => {
    expect(() => new Swizzle(b, m, s)).toThrow(expect.objectContaining({ condition: 'invalid-swizzle' }));
  });

  test('composed layouts apply the swizzle after the layout and the offset', () => {
    const c = new ComposedLayout(new Swizzle(3, 3, 3), parseLayout('(8,64):(64,1)'));
    expect(c.at([1, 0])).toBe(72);
    expect(c.at([1, 8])).toBe(64);
    expect(c.size).toBe(512);
    expect(String(c)).toBe('Sw<3,3,3> o 0 o (8,64):(64,1)');
    const shifted = new ComposedLayout(new Swizzle(1, 0, 1), parseLayout('4:1'), 2);
    expect([0, 1, 2, 3].map((i) => shifted.at(i))).toEqual([3, 2, 4, 5]);
    // An offset past 2^53 - 1 is too large, not out of range.
    const far = new ComposedLayout(new Swizzle(1, 1, 1), parseLayout(`2:${2 ** 52}`), 2 ** 52);
    expect(() => far.at(1)).toThrow(expect.objectContaining({ condition: 'too-large' }));
  });

  test('a composed layout needs a swizzle and a layout', () => {
    const bad = () => new ComposedLayout(new Swizzle(1, 0, 1), '(2,2):(2,1)' as unknown as Layout);
    expect(bad).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    const noSwizzle = () => new ComposedLayout({ bits: 1, base: 0, shift: 1 } as Swizzle, parseLayout('4:1'));
    expect(noSwizzle).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });

  test.each(['Sw<3,3,3> o 0 o (8,64):(64,1)', 'Sw<2,0,-3> o 16 o (4,4):(4,1)', 'Sw<1,2,3> o 0 o 8:1'])(
    'parses %s back',
    (text) => {
      expect(String(parseComposedLayout(text))).toBe(text);
    },
  );

  test('parses the short forms', () => {
    expect(String(parseComposedLayout('Sw<3,3,3> o (8,64):(64,1)'))).toBe('Sw<3,3,3> o 0 o (8,64):(64,1)');
    expect(String(parseComposedLayout('Sw<1,2,3> o 8'))).toBe('Sw<1,2,3> o 0 o 8:1');
    expect(() => parseComposedLayout('Sw<3,3> o 8:1')).toThrow(expect.objectContaining({ condition: 'parse' }));
  });
});
