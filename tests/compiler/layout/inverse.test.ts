import fc from 'fast-check';
import { type Layout, leftInverse, parseLayout, rightInverse } from '../../../compiler/layout/index.js';
import { anyLayout, domain, injectiveLayout } from './arbitraries.js';

const L = parseLayout;

describe('inverses', () => {
  test.each([
    ['(4,2):(2,1)', '(2,4):(4,1)'],
    ['(8,4):(4,1)', '(4,8):(8,1)'],
    ['(2,(2,2)):(4,(2,1))', '(2,2,2):(4,2,1)'],
    ['4:2', '1:0'],
    ['(3,7):(7,1)', '(7,3):(3,1)'],
    // L(1) = 2, yet offsets 0..3 all have a preimage: size(R) is 4, not 1.
    ['(2,2):(2,1)', '(2,2):(2,1)'],
    ['(2,2):(2,3)', '1:0'],
  ])('rightInverse(%s) = %s', (l, expected) => {
    expect(String(rightInverse(L(l)))).toBe(expected);
  });

  test.each([
    ['(8,4):(4,1)', '(4,8):(8,1)'],
    ['(4,2):(2,1)', '(2,4):(4,1)'],
    ['4:2', '(2,4):(4,1)'],
  ])('leftInverse(%s) = %s', (l, expected) => {
    expect(String(leftInverse(L(l)))).toBe(expected);
  });

  test('L(R(i)) == i for every i < size(R), on any layout', () => {
    fc.assert(
      fc.property(anyLayout, (l) => {
        const r = rightInverse(l);
        domain(r).forEach((i) => expect(l.at(r.at(i))).toBe(i));
      }),
    );
  });

  test('R(L(i)) == i for every i < size(L), on injective layouts', () => {
    fc.assert(
      fc.property(injectiveLayout, (l) => {
        const r = leftInverse(l);
        domain(l).forEach((i) => expect(r.at(l.at(i))).toBe(i));
      }),
    );
  });

  test('a compact layout has a right inverse that is also its left inverse', () => {
    const l = L('(2,(3,4)):(12,(1,3))');
    const r = rightInverse(l);
    expect(r.size).toBe(l.size);
    domain(l).forEach((i) => expect(r.at(l.at(i))).toBe(i));
  });

  test('a layout that is not injective has no left inverse', () => {
    expect(() => leftInverse(L('(4,2):(0,1)'))).toThrow(expect.objectContaining({ condition: 'not-injective' }));
    expect(() => leftInverse(L('(2,2):(1,1)'))).toThrow(expect.objectContaining({ condition: 'not-injective' }));
    // (3,2):(1,2) is a left inverse of (2,2):(1,3), but CuTe's construction needs a complement.
    expect(() => leftInverse(L('(2,2):(1,3)'))).toThrow(expect.objectContaining({ condition: 'not-complementable' }));
    const r = L('(3,2):(1,2)');
    domain(L('(2,2):(1,3)')).forEach((i) => expect(r.at(L('(2,2):(1,3)').at(i))).toBe(i));
  });

  test('arguments that are not layouts are refused', () => {
    expect(() => rightInverse('4:1' as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
    expect(() => leftInverse(undefined as unknown as Layout)).toThrow(expect.objectContaining({ condition: 'invalid-argument' }));
  });
});
