/**
 * Affine index analysis for the C-family backends: recognizes integer tiles whose element at coordinate c is
 * base + sum_d coef_d * c_d (aranges, scalars, and broadcasts, views, sums, differences and scalar
 * multiples of them), with base and coefficients as C expressions. Loads and stores whose offsets
 * come out contiguous along the last dim are emitted as contiguous (masked) vector accesses.
 *
 * The analysis works on the unbounded integers while the IR's i32 indices wrap, so it is only a
 * proposal that the emitted code confirms at run time: lane by lane (the C backend's contiguous path)
 * or for the whole tile at once (boxedAccess), falling back to the general access when it does not
 * hold. A wrong answer here costs speed, never correctness. The expressions are computed in uint64_t,
 * where overflow wraps instead of being undefined (a wrapped offset simply fails the comparison).
 */
import type { Op, Value } from '../../compiler/ir/ir.js';
import type { TensorType, TileType } from '../../compiler/ir/types.js';

/** value[c] = base + sum_d coefs[d] * c_d, for every coordinate c of the value's tile. */
export interface Affine {
  readonly base: string;
  readonly coefs: readonly string[];
}

const isNum = (s: string) => /^-?\d+$/.test(s);

/** Constants fold only while exact: past 2^53 the C expression does the (wrapping) work. */
const fold = (x: number): string | undefined => (Number.isSafeInteger(x) ? String(x) : undefined);

export function addC(a: string, b: string): string {
  if (a === '0') return b;
  if (b === '0') return a;
  return (isNum(a) && isNum(b) && fold(Number(a) + Number(b))) || `((uint64_t)${a} + (uint64_t)${b})`;
}

export function subC(a: string, b: string): string {
  if (b === '0') return a;
  return (isNum(a) && isNum(b) && fold(Number(a) - Number(b))) || `((uint64_t)${a} - (uint64_t)${b})`;
}

export function mulC(a: string, b: string): string {
  if (a === '0' || b === '0') return '0';
  if (a === '1') return b;
  if (b === '1') return a;
  return (isNum(a) && isNum(b) && fold(Number(a) * Number(b))) || `((uint64_t)${a} * (uint64_t)${b})`;
}

export class AffineAnalysis {
  private readonly memo = new Map<Value, Affine | null>();

  constructor(
    private readonly definingOp: (v: Value) => Op | undefined,
    /** The C expression of a one-element tile's value. */
    private readonly scalar: (v: Value) => string,
  ) {}

  /**
   * A C condition under which every lane of the bool tile `mask` is on, or undefined when the mask is
   * not recognizably of the form this decides: ands of comparisons between i32 tiles that are affine
   * with literal coefficients (and broadcasts and views of those). `first(v)` is the C expression of
   * tile v's value at element 0. As in boxedAccess, the real i32 values are a0 + sum coef * c reduced
   * mod 2^32; when both sides' ranges stay inside i32 nothing wrapped, and then max(a) < min(b) (and
   * so on) makes the comparison true everywhere.
   */
  allOn(mask: Value, shapeOf: (v: Value) => readonly number[], first: (v: Value) => string): string | undefined {
    const op = this.definingOp(mask);
    if (!op) return undefined;
    switch (op.opcode) {
      case 'and': {
        const [a, b] = [this.allOn(op.operands[0]!, shapeOf, first), this.allOn(op.operands[1]!, shapeOf, first)];
        return a && b ? `(${a}) & (${b})` : undefined;
      }
      case 'broadcast':
      case 'view':
        return this.allOn(op.operands[0]!, shapeOf, first);
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge': {
        const ranges = op.operands.map((v) => {
          const f = this.of(v);
          if (!f || (v.type as TileType).dtype.name !== 'i32' || f.coefs.some((c) => !isNum(c))) return undefined;
          const range = literalRange(f.coefs.map(Number), shapeOf(v));
          if (!range) return undefined;
          const a0 = `(int64_t)${first(v)}`;
          return { lo: `(${a0} + ${range[0]}LL)`, hi: `(${a0} + ${range[1]}LL)` };
        });
        const [a, b] = ranges;
        if (!a || !b) return undefined;
        const inI32 = [a, b].map((r) => `(${r.lo} >= -2147483648LL) & (${r.hi} <= 2147483647LL)`).join(' & ');
        const holds = { lt: `${a.hi} < ${b.lo}`, le: `${a.hi} <= ${b.lo}`, gt: `${a.lo} > ${b.hi}`, ge: `${a.lo} >= ${b.hi}` }[op.opcode];
        return `${inI32} & (${holds})`;
      }
      default:
        return undefined;
    }
  }

  /** The affine form of an integer tile, or undefined when it is not (recognizably) affine. */
  of(v: Value): Affine | undefined {
    if (!this.memo.has(v)) this.memo.set(v, this.compute(v) ?? null);
    return this.memo.get(v) ?? undefined;
  }

  private compute(v: Value): Affine | undefined {
    const t = v.type as TileType;
    if (t.kind !== 'tile' || (t.dtype.kind !== 'signed' && t.dtype.kind !== 'unsigned')) return undefined;
    const op = this.definingOp(v);
    if (t.shape.length === 0) {
      // A constant is its literal, so that a tile scaled by it keeps literal coefficients (an index
      // rows * 2048 + cols is then checked once per access, as rows and cols indexing two dims are).
      const value = op?.opcode === 'const' ? op.attrs['value'] : undefined;
      return typeof value === 'number' && Number.isSafeInteger(value) ? { base: String(value), coefs: [] } : { base: `(int64_t)${this.scalar(v)}`, coefs: [] };
    }
    if (op === undefined) return undefined;
    const x = (i: number) => this.of(op.operands[i]!);
    const shapeOf = (i: number) => (op.operands[i]!.type as TileType).shape;
    switch (op.opcode) {
      case 'arange':
        return { base: String(op.attrs['start']), coefs: ['1'] };
      case 'broadcast': {
        const a = x(0);
        if (!a) return undefined;
        const from = shapeOf(0);
        const lead = t.shape.length - from.length;
        return { base: a.base, coefs: t.shape.map((_, d) => (d < lead || from[d - lead] === 1 ? '0' : a.coefs[d - lead]!)) };
      }
      case 'view':
      case 'reshape': {
        // Extent-1 dims come and go; the others keep their order and coefficients. (A reshape that
        // does more than that reorders no elements either, but its coordinates mix: not handled.)
        const a = x(0);
        const nonUnit = (shape: readonly number[]) => shape.filter((s) => s !== 1).join(',');
        if (!a || (op.opcode === 'reshape' && nonUnit(shapeOf(0)) !== nonUnit(t.shape))) return undefined;
        const kept = shapeOf(0).flatMap((s, d) => (s === 1 ? [] : [a.coefs[d]!]));
        let next = 0;
        return { base: a.base, coefs: t.shape.map((s) => (s === 1 ? '0' : kept[next++]!)) };
      }
      case 'add':
      case 'sub': {
        const [a, b] = [x(0), x(1)];
        if (!a || !b) return undefined;
        const f = op.opcode === 'add' ? addC : subC;
        return { base: f(a.base, b.base), coefs: a.coefs.map((c, d) => f(c, b.coefs[d]!)) };
      }
      case 'mul': {
        const [a, b] = [x(0), x(1)];
        if (!a || !b) return undefined;
        const uniform = (f: Affine) => f.coefs.every((c) => c === '0');
        if (uniform(b)) return { base: mulC(a.base, b.base), coefs: a.coefs.map((c) => mulC(c, b.base)) };
        if (uniform(a)) return { base: mulC(b.base, a.base), coefs: b.coefs.map((c) => mulC(c, a.base)) };
        return undefined;
      }
      default:
        return undefined;
    }
  }
}

/**
 * The range [lo, hi] of sum_k coef_k * c_k over a tile's coordinates, or undefined when it reaches
 * past 2^40: no real access spans that much (the run-time guard would fail), and the bounds must stay
 * far inside int64 to be written as C literals that keep their sign.
 */
export function literalRange(coefs: readonly number[], shape: readonly number[]): [number, number] | undefined {
  let [lo, hi] = [0, 0];
  coefs.forEach((c, k) => {
    const span = c * (shape[k]! - 1);
    [lo, hi] = [lo + Math.min(0, span), hi + Math.max(0, span)];
  });
  return Math.abs(lo) <= 2 ** 40 && Math.abs(hi) <= 2 ** 40 ? [lo, hi] : undefined;
}

export interface BoxedAccess {
  /** A C condition, true when every lane is inside the tensor at its affine offset. */
  readonly guard: string;
  /** The element offset of row `o` of the tile (all dims but the last) at its first lane. */
  readonly rowBase: (o: string) => string;
  /** The offset step along each of the tile's dims but the last, C expressions. */
  readonly rowSteps: readonly string[];
  readonly outer: number;
  readonly inner: number;
  /**
   * The offset step along the tile's last dim, a C expression: '1' (each row one run of memory), or
   * where the caller allows it '0' (each row one element, read by all its lanes) or any other stride.
   */
  readonly innerStep: string;
  /**
   * Where the last tile dim alone moves one tensor dim, the last (index first + j at lane j): `guard`
   * holds when every lane is inside but for running past that dim's end, and `inside` is then the
   * count of each row's first lanes that are inside (0 to inner). A chunk that ends past a row's end
   * (the last of a walk over a row in chunks) reads those lanes as a run of memory; the rest are off
   * or out of bounds. Undefined where the tile does not have that form.
   */
  readonly clipped?: { readonly guard: string; readonly inside: string };
}

/**
 * A load or store whose index tiles are affine in the tile coordinates with literal coefficients can
 * be checked once instead of lane by lane: index d at coordinate c is a0_d + sum_k coef_dk * c_k, where
 * a0_d (`first[d]`, a C expression) is the index's real value at element 0. The IR's i32 arithmetic
 * wraps, but wrapping is a ring homomorphism, so the real values are those reduced mod 2^32; when the
 * whole range of a0_d + ... lies in [0, extent_d), nothing wrapped and every lane is inside. With the
 * last tile dim contiguous in memory (offset coefficient 1), each row of the tile is one run of memory
 * that only the mask interrupts; with coefficient 0 (allowed by `broadcastRows`), each row of the tile
 * is one element; with any other (allowed by `stridedRows`), lane j of a row is j steps from its first.
 * Undefined when the forms do not qualify.
 */
export function boxedAccess(
  tensor: TensorType,
  shape: readonly number[],
  forms: readonly (Affine | undefined)[],
  first: readonly string[],
  extent: (d: number) => string,
  /** Whether the caller reads packed (sub-byte) elements through their words itself. */
  packed = false,
  /** Whether the caller takes rows broadcast along the last dim (innerStep '0'): a scale per row. */
  broadcastRows = false,
  /** Whether the caller takes rows of any step along the last dim (a column of a row-major tensor). */
  stridedRows = false,
): BoxedAccess | undefined {
  if ((tensor.dtype.bits < 8 && !packed) || shape.length === 0) return undefined;
  if (forms.some((f) => f === undefined || f.coefs.some((c) => !isNum(c)))) return undefined;
  const coefs = forms.map((f) => f!.coefs.map(Number));
  const ranges = coefs.map((cs) => literalRange(cs, shape));
  if (ranges.some((r) => r === undefined)) return undefined;
  // In [0, extent) and inside i32: an extent past 2^31 does not stop an i32 index from wrapping.
  const inRange = (d: number, upper: boolean) => {
    const [lo, hi] = ranges[d]!;
    return `((int64_t)${first[d]} + ${lo}LL >= 0)${upper ? ` & ((int64_t)${first[d]} + ${hi}LL < ${extent(d)})` : ''} & ((int64_t)${first[d]} + ${hi}LL <= 2147483647LL)`;
  };
  const guard = tensor.shape.map((_, d) => inRange(d, true));
  const stride = (d: number) => tensor.shape.slice(d + 1).reduce<string>((acc, _, k) => mulC(acc, extent(d + 1 + k)), '1');
  // The offset coefficient of tile dim k: the sum over tensor dims of coef * stride (exact in bounds).
  const along = (k: number) => tensor.shape.reduce<string>((acc, _, d) => addC(acc, mulC(String(coefs[d]![k]), stride(d))), '0');
  const last = shape.length - 1;
  const innerStep = along(last);
  if (innerStep !== '1' && !(innerStep === '0' ? broadcastRows : stridedRows)) return undefined;
  const rows = shape.slice(0, -1);
  const rowStrides = rows.map((_, k) => rows.slice(k + 1).reduce((a, b) => a * b, 1));
  const base = tensor.shape.reduce<string>((acc, _, d) => addC(acc, mulC(`(int64_t)${first[d]}`, stride(d))), '0');
  const rowBase = (o: string) => `(int64_t)(${rows.reduce((acc, n, k) => addC(acc, mulC(along(k), `((${o} / ${rowStrides[k]}) % ${n})`)), base)})`;
  // The clipped form: the tensor's last dim moves with the tile's last dim only, one step per lane.
  const end = tensor.shape.length - 1;
  const movesAlongLast = coefs.map((cs) => cs[last] !== 0);
  const clips = innerStep === '1' && movesAlongLast.filter(Boolean).length === 1 && movesAlongLast[end] && coefs[end]!.every((c, k) => c === (k === last ? 1 : 0));
  const clipped = clips
    ? {
        guard: tensor.shape.map((_, d) => inRange(d, d !== end)).join(' & '),
        inside: ((left: string) => `(${left} <= 0 ? 0 : ${left} < ${shape[last]} ? ${left} : ${shape[last]})`)(`(${extent(end)} - (int64_t)${first[end]})`),
      }
    : undefined;
  return { guard: guard.join(' & ') || '1', rowBase, rowSteps: rows.map((_, k) => along(k)), outer: rows.reduce((a, b) => a * b, 1), inner: shape[last]!, innerStep, ...(clipped ? { clipped } : {}) };
}
