import { hostTensor } from '../../compiler/interpret/interpreter.js';
import { type Dtype, dtype, isFloat, namedDtypes } from '../../compiler/ir/dtype.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { pack, toBits } from '../../compiler/ir/pack.js';
import { Tensor, TensorError, storageKind } from '../../runtime/tensor.js';
import { device } from '../../runtime/device.js';
import { detectToolchain } from '../../runtime/cpu/toolchain.js';
import { arange, f32, input, kernel, load, output, store } from '../../dsl/index.js';
import { rng } from '../../examples/check.js';

/** Values that exercise d: in range and beyond it, fractions, exact codes, and the specials. */
function randomValues(d: Dtype, n: number, next: () => number): number[] {
  const span = Math.max(Math.abs(d.minValue), d.maxValue) * 1.5 + 1;
  const specials = [NaN, Infinity, -Infinity, -0, 0, d.maxValue, d.minValue];
  return Array.from({ length: n }, () => {
    const r = next();
    if (r < 0.1) return specials[Math.floor(next() * specials.length)]!;
    if (r < 0.4) return Math.round((next() * 2 - 1) * span); // integers, some out of range
    if (r < 0.7 && isFloat(d)) return (next() * 2 - 1) * d.minNormal * 4; // around the subnormals
    return (next() * 2 - 1) * span;
  });
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

const EXPECTED_STORAGE: Record<string, string> = {
  f32: 'Float32Array',
  f16: 'Uint16Array',
  bf16: 'Uint16Array',
  i32: 'Int32Array',
  u32: 'Uint32Array',
  i8: 'Int8Array',
  u8: 'Uint8Array',
  f8e4m3: 'Uint8Array',
  f8e5m2: 'Uint8Array',
};

// Sizes that are not multiples of 32 (nor of 8), so packed tails and straddling elements are covered.
const SHAPES: number[][] = [[1], [37], [3, 29], [5, 7, 3]];

describe.each(namedDtypes.map((d) => [d.name, d] as const))('Tensor %s', (_name, d) => {
  test('storage array type and length', () => {
    const t = Tensor.empty(d, [3, 29]);
    const expected = EXPECTED_STORAGE[d.name] ?? 'Uint32Array';
    expect(t.storage.constructor.name).toBe(expected);
    const length = expected === 'Uint32Array' && d.bits < 8 ? Math.ceil((87 * d.bits) / 32) : 87;
    expect(t.storage.length).toBe(length);
    expect(t.byteLength).toBe(t.storage.byteLength);
    expect(t.size).toBe(87);
    expect(Array.from(t.toValues())).toEqual(new Array(87).fill(0));
  });

  test.each(SHAPES.map((s) => [s.join('x'), s] as const))('round trip of random values, shape %s', (_shape, shape) => {
    const seed = (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;
    const n = shape.reduce((a, b) => a * b, 1);
    const values = randomValues(d, n, rng(seed));
    const t = Tensor.fromValues(d, shape, values);
    const back = t.toValues();
    for (let i = 0; i < n; i++) {
      const want = convertNumber(d, values[i]!);
      if (!same(back[i]!, want)) throw new Error(`seed ${seed}: element ${i} = ${values[i]} came back as ${back[i]}, expected ${want}`);
    }
    // The stored bits are the ones the bit-level definitions give.
    const kind = storageKind(d);
    if (kind === 'packed') expect(Array.from(t.storage)).toEqual(Array.from(pack(d, values)));
    if (kind === 'bits8' || kind === 'bits16') expect(Array.from(t.storage)).toEqual(values.map((v) => toBits(d, v)));
    if (d.name === 'f32') expect(Array.from(new Uint32Array(t.storage.buffer, t.storage.byteOffset, t.storage.length))).toEqual(values.map((v) => toBits(d, v)));
    // And the interpreter's host tensor agrees, both ways.
    const h = hostTensor(d, shape, values);
    expect(Array.from(t.toHostTensor().data)).toEqual(Array.from(h.data));
    expect(Array.from(Tensor.fromHostTensor(h).storage)).toEqual(Array.from(t.storage));
  });

  test('fill matches fromValues, padding bits stay zero', () => {
    const next = rng(7);
    for (const v of [...randomValues(d, 4, next), 1, -1]) {
      const filled = Tensor.empty(d, [37]).fill(v);
      const built = Tensor.fromValues(d, [37], new Array(37).fill(v));
      expect(Array.from(filled.storage)).toEqual(Array.from(built.storage));
    }
  });
});

describe('Tensor', () => {
  test('dtype by name, shape is a frozen copy', () => {
    const shape = [2, 3];
    const t = Tensor.fromValues('f16', shape, [1, 2, 3, 4, 5, 65520]);
    shape[0] = 9;
    expect(t.dtype).toBe(dtype('f16'));
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(Array.from(t.toValues())).toEqual([1, 2, 3, 4, 5, Infinity]);
    expect(Array.from(t.storage)).toEqual([0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x7c00]);
  });

  test('integer casts saturate and truncate, they do not wrap like a typed array store', () => {
    expect(Array.from(Tensor.fromValues('i8', [5], [300, -300, 2.9, -2.9, NaN]).storage)).toEqual([127, -128, 2, -2, 0]);
    expect(Array.from(Tensor.fromValues('u32', [3], [-1, 2 ** 33, 4e9]).storage)).toEqual([0, 2 ** 32 - 1, 4e9]);
  });

  test('bool packs one bit per element', () => {
    const t = Tensor.fromValues('bool', [35], Array.from({ length: 35 }, (_, i) => i % 3));
    expect(t.storage).toBeInstanceOf(Uint32Array);
    expect(t.storage.length).toBe(2);
    expect(Array.from(t.storage)).toEqual([0xb6db6db6, 0x5]);
  });

  test('fromStorage wraps without copying and checks type and length', () => {
    const words = new Uint32Array(2);
    const t = Tensor.fromStorage('u4', [9], words);
    expect(t.storage).toBe(words);
    t.fill(5);
    expect(Array.from(words)).toEqual([0x55555555, 0x5]);
    expect(() => Tensor.fromStorage('u4', [9], new Uint32Array(3))).toThrow(/needs 2 storage elements, got 3/);
    expect(() => Tensor.fromStorage('f16', [2], new Float32Array(2) as never)).toThrow(/f16 storage must be a Uint16Array, got a Float32Array/);
  });

  test('bad shapes and value counts are TensorErrors', () => {
    expect(() => Tensor.empty('f32', [2, -1])).toThrow(TensorError);
    expect(() => Tensor.empty('f32', [1.5])).toThrow(/non-negative integers/);
    expect(() => Tensor.fromValues('f32', [2, 2], [1, 2, 3])).toThrow(/3 values for f32\[2, 2\] \(4 elements\)/);
    // More than the memory holds, and what only JavaScript callers can pass.
    expect(() => Tensor.empty('f32', [2 ** 40])).toThrow(/^cannot allocate 4398046511104 bytes for 1099511627776 f32 elements/);
    expect(() => Tensor.empty('f32', 4 as never)).toThrow(new TensorError('a shape is a list of extents, got 4'));
    expect(() => Tensor.empty(undefined as never, [2])).toThrow(new TensorError('expected a dtype (f32, u4, ... or its name), got nothing'));
    expect(() => Tensor.fromValues('f32', [2], undefined as never)).toThrow(new TensorError('expected an array of values, got nothing'));
    expect(() => Tensor.fromStorage('f32', [2], null as never)).toThrow(new TensorError('f32 storage must be a Float32Array, got null'));
    // An element that is no number (review: a raw TypeError for a BigInt, "NaN is not a 4-bit pattern" for a hole).
    expect(() => Tensor.fromValues('u4', [2], [undefined, 1] as never)).toThrow(new TensorError('value 0 is nothing, not a number'));
    expect(() => Tensor.fromValues('f8e4m3', [2], [1, 2n] as never)).toThrow(new TensorError('value 1 is 2n, not a number'));
    expect(() => Tensor.fromValues('f32', [1], new BigInt64Array(1) as never)).toThrow(new TensorError('value 0 is 0n, not a number'));
  });

  test('launches check every tensor argument before anything reads it, on every device', async () => {
    const copy = kernel('copy', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = arange(16);
      const ok = i.lt(x.dim(0));
      store(y, [i], load(x, [i], { mask: ok }), { mask: ok });
    }, { grid: () => [1] }).build();
    // A stand-in with the right dtype and shape but 2 floats for 5 was read past its end by the C kernel.
    const short = { dtype: f32, shape: [5], storage: new Float32Array(2) };
    for (const d of [device('interp'), ...(await detectToolchain().then(() => [device('cpu')], () => []))]) {
      const k = await d.compile(copy);
      const y = Tensor.empty(f32, [5]);
      expect(() => k.launch!({ x: short as never, y })).toThrow(new TensorError('kernel copy: argument x is no tensor: f32[5] needs 5 storage elements, got 2'));
      expect(() => k.launch!({ x: null as never, y })).toThrow(new TensorError('kernel copy: argument x is no tensor: got null'));
      expect(() => k.launch!(undefined as never)).toThrow(new TensorError('kernel copy: the arguments must be an object of tensors and numbers by name, got nothing'));
    }
  });

  test('empty tensors', () => {
    for (const d of namedDtypes) {
      const t = Tensor.fromValues(d, [0, 4], []);
      expect(t.size).toBe(0);
      expect(t.byteLength).toBe(0);
      expect(t.fill(1).toValues().length).toBe(0);
    }
  });
});
