/**
 * Which dots of a kernel run on tensor cores (mma.sync), in which operand format, and how their
 * operands and accumulator are staged in shared memory: decided from the IR alone, before any CUDA is
 * emitted, so that the block size can be chosen for them (threadsForFragments) before the emitter
 * lays out any tile.
 */
import { type Kernel, type Op, type Value, definitions } from '../../compiler/ir/ir.js';
import type { TileType } from '../../compiler/ir/types.js';
import { fragmentDistribution, mmaFragment } from '../simt/distribution.js';
import type { AsyncOperand } from './pipeline.js';

/**
 * The block size for registerAccumulators when none is given: the largest power of two up to the usual
 * one (`threads`) at which the result of every dot that can keep its accumulator in registers
 * (registerDot) has the mma fragment layout (fragmentDistribution: M a multiple of threads / 2), e.g.
 * 128 for 64 x 64 tiles where the usual choice is 256; the usual one for a kernel without such dots,
 * or where no size gives all of them that layout.
 */
export function threadsForFragments(kernel: Kernel, threads: number, tf32: boolean): number {
  const defs = definitions(kernel.body);
  const shapes = [...defs.values()].filter((op) => op.opcode === 'dot' && registerDot(op, defs, tf32)).map((op) => tileOf(op.results[0]!).shape);
  if (shapes.length === 0) return threads;
  for (let t = threads; t >= 32; t /= 2) if (shapes.every((s) => fragmentDistribution(s, t) !== undefined)) return t;
  return threads;
}

const tileOf = (v: Value) => v.type as TileType;

/**
 * The 16-bit float format every value of v is exact in: v's own dtype, or for an f32 tile a cast from
 * one (the kernels widen bf16 operands to f32 before a dot), through views, permutes and broadcasts.
 */
function sixteenBitValues(v: Value, defs: ReadonlyMap<Value, Op>): 'bf16' | 'f16' | undefined {
  const own = tileOf(v).dtype.name;
  if (own === 'bf16' || own === 'f16') return own;
  const def = defs.get(v);
  if (def === undefined) return undefined;
  if (def.opcode === 'cast' && own === 'f32') {
    const from = tileOf(def.operands[0]!).dtype.name;
    return from === 'bf16' || from === 'f16' ? from : undefined;
  }
  if (['permute', 'view', 'reshape', 'broadcast'].includes(def.opcode)) return sixteenBitValues(def.operands[0]!, defs);
  return undefined;
}

/**
 * The operand format of a tensor-core dot: 16-bit floats (mma.sync.m16n8k16), or f32 operands rounded
 * to tf32, 10 bits of mantissa (m16n8k8, the tf32 option).
 */
export type MmaFormat = 'bf16' | 'f16' | 'tf32';

/** Bytes of one staged operand element of the format, and the K of one mma. */
export const formatBytes = (f: MmaFormat) => (f === 'tf32' ? 4 : 2);
export const mmaK = (f: MmaFormat) => (f === 'tf32' ? 8 : 16);
/**
 * How the register path stages a dot's b (mmaFragment.staging): k-major, read by ldmatrix.trans, unless
 * the elements are 32-bit (tf32: .trans moves 16-bit ones) or b is copied ahead from an [n, k] tile.
 */
export const bMajorOf = (f: MmaFormat, copied?: AsyncOperand): 'n' | 'k' => (f === 'tf32' || copied?.transposed ? 'n' : 'k');
/** The C type a staged operand element is held in, and the value stored for the f32 expression x. */
export const stagedType = (f: MmaFormat) => (f === 'tf32' ? 'float' : 'uint16_t');
export const stagedValue = (f: MmaFormat, x: string) => (f === 'tf32' ? `(float)(${x})` : f === 'bf16' ? `(uint16_t)tskc_bf16_code_f(${x})` : `(uint16_t)tskc_f16_code((double)(${x}))`);

/**
 * The format of a dot's operands where it can run on tensor cores: an f32 result with M and N
 * multiples of 16 and 8, and both operands exact in the same 16-bit format with K a multiple of 16,
 * else (with `tf32`) f32 operands with K a multiple of 8.
 */
export function mmaOperand(op: Op, defs: ReadonlyMap<Value, Op>, tf32: boolean): MmaFormat | undefined {
  const [a, b] = op.operands as [Value, Value];
  const [m, k] = tileOf(a).shape as [number, number];
  const n = tileOf(b).shape[1]!;
  if (tileOf(op.results[0]!).dtype.name !== 'f32' || m % 16 !== 0 || n % 8 !== 0) return undefined;
  const operand = sixteenBitValues(a, defs);
  if (operand && sixteenBitValues(b, defs) === operand && k % 16 === 0) return operand;
  const f32 = tileOf(a).dtype.name === 'f32' && tileOf(b).dtype.name === 'f32';
  return tf32 && f32 && k % 8 === 0 ? 'tf32' : undefined;
}

/** Whether a tensor-core dot can keep its accumulator in registers: its a and b staging fits 48 KiB, with b either way it may be staged. */
export function registerDot(op: Op, defs: ReadonlyMap<Value, Op>, tf32: boolean): boolean {
  const [m, k] = tileOf(op.operands[0]!).shape as [number, number];
  const n = tileOf(op.operands[1]!).shape[1]!;
  const format = mmaOperand(op, defs, tf32);
  return format !== undefined && (['n', 'k'] as const).every((major) => mmaFragment.staging(m, n, k, formatBytes(format), major).bytes <= 48 * 1024);
}

/** Where a tensor-core dot stages a and b (elements of `bytes`) and the accumulator (f32) in the scratch area, and its size. */
export function mmaStaging(m: number, n: number, k: number, bytes: number): { b: number; c: number; bytes: number } {
  const b = Math.ceil((m * k * bytes) / 16) * 16;
  const c = b + Math.ceil((k * n * bytes) / 16) * 16;
  return { b, c, bytes: c + m * n * 4 };
}
