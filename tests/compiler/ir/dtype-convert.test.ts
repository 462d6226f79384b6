import fc from 'fast-check';
import { type Dtype, dtype, f32, i32, i8, isFloat, u32 } from '../../../compiler/ir/dtype.js';
import { convert, convertNumber, floatToInt, wrapInt } from '../../../compiler/ir/dtype-convert.js';
import { decodeFloat, roundToFormat } from '../../../compiler/ir/float-format.js';

const D = dtype;

describe('wrapInt', () => {
  test.each([
    ['i8', 127, 127],
    ['i8', 128, -128],
    ['i8', 255, -1],
    ['i8', 256, 0],
    ['i8', -129, 127],
    ['u8', -1, 255],
    ['u8', 256, 0],
    ['u8', 511, 255],
    ['u3', 9, 1],
    ['u3', -1, 7],
    ['i3', 4, -4],
    ['i3', -5, 3],
    ['i1', 1, -1],
    ['i1', 2, 0],
    ['u1', 3, 1],
    ['i32', 2 ** 31, -(2 ** 31)],
    ['i32', -(2 ** 31) - 1, 2 ** 31 - 1],
    ['i32', 2 ** 32 + 5, 5],
    ['u32', -1, 2 ** 32 - 1],
    ['u32', 2 ** 53, 0],
    ['i32', -0, 0],
    ['u8', -256, 0],
  ])('wrapInt(%s, %p) = %p', (name, x, expected) => {
    expect(wrapInt(D(name), x)).toBe(expected); // toBe: +0, never -0
  });

  test('agrees with the 32-bit and 8-bit JS idioms', () => {
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    fc.assert(
      fc.property(int32, int32, (a, b) => {
        expect(wrapInt(i32, a + b)).toBe((a + b) | 0);
        expect(wrapInt(u32, a - b)).toBe((a - b) >>> 0);
        expect(wrapInt(i8, a)).toBe((a << 24) >> 24);
      }),
    );
  });

  test('needs an integer dtype and an integer', () => {
    expect(() => wrapInt(f32, 1)).toThrow(expect.objectContaining({ code: 'dtype' }));
    expect(() => wrapInt(D('bool'), 1)).toThrow('needs an integer dtype, got bool');
    for (const x of [1.5, NaN, Infinity]) {
      expect(() => wrapInt(i8, x)).toThrow(expect.objectContaining({ code: 'range' }));
    }
  });
});

describe('floatToInt (cvt.rzi.sat)', () => {
  test.each([
    ['i32', 3.7, 3],
    ['i32', -3.7, -3],
    ['i32', -0.5, 0],
    ['i32', -0, 0],
    ['i32', 1e10, 2 ** 31 - 1],
    ['i32', -1e10, -(2 ** 31)],
    ['i32', NaN, 0],
    ['i32', Infinity, 2 ** 31 - 1],
    ['i32', -Infinity, -(2 ** 31)],
    ['u32', -5, 0],
    ['u32', 4294967295.9, 2 ** 32 - 1],
    ['u8', 300, 255],
    ['u8', 255.9, 255],
    ['i8', -128.9, -128],
    ['i8', -129, -128],
    ['u3', 7.99, 7],
    ['u3', 8, 7],
    ['i4', -9, -8],
    ['i1', 0.5, 0],
    ['i1', -1.5, -1],
    ['u1', 1.5, 1],
  ])('floatToInt(%s, %p) = %p', (name, x, expected) => {
    expect(floatToInt(D(name), x)).toBe(expected);
  });

  test('needs an integer dtype', () => {
    expect(() => floatToInt(D('f16'), 1)).toThrow('floatToInt needs an integer dtype, got f16');
  });
});

describe('convert', () => {
  test.each([
    // float -> float: RNE, with each format's specials
    ['f32', 'f16', 65520, Infinity],
    ['f32', 'f16', Math.fround(1 / 3), 0.333251953125],
    ['f32', 'f16', 2 ** -25, 0],
    ['f32', 'f16', -(2 ** -25), -0],
    ['f16', 'f32', -0, -0],
    ['f32', 'bf16', 1.00390625, 1],
    ['f16', 'f8e4m3', 65504, 448],
    ['f16', 'f8e4m3', -Infinity, -448],
    ['f16', 'f8e4m3', NaN, NaN],
    ['f16', 'f4e2m1', NaN, 0],
    ['f8e4m3', 'f16', NaN, NaN],
    ['f8e5m2', 'f6e3m2', Infinity, 28],
    ['f8e5m2', 'f8e4m3', 57344, 448],
    ['f6e3m2', 'f8e5m2', 28, 28],
    // int -> float: the same rounding
    ['i32', 'f32', 16777217, 16777216],
    ['i32', 'f32', 16777219, 16777220],
    ['u32', 'f32', 2 ** 32 - 1, 2 ** 32],
    ['i32', 'f16', 65520, Infinity],
    ['i32', 'f16', -70000, -Infinity],
    ['i8', 'f8e4m3', -127, -128],
    ['u8', 'f4e2m1', 255, 6],
    ['i32', 'f8e4m3', 1000, 448],
    ['i32', 'bf16', 257, 256],
    ['i4', 'f3e1m1', -8, -3],
    ['u3', 'f4e2m1', 5, 4],
    // float -> int: truncate, saturate, NaN -> 0
    ['f32', 'i32', 3e9, 2 ** 31 - 1],
    ['f32', 'u8', -1.5, 0],
    ['f16', 'i8', -Infinity, -128],
    ['f32', 'i32', NaN, 0],
    ['f8e4m3', 'u3', 448, 7],
    ['f4e2m1', 'i2', -6, -2],
    ['f32', 'u32', -0, 0],
    ['bf16', 'i32', 2.5, 2],
    ['f4e2m1', 'u8', 1.5, 1],
    // int -> int: wrap
    ['i32', 'i8', 200, -56],
    ['i32', 'u8', -1, 255],
    ['u8', 'i8', 255, -1],
    ['i8', 'u32', -1, 2 ** 32 - 1],
    ['u32', 'i32', 2 ** 32 - 1, -1],
    ['i8', 'i32', -5, -5],
    ['u8', 'u3', 13, 5],
    ['i4', 'u2', -1, 3],
    ['u7', 'i5', 100, 4],
    // anything -> bool: x != 0
    ['f32', 'bool', NaN, 1],
    ['f32', 'bool', -0, 0],
    ['f32', 'bool', 0.001, 1],
    ['i8', 'bool', -1, 1],
    ['u3', 'bool', 0, 0],
    ['f4e2m1', 'bool', 0.5, 1],
    ['bool', 'bool', 1, 1],
    // bool -> anything: 0 or 1
    ['bool', 'f32', 1, 1],
    ['bool', 'i32', 1, 1],
    ['bool', 'f16', 0, 0],
    ['bool', 'f4e2m1', 1, 1],
    ['bool', 'u1', 1, 1],
    ['bool', 'i1', 1, -1],
  ])('%s -> %s: %p -> %p', (from, to, x, expected) => {
    expect(convert(D(from), D(to), x)).toBe(expected);
  });

  test('an integer source must hold an integer', () => {
    expect(() => convert(i32, i8, 1.5)).toThrow(expect.objectContaining({ code: 'range' }));
  });

  test('widening to f32 is exact for every value of every narrower float', () => {
    const names = ['f16', 'bf16', 'f8e4m3', 'f8e5m2', 'f8e7m0', 'f6e3m2', 'f6e2m3', 'f5e2m2', 'f4e2m1', 'f3e1m1'];
    for (const d of names.map(D)) {
      if (!isFloat(d)) throw new Error('not a float');
      const bad: number[] = [];
      for (let c = 0; c < 2 ** d.bits; c++) {
        const v = decodeFloat(d, c);
        if (!Object.is(convert(d, f32, v), v)) bad.push(c);
      }
      expect([d.name, bad]).toEqual([d.name, []]);
    }
  });

  test('widening between ints keeps the value, narrowing back gives it again', () => {
    const ints = ['i1', 'i3', 'i5', 'i8', 'i32', 'u1', 'u4', 'u7', 'u8', 'u32'].map(D);
    for (const a of ints) {
      for (const b of ints) {
        const wider = (b.kind === a.kind && b.bits >= a.bits) || (b.kind === 'signed' && b.bits > a.bits);
        if (!wider) continue;
        for (const x of [a.minValue, 0, 1, a.maxValue].filter((v) => v <= a.maxValue)) {
          expect(convert(a, b, x)).toBe(x);
          expect(convert(b, a, x)).toBe(x);
        }
      }
    }
  });
});

describe('convertNumber (a JS number cast to a dtype)', () => {
  test.each([
    ['i8', 3.7, 3],
    ['u8', -0.5, 0],
    ['u8', 1e9, 255],
    ['i32', NaN, 0],
    ['f16', 0.1, 0.0999755859375],
    ['f4e2m1', 5, 4],
    ['f8e4m3', NaN, NaN],
    ['f4e2m1', NaN, 0],
    ['bool', NaN, 1],
    ['bool', -0, 0],
  ])('%s: %p -> %p', (name, x, expected) => {
    expect(convertNumber(D(name), x)).toBe(expected);
  });

  test('is convert with a float source for floats, floatToInt for ints', () => {
    const targets: Dtype[] = ['f16', 'bf16', 'f8e4m3', 'f4e2m1', 'i8', 'u3', 'i32', 'bool'].map(D);
    fc.assert(
      fc.property(fc.double(), fc.constantFrom(...targets), (x, d) => {
        const expected = isFloat(d) ? roundToFormat(d, x) : d.kind === 'bool' ? Number(x !== 0) : floatToInt(d, x);
        expect(convertNumber(d, x)).toBe(expected);
        expect(convert(f32, d, Math.fround(x))).toBe(convertNumber(d, Math.fround(x)));
      }),
    );
  });
});
