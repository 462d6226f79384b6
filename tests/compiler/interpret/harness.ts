/**
 * Builds one-op kernels with KernelBuilder and runs them on the interpreter: each test states an op's
 * meaning as a plain JS function of the inputs and checks the interpreter against it.
 */
import { KernelBuilder } from '../../../compiler/ir/builder.js';
import type { Dtype } from '../../../compiler/ir/dtype.js';
import type { Attrs, Value } from '../../../compiler/ir/ir.js';
import type { Opcode } from '../../../compiler/ir/opcodes.js';
import { tensorType } from '../../../compiler/ir/types.js';
import { verify } from '../../../compiler/ir/verifier.js';
import { type HostTensor, hostTensor, interpret } from '../../../compiler/interpret/index.js';

export interface TileInput {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number>;
}

/** Every coordinate index of `shape` as one i32 tile per dim, for loading or storing a whole tensor. */
function wholeTileIndices(b: KernelBuilder, shape: readonly number[]): Value[] {
  return shape.map((n, d) => {
    const along = b.emit1('arange', [], { start: 0, end: n });
    const viewShape = shape.map((_, k) => (k === d ? n : 1));
    const v = shape.length > 1 ? b.emit1('view', [along], { shape: viewShape }) : along;
    return shape.length > 1 ? b.emit1('broadcast', [v], { shape: [...shape] }) : v;
  });
}

/**
 * Loads each input whole (one block), applies `opcode` with `attrs`, stores the result whole and
 * returns it. Scalars (rank 0) are loaded from rank-1 tensors of one element.
 */
export function runOp(opcode: Opcode, inputs: readonly TileInput[], attrs: Attrs = {}): { dtype: Dtype; shape: readonly number[]; values: Float64Array } {
  const b = new KernelBuilder('one_op', {}, [1]);
  const args = inputs.map((t, i) => b.arg(`in${i}`, tensorType(t.dtype, t.shape.length === 0 ? [1] : t.shape, 'in')));
  const loaded = inputs.map((t, i) => {
    if (t.shape.length > 0) return b.emit1('load', [args[i]!, ...wholeTileIndices(b, t.shape)]);
    const zero = b.emit1('const', [], { value: 0, dtype: 'i32' });
    return b.emit1('reshape', [b.emit1('load', [args[i]!, b.emit1('view', [zero], { shape: [1] })])], { shape: [] });
  });
  const result = b.emit1(opcode, loaded, attrs);
  const type = result.type;
  if (type.kind !== 'tile') throw new Error('op result is not a tile');
  const outShape = type.shape.length === 0 ? [1] : type.shape;
  const out = b.arg('out', tensorType(type.dtype, outShape, 'out'));
  const value = type.shape.length === 0 ? b.emit1('view', [result], { shape: [1] }) : result;
  b.emit('store', [out, ...wholeTileIndices(b, outShape), value]);
  const k = b.finish();
  verify(k);
  const tensors: Record<string, HostTensor> = {};
  inputs.forEach((t, i) => (tensors[`in${i}`] = hostTensor(t.dtype, t.shape.length === 0 ? [1] : t.shape, t.values)));
  const outTensor = hostTensor(type.dtype, outShape);
  outTensor.data.fill(NaN);
  tensors['out'] = outTensor;
  interpret(k, tensors);
  return { dtype: type.dtype, shape: type.shape, values: outTensor.data };
}

/** n random values in [lo, hi), with a few specials mixed in when `specials` is set. */
export function randomValues(n: number, lo: number, hi: number, specials: readonly number[] = []): number[] {
  return Array.from({ length: n }, (_, i) => (i < specials.length ? specials[i]! : lo + (hi - lo) * Math.random()));
}

export function randomInts(n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, () => lo + Math.floor(Math.random() * (hi - lo + 1)));
}
