/**
 * Register layouts (Tilus style): how the elements of a register tile are spread over the threads of
 * a block and the registers ("locals") of each thread.
 *
 * Each logical dimension is split into modes, most significant first (dimension index = mixed radix
 * of its modes). Every mode is either spatial (it selects the thread) or local (it selects the
 * register). `spatialModes` lists mode indices most significant first, and may hold entries -r: r
 * replicas, a thread digit that no element depends on (r threads hold the same elements). The thread
 * index is the mixed radix of `spatialModes`, the local index that of `localModes`.
 *
 * registerLayout(...) and every operation return canonical forms (size-1 modes dropped, neighbours
 * merged), and `equals` compares canonical forms, so two layouts with the same mapping compare equal
 * however they were built (the constructor only validates). Layouts whose element, thread or register
 * count is past Number.MAX_SAFE_INTEGER are refused ('too-large').
 */
import { LayoutError } from '../errors.js';
import { describeValue } from '../int-tuple.js';
import { compose } from './compose.js';
import { columnLocal, columnSpatial, local, spatial } from './primitives.js';

/** One owner of an element: the thread that holds it and the register index within that thread. */
export interface Owner {
  readonly thread: number;
  readonly local: number;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Digits of `index` in the mixed radix `sizes` (first digit most significant). */
function digits(index: number, sizes: readonly number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let i = sizes.length - 1; i >= 0; i--) {
    out[i] = index % sizes[i]!;
    index = Math.floor(index / sizes[i]!);
  }
  return out;
}

/** The index whose mixed-radix digits (first most significant) are `ds`. */
function fromDigits(ds: readonly number[], sizes: readonly number[]): number {
  return ds.reduce((acc, d, i) => acc * sizes[i]! + d, 0);
}

export class RegisterLayout {
  readonly shape: readonly number[];
  readonly modeShape: readonly number[];
  readonly spatialModes: readonly number[];
  readonly localModes: readonly number[];
  /** The modes of each dimension, most significant first. */
  readonly dimModes: readonly (readonly number[])[];
  /** The canonical form, once computed (see canonical()). */
  private canonicalForm: RegisterLayout | undefined = undefined;

  /** Use `registerLayout(...)`, which also canonicalizes; this only validates. */
  constructor(shape: readonly number[], modeShape: readonly number[], spatialModes: readonly number[], localModes: readonly number[]) {
    const lists = { shape, modeShape, spatialModes, localModes };
    for (const [name, list] of Object.entries(lists)) {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'number')) {
        throw new LayoutError('invalid-register-layout', `${name} must be an array of integers, got ${describeValue(list)}`);
      }
    }
    const bad = (why: string): never => {
      throw new LayoutError('invalid-register-layout', `${why} (shape [${shape}], modes [${modeShape}], spatial [${spatialModes}], local [${localModes}])`);
    };
    if ([...shape, ...modeShape].some((s) => Number.isInteger(s) && s > Number.MAX_SAFE_INTEGER)) {
      throw new LayoutError('too-large', `shape [${shape}] or modes [${modeShape}] hold an extent past 2^53 - 1`);
    }
    if (!shape.every((s) => Number.isSafeInteger(s) && s >= 1)) bad('shape extents must be positive integers');
    if (!modeShape.every((s) => Number.isSafeInteger(s) && s >= 1)) bad('mode sizes must be positive integers');
    // Group the modes into dimensions: each dimension takes modes until their product is its extent.
    const dimModes: number[][] = [];
    let next = 0;
    for (const extent of shape) {
      const modes: number[] = [];
      let covered = 1;
      while (covered < extent && next < modeShape.length) {
        covered *= modeShape[next]!;
        modes.push(next++);
      }
      while (next < modeShape.length && modeShape[next] === 1 && covered === extent) modes.push(next++);
      if (covered !== extent) bad(`modes do not multiply to extent ${extent}`);
      dimModes.push(modes);
    }
    if (next !== modeShape.length) bad('more modes than the shape holds');
    const used = [...spatialModes.filter((m) => m >= 0), ...localModes];
    if (!used.every((m) => Number.isInteger(m) && m >= 0 && m < modeShape.length)) bad('a mode index is out of range');
    if (new Set(used).size !== used.length || used.length !== modeShape.length) bad('every mode must be used exactly once');
    if (!spatialModes.every((m) => Number.isInteger(m))) bad('replication entries must be integers');
    if (!spatialModes.every((m) => Number.isSafeInteger(m))) throw new LayoutError('too-large', `replication entries [${spatialModes}] reach past 2^53 - 1`);
    // Rounding is monotonic, so a count past MAX_SAFE_INTEGER is seen as one even when inexact.
    const counts = [prod(shape), prod(spatialModes.map((m) => (m >= 0 ? modeShape[m]! : -m))), prod(localModes.map((m) => modeShape[m]!))];
    if (counts.some((n) => n > Number.MAX_SAFE_INTEGER)) {
      throw new LayoutError('too-large', `shape [${shape}] has an element, thread or register count past 2^53 - 1`);
    }
    this.shape = [...shape];
    this.modeShape = [...modeShape];
    this.spatialModes = [...spatialModes];
    this.localModes = [...localModes];
    this.dimModes = dimModes;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements of the tile. */
  get size(): number {
    return prod(this.shape);
  }

  /** Sizes of the thread digits, most significant first (replicas included). */
  get spatialShape(): number[] {
    return this.spatialModes.map((m) => (m >= 0 ? this.modeShape[m]! : -m));
  }

  get localShape(): number[] {
    return this.localModes.map((m) => this.modeShape[m]!);
  }

  /** Threads the layout spans. */
  get numThreads(): number {
    return prod(this.spatialShape);
  }

  /** Registers each thread holds. */
  get localSize(): number {
    return prod(this.localShape);
  }

  /** Mode digits of a logical coordinate. */
  private modeDigits(coord: readonly number[]): number[] {
    if (!Array.isArray(coord) || coord.length !== this.rank || coord.some((c, d) => !Number.isInteger(c) || c < 0 || c >= this.shape[d]!)) {
      throw new LayoutError('out-of-range', `coordinate [${coord}] is outside shape [${this.shape}]`);
    }
    const out = new Array<number>(this.modeShape.length);
    this.dimModes.forEach((modes, d) => {
      const ds = digits(coord[d]!, modes.map((m) => this.modeShape[m]!));
      modes.forEach((m, i) => (out[m] = ds[i]!));
    });
    return out;
  }

  /** Every (thread, register) that holds the element at `coord`; more than one when replicated. */
  owners(coord: readonly number[]): Owner[] {
    const md = this.modeDigits(coord);
    const localIndex = fromDigits(this.localModes.map((m) => md[m]!), this.localShape);
    const sizes = this.spatialShape;
    let threads = [0];
    this.spatialModes.forEach((m, i) => {
      const choices = m >= 0 ? [md[m]!] : Array.from({ length: -m }, (_, r) => r);
      threads = threads.flatMap((t) => choices.map((c) => t * sizes[i]! + c));
    });
    return threads.sort((a, b) => a - b).map((thread) => ({ thread, local: localIndex }));
  }

  /** The logical coordinate held by `thread` in register `localIndex`. */
  elementAt(thread: number, localIndex: number): number[] {
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.numThreads || !Number.isInteger(localIndex) || localIndex < 0 || localIndex >= this.localSize) {
      throw new LayoutError('out-of-range', `(thread ${thread}, local ${localIndex}) is outside ${this.numThreads} threads x ${this.localSize} locals`);
    }
    const md = new Array<number>(this.modeShape.length).fill(0);
    digits(thread, this.spatialShape).forEach((v, i) => {
      const m = this.spatialModes[i]!;
      if (m >= 0) md[m] = v;
    });
    digits(localIndex, this.localShape).forEach((v, i) => (md[this.localModes[i]!] = v));
    return this.dimModes.map((modes) => fromDigits(modes.map((m) => md[m]!), modes.map((m) => this.modeShape[m]!)));
  }

  /**
   * The canonical form of this layout: the same mapping, size-1 modes and 1-replicas dropped and
   * neighbours merged (see registerLayout). Itself when already canonical; computed once.
   */
  canonical(): RegisterLayout {
    if (this.canonicalForm === undefined) {
      let l: RegisterLayout = this;
      for (let next = canonicalStep(l); next !== l; next = canonicalStep(l)) l = next;
      l.canonicalForm = l;
      this.canonicalForm = l;
    }
    return this.canonicalForm;
  }

  /** Equality of mappings: canonical forms are unique, so their structural equality decides it. */
  equals(other: RegisterLayout): boolean {
    checkRegisterLayout(other, 'equals');
    const [a, b] = [this.canonical(), other.canonical()];
    const same = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
    return (
      same(a.shape, b.shape) && same(a.modeShape, b.modeShape) && same(a.spatialModes, b.spatialModes) && same(a.localModes, b.localModes)
    );
  }

  // Chaining: `local(2,1).spatial(8,4)` is compose(local(2,1), spatial(8,4)).
  local(...shape: number[]): RegisterLayout {
    return compose(this, local(...shape));
  }

  spatial(...shape: number[]): RegisterLayout {
    return compose(this, spatial(...shape));
  }

  columnLocal(...shape: number[]): RegisterLayout {
    return compose(this, columnLocal(...shape));
  }

  columnSpatial(...shape: number[]): RegisterLayout {
    return compose(this, columnSpatial(...shape));
  }

  toString(): string {
    return `register(shape=[${this.shape}], modes=[${this.modeShape}], spatial=[${this.spatialModes}], local=[${this.localModes}])`;
  }
}

/**
 * Builds a register layout and brings it to canonical form: size-1 modes and 1-replicas dropped,
 * neighbouring modes of one dimension that are also neighbours, in the same order, in the spatial or
 * local list merged into one, and neighbouring replicas merged.
 */
export function registerLayout(
  shape: readonly number[],
  modeShape: readonly number[],
  spatialModes: readonly number[],
  localModes: readonly number[],
): RegisterLayout {
  return new RegisterLayout(shape, modeShape, spatialModes, localModes).canonical();
}

/** Throws 'invalid-argument' unless `x` is a RegisterLayout (for the public entry points). */
export function checkRegisterLayout(x: unknown, what: string): asserts x is RegisterLayout {
  if (!(x instanceof RegisterLayout)) throw new LayoutError('invalid-argument', `${what} needs a RegisterLayout, got ${describeValue(x)}`);
}

/** One simplification (or `l` itself when it is already canonical). */
function canonicalStep(l: RegisterLayout): RegisterLayout {
  // Drop a size-1 mode or a 1-replica.
  const unit = l.modeShape.findIndex((s) => s === 1);
  if (unit >= 0) return removeMode(l, unit);
  const unitReplica = l.spatialModes.findIndex((m) => m === -1);
  if (unitReplica >= 0) return new RegisterLayout(l.shape, l.modeShape, l.spatialModes.filter((_, i) => i !== unitReplica), l.localModes);
  // Merge neighbouring replicas.
  const rep = l.spatialModes.findIndex((m, i) => m < 0 && (l.spatialModes[i + 1] ?? 0) < 0);
  if (rep >= 0) {
    const merged = [...l.spatialModes];
    merged.splice(rep, 2, l.spatialModes[rep]! * -l.spatialModes[rep + 1]!);
    return new RegisterLayout(l.shape, l.modeShape, merged, l.localModes);
  }
  // Merge modes m, m+1 of one dimension that follow each other in the spatial or local list.
  for (const modes of l.dimModes) {
    for (let i = 0; i + 1 < modes.length; i++) {
      const [m, n] = [modes[i]!, modes[i + 1]!];
      for (const list of [l.spatialModes, l.localModes]) {
        const at = list.indexOf(m);
        if (at >= 0 && list[at + 1] === n) return mergeModes(l, m, n);
      }
    }
  }
  return l;
}

/** `l` without mode `m` (of size 1), later modes renumbered. */
function removeMode(l: RegisterLayout, m: number): RegisterLayout {
  const renumber = (x: number) => (x > m ? x - 1 : x);
  return new RegisterLayout(
    l.shape,
    l.modeShape.filter((_, i) => i !== m),
    l.spatialModes.filter((x) => x !== m).map((x) => (x < 0 ? x : renumber(x))),
    l.localModes.filter((x) => x !== m).map(renumber),
  );
}

/** Merges mode n = m + 1 into mode m. */
function mergeModes(l: RegisterLayout, m: number, n: number): RegisterLayout {
  const modeShape = l.modeShape.filter((_, i) => i !== n);
  modeShape[m] = l.modeShape[m]! * l.modeShape[n]!;
  const renumber = (x: number) => (x > n ? x - 1 : x);
  return new RegisterLayout(
    l.shape,
    modeShape,
    l.spatialModes.filter((x) => x !== n).map((x) => (x < 0 ? x : renumber(x))),
    l.localModes.filter((x) => x !== n).map(renumber),
  );
}
