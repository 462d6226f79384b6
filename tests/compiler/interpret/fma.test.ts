/** The interpreter's f32 fused multiply-add (one step of a float dot) rounds a * b + c once. */
import fc from 'fast-check';
import { fmaF32 } from '../../../compiler/interpret/scalar-math.js';

/** a * b + c rounded to f32 with exact rational arithmetic: the reference for fmaF32. */
function exactFma(a: number, b: number, c: number): number {
  const parts = [a, b, c].map((x) => {
    const [m, e] = decompose(x);
    return { m, e };
  });
  const [pa, pb, pc] = parts as [{ m: bigint; e: number }, { m: bigint; e: number }, { m: bigint; e: number }];
  // All three as integers times 2^-300 (f32 products and sums live far above that).
  const scale = (m: bigint, e: number) => m * 2n ** BigInt(e + 300);
  const sum = scale(pa.m * pb.m, pa.e + pb.e) + scale(pc.m, pc.e);
  if (sum === 0n) return a * b + c; // the sign of an exact zero follows IEEE, as in JS
  const negative = sum < 0n;
  const mag = negative ? -sum : sum;
  // f32: 24 significant bits, or a fixed quantum of 2^-149 below 2^-126.
  const bits = mag.toString(2).length;
  const exponent = bits - 1 - 300; // mag = 1.x * 2^exponent
  const quantumExp = Math.max(exponent - 23, -149);
  const shift = quantumExp + 300;
  const unit = 2n ** BigInt(shift);
  let q = mag / unit;
  const rest = mag - q * unit;
  if (rest * 2n > unit || (rest * 2n === unit && q % 2n === 1n)) q += 1n;
  const value = Number(q) * 2 ** quantumExp;
  return Math.fround(negative ? -value : value);
}

function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e--;
  }
  return [BigInt(m), e];
}

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e10, max: 1e10 });

describe('fmaF32', () => {
  test('a midpoint that float64 rounding lands on is broken by the lost part', () => {
    // a * b = 2^-24 - 2^-70 and c = 1 + 2^-23: the exact sum lies just below the midpoint between
    // 1 + 2^-23 and 1 + 2^-22; float64 rounds the sum onto the midpoint, and ties-to-even would
    // then pick 1 + 2^-22.
    const [a, b, c] = [2 ** -24 * (1 + 2 ** -23), 1 - 2 ** -23, 1 + 2 ** -23];
    expect(Math.fround(a * b + c)).toBe(1 + 2 ** -22);
    expect(fmaF32(a, b, c)).toBe(1 + 2 ** -23);
    expect(exactFma(a, b, c)).toBe(1 + 2 ** -23);
    expect(fmaF32(-a, b, -c)).toBe(-(1 + 2 ** -23));
  });

  test('a sum that float64 rounds onto the overflow midpoint stays finite when it is below it', () => {
    const [a, b, c] = [18631 * 2 ** 70, 1801 * 2 ** 33, -1];
    expect(a * b + c).toBe(2 ** 128 - 2 ** 103);
    expect(fmaF32(a, b, c)).toBe(3.4028234663852886e38);
    expect(exactFma(a, b, c)).toBe(3.4028234663852886e38);
    expect(fmaF32(-a, b, -c)).toBe(-3.4028234663852886e38);
  });

  test('agrees with exact rational rounding on random f32 triples', () => {
    fc.assert(
      fc.property(f32, f32, f32, (a, b, c) => {
        expect(Object.is(fmaF32(a, b, c), exactFma(a, b, c)) || fmaF32(a, b, c) === exactFma(a, b, c)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  test('agrees on sums that nearly cancel and on subnormal results', () => {
    fc.assert(
      fc.property(f32, f32, (a, b) => {
        const c = Math.fround(-(a * b));
        expect(fmaF32(a, b, c)).toBe(exactFma(a, b, c));
        const tiny = Math.fround(a * 2 ** -140);
        expect(fmaF32(tiny, 0.75, 2 ** -149)).toBe(exactFma(tiny, 0.75, 2 ** -149));
      }),
      { numRuns: 3000 },
    );
  });
});
