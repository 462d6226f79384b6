/**
 * Affine index analysis for the C backend: recognizes integer tiles whose element at coordinate c is
 * base + sum_d coef_d * c_d (aranges, scalars, and broadcasts, views, sums, differences and scalar
 * multiples of them), with base and coefficients as C expressions. Loads and stores whose offsets
 * come out contiguous along the last dim are emitted as contiguous (masked) vector accesses.
 *
 * The analysis works on the unbounded integers while the IR's i32 indices wrap, so it is only a
 * proposal: the emitted code compares the affine offset with the real one lane by lane and falls
 * back to the general access if any lane differs (see emit.ts). A wrong answer here costs speed,
 * never correctness. The expressions are computed in uint64_t, where overflow wraps instead of being
 * undefined (a wrapped offset simply fails the comparison).
 */
import type { Op, Value } from '../../compiler/ir/ir.js';
import type { TileType } from '../../compiler/ir/types.js';

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
    private readonly name: (v: Value) => string,
  ) {}

  /** The affine form of an integer tile, or undefined when it is not (recognizably) affine. */
  of(v: Value): Affine | undefined {
    if (!this.memo.has(v)) this.memo.set(v, this.compute(v) ?? null);
    return this.memo.get(v) ?? undefined;
  }

  private compute(v: Value): Affine | undefined {
    const t = v.type as TileType;
    if (t.kind !== 'tile' || (t.dtype.kind !== 'signed' && t.dtype.kind !== 'unsigned')) return undefined;
    if (t.shape.length === 0) return { base: `(int64_t)${this.name(v)}[0]`, coefs: [] };
    const op = this.definingOp(v);
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
      case 'view': {
        // Extent-1 dims come and go; the others keep their order and coefficients.
        const a = x(0);
        if (!a) return undefined;
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
