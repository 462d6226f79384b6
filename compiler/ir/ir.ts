/**
 * The Tile IR: a kernel is a block of ops over SSA values. Ops may own regions (the bodies of `for`
 * and `if`), each a block whose arguments are defined by the op (loop index, carried values) and
 * whose last op is `yield`.
 *
 * Attributes are plain data (numbers, strings, booleans, number lists) so that the text form prints
 * and parses them without knowing the op; dtypes are stored by name.
 */
import type { Type } from './types.js';
import type { Opcode } from './opcodes.js';

export type AttrValue = number | string | boolean | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;

export class Value {
  constructor(
    readonly id: number,
    readonly type: Type,
    /** A name from the source (a kernel argument, or a DSL variable); printing does not depend on it. */
    readonly name?: string,
  ) {}
}

export interface Op {
  readonly opcode: Opcode;
  readonly operands: readonly Value[];
  readonly results: readonly Value[];
  readonly attrs: Attrs;
  readonly regions: readonly Block[];
}

export class Block {
  readonly ops: Op[] = [];
  constructor(readonly args: readonly Value[] = []) {}
}

/**
 * The grid of blocks a kernel launches: one extent per axis, an expression of the tensors' symbolic
 * extents and constants, e.g. cdiv(N, 1024).
 */
export type GridExpr = number | string | { readonly op: GridOp; readonly args: readonly [GridExpr, GridExpr] };
export type GridOp = 'cdiv' | 'add' | 'sub' | 'mul' | 'min' | 'max';

export interface Kernel {
  readonly name: string;
  /** Tensor and scalar arguments, in call order; each Value has its name. */
  readonly args: readonly Value[];
  /** Compile-time parameters and the values this kernel was built with (already substituted). */
  readonly params: Readonly<Record<string, number>>;
  readonly grid: readonly GridExpr[];
  /**
   * Relations the launch extents must satisfy, checked with the arguments (compiler/ir/arguments.ts)
   * before any backend runs: a row held in one tile of BLOCK_N (N <= BLOCK_N), a scale per group of K
   * (K == G * GROUP). Absent when there are none.
   */
  readonly requires?: readonly ShapeRequirement[];
  readonly body: Block;
  /**
   * Launch hints for GPU backends, measured per kernel (not semantics: the text form leaves them out,
   * and two kernels that differ only in them are equal).
   */
  readonly hints?: KernelHints;
}

export interface KernelHints {
  /**
   * The CUDA backend's threads per block and blocks per SM (__launch_bounds__), unless compile options
   * say otherwise. `perArch` holds others for one architecture ('sm_90'), which replace these whole on
   * it: hints measured faster there that spill, or were not measured, elsewhere.
   */
  readonly cuda?: CudaLaunchHints & { readonly perArch?: Readonly<Record<string, CudaLaunchHints>> };
}

export interface CudaLaunchHints {
  readonly threads?: number;
  readonly minBlocksPerSm?: number;
}

/** `left rel right` over grid expressions: the extents a kernel can run with. */
export interface ShapeRequirement {
  readonly rel: RequirementRel;
  readonly left: GridExpr;
  readonly right: GridExpr;
}
export type RequirementRel = '==' | '<=';
export const REQUIREMENT_RELS: readonly RequirementRel[] = ['==', '<='];

/** Whether `r` holds for the bound symbols. */
export function holds(r: ShapeRequirement, symbols: Readonly<Record<string, number>>): boolean {
  const [a, b] = [evalGridExpr(r.left, symbols), evalGridExpr(r.right, symbols)];
  return r.rel === '==' ? a === b : a <= b;
}

export function formatRequirement(r: ShapeRequirement): string {
  return `${formatGridExpr(r.left)} ${r.rel} ${formatGridExpr(r.right)}`;
}

/** The symbols a grid expression names, in order of appearance. */
export function gridSymbols(e: GridExpr, into: string[] = []): string[] {
  if (typeof e === 'string') {
    if (!into.includes(e)) into.push(e);
  } else if (typeof e === 'object') e.args.forEach((a) => gridSymbols(a, into));
  return into;
}

/** Evaluates a grid expression with the symbols bound (e.g. N = 5000). */
export function evalGridExpr(e: GridExpr, symbols: Readonly<Record<string, number>>): number {
  if (typeof e === 'number') return e;
  if (typeof e === 'string') {
    const v = symbols[e];
    if (v === undefined) throw new Error(`grid refers to unknown symbol ${e}`);
    return v;
  }
  const [a, b] = e.args.map((x) => evalGridExpr(x, symbols)) as [number, number];
  switch (e.op) {
    case 'cdiv':
      // An extent of 0 as the divisor: a clear error, not an Infinity or NaN extent.
      if (b === 0) throw new Error(`${formatGridExpr(e)} divides by ${formatGridExpr(e.args[1])} = 0`);
      return Math.ceil(a / b);
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
  }
}

export function formatGridExpr(e: GridExpr): string {
  if (typeof e !== 'object') return String(e);
  return `${e.op}(${formatGridExpr(e.args[0])}, ${formatGridExpr(e.args[1])})`;
}

/** Visits every op of a block and of the regions nested in it, in order. */
export function walkOps(block: Block, visit: (op: Op, block: Block) => void): void {
  for (const op of block.ops) {
    visit(op, block);
    for (const r of op.regions) walkOps(r, visit);
  }
}

/** The op that defines each value of a block, nested regions included. */
export function definitions(body: Block): Map<Value, Op> {
  const defs = new Map<Value, Op>();
  walkOps(body, (op) => op.results.forEach((r) => defs.set(r, op)));
  return defs;
}
