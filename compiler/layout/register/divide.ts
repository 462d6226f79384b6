/**
 * Division of register layouts, the inverse of composition:
 *   divide(A, B)     = C with compose(C, B) == A   (B is the inner factor: A / B)
 *   leftDivide(A, B) = C with compose(B, C) == A   (B is the outer factor: B \ A)
 * spatial(2,4) / spatial(1,2) = spatial(2,2).
 *
 * B's modes must be the least (divide) or most (leftDivide) significant part of A: in every dimension,
 * in the thread digits and in the register digits. Modes may be split to line the two up (A's mode 4
 * against B's mode 2), but nothing else moves; when no C exists the result is a 'not-divisible' error.
 * Both work on canonical forms (so layouts built with the RegisterLayout constructor divide too), and
 * every answer is checked by composing it back.
 */
import { LayoutError } from '../errors.js';
import { compose } from './compose.js';
import { type RegisterLayout, checkRegisterLayout, registerLayout } from './register-layout.js';

/** A mode as an object, so that splitting one keeps every reference to it in step. */
interface Mode {
  size: number;
}
/** A spatial entry: a mode, or r replicas. */
type Entry = Mode | { replicas: number };

/** A register layout in an editable form: per dimension its modes, most significant first. */
interface Raw {
  shape: number[];
  dims: Mode[][];
  spatial: Entry[];
  local: Mode[];
}

type Side = 'inner' | 'outer';

function toRaw(l: RegisterLayout): Raw {
  const modes: Mode[] = l.modeShape.map((size) => ({ size }));
  return {
    shape: [...l.shape],
    dims: l.dimModes.map((ms) => ms.map((m) => modes[m]!)),
    spatial: l.spatialModes.map((m) => (m >= 0 ? modes[m]! : { replicas: -m })),
    local: l.localModes.map((m) => modes[m]!),
  };
}

function fromRaw(r: Raw): RegisterLayout {
  const index = new Map<Mode, number>();
  r.dims.flat().forEach((m, i) => index.set(m, i));
  return registerLayout(
    r.shape,
    r.dims.flat().map((m) => m.size),
    r.spatial.map((e) => ('replicas' in e ? -e.replicas : index.get(e)!)),
    r.local.map((m) => index.get(m)!),
  );
}

/** Replaces `m` by (outer, inner) everywhere it appears. */
function splitMode(r: Raw, d: number, m: Mode, outer: number): void {
  const pieces: Mode[] = [{ size: outer }, { size: m.size / outer }];
  const replace = <T>(list: T[]) => {
    const at = list.indexOf(m as T);
    if (at >= 0) list.splice(at, 1, ...(pieces as T[]));
  };
  replace(r.dims[d]!);
  replace(r.spatial);
  replace(r.local);
}

/** Dimension d's modes ordered from `side` (inner: least significant first). */
function fromSide(r: Raw, d: number, side: Side): Mode[] {
  return side === 'inner' ? [...r.dims[d]!].reverse() : [...r.dims[d]!];
}

/** Splits modes of dimension d so that the modes counted from `side` reach exactly `cut` elements at a boundary. */
function cutAt(r: Raw, d: number, side: Side, cut: number, whole: RegisterLayout): void {
  let covered = 1;
  for (const m of fromSide(r, d, side)) {
    if (covered >= cut) return;
    if (covered * m.size > cut) {
      const part = cut / covered;
      if (!Number.isInteger(part) || m.size % part !== 0) {
        throw new LayoutError('not-divisible', `dimension ${d} of ${whole} cannot be split at ${cut}`);
      }
      splitMode(r, d, m, side === 'inner' ? m.size / part : part);
      return;
    }
    covered *= m.size;
  }
}

/** The products of the first 1, 2, ... modes of dimension d counted from `side`. */
function boundaries(r: Raw, d: number, side: Side): number[] {
  let covered = 1;
  return fromSide(r, d, side).map((m) => (covered *= m.size));
}

/**
 * Removes from `list` the entries that `factor` matches, read from `side`, and returns false when
 * they do not match. A replica count may be split: A's 4 replicas against B's 2 leave 2 in A.
 */
function strip<T extends Entry>(list: T[], factor: readonly T[], side: Side, modeOf: Map<Mode, Mode>): boolean {
  const order = side === 'inner' ? [...factor].reverse() : [...factor];
  for (const e of order) {
    const at = side === 'inner' ? list.length - 1 : 0;
    const mine = list[at];
    if (mine === undefined) return false;
    if ('replicas' in e) {
      if (!('replicas' in mine) || mine.replicas % e.replicas !== 0) return false;
      if (mine.replicas === e.replicas) list.splice(at, 1);
      else list.splice(at, 1, { replicas: mine.replicas / e.replicas } as T);
    } else {
      if (mine !== modeOf.get(e)) return false;
      list.splice(at, 1);
    }
  }
  return true;
}

function factorOut(given: RegisterLayout, by: RegisterLayout, side: Side): RegisterLayout {
  const what = side === 'inner' ? 'divide' : 'leftDivide';
  checkRegisterLayout(given, what);
  checkRegisterLayout(by, what);
  const [a, b] = [given.canonical(), by.canonical()];
  const fail = (why: string): never => {
    const expr = side === 'inner' ? `${a} / ${b}` : `${b} \\ ${a}`;
    throw new LayoutError('not-divisible', `${expr}: ${why}`);
  };
  if (a.rank !== b.rank) throw new LayoutError('rank-mismatch', `dividing rank-${a.rank} ${a} by rank-${b.rank} ${b}`);
  const ra = toRaw(a);
  const rb = toRaw(b);
  const modeOf = new Map<Mode, Mode>(); // B's mode -> the mode of A it stands for
  for (let d = 0; d < a.rank; d++) {
    const extent = b.shape[d]!;
    if (a.shape[d]! % extent !== 0) fail(`extent ${extent} does not divide ${a.shape[d]} in dimension ${d}`);
    // Line the modes up: cut A where B has a boundary, and B where A has one inside B's extent.
    for (const cut of boundaries(rb, d, side)) cutAt(ra, d, side, cut, a);
    for (const cut of boundaries(ra, d, side).filter((c) => c < extent)) cutAt(rb, d, side, cut, b);
    const mine = fromSide(ra, d, side);
    fromSide(rb, d, side).forEach((m, i) => {
      if (mine[i]?.size !== m.size) fail(`the modes of dimension ${d} do not line up`);
      modeOf.set(m, mine[i]!);
    });
  }
  if (!strip(ra.spatial, rb.spatial, side, modeOf)) fail(`the thread digits of the divisor are not the ${side === 'inner' ? 'least' : 'most'} significant ones`);
  if (!strip(ra.local, rb.local, side, modeOf)) fail(`the register digits of the divisor are not the ${side === 'inner' ? 'least' : 'most'} significant ones`);
  const matched = new Set(modeOf.values());
  const c = fromRaw({
    shape: ra.shape.map((s, d) => s / b.shape[d]!),
    dims: ra.dims.map((ms) => ms.filter((m) => !matched.has(m))),
    spatial: ra.spatial,
    local: ra.local,
  });
  const back = side === 'inner' ? compose(c, b) : compose(b, c);
  if (!back.equals(a)) fail(`no layout composes back to it (nearest: ${c})`);
  return c;
}

/** A / B: the C with compose(C, B) == A. */
export function divide(a: RegisterLayout, b: RegisterLayout): RegisterLayout {
  return factorOut(a, b, 'inner');
}

/** B \ A: the C with compose(B, C) == A. */
export function leftDivide(a: RegisterLayout, b: RegisterLayout): RegisterLayout {
  return factorOut(a, b, 'outer');
}
