import {
  LayoutError,
  ceilDiv,
  congruent,
  crd2idx,
  depth,
  flatten,
  idx2crd,
  innerProduct,
  parseIntTuple,
  prefixProduct,
  product,
  rank,
  shapeDiv,
  unflatten,
} from '../../../compiler/layout/index.js';

const t = parseIntTuple;

describe('int tuples', () => {
  test.each([
    ['4', 1, 0, 4, [4]],
    ['(2,3)', 2, 1, 6, [2, 3]],
    ['(2,(3,4))', 2, 2, 24, [2, 3, 4]],
    ['((2,2),(2,(3,1)))', 2, 3, 24, [2, 2, 2, 3, 1]],
  ])('%s: rank %d, depth %d, product %d, flatten %j', (text, r, d, p, flat) => {
    expect(rank(t(text))).toBe(r);
    expect(depth(t(text))).toBe(d);
    expect(product(t(text))).toBe(p);
    expect(flatten(t(text))).toEqual(flat);
  });

  test('unflatten inverts flatten for a given profile', () => {
    expect(unflatten([5, 6, 7], t('(1,(1,1))'))).toEqual(t('(5,(6,7))'));
    expect(() => unflatten([5, 6], t('(1,(1,1))'))).toThrow(LayoutError);
    expect(() => unflatten([5, 6, 7, 8], t('(1,(1,1))'))).toThrow(LayoutError);
  });

  test.each([
    ['4', '1'],
    ['(2,3,4)', '(1,2,6)'],
    ['(2,(3,4))', '(1,(2,6))'],
    ['((2,3),4)', '((1,2),6)'],
  ])('prefixProduct(%s) = %s', (a, expected) => {
    expect(prefixProduct(t(a))).toEqual(t(expected));
  });

  test.each([
    ['(3,4,5)', '6', '(1,2,5)'],
    ['(3,4,5)', '3', '(1,4,5)'],
    ['(3,4,5)', '12', '(1,1,5)'],
    ['(6,2)', '2', '(3,2)'],
    ['(6,2)', '(3,2)', '(2,1)'],
    ['4', '8', '1'],
    ['8', '4', '2'],
  ])('shapeDiv(%s, %s) = %s', (a, b, expected) => {
    expect(shapeDiv(t(a), t(b))).toEqual(t(expected));
  });

  test('shapeDiv refuses integers that do not divide one another', () => {
    expect(() => shapeDiv(6, 4)).toThrow(expect.objectContaining({ condition: 'shape-divisibility' }));
    expect(() => shapeDiv(t('(3,4)'), t('(1,2,3)'))).toThrow(expect.objectContaining({ condition: 'rank-mismatch' }));
  });

  test('shapeDiv and ceilDiv refuse what is not a shape: zero, negative or fractional extents', () => {
    expect(() => shapeDiv(4, 0)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => shapeDiv(0, 4)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => shapeDiv(t('(3,4)'), 1.5)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    expect(() => ceilDiv(7, 0)).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
    // (a + b - 1) / b in floating point would round 2^53 + 1 down and give ...330.
    expect(ceilDiv(2 ** 53 - 1, 3)).toBe(3002399751580331);
  });

  test('congruence compares profiles only', () => {
    expect(congruent(t('(2,(3,4))'), t('(7,(8,9))'))).toBe(true);
    expect(congruent(t('(2,(3,4))'), t('(7,8)'))).toBe(false);
    expect(congruent(3, t('(3)'))).toBe(false);
  });

  test('coordinates are colexicographic and the last mode is unbounded', () => {
    expect(idx2crd(5, t('(2,3)'))).toEqual([1, 2]);
    expect(idx2crd(7, t('(2,(2,2))'))).toEqual([1, [1, 1]]);
    expect(idx2crd(13, t('(2,3)'))).toEqual([1, 6]);
    expect(crd2idx(t('(1,(0,1))'), t('(2,(2,2))'), t('(4,(2,1))'))).toBe(5);
    expect(crd2idx(t('(1,3)'), t('(2,(2,2))'), t('(4,(2,1))'))).toBe(7);
    expect(innerProduct(t('(1,(2,3))'), t('(4,(5,6))'))).toBe(32);
    expect(ceilDiv(7, 2)).toBe(4);
  });

  test('coordinates must fit the shape', () => {
    expect(() => crd2idx(t('(1,2,3)'), t('(2,3)'), t('(1,2)'))).toThrow(expect.objectContaining({ condition: 'rank-mismatch' }));
    expect(() => crd2idx(-1, 4, 1)).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => crd2idx(t('(5,0)'), t('(2,3)'), t('(1,2)'))).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => crd2idx(t('(1,2)'), t('(2,3)'), t('(1,2,3)'))).toThrow(expect.objectContaining({ condition: 'not-congruent' }));
    expect(crd2idx(7, t('(2,3)'), t('(1,2)'))).toBe(7);
  });

  test('idx2crd takes a non-negative integer index and a shape', () => {
    expect(() => idx2crd(-1, t('(2,3)'))).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => idx2crd(1.5, t('(2,3)'))).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => idx2crd(2 ** 53, 4)).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
    expect(() => idx2crd(3, t('(2,0)'))).toThrow(expect.objectContaining({ condition: 'invalid-int-tuple' }));
  });
});
