/**
 * One fusion group as one tile kernel, written with the DSL.
 *
 * The group's space S is viewed as R rows × C columns (C the last extent). A program holds a BR × BC
 * tile of it: `rows` [BR, 1] and `cols` [1, BC] index it, and every value of the group lives in a tile
 * of that shape (or [BR, 1] for one value per row, [1, BC] or [1, 1] for what varies less). Each
 * tensor the group reads is a 1-D kernel argument, read at Σ coordinate × stride (stride 0 where it
 * broadcasts, swapped strides for a transposed input). Values are f32 in registers and rounded to their
 * node's dtype where eager evaluation would have stored them, so fusing changes no result.
 *
 * Grids: elementwise groups tile both axes; rows groups take whole rows (BC ≥ C); matmul groups tile
 * [M, N] into BM × BN (BN ≥ N when the epilogue reduces rows) and walk K in steps of BK.
 */
import type { FusionGroup } from '../../compiler/graph/fusion.js';
import { type GraphNode, GraphError, type UnaryFn, numel, sameShape } from '../../compiler/graph/nodes.js';
import { type StepArgument, type StepParams, storageOf } from '../../compiler/graph/program.js';
import { type Dtype, f32, i32 } from '../../compiler/ir/dtype.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { gelu, relu, silu } from '../activations.js';
import { cdiv, kernel } from '../kernel.js';
import { abs, arange, dot, erf, exp, forRange, full, load, log, programId, rsqrt, sigmoid, sqrt, store, tanh, where, zeros } from '../ops.js';
import { type TensorSpec, type TensorArg, input, output } from '../tensor.js';
import { type Tile, type TileLike, binaryOp } from '../tile.js';

export interface LoweredGroup {
  readonly kernel: Kernel;
  readonly args: readonly StepArgument[];
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The rows × columns view of a space. */
function rowsCols(shape: readonly number[]): [number, number] {
  return [numel(shape.slice(0, -1)), shape[shape.length - 1] ?? 1];
}

/**
 * Whether an elementwise group reads every tensor either in S's own order or as one value: then S
 * is tiled as one flat row of numel(S) elements (long contiguous runs, no index arithmetic).
 */
function isFlat(group: FusionGroup): boolean {
  return group.kind === 'elementwise' && group.inputs.every((n) => n.op.kind !== 'transpose' && (sameShape(n.shape, group.shape) || numel(n.shape) === 1));
}

/** The space a group's kernel tiles: S itself, or S flattened. */
function spaceOf(group: FusionGroup): readonly number[] {
  return isFlat(group) ? [numel(group.shape)] : group.shape;
}

/** The default tile sizes of a group. */
export function defaultParams(group: FusionGroup): StepParams {
  const [r, c] = rowsCols(spaceOf(group));
  switch (group.kind) {
    case 'elementwise': {
      const bc = Math.min(nextPow2(c), isFlat(group) ? 2048 : 1024);
      return { BR: Math.min(nextPow2(r), Math.max(1, 2048 / bc)), BC: bc };
    }
    case 'rows':
      // One row per program unless rows are short (the C backend runs [1, BC] tiles about 4x faster
      // than [2, BC] ones; `tskc tune` finds what suits another device).
      return { BR: Math.min(nextPow2(r), Math.max(1, 256 / nextPow2(c))), BC: nextPow2(c) };
    case 'matmul':
      // A tile covering the row: fewer rows and a shorter K step as it widens, so that for rows up to
      // 256 (the default maxMatmulRow) the operand tiles stay within 32 KiB (WebGPU's usual limit).
      return group.wholeRows ? { BM: Math.min(64, Math.max(8, 2048 / nextPow2(c))), BN: nextPow2(c), BK: Math.min(32, Math.max(8, 4096 / nextPow2(c))) } : { BM: 64, BN: 64, BK: 32 };
  }
}

/** Tile sizes worth trying: the default first, then a small set around it. */
export function candidateParams(group: FusionGroup): StepParams[] {
  const [r, c] = rowsCols(spaceOf(group));
  const options: StepParams[] = [defaultParams(group)];
  const add = (p: StepParams) => options.some((o) => JSON.stringify(o) === JSON.stringify(p)) || options.push(p);
  switch (group.kind) {
    case 'elementwise':
      for (const total of [1024, 4096, 8192]) {
        const bc = Math.min(nextPow2(c), total);
        add({ BR: Math.min(nextPow2(r), Math.max(1, total / bc)), BC: bc });
      }
      break;
    case 'rows':
      for (const br of [1, 2, 4, 8, 16]) if (br <= nextPow2(r) && br * nextPow2(c) <= 65536) add({ BR: br, BC: nextPow2(c) });
      break;
    case 'matmul':
      if (group.wholeRows) {
        for (const [bm, bk] of [[16, 32], [32, 32], [32, 64]] as const) add({ BM: bm, BN: nextPow2(c), BK: bk });
      } else {
        // 128 x 64 x 64 ran the SwiGLU MLP 1024x2048x2048 fastest on the 2-core AVX2 VM in a C driver (119 ms, 129 for 128 x 128 x 64).
        for (const [bm, bn, bk] of [[32, 32, 32], [64, 128, 32], [128, 64, 32], [64, 64, 64], [128, 64, 64], [128, 128, 32], [128, 128, 64]] as const) add({ BM: bm, BN: bn, BK: bk });
      }
      break;
  }
  return options;
}

/** The kernel for `group` with tile sizes `params` (defaults for the rest). */
export function lowerGroup(group: FusionGroup, params: StepParams = {}): LoweredGroup {
  const p = { ...defaultParams(group), ...params };
  checkParams(group, p);
  const flat = isFlat(group);
  const space = spaceOf(group);
  const [R, C] = rowsCols(space);

  // Kernel arguments: each tensor read (by storage, so x and x.T are one argument) and each written,
  // one name per tensor: graph inputs by their names, computed tensors as t<id> (made unique: an input
  // may be called t7 too).
  const names = new Map<number, string>();
  const taken = new Set<string>();
  const argName = (n: GraphNode): string => {
    let name = names.get(n.id);
    if (name === undefined) {
      name = n.op.kind === 'input' ? n.op.name : `t${n.id}`;
      while (taken.has(name)) name = `${name}_`;
      names.set(n.id, name);
      taken.add(name);
    }
    return name;
  };
  for (const n of group.inputs) if (storageOf(n).op.kind === 'input') argName(storageOf(n));
  const args: StepArgument[] = [];
  const specs: Record<string, TensorSpec> = {};
  for (const n of group.inputs) {
    const s = storageOf(n);
    if (Object.hasOwn(specs, argName(s))) continue;
    specs[argName(s)] = input(s.dtype, [numel(s.shape)]);
    args.push({ arg: argName(s), node: s, role: 'in' });
  }
  for (const n of group.outputs) {
    specs[argName(n)] = output(n.dtype, [numel(n.shape)]);
    args.push({ arg: argName(n), node: n, role: 'out' });
  }
  const outName = new Map(args.filter((a) => a.role === 'out').map((a) => [a.node.id, a.arg]));

  const def = kernel(
    kernelName(group),
    specs,
    (tensors, q) => {
      const tensorOf = (n: GraphNode) => tensors[argName(storageOf(n))]!;
      const tile = group.kind === 'matmul' ? matmulTile(q, group.wholeRows) : group.kind === 'rows' ? rowsTile(q) : elementwiseTile(q);
      // Masks only where the tile can pass the edge: none when the tiles divide the space.
      const grid: Grid = { ...tile, R, C, ...(R % tile.BR === 0 ? {} : { rowOk: tile.rows.lt(R) }), ...(C % tile.BC === 0 ? {} : { colOk: tile.cols.lt(C) }) };
      const values = new Map<number, Tile>();
      const reads = new Map<string, Tile>();
      if (group.kind === 'matmul') computeMatmuls(group, grid, q, tensorOf, values);
      const rowValued = new Set(group.rowValued.map((n) => n.id));
      for (const n of group.nodes) {
        if (n.op.kind === 'matmul') continue;
        const operand = (i: number): TileLike => {
          const o = n.inputs[i]!;
          if (o.op.kind === 'const') return Math.fround(o.op.value);
          // A reduction's operand spans the whole space, whatever the frame of its result.
          const frame = flat ? 'flat' : rowValued.has(n.id) && n.op.kind !== 'reduce' ? 'row' : 'full';
          const key = `${o.id} ${frame}`;
          if (!values.has(o.id) && !reads.has(key)) reads.set(key, readInput(o, space, grid, tensorOf(o), frame));
          return values.get(o.id) ?? reads.get(key)!;
        };
        values.set(n.id, roundTo(n.dtype, compute(n, operand, grid)));
      }
      for (const n of group.outputs) {
        const full = sameShape(n.shape, group.shape);
        const v = values.get(n.id)!.broadcastTo(full ? [grid.BR, grid.BC] : [grid.BR, 1]);
        const offset = full ? grid.rows.mul(C).add(grid.cols) : grid.rows;
        const mask = full ? both(grid.rowOk, grid.colOk) : grid.rowOk;
        store(tensors[outName.get(n.id)!]!, [offset], n.dtype === f32 ? v : v.to(n.dtype), mask ? { mask } : {});
      }
    },
    {
      params: p,
      grid: () =>
        group.kind === 'matmul'
          ? [cdiv(R, p['BM']!), group.wholeRows ? 1 : cdiv(C, p['BN']!)]
          : group.kind === 'rows'
            ? [cdiv(R, p['BR']!)]
            : [cdiv(R, p['BR']!), cdiv(C, p['BC']!)],
    },
  );
  return { kernel: def.build(), args };
}

interface TileFrame {
  /** Flat row indices [BR, 1] and column indices [1, BC] of the tile this program holds. */
  readonly rows: Tile;
  readonly cols: Tile;
  readonly BR: number;
  readonly BC: number;
}

interface Grid extends TileFrame {
  readonly R: number;
  readonly C: number;
  /** Which rows and columns of the tile are in the space; absent when all are. */
  readonly rowOk?: Tile;
  readonly colOk?: Tile;
}

function elementwiseTile(q: StepParams): TileFrame {
  const [br, bc] = [q['BR']!, q['BC']!];
  return { rows: programId(0).mul(br).add(arange(br)).expandDims(1), cols: programId(1).mul(bc).add(arange(bc)).expandDims(0), BR: br, BC: bc };
}

function rowsTile(q: StepParams): TileFrame {
  const [br, bc] = [q['BR']!, q['BC']!];
  return { rows: programId(0).mul(br).add(arange(br)).expandDims(1), cols: arange(bc).expandDims(0), BR: br, BC: bc };
}

function matmulTile(q: StepParams, wholeRows: boolean): TileFrame {
  const [bm, bn] = [q['BM']!, q['BN']!];
  const cols = wholeRows ? arange(bn) : programId(1).mul(bn).add(arange(bn));
  return { rows: programId(0).mul(bm).add(arange(bm)).expandDims(1), cols: cols.expandDims(0), BR: bm, BC: bn };
}

function checkParams(group: FusionGroup, p: StepParams): void {
  const [, c] = rowsCols(spaceOf(group));
  const names = group.kind === 'matmul' ? ['BM', 'BN', 'BK'] : ['BR', 'BC'];
  for (const k of names) {
    const v = p[k];
    if (v === undefined || !Number.isInteger(v) || v < 1 || (v & (v - 1)) !== 0) throw new GraphError(`tile size ${k} = ${v}: expected a power of two`);
  }
  const covered = group.kind === 'rows' ? p['BC']! : group.kind === 'matmul' && group.wholeRows ? p['BN']! : Infinity;
  if (covered < c) throw new GraphError(`tile of ${covered} columns for a ${group.kind} group that reduces rows of ${c}: the tile must cover the row`);
}

/** A name that says what the kernel fuses: its kind and ops, shortened. */
function kernelName(group: FusionGroup): string {
  const ops = group.nodes.map((n) => (n.op.kind === 'unary' || n.op.kind === 'binary' || n.op.kind === 'reduce' ? n.op.fn : n.op.kind));
  const name = `g${group.id}_${group.kind}_${ops.join('_')}`;
  return name.length <= 48 ? name : `${name.slice(0, 40)}_${ops.length}ops`;
}

/** Both masks, either, or none. */
function both(a: Tile | undefined, b: Tile | undefined): Tile | undefined {
  return a && b ? a.and(b) : a ?? b;
}

/** f32 from a tile of any float dtype. */
function widen(t: Tile): Tile {
  return t.dtype === f32 ? t : t.to(f32);
}

/** A value rounded to `d` and widened back, as storing and reloading it would. */
function roundTo(d: Dtype, t: Tile): Tile {
  return d === f32 ? t : t.to(d).to(f32);
}

/**
 * Tensor n at the tile's rows and columns, broadcast to the space; for a consumer in the row frame
 * (one value per row, FusionGroup.rowValued), broadcast against the rows: n's axes end before the columns.
 */
function readInput(n: GraphNode, space: readonly number[], grid: Grid, tensor: TensorArg, frame: 'flat' | 'full' | 'row'): Tile {
  // A flattened space (isFlat) reads n in its own order: a stride of 1, or 0 for a single value.
  const strides = frame === 'flat' ? [numel(n.shape) === 1 ? 0 : 1] : frame === 'row' ? [...alignedStrides(n, space.slice(0, -1)), 0] : alignedStrides(n, space);
  const rank = space.length;
  const colStride = strides[rank - 1] ?? 0;
  const rowOffset = rowOffsets(space.slice(0, -1), strides.slice(0, -1), grid.rows);
  const colOffset = colStride === 0 ? undefined : times(grid.cols, colStride);
  const offset = rowOffset && colOffset ? rowOffset.add(colOffset) : rowOffset ?? colOffset ?? full([1, 1], 0, i32);
  const mask = rowOffset && colOffset ? both(grid.rowOk, grid.colOk) : rowOffset ? grid.rowOk : colOffset ? grid.colOk : undefined;
  return widen(load(tensor, [offset], mask ? { mask } : {}));
}

/** The strides of n read as a tensor of the space's shape: 0 along broadcast axes. */
function alignedStrides(n: GraphNode, space: readonly number[]): number[] {
  const base = storageOf(n);
  const own: number[] = [];
  for (let a = base.shape.length - 1, s = 1; a >= 0; a--) own[a] = s, (s *= base.shape[a]!);
  const viewStrides = n.op.kind === 'transpose' ? [own[1]!, own[0]!] : own;
  const shift = space.length - n.shape.length;
  return space.map((extent, a) => {
    const e = n.shape[a - shift];
    return e === undefined || (e === 1 && extent !== 1) || extent === 1 ? 0 : viewStrides[a - shift]!;
  });
}

/** Σ coordinate(row) × stride over the leading axes, or undefined when that is 0 everywhere. */
function rowOffsets(lead: readonly number[], strides: readonly number[], rows: Tile): Tile | undefined {
  const axes = lead.map((extent, a) => ({ extent, stride: strides[a]!, inner: numel(lead.slice(a + 1)) })).filter((x) => x.extent > 1 && x.stride !== 0);
  if (axes.length === 0) return undefined;
  // Axes that step like one flat index (stride = ρ · inner extent) need no division: r · ρ.
  const rho = axes[0]!.stride / axes[0]!.inner;
  const flat = lead.every((extent, a) => extent === 1 || strides[a] === rho * numel(lead.slice(a + 1)));
  if (flat && Number.isInteger(rho)) return times(rows, rho);
  return axes.map(({ extent, stride, inner }) => times(rows.div(inner).rem(extent), stride)).reduce((s, t) => s.add(t));
}

/** t · k, without the multiplication when k is 1 (so backends see a plain index: a contiguous access). */
function times(t: Tile, k: number): Tile {
  return k === 1 ? t : t.mul(k);
}

/** The node's value on the tile, in f32, from its operands'. */
function compute(n: GraphNode, operand: (i: number) => TileLike, grid: Grid): Tile {
  const tileOf = (x: TileLike): Tile => (typeof x === 'number' ? full([1, 1], x, f32) : x);
  switch (n.op.kind) {
    case 'unary':
      return UNARY[n.op.fn](tileOf(operand(0)));
    case 'binary':
      return binaryOp(BINARY[n.op.fn], operand(0), operand(1));
    case 'cast':
      return tileOf(operand(0));
    case 'reduce': {
      const fn = n.op.fn;
      const x = tileOf(operand(0)).broadcastTo([grid.BR, grid.BC]);
      const identity = fn === 'max' ? -Infinity : fn === 'min' ? Infinity : 0;
      const lanes = grid.colOk ? where(grid.colOk, x, identity) : x;
      const r = fn === 'max' ? lanes.max(1, { keepDims: true }) : fn === 'min' ? lanes.min(1, { keepDims: true }) : lanes.sum(1, { keepDims: true });
      return fn === 'mean' ? r.div(grid.C) : r;
    }
    default:
      throw new GraphError(`cannot compute ${n.op.kind} in a fused group`);
  }
}

const UNARY: Record<UnaryFn, (x: Tile) => Tile> = {
  neg: (x) => x.neg(),
  abs,
  exp,
  log,
  sqrt,
  rsqrt,
  tanh,
  erf,
  sigmoid,
  relu,
  gelu,
  silu,
};

const BINARY = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', max: 'max', min: 'min' } as const;

/** The group's matmuls on the tile: one loop over K, one f32 accumulator each, operands read once a step. */
function computeMatmuls(group: FusionGroup, grid: Grid, q: StepParams, tensorOf: (n: GraphNode) => TensorArg, values: Map<number, Tile>): void {
  const matmuls = group.nodes.filter((n) => n.op.kind === 'matmul');
  const k = group.k!;
  const bk = q['BK']!;
  const colsV = grid.cols.reshape([grid.BC]);
  const accs = forRange(0, k, bk, matmuls.map(() => zeros([grid.BR, grid.BC], f32)), (k0, sums) => {
    const ks = k0.add(arange(bk));
    const read = new Map<string, Tile>();
    const once = (key: string, make: () => Tile) => read.get(key) ?? (read.set(key, make()), read.get(key)!);
    return matmuls.map((mm, i) => {
      const [a, b] = mm.inputs as [GraphNode, GraphNode];
      const [sa0, sa1] = alignedStrides(a, a.shape);
      const [sb0, sb1] = alignedStrides(b, b.shape);
      const kOk = k % bk === 0 ? undefined : ks.lt(k);
      const masked = (mask: Tile | undefined) => (mask ? { mask } : {});
      const x = once(`a${a.id}`, () => widen(load(tensorOf(a), [times(grid.rows, sa0!).add(times(ks.expandDims(0), sa1!))], masked(both(grid.rowOk, kOk?.expandDims(0))))));
      // b with K contiguous (a transposed weight) is read as [BN, BK] rows and transposed in registers.
      const y = once(`b${b.id}`, () =>
        sb0 === 1 && sb1 !== 1
          ? widen(load(tensorOf(b), [times(colsV.expandDims(1), sb1!).add(ks.expandDims(0))], masked(both(grid.colOk?.reshape([grid.BC, 1]), kOk?.expandDims(0))))).T
          : widen(load(tensorOf(b), [times(ks.expandDims(1), sb0!).add(times(grid.cols, sb1!))], masked(both(kOk?.expandDims(1), grid.colOk)))),
      );
      return dot(x, y, sums[i]!);
    });
  });
  matmuls.forEach((mm, i) => values.set(mm.id, roundTo(mm.dtype, accs[i]!)));
}
