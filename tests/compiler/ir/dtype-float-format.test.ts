import fc from 'fast-check';
import { rng } from '../../../examples/check.js';
import { type FloatDtype, bf16, dtype, f16, f32, isFloat } from '../../../compiler/ir/dtype.js';
import { decodeFloat, encodeFloat, encodeFloats, maxFiniteCode, nanCode, roundToFormat } from '../../../compiler/ir/float-format.js';

const F = (name: string): FloatDtype => {
  const d = dtype(name);
  if (!isFloat(d)) throw new Error(`${name} is not a float`);
  return d;
};

/** Every small float the general rule allows (B = 1+E+M <= 8, E >= 1). */
const SMALL: FloatDtype[] = [];
for (let e = 1; e <= 7; e++) for (let m = 0; 1 + e + m <= 8; m++) SMALL.push(F(`f${1 + e + m}e${e}m${m}`));
const ALL = [...SMALL, f16, bf16, f32];
const NARROW = [...SMALL, f16, bf16]; // exhaustive over every code

const f32Bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const f32Value = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
const hex = (n: number): string => `0x${n.toString(16)}`;
/** The float64 `steps` units in the last place from x (x positive and finite). */
const float64Step = (x: number, steps: number): number => {
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = bits[0]! + BigInt(steps);
  return new Float64Array(bits.buffer)[0]!;
};

describe('known bit patterns', () => {
  test.each([
    // f16 (IEEE binary16)
    ['f16', 1, 0x3c00],
    ['f16', -2, 0xc000],
    ['f16', 65504, 0x7bff],
    ['f16', 65519.99, 0x7bff],
    ['f16', 65520, 0x7c00], // max + half an ulp rounds to infinity
    ['f16', -65520, 0xfc00],
    ['f16', 2 ** -24, 0x0001], // smallest subnormal
    ['f16', 2 ** -25, 0x0000], // half of it: tie, to the even 0
    ['f16', 2 ** -25 * 1.5, 0x0001],
    ['f16', 3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: even
    ['f16', 2 ** -14, 0x0400], // smallest normal
    ['f16', 0.1, 0x2e66],
    ['f16', 1 / 3, 0x3555],
    ['f16', -0, 0x8000],
    ['f16', Infinity, 0x7c00],
    ['f16', -Infinity, 0xfc00],
    ['f16', NaN, 0x7e00],
    // bf16: the top half of f32, rounded to nearest even
    ['bf16', 1, 0x3f80],
    ['bf16', 1.00390625, 0x3f80], // 1 + 2^-8: tie, to the even 0x3f80
    ['bf16', 1.01171875, 0x3f82], // 1 + 3 * 2^-8: tie, to the even 0x3f82
    ['bf16', 1.0039063, 0x3f81], // just above the tie
    ['bf16', -3.3895313892515355e38, 0xff7f],
    ['bf16', 3.3961775292304957e38, 0x7f80], // max + half an ulp
    ['bf16', NaN, 0x7fc0],
    ['bf16', Infinity, 0x7f80],
    // f32
    ['f32', 1, 0x3f800000],
    ['f32', NaN, 0x7fc00000],
    ['f32', -Infinity, 0xff800000],
    ['f32', 2 ** -149, 0x00000001],
    ['f32', 2 ** -150, 0x00000000],
    ['f32', -(2 ** -151), 0x80000000],
    // f8e5m2: IEEE
    ['f8e5m2', 1, 0x3c],
    ['f8e5m2', 57344, 0x7b],
    ['f8e5m2', 61439, 0x7b],
    ['f8e5m2', 61440, 0x7c], // 57344 + 4096 (half an ulp): infinity
    ['f8e5m2', -Infinity, 0xfc],
    ['f8e5m2', NaN, 0x7e],
    ['f8e5m2', 2 ** -16, 0x01],
    // f8e4m3: FN, saturating
    ['f8e4m3', 1, 0x38],
    ['f8e4m3', 448, 0x7e],
    ['f8e4m3', 464, 0x7e], // tie between 448 and (the NaN code's) 480: even
    ['f8e4m3', 465, 0x7e], // saturates
    ['f8e4m3', 1e30, 0x7e],
    ['f8e4m3', Infinity, 0x7e],
    ['f8e4m3', -Infinity, 0xfe],
    ['f8e4m3', NaN, 0x7f],
    ['f8e4m3', 2 ** -9, 0x01],
    ['f8e4m3', -0, 0x80],
    ['f8e3m4', 30, 0x7e],
    ['f8e3m4', -1000, 0xfe],
    ['f8e3m4', NaN, 0x7f],
    ['f8e7m0', NaN, 0x7f],
    ['f8e7m0', Infinity, 0x7e],
    // narrower than 8 bits: all finite, saturating, NaN -> +0
    ['f6e3m2', 1, 0x0c],
    ['f6e3m2', 28, 0x1f],
    ['f6e3m2', 1e9, 0x1f],
    ['f6e3m2', -Infinity, 0x3f],
    ['f6e3m2', NaN, 0x00],
    ['f6e2m3', 1, 0x08],
    ['f6e2m3', 7.5, 0x1f],
    ['f6e2m3', Infinity, 0x1f],
    ['f6e2m3', NaN, 0x00],
    ['f5e2m2', 7, 0x0f],
    ['f5e2m2', -0.25, 0x11],
    ['f4e2m1', 5, 0x6], // tie between 4 (0x6) and 6 (0x7): even
    ['f4e2m1', 2.5, 0x4], // tie between 2 and 3: even
    ['f4e2m1', 0.25, 0x0], // tie between 0 and 0.5: even
    ['f4e2m1', 0.75, 0x2], // tie between 0.5 and 1: even
    ['f4e2m1', -0.25, 0x8], // rounds to -0
    ['f4e2m1', 100, 0x7],
    ['f4e2m1', -Infinity, 0xf],
    ['f4e2m1', NaN, 0x0],
    ['f3e1m1', 1.5, 0x2],
    ['f3e1m1', 2.5, 0x2],
    ['f3e1m1', 0.5, 0x0],
    ['f3e1m1', NaN, 0x0],
    // no mantissa bits: a tie goes to the value whose significand, in the lower value's ulps, is even
    ['f4e3m0', 1.5, 0x4], // between 1 (0x3) and 2 (0x4): 2
    ['f4e3m0', 3, 0x5], // between 2 and 4: 4
    ['f4e3m0', 0.125, 0x0], // between 0 and the smallest value 0.25: 0
  ])('encode %s %p = %p', (name, x, code) => {
    expect(hex(encodeFloat(F(name), x))).toBe(hex(code));
  });

  test.each([
    ['f4e2m1', [0, 0.5, 1, 1.5, 2, 3, 4, 6]],
    ['f3e1m1', [0, 1, 2, 3]],
    ['f5e2m2', [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 5, 6, 7]],
    ['f4e3m0', [0, 0.25, 0.5, 1, 2, 4, 8, 16]],
  ])('%s decodes to %p and their negatives', (name, values) => {
    const f = F(name);
    const n = values.length;
    expect(Array.from({ length: n }, (_, c) => decodeFloat(f, c))).toEqual(values);
    expect(Array.from({ length: n }, (_, c) => decodeFloat(f, n + c))).toEqual(values.map((v) => -v));
  });

  test('decodes the special codes', () => {
    expect(decodeFloat(f16, 0x7c00)).toBe(Infinity);
    expect(decodeFloat(f16, 0xfc00)).toBe(-Infinity);
    expect(decodeFloat(f16, 0x7c01)).toBeNaN();
    expect(decodeFloat(f16, 0x8000)).toBe(-0);
    expect(decodeFloat(F('f8e4m3'), 0x7f)).toBeNaN();
    expect(decodeFloat(F('f8e4m3'), 0xff)).toBeNaN();
    expect(decodeFloat(F('f8e4m3'), 0x78)).toBe(256); // exponent all ones is finite in FN
    expect(decodeFloat(F('f8e5m2'), 0x7d)).toBeNaN();
    expect(decodeFloat(F('f6e3m2'), 0x3f)).toBe(-28);
    expect(() => decodeFloat(F('f4e2m1'), 16)).toThrow('not a 4-bit pattern');
    expect(() => decodeFloat(F('f4e2m1'), 1.5)).toThrow('not a 4-bit pattern');
  });
});

describe.each(NARROW.map((f) => [f.name, f] as const))('%s, every code', (_, f) => {
  const signBit = 2 ** (f.bits - 1);
  const codes = Array.from({ length: 2 * signBit }, (__, c) => c);
  const values = codes.map((c) => decodeFloat(f, c));

  test('decode then encode gives the code back (NaN codes give the canonical NaN)', () => {
    const back = codes.map((c) => encodeFloat(f, values[c]!));
    const expected = codes.map((c) => (Number.isNaN(values[c]) ? nanCode(f) : c));
    expect(back).toEqual(expected);
    expect(Object.is(values[signBit], -0)).toBe(true);
    expect(Object.is(values[0], 0)).toBe(true);
  });

  test('has the specials of its rule, and finite values increase with the code', () => {
    const nans = values.filter(Number.isNaN).length;
    const infinities = values.filter((v) => Math.abs(v) === Infinity).length;
    const m = f.mantissaBits;
    expect([nans, infinities]).toEqual(
      { ieee: [2 * (2 ** m - 1), 2], fn: [2, 0], finite: [0, 0] }[f.specials],
    );
    const maxCode = maxFiniteCode(f);
    expect(values[maxCode]).toBe(f.maxFinite);
    const bad: number[] = []; // codes out of order or whose negative is not the negation
    for (let c = 1; c <= maxCode; c++) {
      if (!(values[c]! > values[c - 1]!) || values[signBit + c] !== -values[c]!) bad.push(c);
    }
    expect(bad).toEqual([]);
  });

  // Checks are collected into one list per test: an expect() per code would take seconds for f16.
  test('a value halfway between two neighbours rounds to the one with an even significand', () => {
    const maxCode = maxFiniteCode(f);
    const bad: string[] = [];
    for (let c = 0; c < maxCode; c++) {
      const [lo, hi] = [values[c]!, values[c + 1]!];
      const mid = (lo + hi) / 2;
      const even = (lo / (hi - lo)) % 2 === 0 ? c : c + 1;
      const near = (hi - lo) / 8;
      const got = [mid, -mid, mid - near, mid + near].map((x) => encodeFloat(f, x));
      // the tie goes to the even significand (the even mantissa where there are mantissa bits),
      // anything off the midpoint to the nearer neighbour
      const want = [even, signBit + even, c, c + 1];
      const odd = f.mantissaBits > 0 && even % 2 !== 0;
      if (odd || got.some((g, i) => g !== want[i])) bad.push(`${c}: ${got} != ${want}`);
    }
    expect(bad).toEqual([]);
  });

  test('encodeFloats gives the codes of encodeFloat: every value, every midpoint and its neighbours, overflow, random magnitudes', () => {
    const probes: number[] = [...values, Infinity, -Infinity, NaN, Number.MAX_VALUE, Number.MIN_VALUE, 2 * f.maxFinite];
    for (let c = 0; c + 1 < signBit; c++) {
      const [lo, hi] = [values[c]!, values[c + 1]!];
      if (!Number.isFinite(hi)) continue;
      const mid = (lo + hi) / 2;
      // The tie, a little off it, and one float64 ulp either side (an exact tie in the high word with
      // low bits set, which must round away from the tie).
      for (const x of [mid, mid - (hi - lo) / 1024, mid + (hi - lo) / 1024, float64Step(mid, -1), float64Step(mid, 1)]) probes.push(x, -x);
    }
    const r = rng(7);
    for (let i = 0; i < 20_000; i++) probes.push((r() - 0.5) * 2 ** Math.floor(r() * 300 - 150));
    const got = new Float64Array(probes.length);
    encodeFloats(f, probes, got);
    const bad = probes.flatMap((x, i) => (got[i] === encodeFloat(f, x) ? [] : [`${x}: ${got[i]} != ${encodeFloat(f, x)}`]));
    expect(bad.slice(0, 5)).toEqual([]);
  });

  test('overflow: to infinity from max + half an ulp (ieee), else saturating', () => {
    const max = f.maxFinite;
    const halfUlp = 2 ** (Math.floor(Math.log2(max)) - f.mantissaBits - 1);
    const maxCode = maxFiniteCode(f);
    const over = f.specials === 'ieee' ? signBit - 2 ** f.mantissaBits : maxCode;
    expect(encodeFloat(f, max + halfUlp / 2)).toBe(maxCode);
    // ieee: a tie that rounds up (max's mantissa is all ones) to infinity; the others saturate
    expect(encodeFloat(f, max + halfUlp)).toBe(over);
    expect(encodeFloat(f, max * 4)).toBe(over);
    expect(encodeFloat(f, Infinity)).toBe(over);
    expect(encodeFloat(f, -Infinity)).toBe(signBit + over);
    expect(encodeFloat(f, Number.MAX_VALUE)).toBe(over);
  });
});

/**
 * x rounded to f is the nearest value: with v = |decode(code)| and its neighbour on x's other side,
 * 2|x| lies on v's side of their sum (the sum is exact: two neighbours of a <= 24-bit format), and an
 * exact tie picks the value whose significand is even.
 */
function expectNearest(f: FloatDtype, x: number): void {
  const code = encodeFloat(f, x);
  if (Number.isNaN(x)) return expect(code).toBe(nanCode(f));
  const signBit = 2 ** (f.bits - 1);
  const a = Math.abs(x);
  expect(code >= signBit).toBe(x < 0 || Object.is(x, -0));
  const mag = code % signBit;
  const maxCode = maxFiniteCode(f);
  if (a > f.maxFinite) {
    const halfUlp = 2 ** (Math.floor(Math.log2(f.maxFinite)) - f.mantissaBits - 1);
    const inf = f.specials === 'ieee' && a >= f.maxFinite + halfUlp;
    return expect(mag).toBe(inf ? signBit - 2 ** f.mantissaBits : maxCode);
  }
  const v = decodeFloat(f, mag);
  const other = v <= a ? (mag < maxCode ? decodeFloat(f, mag + 1) : v) : decodeFloat(f, mag - 1);
  const [lo, hi] = [Math.min(v, other), Math.max(v, other)];
  expect(lo <= a && a <= hi).toBe(true);
  if (v <= a) expect(2 * a).toBeLessThanOrEqual(lo + hi);
  else expect(2 * a).toBeGreaterThanOrEqual(lo + hi);
  if (2 * a === lo + hi && lo !== hi) expect((v / (hi - lo)) % 2).toBe(0);
  expect(roundToFormat(f, x)).toBe(x < 0 || Object.is(x, -0) ? -v : v);
}

describe('encodeFloat picks the nearest value (property)', () => {
  test.each(ALL.map((f) => [f.name, f] as const))('%s', (_, f) => {
    const doubles = fc.oneof(
      fc.double(),
      fc.double({ min: -2 * f.maxFinite, max: 2 * f.maxFinite }),
      fc.double({ min: -4 * f.minNormal, max: 4 * f.minNormal }),
    );
    fc.assert(fc.property(doubles, (x) => expectNearest(f, x)), { numRuns: 200 });
  });
});

describe('agreement with the platform', () => {
  test('f32 matches Float32Array and Math.fround bit for bit', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        expect(hex(encodeFloat(f32, x))).toBe(hex(f32Bits(x)));
        expect(roundToFormat(f32, x)).toBe(Math.fround(x));
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (bits) => {
        const v = f32Value(bits);
        if (Number.isNaN(v)) return expect(decodeFloat(f32, bits)).toBeNaN();
        expect(decodeFloat(f32, bits)).toBe(v);
        expect(encodeFloat(f32, v)).toBe(bits);
      }),
      { numRuns: 1000 },
    );
  });

  test('bf16 is the top 16 bits of f32, rounded to nearest even', () => {
    // The usual bit trick: add 0x7fff plus the lowest kept bit, then drop the low half.
    const reference = (x: number): number => {
      const b = f32Bits(x);
      return Number.isNaN(x) ? 0x7fc0 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (bits) => {
        const x = f32Value(bits);
        expect(hex(encodeFloat(bf16, x))).toBe(hex(reference(x)));
      }),
      { numRuns: 2000 },
    );
    const bad: number[] = [];
    for (let c = 0; c < 0x10000; c += 1) {
      const [got, want] = [decodeFloat(bf16, c), f32Value(c * 0x10000)];
      if (!Object.is(got, want) && !(Number.isNaN(got) && Number.isNaN(want))) bad.push(c);
    }
    expect(bad).toEqual([]);
  });
});
