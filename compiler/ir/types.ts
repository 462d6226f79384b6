/**
 * Types of Tile IR values.
 *
 * - A tile is a block-level array: tile<dtype>[shape] in registers, or shared<dtype>[shape] in shared
 *   memory. Its shape is made of constants (compile-time parameters are substituted when a kernel is
 *   built). A scalar is a register tile of rank 0 and prints as its dtype alone (`i32`).
 * - A tensor is a kernel argument in global memory, global<dtype>[M, N], whose extents may be symbols
 *   bound when the kernel is launched. Tensors are only read and written through load and store.
 * Register tiles may carry a register layout; shared tiles a (possibly swizzled) CuTe layout.
 */
import type { ComposedLayout, Layout, RegisterLayout } from '../layout/index.js';
import type { Dtype } from './dtype.js';

export type Space = 'register' | 'shared';

/** How a kernel may use a tensor argument. */
export type Access = 'in' | 'out' | 'inout';

/** An extent of a tensor: a constant, or the name of a symbol bound at launch. */
export type Dim = number | string;

export interface TileType {
  readonly kind: 'tile';
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly space: Space;
  readonly layout?: RegisterLayout | Layout | ComposedLayout | undefined;
}

export interface TensorType {
  readonly kind: 'tensor';
  readonly dtype: Dtype;
  readonly shape: readonly Dim[];
  readonly access: Access;
}

export type Type = TileType | TensorType;

export function tileType(dtype: Dtype, shape: readonly number[], space: Space = 'register', layout?: TileType['layout']): TileType {
  return { kind: 'tile', dtype, shape: [...shape], space, layout };
}

export function scalarType(dtype: Dtype): TileType {
  return tileType(dtype, []);
}

export function tensorType(dtype: Dtype, shape: readonly Dim[], access: Access): TensorType {
  return { kind: 'tensor', dtype, shape: [...shape], access };
}

export function isScalar(t: Type): t is TileType {
  return t.kind === 'tile' && t.space === 'register' && t.shape.length === 0;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function layoutEquals(a: TileType['layout'], b: TileType['layout']): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.constructor === b.constructor && (a as { equals(o: unknown): boolean }).equals(b);
}

/**
 * Structural equality of types, layouts included. Dtypes compare by name: a kernel loaded from source
 * (by the CLI, through tsx) carries its own copy of the dtype objects.
 */
export function typeEquals(a: Type, b: Type): boolean {
  if (a.kind !== b.kind || a.dtype.name !== b.dtype.name || !sameShape(a.shape, b.shape)) return false;
  if (a.kind === 'tensor') return a.access === (b as TensorType).access;
  const bt = b as TileType;
  return a.space === bt.space && layoutEquals(a.layout, bt.layout);
}

/** The text form: `f32`, `tile<f32>[128,64]`, `shared<f16>[64,64]`, `global<f32>[M,N]`, `in global<...>`. */
export function formatType(t: Type): string {
  if (t.kind === 'tensor') return `global<${t.dtype.name}>[${t.shape.join(', ')}]`;
  if (isScalar(t) && t.layout === undefined) return t.dtype.name;
  const base = `${t.space === 'shared' ? 'shared' : 'tile'}<${t.dtype.name}>[${t.shape.join(', ')}]`;
  return t.layout === undefined ? base : `${base} #${formatLayoutAttr(t.layout)}`;
}

/** Layout attributes print in a form the parser reads back: CuTe notation, or reg(...) for register layouts. */
export function formatLayoutAttr(l: NonNullable<TileType['layout']>): string {
  if ('modeShape' in l) {
    return `reg([${l.shape.join(',')}], [${l.modeShape.join(',')}], [${l.spatialModes.join(',')}], [${l.localModes.join(',')}])`;
  }
  return `cute(${String(l)})`;
}
