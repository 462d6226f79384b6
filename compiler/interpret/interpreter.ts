/**
 * The reference interpreter: runs a kernel on host arrays, block by block over the whole grid, one op
 * at a time on whole tiles. It defines what every op means (see scalar-math.ts and tiles.ts for the
 * value rules); every backend is tested against it. Plain JS, no Node APIs: it also runs in browsers.
 *
 * Blocks run one after another in row-major grid order. Within a block, ops run in program order on
 * whole tiles, so `barrier` has nothing to wait for. A masked-off lane of a load gives the fill value
 * and touches no memory; an unmasked access outside a tensor is an InterpretError, as is a `for`
 * whose step is not positive.
 */
import { bindArguments } from '../ir/arguments.js';
import type { Dtype } from '../ir/dtype.js';
import { convert, convertNumber } from '../ir/dtype-convert.js';
import { type Kernel, type Op, type Value, type Block, evalGridExpr } from '../ir/ir.js';
import { isBinary, isCompare, isUnary, type ReduceKind } from '../ir/opcodes.js';
import { fromBits, toBits } from '../ir/pack.js';
import type { TileType } from '../ir/types.js';
import { binary, compare, unary } from './scalar-math.js';
import { type Tile, broadcast, dot, map, permute, reduce, sizeOf, stridesOf, tile } from './tiles.js';

/** A tensor in host memory: row-major values of its dtype (low-bit types unpacked, one per element). */
export interface HostTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export class InterpretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpretError';
  }
}

export interface InterpretOptions {
  /** The grid to launch, when the kernel does not define one or it should be overridden. */
  readonly grid?: readonly number[];
}

/** Shared tiles are mutable buffers; everything else is an immutable tile or a tensor. */
type RuntimeValue = Tile | HostTensor | { readonly shared: Float64Array; readonly shape: readonly number[] };

/**
 * Runs `kernel` over its grid. `args` maps argument names to host tensors (written in place by
 * stores) and scalar arguments to numbers. Symbolic extents are bound from the tensors' shapes and
 * must agree between tensors.
 */
export function interpret(kernel: Kernel, args: Readonly<Record<string, HostTensor | number>>, options: InterpretOptions = {}): void {
  const symbols = bindArguments(kernel, args);
  for (const a of kernel.args) {
    const v = args[a.name!];
    if (typeof v !== 'number' && v !== undefined && v.data.length !== sizeOf(v.shape)) {
      throw new InterpretError(`argument ${a.name}: ${v.data.length} values for shape [${v.shape}]`);
    }
  }
  const grid = options.grid ?? kernel.grid.map((g) => evalGridExpr(g, symbols));
  if (grid.length === 0) throw new InterpretError(`kernel ${kernel.name} defines no grid: pass one to launch`);
  if (grid.length > 3 || grid.some((g) => !Number.isInteger(g) || g < 0)) throw new InterpretError(`grid [${grid}] must be 1 to 3 non-negative integers`);
  const total = sizeOf(grid);
  const gridStrides = stridesOf(grid);
  for (let b = 0; b < total; b++) {
    const pid = grid.map((g, axis) => Math.floor(b / gridStrides[axis]!) % g);
    const env = new Map<Value, RuntimeValue>();
    kernel.args.forEach((a) => {
      const v = args[a.name!]!;
      env.set(a, typeof v === 'number' ? tile([], Float64Array.of(convertNumber(a.type.dtype, v))) : v);
    });
    runBlock(kernel.body, env, { pid, grid });
  }
}

interface BlockContext {
  readonly pid: readonly number[];
  readonly grid: readonly number[];
}

/** Runs the ops of a block; returns the values of its final `yield`, if any. */
function runBlock(block: Block, env: Map<Value, RuntimeValue>, ctx: BlockContext): Tile[] {
  for (const op of block.ops) {
    if (op.opcode === 'yield') return op.operands.map((v) => tileOf(env, v));
    const results = runOp(op, env, ctx);
    op.results.forEach((r, i) => env.set(r, results[i]!));
  }
  return [];
}

function tileOf(env: Map<Value, RuntimeValue>, v: Value): Tile {
  const t = env.get(v);
  if (t === undefined || !('data' in t) || 'dtype' in t) throw new InterpretError(`value %${v.id} is not a tile here`);
  return t;
}

function runOp(op: Op, env: Map<Value, RuntimeValue>, ctx: BlockContext): RuntimeValue[] {
  const x = (i: number) => tileOf(env, op.operands[i]!);
  const outType = op.results[0]?.type as TileType | undefined;
  const out = () => outType ?? fail(op, 'has no result');
  const inDtype = (op.operands[0]?.type as TileType | undefined)?.dtype;
  if (isUnary(op.opcode)) {
    const [t, d] = [x(0), out().dtype];
    const u = op.opcode;
    return [map(t.shape, (i) => unary(u, d, t.data[i]!))];
  }
  if (isBinary(op.opcode)) {
    const [a, b, d, o] = [x(0), x(1), out().dtype, op.opcode];
    return [map(a.shape, (i) => binary(o, d, a.data[i]!, b.data[i]!))];
  }
  if (isCompare(op.opcode)) {
    const [a, b, o] = [x(0), x(1), op.opcode];
    return [map(a.shape, (i) => compare(o, a.data[i]!, b.data[i]!))];
  }
  switch (op.opcode) {
    case 'program_id':
      return [tile([], Float64Array.of(ctx.pid[op.attrs['axis'] as number] ?? 0))];
    case 'num_programs':
      return [tile([], Float64Array.of(ctx.grid[op.attrs['axis'] as number] ?? 1))];
    case 'dim':
      return [tile([], Float64Array.of(tensorOf(env, op.operands[0]!).shape[op.attrs['axis'] as number]!))];
    case 'const':
      return [tile([], Float64Array.of(convertNumber(out().dtype, op.attrs['value'] as number)))];
    case 'arange': {
      const start = op.attrs['start'] as number;
      return [map(out().shape, (i) => start + i)];
    }
    case 'load':
      return [load(op, env)];
    case 'store':
      store(op, env);
      return [];
    case 'alloc_shared':
      return [{ shared: new Float64Array(sizeOf(out().shape)), shape: out().shape }];
    case 'load_shared': {
      const s = sharedOf(env, op.operands[0]!);
      return [tile(s.shape, Float64Array.from(s.shared))];
    }
    case 'store_shared':
      sharedOf(env, op.operands[0]!).shared.set(x(1).data);
      return [];
    case 'where': {
      const [c, a, b] = [x(0), x(1), x(2)];
      return [map(a.shape, (i) => (c.data[i] ? a.data[i]! : b.data[i]!))];
    }
    case 'cast': {
      const [t, from, to] = [x(0), inDtype!, out().dtype];
      return [map(t.shape, (i) => convert(from, to, t.data[i]!))];
    }
    case 'bitcast': {
      const [t, from, to] = [x(0), inDtype!, out().dtype];
      return [map(t.shape, (i) => fromBits(to, toBits(from, t.data[i]!)))];
    }
    case 'reduce':
      return [reduce(x(0), inDtype!, op.attrs['kind'] as ReduceKind, op.attrs['axis'] as number, out().shape)];
    case 'broadcast':
      return [broadcast(x(0), out().shape)];
    case 'view':
    case 'reshape':
      return [tile(out().shape, x(0).data)];
    case 'permute':
      return [permute(x(0), op.attrs['perm'] as number[])];
    case 'dot':
      return [dot(x(0), x(1), x(2), out().dtype)];
    case 'for':
      return runFor(op, env, ctx);
    case 'if': {
      const region = x(0).data[0] ? op.regions[0]! : op.regions[1]!;
      return runBlock(region, new Map(env), ctx);
    }
    case 'barrier':
      return [];
  }
  return fail(op, 'has no interpreter rule');
}

function runFor(op: Op, env: Map<Value, RuntimeValue>, ctx: BlockContext): Tile[] {
  const scalar = (i: number) => tileOf(env, op.operands[i]!).data[0]!;
  const [lower, upper, step] = [scalar(0), scalar(1), scalar(2)];
  if (step <= 0) fail(op, `step must be positive, got ${step}`);
  const region = op.regions[0]!;
  let carried = op.operands.slice(3).map((v) => tileOf(env, v));
  for (let i = lower; i < upper; i += step) {
    const inner = new Map(env);
    inner.set(region.args[0]!, tile([], Float64Array.of(i)));
    carried.forEach((c, k) => inner.set(region.args[k + 1]!, c));
    carried = runBlock(region, inner, ctx);
  }
  return carried;
}

/** The flat offsets a load or store touches (-1 for masked-off lanes), checking bounds. */
function offsets(op: Op, env: Map<Value, RuntimeValue>, tensor: HostTensor, mask: Tile | undefined): number[] {
  const rank = tensor.shape.length;
  const indices = op.operands.slice(1, 1 + rank).map((v) => tileOf(env, v));
  const strides = stridesOf(tensor.shape);
  const n = indices[0]?.data.length ?? 1;
  const out = new Array<number>(n);
  for (let e = 0; e < n; e++) {
    if (mask && !mask.data[e]) {
      out[e] = -1;
      continue;
    }
    let offset = 0;
    for (let d = 0; d < rank; d++) {
      const ix = indices[d]!.data[e]!;
      if (ix < 0 || ix >= tensor.shape[d]!) {
        const at = indices.map((t) => t.data[e]);
        fail(op, `index [${at}] is outside ${op.operands[0]!.name ?? 'the tensor'} of shape [${tensor.shape}] (mask it)`);
      }
      offset += ix * strides[d]!;
    }
    out[e] = offset;
  }
  return out;
}

function load(op: Op, env: Map<Value, RuntimeValue>): Tile {
  const t = tensorOf(env, op.operands[0]!);
  const rank = t.shape.length;
  const masked = op.operands.length === rank + 3;
  const mask = masked ? tileOf(env, op.operands[rank + 1]!) : undefined;
  const other = masked ? tileOf(env, op.operands[rank + 2]!) : undefined;
  const offs = offsets(op, env, t, mask);
  const shape = (op.results[0]!.type as TileType).shape;
  return map(shape, (e) => (offs[e]! < 0 ? other!.data[e]! : t.data[offs[e]!]!));
}

function store(op: Op, env: Map<Value, RuntimeValue>): void {
  const t = tensorOf(env, op.operands[0]!);
  const rank = t.shape.length;
  const value = tileOf(env, op.operands[rank + 1]!);
  const mask = op.operands.length === rank + 3 ? tileOf(env, op.operands[rank + 2]!) : undefined;
  const offs = offsets(op, env, t, mask);
  for (let e = 0; e < offs.length; e++) if (offs[e]! >= 0) t.data[offs[e]!] = value.data[e]!;
}

function tensorOf(env: Map<Value, RuntimeValue>, v: Value): HostTensor {
  const t = env.get(v);
  if (t === undefined || !('dtype' in t)) throw new InterpretError(`value ${v.name ?? `%${v.id}`} is not a tensor`);
  return t;
}

function sharedOf(env: Map<Value, RuntimeValue>, v: Value): { shared: Float64Array; shape: readonly number[] } {
  const t = env.get(v);
  if (t === undefined || !('shared' in t)) throw new InterpretError(`value %${v.id} is not a shared tile`);
  return t;
}

function fail(op: Op, message: string): never {
  throw new InterpretError(`${op.opcode}: ${message}`);
}

/** A host tensor of `dtype` and `shape`, its values converted into the dtype. */
export function hostTensor(dtype: Dtype, shape: readonly number[], values?: ArrayLike<number>): HostTensor {
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  if (values !== undefined) {
    if (values.length !== n) throw new InterpretError(`${values.length} values for shape [${shape}]`);
    for (let i = 0; i < n; i++) data[i] = convertNumber(dtype, values[i]!);
  }
  return { dtype, shape: [...shape], data };
}
