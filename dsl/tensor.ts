/**
 * Kernel arguments in the DSL: global tensors with a dtype and a shape of constants and symbols, and
 * scalars passed at launch. `tensor` may be read and written; `input` only read; `output` only written.
 */
import { type Dtype, i32 } from '../compiler/ir/dtype.js';
import { IrError, describeValue } from '../compiler/ir/errors.js';
import type { Value } from '../compiler/ir/ir.js';
import { type Access, type Dim, type TensorType } from '../compiler/ir/types.js';
import { Tile, constant, emit } from './tile.js';

/** `S` keeps the literal extents (['M', 'N']) so the grid function can name the symbols with types. */
export interface TensorSpec<S extends readonly Dim[] = readonly Dim[]> {
  readonly kind: 'tensor';
  readonly dtype: Dtype;
  readonly shape: S;
  readonly access: Access;
}

export interface ScalarSpec {
  readonly kind: 'scalar';
  readonly dtype: Dtype;
}

export type ArgSpec = TensorSpec | ScalarSpec;

/** A dtype argument must be a dtype (an import that does not exist gives undefined, silently). */
export function checkDtype(what: string, d: unknown): asserts d is Dtype {
  const x = d as Partial<Dtype> | undefined;
  if (typeof x !== 'object' || x === null || typeof x.name !== 'string' || typeof x.bits !== 'number') {
    throw new IrError('dtype', `${what}: expected a dtype (f32, u4, f8e4m3, ... or dtype('name')), got ${String(d)}`);
  }
}

/** Whether d can be a tensor's extent: a name, or an integer from 1 to 2^31 - 1 (what a launch allows). */
export function validExtent(d: unknown): boolean {
  return typeof d === 'number' ? Number.isInteger(d) && d >= 1 && d <= 2 ** 31 - 1 : typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d);
}

function checkShape(shape: readonly Dim[]): void {
  for (const d of shape) {
    if (!validExtent(d)) throw new IrError('type', `tensor extent ${describeValue(d)} must be an integer from 1 to 2^31 - 1 or a symbol name`);
  }
}

/** A tensor the kernel may read and write. */
export function tensor<const S extends readonly Dim[]>(dtype: Dtype, shape: S, access: Access = 'inout'): TensorSpec<S> {
  checkDtype('tensor', dtype);
  checkShape(shape);
  return { kind: 'tensor', dtype, shape: [...shape] as unknown as S, access };
}

/** A tensor the kernel only reads. */
export function input<const S extends readonly Dim[]>(dtype: Dtype, shape: S): TensorSpec<S> {
  return tensor(dtype, shape, 'in');
}

/** A tensor the kernel only writes. */
export function output<const S extends readonly Dim[]>(dtype: Dtype, shape: S): TensorSpec<S> {
  return tensor(dtype, shape, 'out');
}

/** A scalar argument given at launch. */
export function scalar(dtype: Dtype): ScalarSpec {
  checkDtype('scalar', dtype);
  return { kind: 'scalar', dtype };
}

/** A tensor argument inside a kernel body. */
export class TensorArg {
  constructor(readonly value: Value) {}

  get type(): TensorType {
    return this.value.type as TensorType;
  }

  get dtype(): Dtype {
    return this.type.dtype;
  }

  get rank(): number {
    return this.type.shape.length;
  }

  /** Extent `axis` as an i32 scalar: a constant, or read at run time for a symbolic extent. */
  dim(axis: number): Tile {
    const d = this.type.shape[axis];
    if (d === undefined) throw new IrError('type', `dim: axis ${axis} is out of range for rank-${this.rank} tensor ${this.value.name}`);
    return typeof d === 'number' ? constant(d, i32) : emit('dim', [this.value], { axis });
  }

  /** Every extent, as `dim` gives them. */
  get shape(): Tile[] {
    return this.type.shape.map((_, axis) => this.dim(axis));
  }
}
