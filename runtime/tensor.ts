/**
 * Tensors on the host in their storage format: the bytes every target's kernels read and write, so a
 * tensor's storage is passed to a kernel as is (zero-copy on the CPU, one upload on a GPU).
 *
 *   f32          Float32Array
 *   f16, bf16    Uint16Array of bit patterns
 *   i32 / u32    Int32Array / Uint32Array
 *   i8 / u8      Int8Array / Uint8Array
 *   other 8-bit  Uint8Array of bit patterns (f8e4m3, f8e5m2, ...)
 *   < 8 bits     Uint32Array of packed words, element i at bit i*w (pack.ts); bool is 1 bit
 *
 * Values going in are cast to the dtype by the rules of dtype-convert.ts (round to nearest even,
 * saturating float -> int, NaN -> 0 for integers), exactly as the interpreter casts them, so
 * `Tensor.fromValues(d, s, v).toValues()` equals `hostTensor(d, s, v).data`.
 */
import type { HostTensor } from '../compiler/interpret/interpreter.js';
import { type Dtype, dtype as dtypeNamed, isFloat } from '../compiler/ir/dtype.js';
import { encodeFloats } from '../compiler/ir/float-format.js';
import { convertNumber } from '../compiler/ir/dtype-convert.js';
import { fromBits, pack, packedWords, toBits, unpack } from '../compiler/ir/pack.js';
import { describeValue } from '../compiler/ir/errors.js';

export type StorageArray = Float32Array | Uint16Array | Int32Array | Uint32Array | Int8Array | Uint8Array;

/** How a dtype lies in memory; see the table at the top of this file. */
export type StorageKind = 'f32' | 'i32' | 'u32' | 'i8' | 'u8' | 'bits16' | 'bits8' | 'packed';

export class TensorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorError';
  }
}

/** The storage kind of a dtype. */
export function storageKind(d: Dtype): StorageKind {
  switch (d.name) {
    case 'f32':
    case 'i32':
    case 'u32':
    case 'i8':
    case 'u8':
      return d.name;
  }
  if (d.bits === 16) return 'bits16'; // f16, bf16
  if (d.bits === 8) return 'bits8'; // the 8-bit floats
  if (d.bits < 8) return 'packed';
  throw new TensorError(`dtype ${d.name} has no storage format`);
}

/** How many storage elements (words for packed dtypes) hold `count` elements of d. */
export function storageLength(d: Dtype, count: number): number {
  return storageKind(d) === 'packed' ? packedWords(d, count) : count;
}

/**
 * Storage of at least ALIGN_FROM_BYTES starts on a 64-byte cache line where the host can say where a
 * buffer lies (the CPU runtime tells it: useHostMemory); elsewhere wherever the allocator puts it.
 * Node puts large buffers 16 bytes past a line (the allocator's header), so every other 32-byte vector
 * access of a row crossed two lines: the u4 GEMV 8192x8192 ran 5-13% slower so (four rounds,
 * alternating, in one process), sgemm 2048^3 0-15% (within this VM's noise). The storage is then a
 * view at an offset into a slightly larger buffer.
 *
 * Storage of at least HUGE_FROM_BYTES starts on a 2 MiB boundary instead, and where the host can ask
 * for it (Linux's madvise) its whole 2 MiB pages are advised as transparent huge pages before anything
 * touches them, as numpy does for its arrays of 4 MiB and more. On the 2-core Zen 4 VM of bench/, two
 * threads summing 64 MiB (each pass after a 256 MiB copy, alternating, 40 passes, three runs) took
 * 1.43-2.47 ms on huge pages against 3.03-3.47 on 4 KiB ones, and the first touch of 256 MiB 31-33 ms
 * against 136-183 (a page fault per 4 KiB). The extra 2 MiB of address space before the boundary is
 * never touched, so it takes no memory.
 */
const LINE = 64;
const ALIGN_FROM_BYTES = 4096;
const HUGE_PAGE = 2 * 2 ** 20;
const HUGE_FROM_BYTES = 4 * 2 ** 20;

/** What the host can tell and do about memory; the CPU runtime gives it (runtime/cpu/loader.ts). */
export interface HostMemory {
  /** Where a buffer's bytes lie. */
  addressOf(bytes: Uint8Array): bigint;
  /** Asks for transparent huge pages over whole 2 MiB pages at `address` (best effort, never throws). */
  adviseHugePages?(address: bigint, bytes: number): void;
}
let host: HostMemory | undefined;

/** Gives allocateStorage what the host can say and do about memory, so that it can place large storage. */
export function useHostMemory(memory: HostMemory): void {
  host = memory;
}

/** A zeroed buffer for `bytes` bytes and the offset in it where they start. */
function zeroedBytes(bytes: number): { buffer: ArrayBuffer; offset: number } {
  if (host === undefined || bytes < ALIGN_FROM_BYTES) return { buffer: new ArrayBuffer(bytes), offset: 0 };
  const huge = bytes >= HUGE_FROM_BYTES;
  const align = BigInt(huge ? HUGE_PAGE : LINE);
  const buffer = new ArrayBuffer(bytes + Number(align));
  const start = host.addressOf(new Uint8Array(buffer, 0, 1));
  const offset = (align - (start % align)) % align;
  if (huge) host.adviseHugePages?.(start + offset, Math.floor(bytes / HUGE_PAGE) * HUGE_PAGE);
  return { buffer, offset: Number(offset) };
}

/** A zeroed storage array for `count` elements of d. */
export function allocateStorage(d: Dtype, count: number): StorageArray {
  const n = storageLength(d, count);
  const kind = storageKind(d);
  const type = { f32: Float32Array, i32: Int32Array, u32: Uint32Array, packed: Uint32Array, i8: Int8Array, u8: Uint8Array, bits8: Uint8Array, bits16: Uint16Array }[kind];
  let placed: { buffer: ArrayBuffer; offset: number };
  try {
    placed = zeroedBytes(n * type.BYTES_PER_ELEMENT);
  } catch (e) {
    // A RangeError, from whichever realm made the buffer (jest's is not this module's).
    throw new TensorError(`cannot allocate ${n * type.BYTES_PER_ELEMENT} bytes for ${count} ${d.name} elements: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new type(placed.buffer, placed.offset, n);
}

/**
 * What is wrong with `v` as a tensor, or undefined: a dtype, a shape of non-negative integers, and
 * storage of its dtype's storage format and exactly the length the shape needs (as fromStorage makes).
 * Checked by structure, not by class, so a Tensor from another copy of this module passes.
 */
export function storageProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return `got ${describeValue(v)}`;
  const { dtype: d, shape, storage } = v as Partial<Tensor>;
  if (typeof d !== 'object' || d === null || typeof d.name !== 'string') return 'it has no dtype';
  if (!Array.isArray(shape) || !shape.every((x) => Number.isSafeInteger(x) && x >= 0)) return 'its shape is no list of non-negative integers';
  let expected: StorageArray;
  try {
    expected = allocateStorage(resolve(d.name), 0);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  // By tag, not instanceof: a typed array made in another realm (a test's vm context) is still one.
  if (Object.prototype.toString.call(storage) !== `[object ${expected.constructor.name}]`) return `${d.name} storage must be a ${expected.constructor.name}`;
  const n = storageLength(resolve(d.name), sizeOfShape(shape));
  if ((storage as StorageArray).length !== n) return `${d.name}[${shape.join(', ')}] needs ${n} storage elements, got ${(storage as StorageArray).length}`;
  return undefined;
}

export class Tensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The number of elements: the product of the shape. */
  readonly size: number;
  readonly storage: StorageArray;

  private constructor(dtype: Dtype, shape: readonly number[], size: number, storage: StorageArray) {
    this.dtype = dtype;
    this.shape = shape;
    this.size = size;
    this.storage = storage;
  }

  /** A tensor of zeros (all-zero bits: +0 for floats, false for bool). */
  static empty(dtype: Dtype | string, shape: readonly number[]): Tensor {
    const d = resolve(dtype);
    const size = sizeOfShape(shape);
    return new Tensor(d, Object.freeze([...shape]), size, allocateStorage(d, size));
  }

  /** A tensor holding `values` (row-major) cast to the dtype. */
  static fromValues(dtype: Dtype | string, shape: readonly number[], values: ArrayLike<number>): Tensor {
    return Tensor.empty(dtype, shape).setValues(values);
  }

  /**
   * Wraps an existing storage array without copying (e.g. one a kernel wrote). Throws TensorError when
   * its type or length is not the storage format of `dtype` and `shape`.
   */
  static fromStorage(dtype: Dtype | string, shape: readonly number[], storage: StorageArray): Tensor {
    const d = resolve(dtype);
    const size = sizeOfShape(shape);
    const expected = allocateStorage(d, 0).constructor;
    if (typeof storage !== 'object' || storage === null || storage.constructor !== expected) {
      throw new TensorError(`${d.name} storage must be a ${expected.name}, got ${typeof storage === 'object' && storage !== null ? `a ${storage.constructor.name}` : describeValue(storage)}`);
    }
    const n = storageLength(d, size);
    if (storage.length !== n) {
      throw new TensorError(`${d.name}[${shape.join(', ')}] needs ${n} storage elements, got ${storage.length}`);
    }
    return new Tensor(d, Object.freeze([...shape]), size, storage);
  }

  /** The interpreter's host tensor as a storage-format tensor. */
  static fromHostTensor(h: HostTensor): Tensor {
    return Tensor.fromValues(h.dtype, h.shape, h.data);
  }

  get byteLength(): number {
    return this.storage.byteLength;
  }

  /** Overwrites every element with `values` (row-major, length = size), cast to the dtype. */
  setValues(values: ArrayLike<number>): this {
    if (typeof values !== 'object' || values === null || typeof values.length !== 'number') throw new TensorError(`expected an array of values, got ${describeValue(values)}`);
    if (values.length !== this.size) {
      throw new TensorError(`${values.length} values for ${this.dtype.name}[${this.shape.join(', ')}] (${this.size} elements)`);
    }
    // A typed array of numbers holds nothing else; an array may (a missing element, a string, a BigInt).
    if (!ArrayBuffer.isView(values) || values instanceof BigInt64Array || values instanceof BigUint64Array) {
      for (let i = 0; i < values.length; i++) {
        if (typeof values[i] !== 'number') throw new TensorError(`value ${i} is ${describeValue(values[i])}, not a number`);
      }
    }
    encode(this.dtype, this.storage, values);
    return this;
  }

  /** Sets every element to `value` cast to the dtype; the padding bits of packed storage stay zero. */
  fill(value: number): this {
    const d = this.dtype;
    const s = this.storage;
    if (storageKind(d) !== 'packed') {
      // One element encoded through the general path, then copied: the same bits as setValues gives.
      const one = allocateStorage(d, 1);
      encode(d, one, [value]);
      s.fill(one[0]!);
      return this;
    }
    // 32 elements of w bits are exactly w words, so the words repeat with period w.
    const w = d.bits;
    const period = pack(d, new Array<number>(32).fill(value));
    for (let k = 0; k < s.length; k++) s[k] = period[k % w]!;
    const usedBits = this.size * w;
    if (usedBits % 32 !== 0) s[s.length - 1]! &= 2 ** (usedBits % 32) - 1;
    return this;
  }

  /** The values, decoded, row-major. */
  toValues(): Float64Array {
    return decode(this.dtype, this.storage, this.size);
  }

  /** A copy as the interpreter's host tensor. */
  toHostTensor(): HostTensor {
    return { dtype: this.dtype, shape: [...this.shape], data: this.toValues() };
  }
}

function resolve(d: Dtype | string): Dtype {
  if (typeof d === 'string') return dtypeNamed(d);
  if (typeof d !== 'object' || d === null || typeof d.name !== 'string') throw new TensorError(`expected a dtype (f32, u4, ... or its name), got ${describeValue(d)}`);
  return d;
}

function sizeOfShape(shape: readonly number[]): number {
  if (!Array.isArray(shape)) throw new TensorError(`a shape is a list of extents, got ${describeValue(shape)}`);
  let n = 1;
  for (const e of shape) {
    if (!Number.isSafeInteger(e) || e < 0) throw new TensorError(`bad shape [${shape.join(', ')}]: extents must be non-negative integers`);
    n *= e;
  }
  if (!Number.isSafeInteger(n)) throw new TensorError(`shape [${shape.join(', ')}] has too many elements`);
  return n;
}

const CANONICAL_F32_NAN = 0x7fc00000;

function encode(d: Dtype, s: StorageArray, values: ArrayLike<number>): void {
  const n = values.length;
  switch (storageKind(d)) {
    case 'f32': {
      // A Float32Array store rounds to nearest even, as convertNumber does; NaNs get the one pattern
      // float-format.ts gives (a stored NaN could otherwise keep payload bits from a float64).
      let bits: Uint32Array | undefined;
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        s[i] = v;
        if (v !== v) (bits ??= new Uint32Array(s.buffer, s.byteOffset, s.length))[i] = CANONICAL_F32_NAN;
      }
      return;
    }
    case 'i32':
    case 'u32':
    case 'i8':
    case 'u8':
      // Not a plain store: typed arrays wrap modulo 2^bits, the casts saturate.
      for (let i = 0; i < n; i++) s[i] = convertNumber(d, values[i]!);
      return;
    case 'bits16':
    case 'bits8':
      if (isFloat(d)) encodeFloats(d, values, s);
      else for (let i = 0; i < n; i++) s[i] = toBits(d, values[i]!);
      return;
    case 'packed':
      s.set(pack(d, values));
      return;
  }
}

function decode(d: Dtype, s: StorageArray, count: number): Float64Array {
  switch (storageKind(d)) {
    case 'f32':
    case 'i32':
    case 'u32':
    case 'i8':
    case 'u8':
      return Float64Array.from(s);
    case 'bits16':
    case 'bits8': {
      const table = decodeTable(d);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = table[s[i]!]!;
      return out;
    }
    case 'packed':
      return unpack(d, s as Uint32Array, count);
  }
}

/** The value of every bit pattern of an 8- or 16-bit dtype, built once per dtype. */
const decodeTables = new Map<Dtype, Float64Array>();

function decodeTable(d: Dtype): Float64Array {
  let t = decodeTables.get(d);
  if (t === undefined) {
    t = new Float64Array(2 ** d.bits);
    for (let p = 0; p < t.length; p++) t[p] = fromBits(d, p);
    decodeTables.set(d, t);
  }
  return t;
}
