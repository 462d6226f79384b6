import * as dtypes from '../../../compiler/ir/dtype.js';
import {
  type Dtype,
  bf16,
  dtype,
  f16,
  f32,
  f3e1m1,
  f4e2m1,
  f8e4m3,
  f8e5m2,
  i32,
  isBool,
  isFloat,
  isInt,
  isLowBit,
  namedDtypes,
} from '../../../compiler/ir/dtype.js';
import { IrError } from '../../../compiler/ir/errors.js';

describe('dtype names', () => {
  test('every constant is the cached dtype of its name, frozen', () => {
    for (const d of namedDtypes) {
      expect(dtype(d.name)).toBe(d);
      expect(Object.isFrozen(d)).toBe(true);
    }
    const names = namedDtypes.map((d) => d.name);
    for (const name of names) expect((dtypes as unknown as Record<string, Dtype>)[name]).toBe(dtype(name));
    expect(names).toEqual([
      'f32', 'f16', 'bf16', 'i32', 'u32', 'bool',
      'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8',
      'f8e4m3', 'f8e5m2', 'f6e3m2', 'f6e2m3', 'f5e2m2', 'f4e2m1', 'f3e1m1',
    ]);
  });

  test('the general small-float rule accepts every f{B}e{E}m{M} with B = 1+E+M <= 8, E >= 1', () => {
    for (let e = 1; e <= 7; e++) {
      for (let m = 0; 1 + e + m <= 8; m++) {
        const d = dtype(`f${1 + e + m}e${e}m${m}`);
        expect(d).toBe(dtype(`f${1 + e + m}e${e}m${m}`));
        expect([d.kind, d.bits, d.exponentBits, d.mantissaBits]).toEqual(['float', 1 + e + m, e, m]);
      }
    }
  });

  test.each([
    ['f9e4m4', 'bad small float'],
    ['f8e4m4', 'bad small float'],
    ['f2e0m1', 'bad small float'],
    ['f8e04m3', 'unknown dtype'],
    ['f16e5m10', 'unknown dtype'],
    ['i16', 'unknown dtype'],
    ['u0', 'unknown dtype'],
    ['u9', 'unknown dtype'],
    ['F32', 'unknown dtype'],
    ['f64', 'unknown dtype'],
    ['constructor', 'unknown dtype'],
    ['', 'unknown dtype'],
  ])('refuses %j', (name, message) => {
    expect(() => dtype(name)).toThrow(IrError);
    expect(() => dtype(name)).toThrow(expect.objectContaining({ code: 'dtype' }));
    expect(() => dtype(name)).toThrow(`${message} '${name}'`);
  });
});

describe('dtype fields', () => {
  test.each([
    // name, kind, bits, min, max, hasInfinity, hasNaN
    ['f32', 'float', 32, -3.4028234663852886e38, 3.4028234663852886e38, true, true],
    ['f16', 'float', 16, -65504, 65504, true, true],
    ['bf16', 'float', 16, -3.3895313892515355e38, 3.3895313892515355e38, true, true],
    ['f8e5m2', 'float', 8, -57344, 57344, true, true],
    ['f8e4m3', 'float', 8, -448, 448, false, true],
    ['f8e3m4', 'float', 8, -30, 30, false, true],
    ['f6e3m2', 'float', 6, -28, 28, false, false],
    ['f6e2m3', 'float', 6, -7.5, 7.5, false, false],
    ['f5e2m2', 'float', 5, -7, 7, false, false],
    ['f4e2m1', 'float', 4, -6, 6, false, false],
    ['f3e1m1', 'float', 3, -3, 3, false, false],
    ['f7e3m3', 'float', 7, -30, 30, false, false],
    ['f4e3m0', 'float', 4, -16, 16, false, false],
    ['i32', 'signed', 32, -(2 ** 31), 2 ** 31 - 1, false, false],
    ['u32', 'unsigned', 32, 0, 2 ** 32 - 1, false, false],
    ['i8', 'signed', 8, -128, 127, false, false],
    ['u8', 'unsigned', 8, 0, 255, false, false],
    ['i5', 'signed', 5, -16, 15, false, false],
    ['u3', 'unsigned', 3, 0, 7, false, false],
    ['i1', 'signed', 1, -1, 0, false, false],
    ['bool', 'bool', 1, 0, 1, false, false],
  ] as const)('%s', (name, kind, bits, min, max, inf, nan) => {
    const d = dtype(name);
    expect([d.kind, d.bits, d.minValue, d.maxValue, d.hasInfinity, d.hasNaN]).toEqual([kind, bits, min, max, inf, nan]);
  });

  test('float format fields', () => {
    const row = (d: Dtype) => [d.bias, d.specials, d.maxFinite, d.minNormal, d.minPositive];
    expect(row(f32)).toEqual([127, 'ieee', f32.maxValue, 2 ** -126, 2 ** -149]);
    expect(row(f16)).toEqual([15, 'ieee', 65504, 2 ** -14, 2 ** -24]);
    expect(row(bf16)).toEqual([127, 'ieee', bf16.maxValue, 2 ** -126, 2 ** -133]);
    expect(row(f8e5m2)).toEqual([15, 'ieee', 57344, 2 ** -14, 2 ** -16]);
    expect(row(f8e4m3)).toEqual([7, 'fn', 448, 2 ** -6, 2 ** -9]);
    expect(row(dtype('f8e7m0'))).toEqual([63, 'fn', 2 ** 63, 2 ** -62, 2 ** -62]);
    expect(row(f4e2m1)).toEqual([1, 'finite', 6, 1, 0.5]);
    expect(row(f3e1m1)).toEqual([0, 'finite', 3, 2, 1]);
    expect(row(i32)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('dtype predicates', () => {
  test.each([
    // isFloat, isInt, isBool, isLowBit
    ['f32', true, false, false, false],
    ['bf16', true, false, false, false],
    ['f8e4m3', true, false, false, true],
    ['f8e5m2', true, false, false, true],
    ['f4e2m1', true, false, false, true],
    ['i32', false, true, false, false],
    ['u32', false, true, false, false],
    ['u8', false, true, false, false],
    ['i8', false, true, false, false],
    ['u3', false, true, false, true],
    ['i1', false, true, false, true],
    ['bool', false, false, true, true],
  ] as const)('%s', (name, float, int, isbool, lowBit) => {
    const d = dtype(name);
    expect([isFloat(d), isInt(d), isBool(d), isLowBit(d)]).toEqual([float, int, isbool, lowBit]);
  });
});
