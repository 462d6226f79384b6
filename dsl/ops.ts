/**
 * The free functions of the DSL: block indices, ranges, memory, math, dot and control flow.
 */
import { type Dtype, bool, i32 } from '../compiler/ir/dtype.js';
import { IrError } from '../compiler/ir/errors.js';
import type { Value } from '../compiler/ir/ir.js';
import type { ComposedLayout, Layout, RegisterLayout } from '../compiler/layout/index.js';
import type { UnaryOp } from '../compiler/ir/opcodes.js';
import type { TensorArg } from './tensor.js';
import { Tile, type TileLike, binaryOp, broadcastShapes, constant, emit, unaryOp, unify } from './tile.js';
import { builder } from './trace.js';

/** This block's index along grid axis 0, 1 or 2 (an i32 scalar). */
export function programId(axis: number): Tile {
  return emit('program_id', [], { axis });
}

/** The grid's extent along an axis (an i32 scalar). */
export function numPrograms(axis: number): Tile {
  return emit('num_programs', [], { axis });
}

/** [start, start + 1, ..., end - 1] as a tile<i32>; arange(n) is [0, n). */
export function arange(startOrEnd: number, end?: number): Tile {
  const [start, stop] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  return emit('arange', [], { start, end: stop });
}

/** A tile of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, d: Dtype): Tile {
  return constant(value, d).broadcastTo(shape);
}

export function zeros(shape: readonly number[], d: Dtype): Tile {
  return full(shape, 0, d);
}

export interface LoadOptions {
  /** Lanes where the mask is false read nothing and give `other`. */
  readonly mask?: Tile;
  /** The value of masked-off lanes (default 0). */
  readonly other?: TileLike;
  /** How the loaded tile is spread over threads and registers (by default, layout inference decides). */
  readonly layout?: RegisterLayout;
}

/**
 * Gathers t[i_0, i_1, ...] for every lane of the broadcast shape of the indices (and mask). A lane
 * outside the tensor must be masked off.
 */
export function load(t: TensorArg, indices: readonly TileLike[], options: LoadOptions = {}): Tile {
  const ix = indexTiles('load', t, indices, options.mask);
  if (options.mask === undefined) {
    if (options.other !== undefined) throw new IrError('type', 'load: `other` needs a `mask`');
    return emit('load', [t.value, ...ix.map((x) => x.value)], {}, options.layout);
  }
  const shape = ix[0]!.shape;
  const mask = options.mask.broadcastTo(shape);
  const other = options.other instanceof Tile ? options.other.broadcastTo(shape) : full(shape, options.other ?? 0, t.dtype);
  return emit('load', [t.value, ...ix.map((x) => x.value), mask.value, other.value], {}, options.layout);
}

export interface StoreOptions {
  /** Lanes where the mask is false write nothing. */
  readonly mask?: Tile;
}

/** Scatters `value` to t[i_0, i_1, ...]; numbers become constants of the tensor's dtype. */
export function store(t: TensorArg, indices: readonly TileLike[], value: TileLike, options: StoreOptions = {}): void {
  const ix = indexTiles('store', t, indices, options.mask, value);
  const shape = ix[0]!.shape;
  const v = (value instanceof Tile ? value : constant(value, t.dtype)).broadcastTo(shape);
  const operands = [t.value, ...ix.map((x) => x.value), v.value];
  if (options.mask !== undefined) operands.push(options.mask.broadcastTo(shape).value);
  builder().emit('store', operands);
}

/** The indices of a load or store as i32 tiles of one shape (that of indices, mask and value together). */
function indexTiles(op: string, t: TensorArg, indices: readonly TileLike[], mask?: Tile, value?: TileLike): Tile[] {
  if (indices.length !== t.rank) throw new IrError('type', `${op}: tensor ${t.value.name} has rank ${t.rank} but ${indices.length} indices were given`);
  const asTiles = indices.map((x) => (x instanceof Tile ? x : constant(x, i32)));
  const extra = [mask, value].filter((x): x is Tile => x instanceof Tile);
  // Only the shapes meet here (unify() would also impose one dtype on indices, mask and value).
  const shape = [...asTiles, ...extra].reduce<number[]>((s, x) => broadcastShapes(op, s, x.shape), []);
  return asTiles.map((x) => x.broadcastTo(shape));
}

/** A shared-memory tile of `shape`, uninitialized until stored. */
export class SharedTile {
  constructor(readonly value: Value) {}
  load(): Tile {
    return emit('load_shared', [this.value]);
  }
  store(t: Tile): void {
    builder().emit('store_shared', [this.value, t.value]);
  }
}

export interface SharedTileOptions {
  /** Where each element lives in shared memory: a CuTe layout, possibly swizzled against bank conflicts. */
  readonly layout?: Layout | ComposedLayout;
}

export function sharedTile(shape: readonly number[], d: Dtype, options: SharedTileOptions = {}): SharedTile {
  return new SharedTile(emit('alloc_shared', [], { dtype: d.name, shape: [...shape] }, options.layout).value);
}

/** All threads of the block wait until every one reaches this point. */
export function barrier(): void {
  builder().emit('barrier', []);
}

/** cond ? a : b, lane by lane. */
export function where(cond: Tile, a: TileLike, b: TileLike): Tile {
  if (cond.dtype !== bool) throw new IrError('type', `where: the condition must be bool, got ${cond.dtype.name}`);
  const [x, y] = unify('where', [a, b]) as [Tile, Tile];
  const shape = broadcastShapes('where', cond.shape, x.shape);
  return emit('where', [cond.broadcastTo(shape).value, x.broadcastTo(shape).value, y.broadcastTo(shape).value]);
}

export function cast(x: Tile, d: Dtype): Tile {
  return x.to(d);
}

export function maximum(a: TileLike, b: TileLike): Tile {
  return binaryOp('max', a, b);
}

export function minimum(a: TileLike, b: TileLike): Tile {
  return binaryOp('min', a, b);
}

const unary = (op: UnaryOp) => (x: Tile) => unaryOp(op, x);
export const exp = unary('exp');
export const exp2 = unary('exp2');
export const log = unary('log');
export const log2 = unary('log2');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const tanh = unary('tanh');
export const erf = unary('erf');
export const sigmoid = unary('sigmoid');
export const abs = unary('abs');
export const neg = unary('neg');

/** acc + a @ b for a [M, K], b [K, N], acc [M, N]. */
export function dot(a: Tile, b: Tile, acc: Tile): Tile {
  return emit('dot', [a.value, b.value, acc.value]);
}

/**
 * A loop for i = start; i < end; i += step, carrying `init` from one iteration to the next: `body`
 * gets i and the carried tiles and returns their next values. Returns the final carried tiles.
 * Tiles made inside the body cannot be used after the loop; carry them instead.
 */
export function forRange(start: TileLike, end: TileLike, step: TileLike, init: readonly Tile[], body: (i: Tile, carried: Tile[]) => readonly Tile[]): Tile[] {
  // A step known now to be no positive number would only fail the launch (status: loop step not positive).
  if (typeof step === 'number' && !(step > 0)) throw new IrError('type', `forRange: the step must be positive, got ${step}`);
  const bound = (x: TileLike) => (x instanceof Tile ? x : constant(x, i32));
  const results = builder().forLoop(bound(start).value, bound(end).value, bound(step).value, init.map((t) => t.value), (i, carried) =>
    tilesReturned('forRange', body(new Tile(i), carried.map((c) => new Tile(c)))),
  );
  return results.map((r) => new Tile(r));
}

/** The values of the tiles a loop body or branch returned, or an error saying what it returned instead. */
function tilesReturned(what: string, returned: unknown): Value[] {
  if (!Array.isArray(returned) || !returned.every((t) => t instanceof Tile)) {
    throw new IrError('type', `${what}: the body must return an array of tiles (the values it carries or yields), got ${describeReturned(returned)}`);
  }
  return (returned as Tile[]).map((t) => t.value);
}

function describeReturned(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map((e) => (e instanceof Tile ? 'Tile' : typeof e)).join(', ')}]`;
  return x === undefined ? 'undefined' : typeof x;
}

/** cond ? then() : otherwise(), each branch returning the same number and types of tiles. */
export function ifElse(cond: Tile, then: () => readonly Tile[], otherwise: () => readonly Tile[]): Tile[] {
  const results = builder().ifElse(
    cond.value,
    () => tilesReturned('ifElse', then()),
    () => tilesReturned('ifElse', otherwise()),
  );
  return results.map((r) => new Tile(r));
}
