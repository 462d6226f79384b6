/**
 * Tiles in the DSL: typed handles on IR values, with the elementwise, reduction and shape methods.
 * Each method appends ops to the kernel being traced. Convenience lives here, not in the IR: numbers
 * become constants of the other operand's dtype, and operands of different shapes are broadcast
 * (numpy rules: align trailing dims, stretch extent-1 dims). Dtypes never change implicitly.
 */
import type { Dtype } from '../compiler/ir/dtype.js';
import { IrError } from '../compiler/ir/errors.js';
import type { Attrs, Value } from '../compiler/ir/ir.js';
import type { BinaryOp, CompareOp, Opcode, ReduceKind, UnaryOp } from '../compiler/ir/opcodes.js';
import type { TileType } from '../compiler/ir/types.js';

/** A layout a tile may carry: a register layout, or a (swizzled) memory layout for shared tiles. */
export type TileLayout = NonNullable<TileType['layout']>;
import { builder } from './trace.js';

/** A tile, or a number standing for a constant of the other operand's dtype. */
export type TileLike = Tile | number;

export interface ReduceOptions {
  /** Keep the reduced dim with extent 1 (so the result broadcasts back against the input). */
  readonly keepDims?: boolean;
}

export class Tile {
  constructor(readonly value: Value) {
    if (value.type.kind !== 'tile') throw new IrError('type', 'a Tile must wrap a tile value');
  }

  get type(): TileType {
    return this.value.type as TileType;
  }

  get dtype(): Dtype {
    return this.type.dtype;
  }

  get shape(): readonly number[] {
    return this.type.shape;
  }

  get rank(): number {
    return this.shape.length;
  }

  // Elementwise arithmetic.
  add(o: TileLike): Tile { return binaryOp('add', this, o); }
  sub(o: TileLike): Tile { return binaryOp('sub', this, o); }
  mul(o: TileLike): Tile { return binaryOp('mul', this, o); }
  div(o: TileLike): Tile { return binaryOp('div', this, o); }
  rem(o: TileLike): Tile { return binaryOp('rem', this, o); }
  maximum(o: TileLike): Tile { return binaryOp('max', this, o); }
  minimum(o: TileLike): Tile { return binaryOp('min', this, o); }
  and(o: TileLike): Tile { return binaryOp('and', this, o); }
  or(o: TileLike): Tile { return binaryOp('or', this, o); }
  xor(o: TileLike): Tile { return binaryOp('xor', this, o); }

  // Comparisons, giving bool tiles.
  lt(o: TileLike): Tile { return binaryOp('lt', this, o); }
  le(o: TileLike): Tile { return binaryOp('le', this, o); }
  gt(o: TileLike): Tile { return binaryOp('gt', this, o); }
  ge(o: TileLike): Tile { return binaryOp('ge', this, o); }
  eq(o: TileLike): Tile { return binaryOp('eq', this, o); }
  ne(o: TileLike): Tile { return binaryOp('ne', this, o); }

  neg(): Tile { return unaryOp('neg', this); }
  abs(): Tile { return unaryOp('abs', this); }
  not(): Tile { return unaryOp('not', this); }

  // Reductions along one axis (the axis is removed unless keepDims).
  sum(axis: number, options?: ReduceOptions): Tile { return reduceOp('sum', this, axis, options); }
  prod(axis: number, options?: ReduceOptions): Tile { return reduceOp('prod', this, axis, options); }
  max(axis: number, options?: ReduceOptions): Tile { return reduceOp('max', this, axis, options); }
  min(axis: number, options?: ReduceOptions): Tile { return reduceOp('min', this, axis, options); }
  argmax(axis: number, options?: ReduceOptions): Tile { return reduceOp('argmax', this, axis, options); }
  argmin(axis: number, options?: ReduceOptions): Tile { return reduceOp('argmin', this, axis, options); }

  /** Converts each value to `d` (rounding, saturating or wrapping as the dtype rules say). */
  to(d: Dtype): Tile {
    return emit('cast', [this.value], { dtype: d.name });
  }

  /** The same bits read as `d` (which must have the same width). */
  bitcast(d: Dtype): Tile {
    return emit('bitcast', [this.value], { dtype: d.name });
  }

  /** Repeats the tile to `shape` (numpy broadcasting). */
  broadcastTo(shape: readonly number[]): Tile {
    return sameShape(this.shape, shape) ? this : emit('broadcast', [this.value], { shape: [...shape] });
  }

  /** Inserts an extent-1 dim at `axis` (a view: no data moves). */
  expandDims(axis: number): Tile {
    if (!Number.isInteger(axis) || axis < 0 || axis > this.rank) throw new IrError('type', `expandDims: axis ${axis} is out of range for rank ${this.rank}`);
    const shape = [...this.shape];
    shape.splice(axis, 0, 1);
    return emit('view', [this.value], { shape });
  }

  /** The elements, row-major, in a new shape with the same number of elements. */
  reshape(shape: readonly number[]): Tile {
    return emit('reshape', [this.value], { shape: [...shape] });
  }

  /** Reorders the dims: result dim k is this tile's dim perm[k]. */
  permute(...perm: number[]): Tile {
    return emit('permute', [this.value], { perm });
  }

  /** The transpose of a rank-2 tile. */
  get T(): Tile {
    return this.permute(1, 0);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Appends one op with one result (carrying `layout`, when given) and wraps the result. */
export function emit(opcode: Opcode, operands: readonly Value[], attrs: Attrs = {}, layout?: TileLayout): Tile {
  const [r] = builder().emit(opcode, operands, attrs, undefined, layout === undefined ? undefined : [layout]);
  if (r === undefined) throw new IrError('structure', `${opcode} has no result`);
  return new Tile(r);
}

/** A scalar constant of dtype d. */
export function constant(value: number, d: Dtype): Tile {
  return emit('const', [], { value, dtype: d.name });
}

/** The numpy broadcast of two shapes, or an error naming the op. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new IrError('type', `${op}: shapes [${a}] and [${b}] do not broadcast (extents ${x} and ${y})`);
    return Math.max(x, y);
  });
}

/** Brings tiles and numbers to one dtype (from the first tile) and one broadcast shape. */
export function unify(op: string, operands: readonly TileLike[]): Tile[] {
  const first = operands.find((o): o is Tile => o instanceof Tile);
  if (first === undefined) throw new IrError('type', `${op}: at least one operand must be a tile (got only numbers)`);
  const tiles = operands.map((o) => (o instanceof Tile ? o : constant(o, first.dtype)));
  const shape = tiles.reduce<number[]>((s, t) => broadcastShapes(op, s, t.shape), []);
  return tiles.map((t) => t.broadcastTo(shape));
}

export function binaryOp(op: BinaryOp | CompareOp, a: TileLike, b: TileLike): Tile {
  const [x, y] = unify(op, [a, b]) as [Tile, Tile];
  return emit(op, [x.value, y.value]);
}

export function unaryOp(op: UnaryOp, x: Tile): Tile {
  return emit(op, [x.value]);
}

function reduceOp(kind: ReduceKind, x: Tile, axis: number, options: ReduceOptions = {}): Tile {
  return emit('reduce', [x.value], { kind, axis, keepDims: options.keepDims ?? false });
}
