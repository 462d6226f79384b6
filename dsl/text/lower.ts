/**
 * Lowering `.tk` syntax by calling the TypeScript DSL itself: a kernel header becomes `kernel(name,
 * args, body, { params, grid, shapes })`, and the body a function that walks the statements and calls
 * `load`, `store`, Tile methods, `forRange`, `ifElse`... as a TypeScript kernel would, in the same
 * order. So the same kernel written both ways gives the same Tile IR by construction.
 *
 * Every error of the DSL or the IR (an IrError) is placed at the token being lowered (the operator,
 * the called name, the `for` or `if` keyword) and reported as a TkError.
 */
import type { IToken } from 'chevrotain';
import { type Dtype, dtype } from '../../compiler/ir/dtype.js';
import { IrError, MAX_NESTING, reservedName, reservedNameMessage } from '../../compiler/ir/errors.js';
import { type GridExpr, type Kernel, REQUIREMENT_RELS, type RequirementRel, type ShapeRequirement } from '../../compiler/ir/ir.js';
import type { BinaryOp, CompareOp } from '../../compiler/ir/opcodes.js';
import type { Dim } from '../../compiler/ir/types.js';
import {
  ComposedLayout, type IntTuple, Layout, LayoutError, type RegisterLayout, Swizzle, columnLocal, columnSpatial, local, spatial,
} from '../../compiler/layout/index.js';
import { KernelDef, type Params, cdiv, gridAdd, gridMul } from '../kernel.js';
import {
  SharedTile, abs, arange, barrier, dot, erf, exp, exp2, forRange, full, ifElse, load, log, log2, maximum, minimum, neg,
  numPrograms, programId, rsqrt, sharedTile, sigmoid, sqrt, store, tanh, where, zeros,
} from '../ops.js';
import { type ArgSpec, TensorArg, input, output, scalar, tensor, validExtent } from '../tensor.js';
import { Tile, type TileLike, binaryOp } from '../tile.js';
import { LowerError, type SourceText, type TkDiagnostic, TkError } from './errors.js';
import type { CallArg, Expr, KernelSyntax, Stmt } from './syntax.js';

/** What an expression stands for while lowering. */
type Val = Tile | number | boolean | TensorArg | SharedTile;

const fail = (token: IToken | undefined, message: string): never => {
  throw new LowerError(token, message);
};

function describe(v: Val | undefined): string {
  if (v === undefined) return 'nothing (a call without a result)';
  if (v instanceof Tile) return v.rank === 0 ? `a ${v.dtype.name} scalar` : `a tile<${v.dtype.name}>[${v.shape.join(', ')}]`;
  if (v instanceof TensorArg) return `the tensor ${v.value.name}`;
  if (v instanceof SharedTile) return 'a shared tile';
  return typeof v === 'boolean' ? `the boolean ${v}` : `the number ${v}`;
}

/** Runs `f`, placing an error of the DSL or the IR at `token`. */
function at<T>(token: IToken | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof IrError) throw new LowerError(token, e.message);
    if (e instanceof LayoutError) throw new LowerError(token, `layout: ${e.message}`);
    throw e;
  }
}

/** The register layout primitives, by their .tk names; each is also a method that composes. */
const LAYOUTS: ReadonlyMap<string, (...shape: number[]) => RegisterLayout> = new Map([
  ['local', local],
  ['spatial', spatial],
  ['column_local', columnLocal],
  ['column_spatial', columnSpatial],
]);
const LAYOUT_METHODS: Readonly<Record<string, 'local' | 'spatial' | 'columnLocal' | 'columnSpatial'>> = {
  local: 'local', spatial: 'spatial', column_local: 'columnLocal', column_spatial: 'columnSpatial',
};

/** The first token of an expression, where its errors go when it has no better one. */
export function exprToken(e: Expr): IToken {
  switch (e.kind) {
    case 'number':
    case 'name':
      return e.token;
    case 'binary':
      return e.op;
    case 'unary':
      return e.op;
    case 'call':
      return e.name;
    case 'member':
      return e.name;
    case 'index':
      return e.open;
    case 'list':
    case 'tuple':
      return e.open;
    case 'cute':
      return exprToken(e.shape);
  }
}

// ---------------------------------------------------------------------------------------------------
// Headers

const ACCESS: Readonly<Record<string, 'in' | 'out' | 'inout'>> = { in: 'in', out: 'out', inout: 'inout' };

/** A kernel defined by a `.tk` file: `build` reports every problem as a TkError at its place in the file. */
export class TkKernelDef extends KernelDef<Record<string, ArgSpec>, Params> {
  constructor(
    name: string,
    args: Record<string, ArgSpec>,
    body: (args: Record<string, TensorArg | Tile>, params: Params) => void,
    options: {
      params: Params;
      grid?: (symbols: Readonly<Record<string, GridExpr>>, params: Params) => GridExpr[];
      requires?: (symbols: Readonly<Record<string, GridExpr>>, params: Params) => ShapeRequirement[];
      shapes: Record<string, number>;
    },
    private readonly source: SourceText,
    private readonly nameToken: IToken,
  ) {
    super(name, args, body as never, options as never);
  }

  override build(overrides: Partial<Params> = {}): Kernel {
    try {
      return super.build(overrides);
    } catch (e) {
      throw asTkError(e, this.source, this.nameToken);
    }
  }
}

/** Any error as a TkError: LowerErrors at their token, anything else at `fallback`. */
export function asTkError(e: unknown, source: SourceText, fallback: IToken | undefined): TkError {
  if (e instanceof TkError) return e;
  if (e instanceof LowerError) return source.error([source.diagnostic(source.tokenPosition(e.token ?? fallback), e.message)]);
  if (e instanceof IrError) return source.error([source.diagnostic(source.tokenPosition(fallback), e.message)]);
  const why = e instanceof RangeError ? 'the program nests too deeply' : e instanceof Error ? e.message : String(e);
  return source.error([source.diagnostic(source.tokenPosition(fallback), `internal error: ${why}`)]);
}

/**
 * The kernel definition of one kernel's syntax, after checking its header (arguments, params, shapes,
 * grid, requires). Header problems are added to `problems` (and undefined returned).
 */
export function defineKernel(k: KernelSyntax, source: SourceText, problems: TkDiagnostic[]): TkKernelDef | undefined {
  const before = problems.length;
  const report = (token: IToken | undefined, message: string) => problems.push(source.diagnostic(source.tokenPosition(token), message));
  const args: Record<string, ArgSpec> = {};
  const symbols = new Set<string>();
  for (const a of k.args) {
    const name = a.name.image;
    if (reservedName(name)) {
      report(a.name, reservedNameMessage('argument name', name));
      continue;
    }
    if (Object.hasOwn(args, name)) report(a.name, `argument ${name} is declared twice`);
    let d: Dtype;
    try {
      d = dtype(a.dtype.image);
    } catch (e) {
      report(a.dtype, e instanceof Error ? e.message : String(e));
      continue;
    }
    if (a.dims === undefined) {
      if (a.access !== undefined) report(a.access, `scalar argument ${name} cannot be '${a.access.image}': write ${name}: ${a.access.image} ${d.name}[DIMS] for a tensor`);
      args[name] = scalar(d);
      continue;
    }
    if (a.access === undefined) {
      report(a.dtype, `tensor argument ${name} needs an access: in, out or inout`);
      continue;
    }
    if (a.dims.length === 0) report(a.dtype, `tensor argument ${name} needs at least one extent`);
    const dims: Dim[] = [];
    for (const t of a.dims) {
      const d = /^[A-Za-z_]/.test(t.image) ? t.image : Number(t.image);
      if (typeof d === 'string' && reservedName(d)) report(t, reservedNameMessage('extent name', d));
      else if (!validExtent(d)) report(t, `an extent must be an integer from 1 to 2^31 - 1 or a name, found ${t.image}`);
      else {
        dims.push(d);
        if (typeof d === 'string') symbols.add(d);
      }
    }
    if (dims.length < a.dims.length) continue; // reported: the argument is left out, the rest still checked
    const access = ACCESS[a.access.image] ?? 'inout';
    args[name] = access === 'in' ? input(d, dims) : access === 'out' ? output(d, dims) : tensor(d, dims, 'inout');
  }

  const params: Params = {};
  for (const p of k.params) {
    const name = p.name.image;
    if (reservedName(name)) report(p.name, reservedNameMessage('parameter name', name));
    else if (Object.hasOwn(params, name)) report(p.name, `parameter ${name} is declared twice`);
    else if (symbols.has(name)) report(p.name, `parameter ${name} has the name of a tensor extent`);
    else if (Object.hasOwn(args, name)) report(p.name, `parameter ${name} has the name of an argument`);
    const v = Number(p.value.image) * (p.minus === undefined ? 1 : -1);
    if (!Number.isFinite(v)) report(p.value, `parameter ${name} must be a finite number, found ${p.value.image}`);
    params[name] = v;
  }

  const shapes: Record<string, number> = {};
  for (const s of k.shapes) {
    const name = s.name.image;
    const v = Number(s.value.image);
    if (!symbols.has(name)) report(s.name, `shapes: ${name} is no tensor's extent (they are: ${[...symbols].join(', ') || 'none'})`);
    else if (Object.hasOwn(shapes, name)) report(s.name, `shapes: ${name} is given twice`);
    else if (s.minus !== undefined || !Number.isInteger(v) || v < 1) report(s.value, `shapes: ${name} must be a positive integer`);
    shapes[name] = v;
  }

  const grid = k.grid;
  if (grid !== undefined) for (const g of grid) checkGrid('grid', g, params, symbols, report);
  for (const r of k.requires) {
    if (r.kind !== 'binary' || !REQUIREMENT_RELS.includes(r.op.image as RequirementRel)) report(exprToken(r), `requires: ${REQUIRES_HELP}`);
    else [r.left, r.right].forEach((side) => checkGrid('requires', side, params, symbols, report));
  }
  if (problems.length > before) return undefined;

  const options = {
    params,
    shapes,
    ...(grid === undefined
      ? {}
      : { grid: (syms: Readonly<Record<string, GridExpr>>, ps: Params) => grid.map((g) => at(exprToken(g), () => lowerGrid(g, syms, ps))) }),
    ...(k.requires.length === 0
      ? {}
      : {
          requires: (syms: Readonly<Record<string, GridExpr>>, ps: Params) =>
            k.requires.map((r) => {
              const { op, left, right } = r as Extract<Expr, { kind: 'binary' }>;
              return at(exprToken(r), () => ({ rel: op.image as RequirementRel, left: lowerGrid(left, syms, ps), right: lowerGrid(right, syms, ps) }));
            }),
        }),
  };
  const extents = new Map<string, string>();
  for (const [name, spec] of Object.entries(args)) {
    if (spec.kind === 'tensor') spec.shape.forEach((d, axis) => typeof d === 'string' && !extents.has(d) && extents.set(d, `${name}.dim(${axis})`));
  }
  const body = (handles: Record<string, TensorArg | Tile>, ps: Params) => new BodyLowering(handles, ps, extents).kernelBody(k.body);
  return new TkKernelDef(k.name.image, args, body, options, source, k.name);
}

const GRID_HELP = 'a grid extent is built from tensor extents, params, integers, + - * and cdiv(a, b)';
const REQUIRES_HELP = `a requirement is two extents compared with == or <= (${GRID_HELP.replace('a grid extent', 'an extent')})`;

/**
 * A grid extent (of the grid, or a side of a requirement), as `what` reports it. Its operators may nest
 * MAX_NESTING deep (the IR's limit, compiler/ir/errors.ts): lowering and the passes recurse into it.
 */
function checkGrid(what: 'grid' | 'requires', e: Expr, params: Params, symbols: ReadonlySet<string>, report: (t: IToken | undefined, m: string) => void, depth = 0): void {
  if ((e.kind === 'binary' || e.kind === 'call') && depth >= MAX_NESTING) {
    report(exprToken(e), `${what}: the extent nests more than ${MAX_NESTING} operations deep`);
    return;
  }
  switch (e.kind) {
    case 'number':
      if (!Number.isInteger(Number(e.token.image))) report(e.token, `${what}: ${e.token.image} is not an integer`);
      return;
    case 'name':
      if (!Object.hasOwn(params, e.token.image) && !symbols.has(e.token.image)) report(e.token, `${what}: unknown name ${e.token.image} (not a tensor extent or a param)`);
      return;
    case 'binary':
      if (!['+', '-', '*'].includes(e.op.image)) report(e.op, `${what}: '${e.op.image}' is not allowed: ${GRID_HELP}`);
      checkGrid(what, e.left, params, symbols, report, depth + 1);
      checkGrid(what, e.right, params, symbols, report, depth + 1);
      return;
    case 'call':
      if (e.name.image !== 'cdiv') report(e.name, `${what}: ${e.name.image}(...) is not allowed: ${GRID_HELP}`);
      else if (e.args.length !== 2 || e.args.some((a) => a.label !== undefined)) report(e.name, `${what}: cdiv takes 2 arguments`);
      else e.args.forEach((a) => checkGrid(what, a.value, params, symbols, report, depth + 1));
      return;
    default:
      report(exprToken(e), `${what}: ${GRID_HELP}`);
  }
}

function lowerGrid(e: Expr, symbols: Readonly<Record<string, GridExpr>>, params: Params): GridExpr {
  switch (e.kind) {
    case 'number':
      return Number(e.token.image);
    case 'name':
      return Object.hasOwn(params, e.token.image) ? params[e.token.image]! : symbols[e.token.image]!;
    case 'binary': {
      const [a, b] = [lowerGrid(e.left, symbols, params), lowerGrid(e.right, symbols, params)];
      if (e.op.image === '+') return gridAdd(a, b);
      if (e.op.image === '*') return gridMul(a, b);
      return typeof a === 'number' && typeof b === 'number' ? a - b : { op: 'sub', args: [a, b] };
    }
    case 'call':
      return cdiv(lowerGrid(e.args[0]!.value, symbols, params), lowerGrid(e.args[1]!.value, symbols, params));
    default:
      return fail(exprToken(e), GRID_HELP);
  }
}

// ---------------------------------------------------------------------------------------------------
// Bodies

interface Binding {
  value: Val;
  readonly mutable: boolean;
  readonly token: IToken | undefined;
}

const CONSTANTS: ReadonlyMap<string, Val> = new Map<string, Val>([
  ['inf', Infinity],
  ['nan', NaN],
  ['true', true],
  ['false', false],
]);

const BINARY: Readonly<Record<string, BinaryOp | CompareOp>> = {
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'rem',
  '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
  '&': 'and', '|': 'or', '^': 'xor', '&&': 'and', '||': 'or',
};

const FOLD: Readonly<Record<string, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b,
};

/** How an argument is read: most are evaluated, some are read as written (dtypes, shapes, t[i, j]). */
type ArgKind = 'tile' | 'tileLike' | 'number' | 'bool' | 'dtype' | 'shape' | 'indexed' | 'layout' | 'memoryLayout' | 'cute' | 'value';

interface Signature {
  /** Kinds of the positional arguments; those from `required` on are optional. `rest` repeats the last. */
  readonly positional: readonly ArgKind[];
  readonly required?: number;
  readonly rest?: boolean;
  readonly labels?: Readonly<Record<string, ArgKind>>;
}

interface Indexed {
  readonly tensor: TensorArg;
  readonly indices: TileLike[];
}

interface Args {
  readonly pos: unknown[];
  readonly labeled: Record<string, unknown>;
}

type Builtin = Signature & { readonly run: (a: Args) => Val | undefined };

const unaryFn = (f: (x: Tile) => Tile): Builtin => ({ positional: ['tile'], run: (a) => f(a.pos[0] as Tile) });

const FUNCTIONS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['program_id', { positional: ['number'], run: (a) => programId(a.pos[0] as number) }],
  ['num_programs', { positional: ['number'], run: (a) => numPrograms(a.pos[0] as number) }],
  ['arange', { positional: ['number', 'number'], required: 1, run: (a) => (a.pos.length === 1 ? arange(a.pos[0] as number) : arange(a.pos[0] as number, a.pos[1] as number)) }],
  [
    'load',
    {
      positional: ['indexed'],
      labels: { mask: 'tile', other: 'tileLike', layout: 'layout' },
      run: (a) => {
        const { tensor: t, indices } = a.pos[0] as Indexed;
        const mask = a.labeled['mask'] as Tile | undefined;
        const other = a.labeled['other'] as TileLike | undefined;
        const layout = a.labeled['layout'] as RegisterLayout | undefined;
        return load(t, indices, {
          ...(mask === undefined ? {} : { mask }),
          ...(other === undefined ? {} : { other }),
          ...(layout === undefined ? {} : { layout }),
        });
      },
    },
  ],
  [
    'store',
    {
      positional: ['indexed', 'tileLike'],
      labels: { mask: 'tile' },
      run: (a) => {
        const { tensor: t, indices } = a.pos[0] as Indexed;
        const mask = a.labeled['mask'] as Tile | undefined;
        store(t, indices, a.pos[1] as TileLike, mask === undefined ? {} : { mask });
        return undefined;
      },
    },
  ],
  ['zeros', { positional: ['shape', 'dtype'], run: (a) => zeros(a.pos[0] as number[], a.pos[1] as Dtype) }],
  ['full', { positional: ['shape', 'number', 'dtype'], run: (a) => full(a.pos[0] as number[], a.pos[1] as number, a.pos[2] as Dtype) }],
  [
    'shared',
    {
      positional: ['shape', 'dtype'],
      labels: { layout: 'memoryLayout' },
      run: (a) => {
        const layout = a.labeled['layout'] as Layout | ComposedLayout | undefined;
        return sharedTile(a.pos[0] as number[], a.pos[1] as Dtype, layout === undefined ? {} : { layout });
      },
    },
  ],
  ['barrier', { positional: [], run: () => (barrier(), undefined) }],
  ['where', { positional: ['tile', 'tileLike', 'tileLike'], run: (a) => where(a.pos[0] as Tile, a.pos[1] as TileLike, a.pos[2] as TileLike) }],
  ['maximum', { positional: ['tileLike', 'tileLike'], run: (a) => maximum(a.pos[0] as TileLike, a.pos[1] as TileLike) }],
  ['minimum', { positional: ['tileLike', 'tileLike'], run: (a) => minimum(a.pos[0] as TileLike, a.pos[1] as TileLike) }],
  ['dot', { positional: ['tile', 'tile', 'tile'], run: (a) => dot(a.pos[0] as Tile, a.pos[1] as Tile, a.pos[2] as Tile) }],
  ['exp', unaryFn(exp)],
  ['exp2', unaryFn(exp2)],
  ['log', unaryFn(log)],
  ['log2', unaryFn(log2)],
  ['sqrt', unaryFn(sqrt)],
  ['rsqrt', unaryFn(rsqrt)],
  ['tanh', unaryFn(tanh)],
  ['erf', unaryFn(erf)],
  ['sigmoid', unaryFn(sigmoid)],
  ['abs', unaryFn(abs)],
  ['neg', unaryFn(neg)],
]);

const reduction = (f: (t: Tile, axis: number, o: { keepDims?: boolean }) => Tile): Signature & { run: (t: Tile, a: Args) => Val } => ({
  positional: ['number'],
  labels: { keep_dims: 'bool' },
  run: (t, a) => {
    const keep = a.labeled['keep_dims'] as boolean | undefined;
    return f(t, a.pos[0] as number, keep === undefined ? {} : { keepDims: keep });
  },
});

const TILE_METHODS: ReadonlyMap<string, Signature & { readonly run: (t: Tile, a: Args) => Val }> = new Map([
  ['sum', reduction((t, x, o) => t.sum(x, o))],
  ['prod', reduction((t, x, o) => t.prod(x, o))],
  ['max', reduction((t, x, o) => t.max(x, o))],
  ['min', reduction((t, x, o) => t.min(x, o))],
  ['argmax', reduction((t, x, o) => t.argmax(x, o))],
  ['argmin', reduction((t, x, o) => t.argmin(x, o))],
  ['to', { positional: ['dtype'] as ArgKind[], run: (t: Tile, a: Args) => t.to(a.pos[0] as Dtype) }],
  ['bitcast', { positional: ['dtype'] as ArgKind[], run: (t: Tile, a: Args) => t.bitcast(a.pos[0] as Dtype) }],
  ['expand_dims', { positional: ['number'] as ArgKind[], run: (t: Tile, a: Args) => t.expandDims(a.pos[0] as number) }],
  ['reshape', { positional: ['shape'] as ArgKind[], run: (t: Tile, a: Args) => t.reshape(a.pos[0] as number[]) }],
  ['broadcast_to', { positional: ['shape'] as ArgKind[], run: (t: Tile, a: Args) => t.broadcastTo(a.pos[0] as number[]) }],
  ['permute', { positional: ['number'] as ArgKind[], rest: true, run: (t: Tile, a: Args) => t.permute(...(a.pos as number[])) }],
]);

const MEMORY_LAYOUT_HELP = 'cute(SHAPE:STRIDE) or swizzle(B, M, S, SHAPE:STRIDE[, OFFSET]), e.g. cute((64, 64):(64, 1))';

/** How deep an expression may nest (a chain of binary operators counts each one). */
const MAX_DEPTH = 1000;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

class BodyLowering {
  private readonly scopes: Map<string, Binding>[] = [];

  /** @param extents how to read each symbolic extent in a body (M -> 'x.dim(0)'), for hints. */
  constructor(handles: Record<string, TensorArg | Tile>, params: Params, private readonly extents: ReadonlyMap<string, string>) {
    const outer = new Map<string, Binding>();
    for (const [k, v] of Object.entries(params)) outer.set(k, { value: v, mutable: false, token: undefined });
    for (const [k, v] of Object.entries(handles)) outer.set(k, { value: v, mutable: false, token: undefined });
    this.scopes.push(outer);
  }

  kernelBody(stmts: readonly Stmt[]): void {
    this.block(stmts);
  }

  private lookup(name: string): Binding | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const b = this.scopes[i]!.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  private declare(token: IToken, value: Val, mutable: boolean): void {
    const name = token.image;
    if (CONSTANTS.has(name)) fail(token, `${name} is a constant and cannot be redeclared`);
    const old = this.lookup(name);
    if (old !== undefined) {
      const where = old.token === undefined ? 'as an argument or a parameter' : `at line ${old.token.startLine}`;
      fail(token, `${name} is already declared ${where}`);
    }
    this.scopes[this.scopes.length - 1]!.set(name, { value, mutable, token });
  }

  private block(stmts: readonly Stmt[], setup?: () => void): void {
    this.scopes.push(new Map());
    try {
      setup?.();
      for (const s of stmts) this.statement(s);
    } finally {
      this.scopes.pop();
    }
  }

  private statement(s: Stmt): void {
    switch (s.kind) {
      case 'let':
        this.declare(s.name, this.value(s.value), true);
        return;
      case 'assign': {
        const b = this.lookup(s.name.image);
        if (b === undefined) return fail(s.name, `unknown name ${s.name.image} (declare it with let)`);
        if (!b.mutable) return fail(s.name, `cannot assign to ${s.name.image}: only variables declared with let can be reassigned`);
        b.value = this.value(s.value);
        return;
      }
      case 'expr':
        if (s.value.kind !== 'call' && !(s.value.kind === 'member' && s.value.args !== undefined)) {
          return fail(exprToken(s.value), 'an expression statement must be a call (store, barrier, s.store...); its value would be unused');
        }
        this.eval(s.value);
        return;
      case 'for':
        return this.forStatement(s);
      case 'if':
        return this.ifStatement(s);
    }
  }

  /** Names visible here that `stmts` assign (at any depth), in the order of their first assignment. */
  private carried(stmts: readonly Stmt[]): string[] {
    const names: string[] = [];
    const visit = (list: readonly Stmt[]) => {
      for (const s of list) {
        if (s.kind === 'assign' && !names.includes(s.name.image) && this.lookup(s.name.image)?.mutable === true) names.push(s.name.image);
        else if (s.kind === 'for') visit(s.body);
        else if (s.kind === 'if') {
          visit(s.then);
          if (s.otherwise) visit(s.otherwise);
        }
      }
    };
    visit(stmts);
    return names;
  }

  private carriedTiles(names: readonly string[], token: IToken, what: string): Tile[] {
    return names.map((n) => {
      const v = this.lookup(n)!.value;
      if (!(v instanceof Tile)) return fail(token, `${n} is assigned in the ${what}, so it is carried and must be a tile, but it is ${describe(v)}`);
      return v;
    });
  }

  private setAll(names: readonly string[], values: readonly Tile[]): void {
    names.forEach((n, i) => (this.lookup(n)!.value = values[i]!));
  }

  private forStatement(s: Extract<Stmt, { kind: 'for' }>): void {
    if (s.range.image !== 'range') fail(s.range, `expected range(start, end[, step]) but found ${s.range.image}`);
    const a = this.args({ name: s.range, args: s.args }, 'range', { positional: ['tileLike', 'tileLike', 'tileLike'], required: 2 });
    const [start, end, step] = a.pos as TileLike[];
    const names = this.carried(s.body);
    const init = this.carriedTiles(names, s.keyword, 'loop');
    const results = at(s.keyword, () =>
      forRange(start!, end!, step ?? 1, init, (i, carried) => {
        this.setAll(names, carried);
        this.block(s.body, () => this.declare(s.variable, i, false));
        return this.carriedTiles(names, s.keyword, 'loop');
      }),
    );
    this.setAll(names, results);
  }

  private ifStatement(s: Extract<Stmt, { kind: 'if' }>): void {
    const cond = this.value(s.cond);
    if (!(cond instanceof Tile)) return fail(exprToken(s.cond), `the condition of if must be a bool tile, got ${describe(cond)}`);
    const names = this.carried([...s.then, ...(s.otherwise ?? [])]);
    const before = names.map((n) => this.lookup(n)!.value);
    const branch = (stmts: readonly Stmt[]) => () => {
      names.forEach((n, i) => (this.lookup(n)!.value = before[i]!));
      this.block(stmts);
      return this.carriedTiles(names, s.keyword, 'if');
    };
    const results = at(s.keyword, () => ifElse(cond, branch(s.then), branch(s.otherwise ?? [])));
    this.setAll(names, results);
  }

  // Expressions

  /** An expression that must have a value. */
  private value(e: Expr): Val {
    const v = this.eval(e);
    if (v === undefined) return fail(exprToken(e), `${exprToken(e).image}(...) gives no value`);
    return v;
  }

  private tileLike(e: Expr): TileLike {
    const v = this.value(e);
    if (v instanceof Tile || typeof v === 'number') return v;
    return fail(exprToken(e), `expected a tile or a number, got ${describe(v)}`);
  }

  private depth = 0;

  private eval(e: Expr): Val | undefined {
    if (this.depth >= MAX_DEPTH) return fail(exprToken(e), `the expression nests more than ${MAX_DEPTH} operators deep`);
    this.depth++;
    try {
      return this.evalAt(e);
    } finally {
      this.depth--;
    }
  }

  private evalAt(e: Expr): Val | undefined {
    switch (e.kind) {
      case 'number':
        return Number(e.token.image);
      case 'name': {
        const b = this.lookup(e.token.image);
        if (b !== undefined) return b.value;
        const c = CONSTANTS.get(e.token.image);
        if (c !== undefined) return c;
        const extent = this.extents.get(e.token.image);
        return fail(e.token, `unknown name ${e.token.image}${extent === undefined ? '' : ` (a tensor extent: read it with ${extent})`}`);
      }
      case 'unary': {
        const x = this.tileLike(e.operand);
        if (e.op.image === '-') return typeof x === 'number' ? -x : at(e.op, () => x.neg());
        if (typeof x === 'number') return fail(e.op, `'!' needs a tile, got ${describe(x)}`);
        return at(e.op, () => x.not());
      }
      case 'binary':
        return this.binary(e);
      case 'call':
        return this.call(e);
      case 'member':
        return this.member(e);
      case 'index':
        return fail(e.open, 'indexing t[i, ...] is only allowed as the first argument of load and store');
      case 'list':
        return fail(e.open, 'a list [...] is only allowed as a shape argument');
      case 'tuple':
        return fail(e.open, `a tuple (...) is only allowed in a layout SHAPE:STRIDE (${MEMORY_LAYOUT_HELP})`);
      case 'cute':
        return fail(e.colon, `a layout SHAPE:STRIDE is only allowed in ${MEMORY_LAYOUT_HELP}`);
    }
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Val {
    const a = this.tileLike(e.left);
    const b = this.tileLike(e.right);
    const op = e.op.image;
    const fold = FOLD[op];
    if (typeof a === 'number' && typeof b === 'number' && fold !== undefined) return fold(a, b);
    if (op === '&&' || op === '||') {
      for (const x of [a, b]) {
        if (x instanceof Tile && x.dtype.name !== 'bool') fail(e.op, `'${op}' needs bool operands, got ${describe(x)} (use '${op[0]}' for bitwise ${op === '&&' ? 'and' : 'or'})`);
      }
    }
    return at(e.op, () => binaryOp(BINARY[op]!, a, b));
  }

  private call(e: Extract<Expr, { kind: 'call' }>): Val | undefined {
    const f = FUNCTIONS.get(e.name.image);
    if (f === undefined) {
      const hint = TILE_METHODS.has(e.name.image)
        ? ` (${e.name.image} is a method: x.${e.name.image}(...))`
        : e.name.image === 'cute' || e.name.image === 'swizzle'
          ? ` (${e.name.image}(...) is a memory layout: shared(SHAPE, DTYPE, layout: ${e.name.image}(...)))`
          : '';
      return fail(e.name, `unknown function ${e.name.image}${hint}`);
    }
    const a = this.args(e, e.name.image, f);
    return at(e.name, () => f.run(a));
  }

  private member(e: Extract<Expr, { kind: 'member' }>): Val | undefined {
    const target = this.value(e.target);
    const name = e.name.image;
    const call = { name: e.name, args: e.args ?? [] };
    if (target instanceof TensorArg) {
      if (name !== 'dim') return fail(e.name, `tensors have no member ${name} (they have: dim)`);
      if (e.args === undefined) return fail(e.name, 'dim is a method: call it as .dim(axis)');
      const a = this.args(call, 'dim', { positional: ['number'] });
      return at(e.name, () => target.dim(a.pos[0] as number));
    }
    if (target instanceof SharedTile) {
      if (e.args === undefined) return fail(e.name, `${name} is not a property of shared tiles (they have: load(), store(t))`);
      if (name === 'load') {
        this.args(call, 'load', { positional: [] });
        return at(e.name, () => target.load());
      }
      if (name === 'store') {
        const a = this.args(call, 'store', { positional: ['tile'] });
        at(e.name, () => target.store(a.pos[0] as Tile));
        return undefined;
      }
      return fail(e.name, `shared tiles have no method ${name} (they have: load, store)`);
    }
    if (!(target instanceof Tile)) return fail(e.name, `.${name}: expected a tile, got ${describe(target)}`);
    if (name === 'T') {
      if (e.args !== undefined) return fail(e.name, 'T is a property: write x.T');
      return at(e.name, () => target.T);
    }
    const m = TILE_METHODS.get(name);
    if (m === undefined) return fail(e.name, `tiles have no method ${name} (they have: ${[...TILE_METHODS.keys(), 'T'].join(', ')})`);
    if (e.args === undefined) return fail(e.name, `${name} is a method: call it as .${name}(...)`);
    const a = this.args(call, name, m);
    return at(e.name, () => m.run(target, a));
  }

  /** Checks a call's arguments against `sig` and reads them, in the order written. */
  private args(call: { name: IToken; args: readonly CallArg[] }, what: string, sig: Signature): Args {
    const pos: unknown[] = [];
    const labeled: Record<string, unknown> = {};
    const required = sig.required ?? sig.positional.length;
    const positional = call.args.filter((a) => a.label === undefined).length;
    const max = sig.rest ? Infinity : sig.positional.length;
    if (positional < required || positional > max) {
      const want = sig.rest ? `at least ${plural(required, 'argument')}` : required === max ? plural(max, 'argument') : `${required} to ${max} arguments`;
      fail(call.name, `${what} takes ${want}, got ${positional}`);
    }
    let seenLabel = false;
    for (const arg of call.args) {
      if (arg.label === undefined) {
        if (seenLabel) fail(exprToken(arg.value), `${what}: a positional argument cannot follow a labeled one`);
        const kind = sig.positional[Math.min(pos.length, sig.positional.length - 1)]!;
        pos.push(this.read(arg.value, kind, what));
        continue;
      }
      seenLabel = true;
      const label = arg.label.image;
      const kind = sig.labels !== undefined && Object.hasOwn(sig.labels, label) ? sig.labels[label] : undefined;
      if (kind === undefined) {
        const known = Object.keys(sig.labels ?? {});
        fail(arg.label, `${what} has no argument ${label}${known.length > 0 ? ` (it takes: ${known.join(', ')})` : ''}`);
      }
      if (Object.hasOwn(labeled, label)) fail(arg.label, `${what}: ${label} is given twice`);
      labeled[label] = this.read(arg.value, kind!, what);
    }
    return { pos, labeled };
  }

  /** A register layout: spatial(8, 4), local(2), column_spatial(...), column_local(...), chained with methods of the same names. */
  private layout(e: Expr, what: string): RegisterLayout {
    const help = `${what}: expected a register layout such as spatial(8, 4).local(2) (${[...LAYOUTS.keys()].join(', ')})`;
    if (e.kind === 'call') {
      const make = LAYOUTS.get(e.name.image);
      if (make === undefined) return fail(e.name, help);
      const a = this.args(e, e.name.image, { positional: ['number'], rest: true });
      return at(e.name, () => make(...(a.pos as number[])));
    }
    if (e.kind === 'member' && e.args !== undefined && Object.hasOwn(LAYOUT_METHODS, e.name.image)) {
      const base = this.layout(e.target, what);
      const a = this.args({ name: e.name, args: e.args }, e.name.image, { positional: ['number'], rest: true });
      const method = LAYOUT_METHODS[e.name.image]!;
      return at(e.name, () => base[method](...(a.pos as number[])));
    }
    return fail(exprToken(e), help);
  }

  /** A shared-memory layout: cute(SHAPE:STRIDE) or swizzle(B, M, S, SHAPE:STRIDE[, OFFSET]). */
  private memoryLayout(e: Expr, what: string): Layout | ComposedLayout {
    const help = `${what}: expected a memory layout: ${MEMORY_LAYOUT_HELP}`;
    if (e.kind !== 'call') return fail(exprToken(e), help);
    const name = e.name.image;
    const labeled = e.args.find((x) => x.label !== undefined);
    if ((name === 'cute' || name === 'swizzle') && labeled !== undefined) {
      const l = labeled.label!.image;
      return fail(labeled.label, `${name} takes no labeled arguments (for a layout whose shape is the name ${l}, write (${l}):STRIDE, as '${l}:' reads as a label)`);
    }
    if (name === 'cute') return this.args(e, name, { positional: ['cute'] }).pos[0] as Layout;
    if (name === 'swizzle') {
      const a = this.args(e, name, { positional: ['number', 'number', 'number', 'cute', 'number'], required: 4 });
      const [bits, base, shift, layout, offset] = a.pos as [number, number, number, Layout, number | undefined];
      return at(e.name, () => new ComposedLayout(new Swizzle(bits, base, shift), layout, offset ?? 0));
    }
    return fail(e.name, help);
  }

  /** A CuTe integer tuple: an integer known when the kernel is built, or a tuple (a, b, ...) of them. */
  private intTuple(e: Expr, what: string): IntTuple {
    if (e.kind === 'tuple') return e.items.map((x) => this.intTuple(x, what));
    const v = this.read(e, 'number', what) as number;
    return Number.isSafeInteger(v) ? v : fail(exprToken(e), `${what}: a layout's shape and stride hold integers, found ${v}`);
  }

  private read(e: Expr, kind: ArgKind, what: string): unknown {
    switch (kind) {
      case 'value':
        return this.value(e);
      case 'tileLike':
        return this.tileLike(e);
      case 'tile': {
        const v = this.value(e);
        return v instanceof Tile ? v : fail(exprToken(e), `${what}: expected a tile, got ${describe(v)}`);
      }
      case 'number': {
        const v = this.value(e);
        return typeof v === 'number' ? v : fail(exprToken(e), `${what}: expected a number known when the kernel is built (a literal or a param), got ${describe(v)}`);
      }
      case 'bool': {
        const v = this.value(e);
        return typeof v === 'boolean' ? v : fail(exprToken(e), `${what}: expected true or false, got ${describe(v)}`);
      }
      case 'dtype': {
        if (e.kind !== 'name') return fail(exprToken(e), `${what}: expected a dtype (f32, i32, bool, u4, f8e4m3, ...)`);
        return at(e.token, () => dtype(e.token.image));
      }
      case 'shape': {
        if (e.kind !== 'list') return fail(exprToken(e), `${what}: expected a shape [a, b, ...]`);
        return e.items.map((x) => this.read(x, 'number', what));
      }
      case 'layout':
        return this.layout(e, what);
      case 'memoryLayout':
        return this.memoryLayout(e, what);
      case 'cute': {
        if (e.kind !== 'cute') return fail(exprToken(e), `${what}: expected a CuTe layout SHAPE:STRIDE such as (64, 64):(64, 1)`);
        const shape = this.intTuple(e.shape, what);
        const stride = this.intTuple(e.stride, what);
        return at(e.colon, () => new Layout(shape, stride));
      }
      case 'indexed': {
        if (e.kind !== 'index') return fail(exprToken(e), `${what}: expected a tensor and its indices, t[i, ...]`);
        const t = this.value(e.target);
        if (!(t instanceof TensorArg)) return fail(exprToken(e.target), `${what}: only tensor arguments can be indexed, got ${describe(t)}`);
        return { tensor: t, indices: e.indices.map((x) => this.tileLike(x)) } satisfies Indexed;
      }
    }
  }
}
