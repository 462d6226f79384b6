/**
 * Defining kernels: `kernel(name, args, body, options)` describes a kernel; `.build(params)` traces the
 * body once with those compile-time parameters and returns verified Tile IR.
 *
 *   const vadd = kernel('vadd', { x: input(f32, ['N']), y: input(f32, ['N']), z: output(f32, ['N']) },
 *     ({ x, y, z }, { BLOCK }) => { ... },
 *     { params: { BLOCK: 1024 }, grid: ({ N }, { BLOCK }) => [cdiv(N, BLOCK)] });
 */
import { KernelBuilder } from '../compiler/ir/builder.js';
import { IrError } from '../compiler/ir/errors.js';
import { type GridExpr, type GridOp, type Kernel, type KernelHints, type ShapeRequirement, evalGridExpr, formatGridExpr } from '../compiler/ir/ir.js';
import { scalarType, tensorType } from '../compiler/ir/types.js';
import { verify } from '../compiler/ir/verifier.js';
import { type ArgSpec, type ScalarSpec, TensorArg, type TensorSpec } from './tensor.js';
import { Tile } from './tile.js';
import { tracing } from './trace.js';

/** What the body receives for each argument: tensors as TensorArg, scalars as i32/f32... tiles. */
export type ArgsOf<A extends Record<string, ArgSpec>> = { [K in keyof A]: A[K] extends TensorSpec ? TensorArg : A[K] extends ScalarSpec ? Tile : never };

export type Params = Record<string, number>;

/** The names of the symbolic extents of the tensors in A. */
export type SymbolsOf<A extends Record<string, ArgSpec>> = {
  [K in keyof A]: A[K] extends TensorSpec<infer S> ? Extract<S[number], string> : never;
}[keyof A];

export interface KernelOptions<A extends Record<string, ArgSpec>, P extends Params> {
  /** Compile-time parameters and their defaults; `build` may override them. */
  readonly params?: P;
  /** The grid, from the tensors' symbolic extents and the parameters, e.g. ({ N }, { BLOCK }) => [cdiv(N, BLOCK)]. */
  readonly grid?: (symbols: { readonly [K in SymbolsOf<A>]: GridExpr }, params: P) => readonly GridExpr[];
  /**
   * What the extents must satisfy for the kernel to be right, e.g. ({ N }, { BLOCK_N }) =>
   * [atMost(N, BLOCK_N)] for a row held in one tile, or ({ K, G }, { GROUP }) => [equal(K, gridMul(G,
   * GROUP))] for a scale per group of K: a launch that breaks one fails, on every backend, saying which
   * (Kernel.requires).
   */
  readonly requires?: (symbols: { readonly [K in SymbolsOf<A>]: GridExpr }, params: P) => readonly ShapeRequirement[];
  /** Extents to run with when none are given (`tskc run`, `tskc bench`). */
  readonly shapes?: { readonly [K in SymbolsOf<A>]?: number };
  /** Floating-point operations of one launch at the given extents, for GFLOP/s. */
  readonly flops?: (shapes: { readonly [K in SymbolsOf<A>]: number }, params: P) => number;
  /**
   * Launch hints for GPU backends (Kernel.hints), e.g. { cuda: { threads: 512, minBlocksPerSm: 2 } },
   * or a function of the parameters giving them (hints measured at one tile size may not fit another).
   */
  readonly hints?: KernelHints | ((params: P) => KernelHints);
}

export class KernelDef<A extends Record<string, ArgSpec>, P extends Params> {
  private readonly built = new Map<string, Kernel>();

  constructor(
    readonly name: string,
    readonly args: A,
    private readonly body: (args: ArgsOf<A>, params: P) => void,
    readonly options: KernelOptions<A, P> = {},
  ) {}

  /** The defaults of the compile-time parameters. */
  get params(): P {
    return (this.options.params ?? {}) as P;
  }

  /** Traces the body with the given parameters (defaults for the rest) and verifies the IR. Cached. */
  build(overrides: Partial<P> = {}): Kernel {
    const params = { ...this.params, ...overrides } as P;
    for (const [k, v] of Object.entries(overrides)) {
      if (!Object.hasOwn(this.params, k)) throw new IrError('type', `kernel ${this.name} has no parameter ${k} (it has: ${Object.keys(this.params).join(', ') || 'none'})`);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new IrError('type', `kernel ${this.name}: parameter ${k} must be a finite number`);
    }
    const key = JSON.stringify(params);
    const cached = this.built.get(key);
    if (cached) return cached;
    const b = new KernelBuilder(this.name, params);
    const symbols: Record<string, GridExpr> = {};
    const handles: Record<string, TensorArg | Tile> = {};
    for (const [argName, spec] of Object.entries(this.args)) {
      if (spec.kind === 'scalar') {
        handles[argName] = new Tile(b.arg(argName, scalarType(spec.dtype)));
        continue;
      }
      spec.shape.forEach((d) => typeof d === 'string' && (symbols[d] = d));
      handles[argName] = new TensorArg(b.arg(argName, tensorType(spec.dtype, spec.shape, spec.access)));
    }
    type Table = { [K in SymbolsOf<A>]: GridExpr };
    if (this.options.grid) b.setGrid(this.options.grid(symbolTable(this.name, 'the grid', symbols) as Table, params));
    for (const r of this.options.requires?.(symbolTable(this.name, 'a requirement', symbols) as Table, params) ?? []) b.require(r);
    tracing(b, () => this.body(handles as ArgsOf<A>, params));
    const hints = typeof this.options.hints === 'function' ? this.options.hints(params) : this.options.hints;
    const k = hints ? { ...b.finish(), hints } : b.finish();
    verify(k);
    this.built.set(key, k);
    return k;
  }
}

/** Symbols for the grid and requires functions; naming one that no tensor has is an error, not `undefined`. */
function symbolTable(kernelName: string, user: string, symbols: Record<string, GridExpr>): Readonly<Record<string, GridExpr>> {
  return new Proxy(symbols, {
    get(target, key) {
      if (typeof key === 'string' && !Object.hasOwn(target, key)) throw new IrError('type', `kernel ${kernelName}: ${user} names ${key}, which is no tensor's extent`);
      return target[key as string];
    },
  });
}

export function kernel<A extends Record<string, ArgSpec>, P extends Params = Params>(
  name: string,
  args: A,
  body: (args: ArgsOf<A>, params: P) => void,
  options: KernelOptions<A, P> = {},
): KernelDef<A, P> {
  return new KernelDef(name, args, body, options);
}

function gridOp(op: GridOp) {
  return (a: GridExpr, b: GridExpr): GridExpr => {
    const e: GridExpr = { op, args: [a, b] };
    if (op === 'cdiv' && b === 0) throw new IrError('type', `${formatGridExpr(e)} divides by 0`);
    return typeof a === 'number' && typeof b === 'number' ? evalGridExpr(e, {}) : e;
  };
}

/** Grid arithmetic: ceil(a / b) and friends, on symbols and numbers. */
export const cdiv = gridOp('cdiv');
export const gridAdd = gridOp('add');
export const gridMul = gridOp('mul');

/** Requirements on the extents (KernelOptions.requires): a == b, and a <= b. */
export const equal = (left: GridExpr, right: GridExpr): ShapeRequirement => ({ rel: '==', left, right });
export const atMost = (left: GridExpr, right: GridExpr): ShapeRequirement => ({ rel: '<=', left, right });
