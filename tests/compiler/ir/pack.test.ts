import fc from 'fast-check';
import { type Dtype, dtype, f32, i32, isFloat, namedDtypes } from '../../../compiler/ir/dtype.js';
import { convertNumber } from '../../../compiler/ir/dtype-convert.js';
import { nanCode } from '../../../compiler/ir/float-format.js';
import { fromBits, pack, packBits, packedWords, toBits, unpack, unpackBits } from '../../../compiler/ir/pack.js';

const D = dtype;
const hex = (words: ArrayLike<number>): string[] => Array.from(words, (w) => `0x${w.toString(16)}`);

/** The layout written out independently: one big little-endian integer, element i at bit i*w. */
function referencePack(width: number, patterns: readonly number[]): number[] {
  let stream = 0n;
  patterns.forEach((p, i) => (stream |= BigInt(p) << BigInt(i * width)));
  const words = Math.ceil((patterns.length * width) / 32);
  return Array.from({ length: words }, (_, k) => Number((stream >> BigInt(32 * k)) & 0xffffffffn));
}

/** Every dtype the packer handles: the named ones plus a few small floats from the general rule. */
const DTYPES: Dtype[] = [...namedDtypes, ...['f8e3m4', 'f7e3m3', 'f4e3m0', 'f8e7m0', 'f2e1m0'].map(D)];

/** Both NaN, or the same number (telling -0 from +0). */
const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('packed layout, checked by hand', () => {
  test.each([
    // u3: element 10 straddles bits 30..32
    ['u3', [1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3], [0xd11f58d1, 0x0]],
    ['u3', [1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 6], [0x911f58d1, 0x1]],
    // i5: element 6 (9 = 0b01001) straddles bits 30..34
    ['i5', [-16, 15, -1, 0, 1, 7, 9], [0x4e107df0, 0x2]],
    ['i4', [-1, 7, -8, 0, 1, -2, 3, 5, -3], [0x53e1087f, 0xd]],
    ['u2', [3, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3, 0, 1, 2, 3, 1, 3], [0x7939e4e7, 0x3]],
    ['f4e2m1', [1, -0.5, 6, 100], [0x7792]],
    ['f16', [1, -2, 65520], [0xc0003c00, 0x7c00]],
    ['bool', [1, 0, 0, 1, 0.5, NaN, -0], [0x39]],
    // values are cast first: saturating float -> int, NaN -> 0
    ['u8', [300, -1, 2.7, NaN], [0x200ff]],
    ['i8', [-1, 127.9, -200, 0], [0x807fff]],
    ['i32', [-1, 2 ** 31], [0xffffffff, 0x7fffffff]],
  ])('pack(%s, %p) = %p', (name, values, words) => {
    const d = D(name);
    expect(hex(pack(d, values))).toEqual(hex(words));
    expect(packedWords(d, values.length)).toBe(words.length);
  });

  test.each([
    ['u3', 10, 1],
    ['u3', 11, 2],
    ['bool', 32, 1],
    ['bool', 33, 2],
    ['f16', 3, 2],
    ['f32', 3, 3],
    ['u8', 0, 0],
    ['f6e3m2', 16, 3],
  ])('packedWords(%s, %p) = %p', (name, count, words) => {
    expect(packedWords(D(name), count)).toBe(words);
  });

  test('32-bit dtypes are their platform bit patterns', () => {
    const xs = [1.5, -0, -3.25e-40, Infinity, 123456789];
    expect(hex(pack(f32, xs))).toEqual(hex(new Uint32Array(new Float32Array(xs).buffer)));
    const ns = [-1, 0, 2 ** 31 - 1, -(2 ** 31), 42];
    expect(hex(pack(i32, ns))).toEqual(hex(new Uint32Array(new Int32Array(ns).buffer)));
  });
});

describe('packBits / unpackBits', () => {
  test('match the reference layout and round-trip, for every width 1..32', () => {
    for (let width = 1; width <= 32; width++) {
      const patterns = fc.array(fc.integer({ min: 0, max: 2 ** width - 1 }), { maxLength: 100 });
      fc.assert(
        fc.property(patterns, (ps) => {
          const words = packBits(width, ps);
          expect(Array.from(words)).toEqual(referencePack(width, ps)); // includes a zero-padded last word
          expect(Array.from(unpackBits(width, words, ps.length))).toEqual(ps);
        }),
        { numRuns: 30 },
      );
    }
  });

  test('refuses patterns that do not fit, and words too short for the count', () => {
    expect(() => packBits(3, [8])).toThrow('8 is not a 3-bit pattern');
    expect(() => packBits(3, [-1])).toThrow(expect.objectContaining({ code: 'range' }));
    expect(() => packBits(0, [])).toThrow('cannot pack 0-bit elements');
    expect(() => packBits(33, [])).toThrow('cannot pack 33-bit elements');
    expect(() => unpackBits(3, new Uint32Array(1), 11)).toThrow('11 elements of 3 bits need 2 words, got 1');
    expect(() => unpack(D('u3'), new Uint32Array(1), 11)).toThrow(expect.objectContaining({ code: 'range' }));
    expect(Array.from(unpack(D('u3'), new Uint32Array(1), 10))).toHaveLength(10);
  });
});

describe('pack / unpack over every dtype', () => {
  test.each(DTYPES.map((d) => [d.name, d] as const))('%s: patterns round-trip bit for bit', (_, d) => {
    const patterns = fc.array(fc.integer({ min: 0, max: 2 ** d.bits - 1 }), { maxLength: 80 });
    fc.assert(
      fc.property(patterns, (ps) => {
        const values = ps.map((p) => fromBits(d, p));
        // NaN patterns come back as the canonical NaN; every other pattern, -0 included, as itself.
        const canonical = ps.map((p, i) => (Number.isNaN(values[i]) && isFloat(d) ? nanCode(d) : p));
        expect(ps.map((p) => toBits(d, fromBits(d, p)))).toEqual(canonical);
        const words = pack(d, values);
        expect(Array.from(words)).toEqual(referencePack(d.bits, canonical));
        const back = unpack(d, words, ps.length);
        expect(Array.from(back).every((v, i) => same(v, values[i]!))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test.each(DTYPES.map((d) => [d.name, d] as const))('%s: unpack(pack(x)) is x cast to the dtype', (_, d) => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 50 }), (xs) => {
        const back = unpack(d, pack(d, xs), xs.length);
        expect(Array.from(back).every((v, i) => same(v, convertNumber(d, xs[i]!)))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  test('signed ints unpack sign-extended', () => {
    expect(Array.from(unpack(D('i3'), packBits(3, [0, 3, 4, 7]), 4))).toEqual([0, 3, -4, -1]);
    expect(Array.from(unpack(D('i1'), packBits(1, [0, 1]), 2))).toEqual([0, -1]);
    expect(fromBits(D('i8'), 0x80)).toBe(-128);
    expect(() => fromBits(D('i8'), 256)).toThrow('256 is not a 8-bit pattern');
  });
});
