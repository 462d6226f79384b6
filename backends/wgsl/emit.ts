/**
 * WGSL from Tile IR (SIMT). One workgroup runs one program of the grid; its register tiles are spread
 * over the workgroup's threads by the shape-determined layout of simt/distribution.ts (the CUDA
 * backend's too), so elementwise ops are per-thread loops over function-scope arrays.
 *
 * Each value is one of:
 *   - an index value: a pure function of the element index (aranges, constants, program ids, extents,
 *     and elementwise ops, broadcasts, views and permutes of index values or of one-element tiles),
 *     recomputed where it is used;
 *   - registers: an array per thread in the value's distribution;
 *   - a shared tile, at a fixed word offset of the workgroup array.
 * Moving register tiles between distributions (broadcast, permute, view across layouts, reductions,
 * dot operands) goes through a scratch area of workgroup memory with a barrier before and after.
 * Every value is one 32-bit word there (its bits), so a shared tile of any dtype is an array of words.
 *
 * Uniformity: WGSL accepts a barrier only where it can prove every thread of the workgroup gets, so
 * the bounds of loops and the conditions of ifs (one-element tiles that every thread holds, but which
 * the analysis cannot see as uniform) are passed through workgroupUniformLoad.
 *
 * Values follow the interpreter's rules through values.ts and prelude.ts, with these differences:
 *   - Float sums and products accumulate in float-float pairs (about 48 bits, with an exponent of
 *     their own) where the interpreter uses double, and along the last axis in another order. A
 *     rounded result differs when the two straddle a rounding boundary, or under cancellation: a pair
 *     keeps low bits that double drops (1e20 + 1 - 1e20 is 1 here, 0 in double).
 *   - Transcendentals are our own f32 functions, within 4 units in the last place of the exact value
 *     the interpreter rounds (tests/backends/wgsl/math.test.ts).
 *   - Division and sqrt are as precise as the device makes them (WGSL allows 2.5 units for division;
 *     lavapipe's are correctly rounded).
 *   - dot's emulated fma (for devices whose fma is not fused) is exact where the device keeps
 *     subnormals (WGSL lets it flush them).
 *
 * Memory order: a store to an inout tensor has a storageBarrier before it (every thread's earlier loads
 * of what it overwrites are done) and after it (the workgroup's later loads see it); workgroups are not
 * ordered among themselves.
 *
 * Bindings (group 0): 0 a uniform buffer of 32-bit words, the scalar arguments' bits in argument order
 * then the symbolic extents in `WgslSource.symbols` order, then two words the host sets to zero; 1 the
 * status word (atomic i32, zeroed by the caller; it becomes 1 + the argument index of an unmasked
 * access outside a tensor, or -1 for a loop with a step <= 0); then one storage buffer of u32 words
 * per tensor argument, in argument order. Tensors narrower than 32 bits that the kernel writes are
 * arrays of atomic words: neighbouring elements share a word, and two threads may write them at once.
 * (Two threads writing the same narrow element may leave a blend of both values.)
 */
import type { Block, Kernel, Op, Value } from '../../compiler/ir/ir.js';
import { isBinary, isCompare, isUnary } from '../../compiler/ir/opcodes.js';
import type { TensorType, TileType } from '../../compiler/ir/types.js';
import type { Dtype } from '../../compiler/ir/dtype.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { SUM_LANES, sizeOf, stridesOf } from '../../compiler/interpret/tiles.js';
import { type Distribution, MAX_VEC, distribute, sameDistribution } from '../simt/distribution.js';
import { chooseThreads } from '../simt/threads.js';
import { WGSL_PRELUDE } from './prelude.js';
import { AffineAnalysis } from '../clike/affine.js';
import { wgslBoxedAccess } from './boxed.js';
import { binaryExpr, bitcastExpr, bitsOf, castExpr, compareExpr, fromBits, literal, roundFloat, unaryExpr, valueType, wrapTo } from './values.js';

export interface WgslSource {
  readonly source: string;
  readonly entry: string;
  /** Threads per workgroup. */
  readonly threads: number;
  /** Workgroup memory, in bytes. */
  readonly workgroupBytes: number;
  /** The symbolic extents, in the order of their words in the uniform buffer (after the scalars). */
  readonly symbols: readonly string[];
  /** Words of the uniform buffer: scalars, then symbols, then two zero words. */
  readonly paramWords: number;
  /** Whether each tensor argument's buffer is written (read_write) or only read, in argument order. */
  readonly tensorWrites: readonly boolean[];
  /** Bytes in each tensor binding's array element (4 for u32 words, 16 for vec4<u32>), in argument order. */
  readonly tensorUnits: readonly number[];
}

export interface WgslEmitOptions {
  /** Threads per workgroup (a power of two from 32 to 1024); by default chosen from the largest tile. */
  readonly threads?: number;
  /**
   * Whether the device's `fma` is fused (one rounding), as WGSL allows but does not require (Mesa's
   * lavapipe is not). Without it, dot's steps use an exact emulation (tskc_fma), about 30 operations.
   */
  readonly fusedFma?: boolean;
  /**
   * Words a thread moves per chunk of a contiguous load or store: 1 (by default: one u32, neighbouring
   * threads on neighbouring words) or 4 (one vec4<u32>, 16 bytes, as the CUDA backend's vector
   * accesses). On an H100 the copy ran at 2028 GB/s with 1 and 991 GB/s with 4 (bench/RESULTS-GPU.md).
   */
  readonly vectorWords?: 1 | 4;
  /**
   * Turns of the loops over per-thread arrays written out one by one, at most (multiplied over nested
   * loops); 1 keeps every loop a loop. WGSL has no unroll hint, and a GPU keeps an array it indexes by
   * a variable in local memory, not registers; but the written-out shaders are long (the bf16 layer
   * norm's is about 8000 lines), which a CPU-emulated GPU compiles slowly (SwiftShader took over a
   * minute). 256 by default; the WebGPU runtime passes 1 for software adapters.
   */
  readonly unroll?: number;
  /**
   * Whether the device has the `subgroups` feature: row reductions then combine a subgroup's partials
   * with subgroupShuffleXor (two or three barriers a reduction instead of one per halving), where the
   * subgroups are runs of consecutive invocations (WGSL does not promise it: the kernel checks, and
   * takes workgroup memory otherwise). Off by default; the WebGPU runtime turns it on where it can.
   */
  readonly subgroups?: boolean;
  /**
   * Boxed accesses (boxed.ts): where a load's or store's indices are affine with literal
   * coefficients, one test for the whole tile instead of bounds checks lane by lane. Off by default:
   * on the H100 (Dawn on NVIDIA's Vulkan driver, bench/RESULTS-GPU.md, session 8) the one-word copy
   * ran at 773 GB/s with it against 2600 without, though the vec4 copy went from 790 to 2288.
   */
  readonly boxed?: boolean;
}

export const WGSL_ENTRY = 'tskc_kernel';
export const STATUS_BAD_STEP = -1;

export function emitWgsl(kernel: Kernel, options: WgslEmitOptions = {}): WgslSource {
  return new WgslEmitter(kernel, options.threads ?? chooseThreads(kernel), options.fusedFma ?? false, options.vectorWords ?? 1, options.unroll ?? 256, options.subgroups ?? false, options.boxed ?? false).emit();
}


const size = sizeOf;

/**
 * Words of workgroup memory a dot's operands take at most: larger ones are staged a slice of k at a
 * time (dot). 16 KiB, WebGPU's default limit and what the 64x64x32 f32 matmul's tiles take whole; the
 * CPU's 128x128 GEMV tiles (66 KB whole) then fit devices that allow 32 KiB, as lavapipe does.
 */
const DOT_STAGE_WORDS = 4096;

/** Source element of output element e (an i32 expression) for numpy broadcasting from `from` to `to`. */
function broadcastSource(from: readonly number[], to: readonly number[]): (e: string) => string {
  const lead = to.length - from.length;
  const [src, dst] = [stridesOf(from), stridesOf(to)];
  const dims = from.flatMap((s, d) => (s === 1 ? [] : [d]));
  if (dims.length === 0) return () => '0';
  return (e) => `i32(${dims.map((d) => `((u32(${e}) / ${dst[lead + d]}u) % ${to[lead + d]}u) * ${src[d]}u`).join(' + ')})`;
}

/** Source element of output element e of permute(x, perm). */
function permuteSource(from: readonly number[], perm: readonly number[]): (e: string) => string {
  const shape = perm.map((p) => from[p]!);
  const [src, dst] = [stridesOf(from), stridesOf(shape)];
  if (perm.length === 0) return () => '0';
  return (e) => `i32(${perm.map((p, k) => `((u32(${e}) / ${dst[k]}u) % ${shape[k]}u) * ${src[p]}u`).join(' + ')})`;
}

type Repr =
  | { readonly kind: 'index'; readonly at: (e: string) => string }
  | { readonly kind: 'regs'; readonly name: string; readonly dist: Distribution }
  | { readonly kind: 'shared'; readonly offset: number }
  | { readonly kind: 'tensor'; readonly name: string; readonly atomic: boolean; readonly quads: boolean };

/** A tensor's binding: atomic words (narrow tensors the kernel writes), vec4<u32> quads, or plain words. */
type TensorBinding = Extract<Repr, { kind: 'tensor' }>;

/** Where an elementwise loop is: the element index and register index expressions of one element. */
interface Site {
  readonly dist: Distribution;
  readonly e: string;
  readonly r: string;
}

/** Index expressions longer than this are computed once into registers instead of at every use. */
const MAX_INLINE_EXPR = 800;

/** A value's bits as one word of workgroup memory, and back. */
const toWord = (d: Dtype, v: string) => (valueType(d) === 'u32' ? v : `bitcast<u32>(${v})`);
const fromWord = (d: Dtype, w: string) => (valueType(d) === 'u32' ? w : `bitcast<${valueType(d)}>(${w})`);

class WgslEmitter {
  private readonly lines: string[] = [];
  private indent = '  ';
  private readonly repr = new Map<Value, Repr>();
  private readonly symbols: string[] = [];
  private readonly argIndex = new Map<Value, number>();
  private readonly defs = new Map<Value, Op>();
  // Only the literal coefficients are used here (wgslBoxedAccess), so a scalar's C expression is a
  // placeholder that is never a literal.
  private readonly affine = new AffineAnalysis(
    (v) => this.defs.get(v),
    (v) => `scalar${v.id}`,
  );
  private sharedTileWords = 0;
  private scratchWords = 0;
  private uniformSlots = 0;
  private fresh = 0;
  /** Whether a row reduction took the subgroup path (the module then enables subgroups). */
  private usesSubgroups = false;
  /** How many times the code being emitted is written out by the enclosing `counted` loops. */
  private unrolled = 1;
  /** Elements per chunk of a distribution: `vectorWords` words of the kernel's narrowest tensor. */
  private readonly maxVec: number;

  constructor(
    private readonly kernel: Kernel,
    private readonly threads: number,
    private readonly fusedFma: boolean,
    private readonly vectorWords: 1 | 4,
    private readonly unroll: number,
    private readonly subgroups: boolean,
    private readonly boxedAccesses: boolean,
  ) {
    if (!Number.isInteger(Math.log2(threads)) || threads < 32 || threads > 1024) throw new Error(`WGSL backend: threads must be a power of two from 32 to 1024, got ${threads}`);
    kernel.args.forEach((a, i) => {
      this.argIndex.set(a, i);
      if (a.type.kind === 'tensor') for (const d of a.type.shape) if (typeof d === 'string' && !this.symbols.includes(d)) this.symbols.push(d);
    });
    const narrowest = Math.min(32, ...kernel.args.flatMap((a) => (a.type.kind === 'tensor' ? [a.type.dtype.bits] : [])));
    // At most MAX_VEC: a u1 tensor would otherwise give every tile of the kernel chunks of 32, and
    // leave most threads idle on small tiles (u1 and u2 rows then go lane by lane).
    this.maxVec = Math.min(MAX_VEC, 2 ** Math.floor(Math.log2((32 * vectorWords) / narrowest)));
  }

  emit(): WgslSource {
    const k = this.kernel;
    const bindings: string[] = [];
    const tensorWrites: boolean[] = [];
    const tensorUnits: number[] = [];
    let word = 0;
    let binding = 2;
    const param = (w: number) => `tskc_params.w[${w >> 2}][${w & 3}]`;
    k.args.forEach((a, i) => {
      if (a.type.kind === 'tile') {
        // The host writes the scalar's value in the dtype (rounded or saturated as the interpreter
        // converts a number) as the bits of its WGSL value type.
        this.line(`var a${i}: array<${valueType(a.type.dtype)}, 1>;`);
        this.line(`a${i}[0] = ${fromWord(a.type.dtype, param(word++))};`);
        this.repr.set(a, { kind: 'regs', name: `a${i}`, dist: this.uniform().dist });
      } else {
        const writes = a.type.access !== 'in';
        tensorWrites.push(writes);
        const atomic = writes && a.type.dtype.bits < 32;
        // Only tensors the kernel reads: a write to one component of a vector may touch the whole
        // vector (WGSL), which would race with a neighbouring thread's write to another component.
        const quads = !writes && this.vectorWords === 4;
        const element = atomic ? 'atomic<u32>' : quads ? 'vec4<u32>' : 'u32';
        bindings.push(`@group(0) @binding(${binding++}) var<storage, ${writes ? 'read_write' : 'read'}> a${i}: array<${element}>;`);
        this.repr.set(a, { kind: 'tensor', name: `a${i}`, atomic, quads });
        tensorUnits.push(quads ? 16 : 4);
      }
    });
    const symbolWords = this.symbols.map(() => word++);
    const zeroWord = word++; // tskc_zero and tskc_zero_r (prelude.ts): 0, written by the host
    word++;
    const paramWords = word;
    const prologue = this.lines.splice(0);
    this.block(k.body);
    const body = this.lines.splice(0);
    const workgroupWords = this.sharedTileWords + this.scratchWords;
    // What the device's limit counts: the shared tiles and scratch, the uniform slots and the subgroup check's two words.
    const workgroupBytes = (workgroupWords + this.uniformSlots + (this.usesSubgroups ? 2 : 0)) * 4;
    const sg = this.usesSubgroups;
    const source = [
      `// Generated by tskc from kernel ${k.name}: ${this.threads} threads per workgroup, ${workgroupWords * 4} bytes of workgroup memory.`,
      ...(sg ? ['enable subgroups;'] : []),
      WGSL_PRELUDE,
      `struct TskcParams { w: array<vec4<u32>, ${Math.ceil(paramWords / 4)}> }`,
      '@group(0) @binding(0) var<uniform> tskc_params: TskcParams;',
      '@group(0) @binding(1) var<storage, read_write> tskc_status: array<atomic<i32>, 1>;',
      ...bindings,
      // Shared tiles first, then the scratch area for exchanges between threads.
      workgroupWords > 0 ? `var<workgroup> tskc_smem: array<u32, ${workgroupWords}>;` : '',
      `const tskc_scratch_base = ${this.sharedTileWords};`,
      this.uniformSlots > 0 ? `var<workgroup> tskc_uniform: array<i32, ${this.uniformSlots}>;` : '',
      ...(sg ? ['var<workgroup> tskc_sg_sizes: atomic<u32>;', 'var<workgroup> tskc_sg_width: u32;'] : []),
      '',
      `@compute @workgroup_size(${this.threads})`,
      `fn ${WGSL_ENTRY}(@builtin(local_invocation_index) tskc_lid: u32, @builtin(workgroup_id) tskc_wid: vec3<u32>, @builtin(num_workgroups) tskc_nwg: vec3<u32>${sg ? ', @builtin(subgroup_invocation_id) tskc_sgid: u32, @builtin(subgroup_size) tskc_sgsize: u32' : ''}) {`,
      `  tskc_zero = ${param(zeroWord)};`,
      `  tskc_zero_r = ${param(zeroWord + 1)};`,
      '  let tid = i32(tskc_lid);',
      '  var tskc_bad = 0i;',
      ...(sg ? WgslEmitter.subgroupWidth() : []),
      ...this.symbols.map((_, i) => `  let s${i} = bitcast<i32>(${param(symbolWords[i]!)});`),
      ...prologue,
      ...body,
      // The first report stays; the weak exchange may fail spuriously, so it is retried.
      '  if (tskc_bad != 0i) { loop { let r = atomicCompareExchangeWeak(&tskc_status[0], 0i, tskc_bad); if (r.exchanged || r.old_value != 0i) { break; } } }',
      '}',
      '',
    ].join('\n');
    return { source, entry: WGSL_ENTRY, threads: this.threads, workgroupBytes, symbols: [...this.symbols], paramWords, tensorWrites, tensorUnits };
  }

  /**
   * The kernel's first lines when its reductions may use subgroups: tskc_sg, the width of the
   * workgroup's subgroups when each is a run of consecutive invocations starting at a multiple of one
   * common size (invocation l at lane l % size), else 0. The sizes are or-ed together: unequal sizes,
   * or a subgroup arranged otherwise (bit 31), leave no single power of two.
   */
  private static subgroupWidth(): string[] {
    return [
      '  let tskc_sg_base = tskc_lid - tskc_sgid;',
      '  let tskc_sg_run = subgroupAll(tskc_sg_base == subgroupBroadcastFirst(tskc_sg_base) && tskc_sg_base % tskc_sgsize == 0u);',
      '  atomicOr(&tskc_sg_sizes, select(0x80000000u, tskc_sgsize, tskc_sg_run));',
      '  workgroupBarrier();',
      '  if (tskc_lid == 0u) { let m = atomicLoad(&tskc_sg_sizes); tskc_sg_width = select(0u, m, countOneBits(m) == 1u && m < 0x80000000u); }',
      '  let tskc_sg = workgroupUniformLoad(&tskc_sg_width);',
    ];
  }

  // ----- output helpers -----

  private line(s: string): void {
    this.lines.push(this.indent + s);
  }

  private nested(build: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    build();
    this.indent = saved;
  }

  private tile(v: Value): TileType {
    if (v.type.kind !== 'tile') throw new Error(`WGSL backend: %${v.id} is not a tile`);
    return v.type;
  }

  /** The site of a one-element tile, which every thread holds (loop bounds, branch conditions). */
  private uniform(): Site {
    return { dist: distribute([], this.threads, this.maxVec), e: '0', r: '0' };
  }

  private dist(v: Value): Distribution {
    return distribute(this.tile(v).shape, this.threads, this.maxVec);
  }

  private extent(t: TensorType, axis: number): string {
    const d = t.shape[axis]!;
    return typeof d === 'number' ? `${d}i` : `s${this.symbols.indexOf(d)}`;
  }

  /** The word index expression of word `offset` (+ `index`) of a scratch area of `count` words. */
  private scratch(count: number, offset = 0): (index: string) => string {
    this.scratchWords = Math.max(this.scratchWords, offset + Math.max(count, 1));
    // Shared tiles come first; their total is known at the end, as tskc_scratch_base.
    return (index) => `tskc_smem[tskc_scratch_base + ${offset} + ${index}]`;
  }

  // ----- values -----

  private at(v: Value, site: Site): string {
    const rep = this.repr.get(v);
    if (!rep) throw new Error(`WGSL backend: %${v.id} used before it is defined`);
    return this.atRepr(rep, v, site);
  }

  private isIndexable(v: Value): boolean {
    const rep = this.repr.get(v);
    return rep?.kind === 'index' || (rep?.kind === 'regs' && rep.dist.replicated);
  }

  /** Defines v as an index value, or as registers when its expression would be too long to repeat. */
  private defineIndex(v: Value, at: (e: string) => string): void {
    this.repr.set(v, { kind: 'index', at });
    if (at('e').length > MAX_INLINE_EXPR) this.materialize(v);
  }

  private materialize(v: Value): string {
    const rep = this.repr.get(v)!;
    const dist = this.dist(v);
    if (rep.kind === 'regs' && sameDistribution(rep.dist, dist)) return rep.name;
    const name = this.declare(v, `m${v.id}`);
    this.forEach(dist, (site) => this.line(`${name}[${site.r}] = ${this.atRepr(rep, v, site)};`));
    this.repr.set(v, { kind: 'regs', name, dist });
    return name;
  }

  private atRepr(rep: Repr, v: Value, site: Site): string {
    if (rep.kind === 'index') return `(${rep.at(site.e)})`;
    if (rep.kind !== 'regs') throw new Error(`WGSL backend: %${v.id} is not a register tile`);
    if (rep.dist.replicated) return `${rep.name}[0]`;
    if (!sameDistribution(rep.dist, site.dist)) throw new Error(`WGSL backend: %${v.id} is read in another distribution`);
    return `${rep.name}[${site.r}]`;
  }

  private declare(v: Value, name = `v${v.id}`): string {
    this.line(`var ${name}: array<${valueType(this.tile(v).dtype)}, ${this.dist(v).regs}>;`);
    return name;
  }

  /** Emits `body` for every element a thread holds in `dist`, with `valid` false for the padding. */
  private forEach(dist: Distribution, body: (site: Site) => void): void {
    if (dist.replicated) {
      this.line('{');
      this.nested(() => {
        this.line('let valid = true;');
        body({ dist, e: '0', r: '0' });
      });
      this.line('}');
      return;
    }
    this.forChunks(dist, () =>
      this.counted('v', dist.vec, () => {
        this.line(`let r = (i * ${dist.colIters} + c) * ${dist.vec} + v;`);
        this.line(`let e = row * ${dist.cols} + chunk * ${dist.vec} + v;`);
        body({ dist, e: 'e', r: 'r' });
      }),
    );
  }

  /**
   * A loop of `count` turns with counter `name`, written out turn by turn (the counter a const) while
   * the turns written out stay within the `unroll` option (see WgslEmitOptions.unroll).
   */
  private counted(name: string, count: number, body: () => void): void {
    if (this.unrolled * count > this.unroll) {
      this.line(`for (var ${name} = 0; ${name} < ${count}; ${name}++) {`);
      this.nested(body);
      this.line('}');
      return;
    }
    const saved = this.unrolled;
    this.unrolled *= count;
    for (let k = 0; k < count; k++) {
      this.line('{');
      this.nested(() => {
        this.line(`const ${name} = ${k};`);
        body();
      });
      this.line('}');
    }
    this.unrolled = saved;
  }

  /** The loops over a thread's chunks: `row`, `chunk`, `valid`, and the loop counters i and c. */
  private forChunks(dist: Distribution, body: () => void): void {
    this.counted('i', dist.rowIters, () => {
      this.line(`let row = i * ${dist.groups} + tid / ${dist.lanes};`);
      this.counted('c', dist.colIters, () => {
        this.line(`let chunk = c * ${dist.lanes} + tid % ${dist.lanes};`);
        this.line(`let valid = row < ${dist.rows} && chunk < ${dist.cols / dist.vec};`);
        body();
      });
    });
  }

  private elementwise(op: Op, expr: (site: Site) => string): void {
    const res = op.results[0]!;
    const dist = this.dist(res);
    if (op.operands.every((v) => this.isIndexable(v))) return this.defineIndex(res, (e) => expr({ dist, e, r: '0' }));
    const name = this.declare(res);
    this.forEach(dist, (site) => this.line(`${name}[${site.r}] = ${expr(site)};`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  // ----- ops -----

  private block(b: Block): void {
    for (const op of b.ops) {
      op.results.forEach((r) => this.defs.set(r, op));
      if (op.opcode !== 'yield') this.op(op);
    }
  }

  private op(op: Op): void {
    const res = op.results[0];
    const x = (i: number, site: Site) => this.at(op.operands[i]!, site);
    const d = res?.type.kind === 'tile' ? res.type.dtype : undefined;
    const inDtype = op.operands[0]?.type.dtype;
    if (isUnary(op.opcode)) return this.elementwise(op, (s) => unaryExpr(op.opcode, d!, x(0, s)));
    if (isBinary(op.opcode)) return this.elementwise(op, (s) => binaryExpr(op.opcode, d!, x(0, s), x(1, s)));
    if (isCompare(op.opcode)) return this.elementwise(op, (s) => compareExpr(op.opcode, inDtype!, x(0, s), x(1, s)));
    switch (op.opcode) {
      case 'program_id':
        return this.defineIndex(res!, () => `i32(tskc_wid.${'xyz'[op.attrs['axis'] as number]})`);
      case 'num_programs':
        return this.defineIndex(res!, () => `i32(tskc_nwg.${'xyz'[op.attrs['axis'] as number]})`);
      case 'dim':
        return this.defineIndex(res!, () => this.extent(op.operands[0]!.type as TensorType, op.attrs['axis'] as number));
      case 'const':
        return this.defineIndex(res!, () => literal(d!, convertNumber(d!, op.attrs['value'] as number)));
      case 'arange':
        return this.defineIndex(res!, (e) => `(${op.attrs['start']}i + ${e})`);
      case 'where':
        return this.elementwise(op, (s) => `select(${x(2, s)}, ${x(1, s)}, ${x(0, s)} != 0u)`);
      case 'cast':
        return this.elementwise(op, (s) => castExpr(inDtype!, d!, x(0, s)));
      case 'bitcast':
        return this.elementwise(op, (s) => bitcastExpr(inDtype!, d!, x(0, s)));
      case 'broadcast':
        return this.gather(op, broadcastSource(this.tile(op.operands[0]!).shape, this.tile(res!).shape));
      case 'permute':
        return this.gather(op, permuteSource(this.tile(op.operands[0]!).shape, op.attrs['perm'] as number[]));
      case 'view':
      case 'reshape':
        return this.gather(op, (e) => e);
      case 'load':
        return this.load(op);
      case 'store':
        return this.store(op);
      case 'reduce':
        return this.reduce(op);
      case 'dot':
        return this.dot(op);
      case 'alloc_shared':
        return this.allocShared(op);
      case 'load_shared': {
        const at = this.sharedWord(op.operands[0]!);
        const name = this.declare(res!);
        this.line('workgroupBarrier();'); // earlier writes of other threads are visible
        this.forEach(this.dist(res!), (s) => this.line(`${name}[${s.r}] = select(${fromWord(d!, '0u')}, ${fromWord(d!, at(s.e))}, valid);`));
        this.repr.set(res!, { kind: 'regs', name, dist: this.dist(res!) });
        return;
      }
      case 'store_shared': {
        const at = this.sharedWord(op.operands[0]!);
        const sd = this.tile(op.operands[1]!).dtype;
        this.line('workgroupBarrier();'); // earlier reads of other threads are done
        this.forEach(this.dist(op.operands[1]!), (s) => this.line(`if (valid) { ${at(s.e)} = ${toWord(sd, x(1, s))}; }`));
        this.line('workgroupBarrier();');
        return;
      }
      case 'barrier':
        this.line('storageBarrier();');
        this.line('workgroupBarrier();');
        return;
      case 'for':
        return this.forLoop(op);
      case 'if':
        return this.ifElse(op);
      case 'yield':
        throw new Error('WGSL backend: yield is emitted by its for or if');
    }
    throw new Error(`WGSL backend: no rule for ${op.opcode}`);
  }

  /** out[e] = in[source(e)]: an index value from an index value, an alias when the layouts agree, else staged. */
  private gather(op: Op, source: (e: string) => string): void {
    const [src, res] = [op.operands[0]!, op.results[0]!];
    const rep = this.repr.get(src)!;
    if (this.isIndexable(src)) {
      const srcDist = this.dist(src);
      return this.defineIndex(res, (e) => this.atRepr(rep, src, { dist: srcDist, e: `(${source(e)})`, r: '0' }));
    }
    const dist = this.dist(res);
    if (source('e') === 'e' && rep.kind === 'regs' && sameDistribution(rep.dist, dist)) {
      this.repr.set(res, rep);
      return;
    }
    const staged = this.stage(src);
    const d = this.tile(res).dtype;
    const name = this.declare(res);
    this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${fromWord(d, staged(`select(0, ${source(s.e)}, valid)`))};`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /** Writes every element of v to the scratch area (row-major, one word each) and returns its accessor. */
  private stage(v: Value, offset = 0): (index: string) => string {
    const t = this.tile(v);
    const buf = this.scratch(size(t.shape), offset);
    this.line('workgroupBarrier();');
    this.forEach(this.dist(v), (s) => this.line(`if (valid) { ${buf(s.e)} = ${toWord(t.dtype, this.at(v, s))}; }`));
    this.line('workgroupBarrier();');
    return buf;
  }

  private sharedWord(v: Value): (index: string) => string {
    const rep = this.repr.get(v);
    if (rep?.kind !== 'shared') throw new Error(`WGSL backend: %${v.id} is not a shared tile`);
    return (index) => `tskc_smem[${rep.offset} + ${index}]`;
  }

  private allocShared(op: Op): void {
    const res = op.results[0]!;
    const words = size(this.tile(res).shape);
    const offset = this.sharedTileWords;
    this.sharedTileWords += words;
    this.repr.set(res, { kind: 'shared', offset });
    // Zeroed, as the interpreter allocates it.
    this.line('workgroupBarrier();');
    this.line(`for (var k = tid; k < ${words}; k += ${this.threads}) { tskc_smem[${offset} + k] = 0u; }`);
    this.line('workgroupBarrier();');
  }

  // ----- memory -----

  /**
   * Tensor accesses, a chunk of `dist.vec` consecutive elements at a time. First each lane's tensor
   * indices, whether it is on (masked in) and inside the tensor (an on lane outside sets the status),
   * and its element offset as a u32 (below 2^31: the runtime refuses larger tensors). A chunk whose
   * lanes are all on, contiguous and start on a word boundary moves as whole words (`words`: vec4s
   * where the binding has them and the chunk starts on one), with no read-modify-write and no atomic
   * but a store; any other chunk goes lane by lane (`lane`, with `ok` and `off` in scope). Where the
   * indices are affine with literal coefficients and the `boxed` option is on (boxed.ts), one test finds the whole tile inside the
   * tensor, and then each lane's offset is its row's plus its column, with no per-lane checks.
   */
  private accessChunks(op: Op, dist: Distribution, mask: Value | undefined, lane: (site: Site) => void, words: (first: string, quads: boolean) => void): void {
    const tensor = op.operands[0]!.type as TensorType;
    const t = this.tensorRepr(op.operands[0]!);
    const bits = tensor.dtype.bits;
    const perWord = 32 / bits;
    const chunkWords = (dist.vec * bits) / 32;
    const laneIndex = (site: Site) => {
      tensor.shape.forEach((_, k) => this.line(`let x${k} = i32(${this.at(op.operands[1 + k]!, site)});`));
      const inside = tensor.shape.map((_, k) => `x${k} >= 0 && x${k} < ${this.extent(tensor, k)}`).join(' && ') || 'true';
      this.line(`let on = valid && ${mask ? `${this.at(mask, site)} != 0u` : 'true'};`);
      this.line(`let inside = ${inside};`);
      this.line(`if (on && !inside) { tskc_bad = ${1 + this.argIndex.get(op.operands[0]!)!}; }`);
      const strides = (k: number) => tensor.shape.slice(k + 1).map((_, j) => `u32(${this.extent(tensor, k + 1 + j)})`);
      return tensor.shape.map((_, k) => [`u32(x${k})`, ...strides(k)].join(' * ')).join(' + ') || '0u';
    };
    if (dist.replicated || !Number.isInteger(perWord) || !Number.isInteger(chunkWords)) {
      this.forEach(dist, (site) => {
        const offset = laneIndex(site);
        this.line('let ok = on && inside;');
        this.line(`let off = ${offset};`);
        lane(site);
      });
      return;
    }
    const vec = dist.vec;
    // Every lane's offset and whether it is on: checked lane by lane, or (`boxed`) from the row's
    // affine offset once the whole tile was found inside the tensor.
    const lanesOf = (boxed?: { rowBase: (o: string) => string }) =>
      this.counted('v', vec, () => {
        const site = this.laneSite(dist);
        if (boxed) {
          this.line(`oks[v] = valid && ${mask ? `${this.at(mask, site)} != 0u` : 'true'};`);
          this.line(`offs[v] = ${boxed.rowBase('row')} + u32(chunk * ${vec} + v);`);
          return;
        }
        const offset = laneIndex(site);
        this.line('oks[v] = on && inside;');
        this.line(`offs[v] = ${offset};`);
      });
    const indices = op.operands.slice(1, 1 + tensor.shape.length);
    // i32 indices only: the guard's arithmetic is i32 (another index dtype took the lane-by-lane path).
    const boxed = this.boxedAccesses && indices.every((v) => this.isIndexable(v) && this.tile(v).dtype.name === 'i32')
      ? wgslBoxedAccess(
          tensor,
          this.tile(op.operands[1]!).shape,
          indices.map((v) => {
            const f = this.affine.of(v);
            return f && f.coefs.every((c) => /^-?\d+$/.test(c)) ? f.coefs.map(Number) : undefined;
          }),
          indices.map((v) => this.at(v, this.uniform())),
          (d) => this.extent(tensor, d),
        )
      : undefined;
    if (!boxed) return this.chunkAccesses(dist, perWord, t, lanesOf, lane, words);
    // One test for the whole tile, then no per-lane index math.
    this.line(`if (${boxed.guard}) {`);
    this.nested(() => this.chunkAccesses(dist, perWord, t, () => lanesOf(boxed), lane, words));
    this.line('} else {');
    this.nested(() => this.chunkAccesses(dist, perWord, t, () => lanesOf(), lane, words));
    this.line('}');
  }

  /** Lane v of the current chunk (inside forChunks and a `v` loop): its register and element indices. */
  private laneSite(dist: Distribution): Site {
    this.line(`let r = (i * ${dist.colIters} + c) * ${dist.vec} + v;`);
    this.line(`let e = row * ${dist.cols} + chunk * ${dist.vec} + v;`);
    return { dist, e: 'e', r: 'r' };
  }

  /** The chunks of a distribution: their lanes' offsets (`lanesOf`), then whole words or lane by lane. */
  private chunkAccesses(dist: Distribution, perWord: number, t: TensorBinding, lanesOf: () => void, lane: (site: Site) => void, words: (first: string, quads: boolean) => void): void {
    const vec = dist.vec;
    const chunkWords = dist.vec / perWord;
    this.forChunks(dist, () => {
      this.line(`var oks: array<bool, ${vec}>;`);
      this.line(`var offs: array<u32, ${vec}>;`);
      lanesOf();
      this.line(`var whole = offs[0] % ${perWord}u == 0u;`);
      this.counted('v', vec, () => this.line('whole = whole && oks[v] && offs[v] == offs[0] + u32(v);'));
      this.line('if (whole) {');
      this.nested(() => {
        this.line(`let w0 = offs[0] / ${perWord}u;`);
        if (!t.quads || chunkWords % 4 !== 0) return words('w0', false);
        this.line('if (w0 % 4u == 0u) {');
        this.nested(() => words('w0', true));
        this.line('} else {');
        this.nested(() => words('w0', false));
        this.line('}');
      });
      this.line('} else {');
      this.nested(() => {
        this.counted('v', vec, () => {
          const site = this.laneSite(dist);
          this.line('let ok = oks[v];');
          this.line('let off = offs[v];');
          lane(site);
        });
      });
      this.line('}');
    });
  }

  /**
   * The whole words of a chunk starting at word `first`, one at a time: `word(k, w)` for the chunk's
   * word k (an i32 expression) at tensor word w, or four at a time from a quad when `quads`.
   */
  private forWords(dist: Distribution, d: Dtype, first: string, quads: boolean, word: (k: string, index: string, quad?: string) => void): void {
    const count = (dist.vec * d.bits) / 32;
    if (!quads) return this.counted('k', count, () => word('k', `${first} + u32(k)`));
    this.counted('q', count / 4, () => word('q', `(${first} >> 2u) + u32(q)`, 'quad'));
  }

  /** Word `w` (a u32 expression) of tensor `t`, as a value. */
  private readWord(t: TensorBinding, w: string): string {
    if (t.atomic) return `atomicLoad(&${t.name}[${w}])`;
    return t.quads ? `${t.name}[(${w}) >> 2u][(${w}) & 3u]` : `${t.name}[${w}]`;
  }

  private writeWord(t: TensorBinding, w: string, value: string): void {
    if (t.atomic) this.line(`atomicStore(&${t.name}[${w}], ${value});`);
    else this.line(`${t.quads ? `${t.name}[(${w}) >> 2u][(${w}) & 3u]` : `${t.name}[${w}]`} = ${value};`);
  }

  /** The u32 bits of element `offset` of tensor `t` (an expression, or statements ending in `bits`). */
  private readBits(t: TensorBinding, d: Dtype, offset: string): string {
    if (d.bits === 32) return this.readWord(t, offset);
    const mask = `0x${((2 ** d.bits - 1) >>> 0).toString(16)}u`;
    this.line(`let word = tskc_word_of(${offset}, ${d.bits}u);`);
    this.line(`let shift = tskc_shift_of(${offset}, ${d.bits}u);`);
    this.line(`var bits = ${this.readWord(t, 'word')} >> shift;`);
    // Widths that do not divide 32 have elements across two words.
    if (32 % d.bits !== 0) this.line(`if (shift + ${d.bits}u > 32u) { bits = bits | (${this.readWord(t, 'word + 1u')} << (32u - shift)); }`);
    return `(bits & ${mask})`;
  }

  private writeBits(t: TensorBinding, d: Dtype, offset: string, bits: string): void {
    if (d.bits === 32) return this.writeWord(t, offset, bits);
    const mask = `0x${((2 ** d.bits - 1) >>> 0).toString(16)}u`;
    this.line(`let word = tskc_word_of(${offset}, ${d.bits}u);`);
    this.line(`let shift = tskc_shift_of(${offset}, ${d.bits}u);`);
    this.line(`let b = ${bits};`);
    this.line(`atomicAnd(&${t.name}[word], ~(${mask} << shift));`);
    this.line(`atomicOr(&${t.name}[word], b << shift);`);
    if (32 % d.bits !== 0) {
      this.line(`if (shift + ${d.bits}u > 32u) {`);
      this.line(`  atomicAnd(&${t.name}[word + 1u], ~(${mask} >> (32u - shift)));`);
      this.line(`  atomicOr(&${t.name}[word + 1u], b >> (32u - shift));`);
      this.line('}');
    }
  }

  private tensorRepr(v: Value): TensorBinding {
    const rep = this.repr.get(v);
    if (rep?.kind !== 'tensor') throw new Error(`WGSL backend: %${v.id} is not a tensor`);
    return rep;
  }

  /** Element j (an i32 expression) of a word's `bits`-wide fields, as u32 bits. */
  private static field(word: string, bits: number, j: string): string {
    return bits === 32 ? word : `((${word} >> (u32(${j}) * ${bits}u)) & 0x${((2 ** bits - 1) >>> 0).toString(16)}u)`;
  }

  private load(op: Op): void {
    const res = op.results[0]!;
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const d = tensor.dtype;
    const masked = op.operands.length === rank + 3;
    const dist = this.dist(res);
    const name = this.declare(res);
    const t = this.tensorRepr(op.operands[0]!);
    const perWord = 32 / d.bits;
    const lane = (site: Site) => {
      const other = masked ? this.at(op.operands[rank + 2]!, site) : fromWord(d, '0u');
      this.line('if (ok) {');
      this.nested(() => this.line(`${name}[${site.r}] = ${fromBits(d, this.readBits(t, d, 'off'))};`));
      this.line(`} else { ${name}[${site.r}] = ${other}; }`);
    };
    const words = (first: string, quads: boolean) =>
      this.forWords(dist, d, first, quads, (k, index, quad) => {
        const r0 = `(i * ${dist.colIters} + c) * ${dist.vec}`;
        const unpack = (word: string, at: string) => {
          if (perWord === 1) return this.line(`${name}[${r0} + ${at}] = ${fromBits(d, word)};`);
          this.counted('j', perWord, () => this.line(`${name}[${r0} + (${at}) * ${perWord} + j] = ${fromBits(d, WgslEmitter.field(word, d.bits, 'j'))};`));
        };
        if (!quad) {
          this.line(`let word = ${this.readWord(t, index)};`);
          return unpack('word', k);
        }
        this.line(`let quad = ${t.name}[${index}];`);
        for (let w = 0; w < 4; w++) unpack(`quad[${w}]`, `${k} * 4 + ${w}`);
      });
    this.accessChunks(op, dist, masked ? op.operands[rank + 1] : undefined, lane, words);
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  private store(op: Op): void {
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const d = tensor.dtype;
    const value = op.operands[rank + 1]!;
    const dist = this.dist(value);
    const t = this.tensorRepr(op.operands[0]!);
    const perWord = 32 / d.bits;
    // Every thread's earlier loads of the tensor are done before any thread overwrites it.
    if (tensor.access === 'inout') this.line('storageBarrier();');
    const lane = (site: Site) => {
      this.line('if (ok) {');
      this.nested(() => this.writeBits(t, d, 'off', bitsOf(d, this.at(value, site))));
      this.line('}');
    };
    // Word k of the chunk, packed from its elements' bits.
    const pack = (k: string, into: string) => {
      const element = (j: string) => {
        this.line(`let v = (${k}) * ${perWord} + ${j};`);
        this.line(`let r = (i * ${dist.colIters} + c) * ${dist.vec} + v;`);
        this.line(`let e = row * ${dist.cols} + chunk * ${dist.vec} + v;`);
        return bitsOf(d, this.at(value, { dist, e: 'e', r: 'r' }));
      };
      if (perWord === 1) {
        this.line('{');
        this.nested(() => this.line(`${into} = ${element('0')};`));
        this.line('}');
        return;
      }
      this.line(`${into} = 0u;`);
      this.counted('j', perWord, () => this.line(`${into} = ${into} | ((${element('j')} & 0x${((2 ** d.bits - 1) >>> 0).toString(16)}u) << (u32(j) * ${d.bits}u));`));
    };
    const words = (first: string, quads: boolean) =>
      this.forWords(dist, d, first, quads, (k, index, quad) => {
        if (!quad) {
          this.line('var word: u32;');
          pack(k, 'word');
          return this.writeWord(t, index, 'word');
        }
        this.line('var quad: vec4<u32>;');
        for (let w = 0; w < 4; w++) pack(`${k} * 4 + ${w}`, `quad[${w}]`);
        this.line(`${t.name}[${index}] = quad;`);
      });
    this.accessChunks(op, this.dist(value), op.operands[rank + 2], lane, words);
    // The workgroup's later loads of an inout tensor must see every thread's stores, as in the
    // interpreter, where a store completes before the next op.
    if (tensor.access === 'inout') this.line('storageBarrier();');
  }

  // ----- reductions and dot -----

  private reduce(op: Op): void {
    const src = op.operands[0]!;
    const axis = op.attrs['axis'] as number;
    const kind = op.attrs['kind'] as string;
    if (axis === this.tile(src).shape.length - 1 && ['sum', 'prod', 'max', 'min'].includes(kind) && !this.dist(src).replicated) return this.reduceRows(op);
    return this.reduceInOrder(op);
  }

  /**
   * A reduction along the last axis, in parallel: each thread combines its elements of a row into a
   * partial, the partials of a row's lanes combine in a tree through workgroup memory (lower lanes
   * first), and each row's result reaches the result's distribution from there.
   *   - Float sums and products: a TskcAcc partial (three words), the interpreter's double result
   *     unless the two straddle a rounding boundary (see the file comment).
   *   - Integer sums and products: wrapping, exact in any order.
   *   - Float max/min: the value with the index of its element, so that of equal extremes (+0 and -0)
   *     the first in index order wins and NaNs lose to anything, as in the interpreter's sequence.
   */
  private reduceRows(op: Op): void {
    const [src, res] = [op.operands[0]!, op.results[0]!];
    const kind = op.attrs['kind'] as string;
    const d = this.tile(src).dtype;
    const dist = this.dist(src);
    const float = d.kind === 'float';
    const extreme = kind === 'max' || kind === 'min';
    const vt = valueType(d);
    const id = this.fresh++;
    const part = `part${id}`;
    // The partial's type, its identity, adding element x at index e, joining two, and its words.
    const shape = float && !extreme ? 'TskcAcc' : float ? 'vec2<u32>' : vt;
    const identity = float && !extreme ? `TskcAcc(tskc_opaque(${kind === 'sum' ? '0.0' : '1.0'}), 0.0, 0)` : float ? 'vec2<u32>(0u, 0xffffffffu)' : literal(d, kind === 'sum' ? 0 : kind === 'prod' ? 1 : kind === 'max' ? d.minValue : d.maxValue);
    const join = (a: string, b: string): string => {
      if (float && !extreme) return `${kind === 'sum' ? 'tskc_sum_join' : 'tskc_prod_join'}(${a}, ${b})`;
      if (float) return `tskc_${kind}_first(${a}, ${b})`;
      if (kind === 'sum' || kind === 'prod') return `(${a} ${kind === 'sum' ? '+' : '*'} ${b})`;
      return binaryExpr(kind, d, a, b);
    };
    const add = (acc: string, x: string, e: string): string => {
      if (float && !extreme) return `${kind === 'sum' ? 'tskc_sum_add' : 'tskc_prod_mul'}(${acc}, ${x})`;
      if (float) return join(acc, `vec2<u32>(bitcast<u32>(${x}), u32(${e}))`);
      return join(acc, x);
    };
    const words = float && !extreme ? 3 : float ? 2 : 1;
    const toWords = (v: string): string[] => (float && !extreme ? [`bitcast<u32>(${v}.hi)`, `bitcast<u32>(${v}.lo)`, `bitcast<u32>(${v}.e)`] : float ? [`${v}.x`, `${v}.y`] : [toWord(d, v)]);
    const fromWords = (w: (k: number) => string): string =>
      float && !extreme ? `TskcAcc(bitcast<f32>(${w(0)}), bitcast<f32>(${w(1)}), bitcast<i32>(${w(2)}))` : float ? `vec2<u32>(${w(0)}, ${w(1)})` : fromWord(d, w(0));

    this.line(`var ${part}: array<${shape}, ${dist.rowIters}>;`);
    this.counted('i', dist.rowIters, () => this.line(`${part}[i] = ${identity};`));
    this.forEach(dist, (s) => this.line(`if (valid) { ${part}[i] = ${add(`${part}[i]`, this.at(src, s), `(chunk * ${dist.vec} + v)`)}; }`));
    // Row r's lane l keeps its partial at slot (r * lanes + l) * words.
    const buf = this.scratch(dist.rowIters * dist.groups * dist.lanes * words);
    const slot = (row: string, lane: string, k: number) => buf(`(${row} * ${dist.lanes} + ${lane}) * ${words} + ${k}`);
    this.line('workgroupBarrier();');
    // Through workgroup memory: every lane's partial to its slot, then halving, one barrier a step.
    const halving = () => {
      this.counted('i', dist.rowIters, () => {
        this.line(`let row = i * ${dist.groups} + tid / ${dist.lanes};`);
        toWords(`${part}[i]`).forEach((w, k) => this.line(`${slot('row', `tid % ${dist.lanes}`, k)} = ${w};`));
      });
      this.line(`for (var half = ${dist.lanes >> 1}; half > 0; half /= 2) {`);
      this.nested(() => {
        this.line('workgroupBarrier();');
        this.line(`let lane = tid % ${dist.lanes};`);
        this.line('if (lane < half) {');
        this.nested(() => {
          this.line(`for (var i = 0; i < ${dist.rowIters}; i++) {`);
          this.nested(() => {
            this.line(`let row = i * ${dist.groups} + tid / ${dist.lanes};`);
            this.line(`let joined = ${join(fromWords((k) => slot('row', 'lane', k)), fromWords((k) => slot('row', 'lane + half', k)))};`);
            toWords('joined').forEach((w, k) => this.line(`${slot('row', 'lane', k)} = ${w};`));
          });
          this.line('}');
        });
        this.line('}');
      });
      this.line('}');
    };
    // Through subgroups, where the kernel found them runs of consecutive invocations (tskc_sg, their
    // width, is 0 otherwise): a butterfly of shuffles inside each subgroup, the lower lane's partial
    // first (so both lanes of a pair hold the same bits), one partial per subgroup of a row to its slot,
    // and where a row spans several subgroups, its lane 0 joins their partials in order.
    const shuffles = () => {
      this.line(`for (var o = min(${dist.lanes}u, tskc_sg) / 2u; o > 0u; o /= 2u) {`);
      this.nested(() =>
        this.counted('i', dist.rowIters, () => {
          this.line(`let q = ${fromWords((k) => `subgroupShuffleXor(${toWords(`${part}[i]`)[k]}, o)`)};`);
          this.line(`if ((tskc_lid & o) != 0u) { ${part}[i] = ${join('q', `${part}[i]`)}; } else { ${part}[i] = ${join(`${part}[i]`, 'q')}; }`);
        }),
      );
      this.line('}');
      this.line(`let lane = tid % ${dist.lanes};`);
      this.line('if (u32(lane) % tskc_sg == 0u) {');
      this.nested(() =>
        this.counted('i', dist.rowIters, () => {
          this.line(`let row = i * ${dist.groups} + tid / ${dist.lanes};`);
          toWords(`${part}[i]`).forEach((w, k) => this.line(`${slot('row', 'lane / i32(tskc_sg)', k)} = ${w};`));
        }),
      );
      this.line('}');
      this.line(`if (${dist.lanes}u > tskc_sg) {`);
      this.nested(() => {
        this.line('workgroupBarrier();');
        this.line('if (lane == 0) {');
        this.nested(() =>
          this.counted('i', dist.rowIters, () => {
            this.line(`let row = i * ${dist.groups} + tid / ${dist.lanes};`);
            this.line(`var t = ${fromWords((k) => slot('row', '0', k))};`);
            this.line(`for (var w = 1; w < ${dist.lanes} / i32(tskc_sg); w++) { t = ${join('t', fromWords((k) => slot('row', 'w', k)))}; }`);
            toWords('t').forEach((w, k) => this.line(`${slot('row', '0', k)} = ${w};`));
          }),
        );
        this.line('}');
      });
      this.line('}');
    };
    if (this.subgroups) {
      this.usesSubgroups = true;
      this.line('if (tskc_sg != 0u) {');
      this.nested(shuffles);
      this.line('} else {');
      this.nested(halving);
      this.line('}');
    } else {
      halving();
    }
    this.line('workgroupBarrier();');
    const rd = this.tile(res).dtype;
    const final = (p: string): string => {
      if (float && !extreme) return d.name === 'f32' ? `tskc_acc_f32(${p})` : roundFloat(d, `tskc_acc_odd(${p})`);
      if (float) return `bitcast<f32>(${p}.x)`;
      return kind === 'sum' || kind === 'prod' ? wrapTo(d, p) : p;
    };
    const name = this.declare(res);
    const resDist = this.dist(res);
    this.forEach(resDist, (s) => this.line(`${name}[${s.r}] = select(${fromWord(rd, '0u')}, ${final(fromWords((k) => slot(`select(0, ${s.e}, valid)`, '0', k)))}, valid);`));
    this.repr.set(res, { kind: 'regs', name, dist: resDist });
    // The next use of the scratch area waits for every thread to have read these results.
    this.line('workgroupBarrier();');
  }

  /** Any reduction, each result element by one thread over the staged source in the interpreter's order. */
  private reduceInOrder(op: Op): void {
    const [src, res] = [op.operands[0]!, op.results[0]!];
    const shape = this.tile(src).shape;
    const d = this.tile(src).dtype;
    const axis = op.attrs['axis'] as number;
    const kind = op.attrs['kind'] as string;
    const n = shape[axis]!;
    const inner = size(shape.slice(axis + 1));
    const staged = this.stage(src);
    const name = this.declare(res);
    const dist = this.dist(res);
    this.forEach(dist, (s) => {
      const at = (k: string) => fromWord(d, staged(`(${s.e} / ${inner}) * ${n * inner} + (${s.e} % ${inner}) + (${k}) * ${inner}`));
      this.line('if (valid) {');
      this.nested(() => this.reduction(kind, d, n, at, (v) => this.line(`${name}[${s.r}] = ${v};`)));
      this.line(`} else { ${name}[${s.r}] = ${fromWord(this.tile(res).dtype, '0u')}; }`);
    });
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /**
   * One result of a reduction in the interpreter's order: float sum/prod in SUM_LANES float-float lanes
   * (element k into lane k % SUM_LANES, then the lanes pairwise), integers wrapping in index order,
   * max/min in index order (the first of equal extremes wins), argmax/argmin skipping NaNs.
   */
  private reduction(kind: string, d: Dtype, n: number, at: (k: string) => string, assign: (v: string) => void): void {
    const integer = d.kind === 'signed' || d.kind === 'unsigned';
    switch (kind) {
      case 'sum':
      case 'prod': {
        const sum = kind === 'sum';
        if (integer) {
          this.line(`var acc = ${literal(d, sum ? 0 : 1)};`);
          this.line(`for (var k = 0; k < ${n}; k++) { acc = acc ${sum ? '+' : '*'} ${at('k')}; }`);
          return assign(wrapTo(d, 'acc'));
        }
        const step = sum ? 'tskc_sum_add' : 'tskc_prod_mul';
        const join = sum ? 'tskc_sum_join' : 'tskc_prod_join';
        this.line(`var lane: array<TskcAcc, ${SUM_LANES}>;`);
        // Hidden, or the driver folds 0 + x into x, which is -0 for x = -0 where the sum is +0.
        this.line(`for (var l = 0; l < ${SUM_LANES}; l++) { lane[l] = TskcAcc(tskc_opaque(${sum ? '0.0' : '1.0'}), 0.0, 0); }`);
        this.line('var k = 0;');
        this.line(`for (; k + ${SUM_LANES} <= ${n}; k += ${SUM_LANES}) { for (var l = 0; l < ${SUM_LANES}; l++) { lane[l] = ${step}(lane[l], ${at('k + l')}); } }`);
        this.line(`for (var l = 0; k + l < ${n}; l++) { lane[l] = ${step}(lane[l], ${at('k + l')}); }`);
        this.line(`for (var w = ${SUM_LANES / 2}; w >= 1; w /= 2) { for (var l = 0; l < w; l++) { lane[l] = ${join}(lane[l], lane[l + w]); } }`);
        return assign(d.name === 'f32' ? 'tskc_acc_f32(lane[0])' : roundFloat(d, 'tskc_acc_odd(lane[0])'));
      }
      case 'max':
      case 'min': {
        this.line(`var acc = ${at('0')};`);
        this.line(`for (var k = 1; k < ${n}; k++) { acc = ${binaryExpr(kind, d, 'acc', at('k'))}; }`);
        return assign('acc');
      }
      case 'argmax':
      case 'argmin': {
        const better = kind === 'argmax' ? '>' : '<';
        this.line('var best = -1;');
        this.line(`for (var k = 0; k < ${n}; k++) {`);
        if (d.kind === 'float') this.line(`  if (tskc_isnan(${at('k')})) { continue; }`);
        this.line(`  if (best < 0 || ${at('k')} ${better} ${at('best')}) { best = k; }`);
        this.line('}');
        return assign('max(best, 0)');
      }
    }
    throw new Error(`WGSL backend: no reduction ${kind}`);
  }

  /**
   * acc + a @ b: the operands are staged in workgroup memory and each thread computes its elements of
   * the result over k in index order, one f32 fma per step (wrapping integers) as the interpreter does.
   * Operands of more than DOT_STAGE_WORDS words are staged kc steps of k at a time (a's columns and b's
   * rows), each thread's sums carried from one stage to the next: the same steps in the same order, in
   * at most DOT_STAGE_WORDS words of workgroup memory.
   */
  private dot(op: Op): void {
    const [a, b, acc] = op.operands as [Value, Value, Value];
    const res = op.results[0]!;
    const [m, k] = this.tile(a).shape as [number, number];
    const n = this.tile(b).shape[1]!;
    const d = this.tile(res).dtype;
    const [da, db] = [this.tile(a).dtype, this.tile(b).dtype];
    const kc = Math.max(1, Math.min(k, Math.floor(DOT_STAGE_WORDS / (m + n))));
    const sa = this.scratch(m * kc);
    const sb = this.scratch(kc * n, m * kc);
    const name = this.declare(res);
    const dist = this.dist(res);
    const vt = valueType(d);
    // Operands as the result's value type: integer products keep their low 32 bits whatever the signedness.
    const operand = (dt: Dtype, w: string) => (vt === 'f32' ? fromWord(dt, w) : `bitcast<${vt}>(${w})`);
    const fma = this.fusedFma ? 'fma' : 'tskc_fma';
    const step = (sum: string, x: string, y: string) => (vt === 'f32' ? `${sum} = ${fma}(${x}, ${y}, ${sum});` : `${sum} = ${wrapTo(d, `${sum} + ${wrapTo(d, `${x} * ${y}`)}`)};`);
    if (kc === k) {
      this.line('workgroupBarrier();');
      this.forEach(this.dist(a), (s) => this.line(`if (valid) { ${sa(s.e)} = ${toWord(da, this.at(a, s))}; }`));
      this.forEach(this.dist(b), (s) => this.line(`if (valid) { ${sb(s.e)} = ${toWord(db, this.at(b, s))}; }`));
      this.line('workgroupBarrier();');
      this.forEach(dist, (s) => {
        this.line(`let oi = ${s.e} / ${n};`);
        this.line(`let oj = ${s.e} % ${n};`);
        this.line(`var sum = ${this.at(acc, s)};`);
        this.line(`if (valid) { for (var q = 0; q < ${k}; q++) { ${step('sum', operand(da, sa(`oi * ${k} + q`)), operand(db, sb(`q * ${n} + oj`)))} } }`);
        this.line(`${name}[${s.r}] = ${vt === 'f32' ? roundFloat(d, 'sum') : 'sum'};`);
      });
      this.repr.set(res, { kind: 'regs', name, dist });
      return;
    }
    const sums = `dot${res.id}_sums`;
    this.line(`var ${sums}: array<${vt}, ${dist.regs}>;`);
    this.forEach(dist, (s) => this.line(`${sums}[${s.r}] = ${this.at(acc, s)};`));
    this.line(`for (var q0 = 0; q0 < ${k}; q0 += ${kc}) {`);
    this.nested(() => {
      this.line('workgroupBarrier();');
      this.forEach(this.dist(a), (s) => this.line(`if (valid && ${s.e} % ${k} >= q0 && ${s.e} % ${k} < q0 + ${kc}) { ${sa(`${s.e} / ${k} * ${kc} + ${s.e} % ${k} - q0`)} = ${toWord(da, this.at(a, s))}; }`));
      this.forEach(this.dist(b), (s) => this.line(`if (valid && ${s.e} / ${n} >= q0 && ${s.e} / ${n} < q0 + ${kc}) { ${sb(`${s.e} - q0 * ${n}`)} = ${toWord(db, this.at(b, s))}; }`));
      this.line('workgroupBarrier();');
      this.line(`let steps = min(${kc}, ${k} - q0);`);
      this.forEach(dist, (s) => {
        this.line(`let oi = ${s.e} / ${n};`);
        this.line(`let oj = ${s.e} % ${n};`);
        this.line(`if (valid) { for (var q = 0; q < steps; q++) { ${step(`${sums}[${s.r}]`, operand(da, sa(`oi * ${kc} + q`)), operand(db, sb(`q * ${n} + oj`)))} } }`);
      });
    });
    this.line('}');
    this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${vt === 'f32' ? roundFloat(d, `${sums}[${s.r}]`) : `${sums}[${s.r}]`};`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  // ----- control flow -----

  /** A one-element i32 value as a uniform value WGSL can prove every thread shares (a let named `name`). */
  private uniformLet(name: string, value: string): void {
    const slot = this.uniformSlots++;
    this.line('workgroupBarrier();'); // every thread has read this slot's previous value
    this.line(`if (tid == 0) { tskc_uniform[${slot}] = ${value}; }`);
    this.line(`let ${name} = workgroupUniformLoad(&tskc_uniform[${slot}]);`);
  }

  private copyYield(region: Block, destinations: readonly Value[]): void {
    const yielded = region.ops[region.ops.length - 1]!.operands;
    const temps = yielded.map((v, i) => {
      const name = `y${v.id}_${i}_${this.fresh++}`;
      this.line(`var ${name}: array<${valueType(this.tile(v).dtype)}, ${this.dist(v).regs}>;`);
      this.forEach(this.dist(v), (s) => this.line(`${name}[${s.r}] = ${this.at(v, s)};`));
      return name;
    });
    destinations.forEach((dst, i) => {
      const rep = this.repr.get(dst) as { name: string };
      this.line(`${rep.name} = ${temps[i]};`);
    });
  }

  private forLoop(op: Op): void {
    const region = op.regions[0]!;
    const [iv, ...carried] = region.args;
    const id = this.fresh++;
    const [lower, upper, step] = [0, 1, 2].map((i) => {
      const name = `b${id}_${i}`;
      this.uniformLet(name, `i32(${this.at(op.operands[i]!, this.uniform())})`);
      return name;
    });
    op.results.forEach((r, i) => {
      const name = this.declare(r);
      const dist = this.dist(r);
      this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${this.at(op.operands[3 + i]!, s)};`));
      this.repr.set(r, { kind: 'regs', name, dist });
      this.repr.set(carried[i]!, { kind: 'regs', name, dist });
    });
    const i = `iter${iv!.id}`; // not i<n>: i32 is a type
    this.line(`if (${step} <= 0) { tskc_bad = ${STATUS_BAD_STEP}; }`);
    // The counter is i32 as the interpreter's; a bound near 2^31 must not wrap it around.
    this.line(`else { for (var ${i} = ${lower}; ${i} < ${upper}; ${i} = select(${i} + ${step}, ${upper}, ${i} > ${upper} - ${step})) {`);
    this.nested(() => {
      this.line(`var v${iv!.id}: array<i32, 1>;`);
      this.line(`v${iv!.id}[0] = ${i};`);
      this.repr.set(iv!, { kind: 'regs', name: `v${iv!.id}`, dist: this.uniform().dist });
      this.block(region);
      this.copyYield(region, op.results);
    });
    this.line('} }');
  }

  private ifElse(op: Op): void {
    op.results.forEach((r) => {
      const name = this.declare(r);
      this.repr.set(r, { kind: 'regs', name, dist: this.dist(r) });
    });
    const cond = `c${this.fresh++}`;
    this.uniformLet(cond, `i32(${this.at(op.operands[0]!, this.uniform())})`);
    this.line(`if (${cond} != 0) {`);
    this.nested(() => {
      this.block(op.regions[0]!);
      this.copyYield(op.regions[0]!, op.results);
    });
    this.line('} else {');
    this.nested(() => {
      this.block(op.regions[1]!);
      this.copyYield(op.regions[1]!, op.results);
    });
    this.line('}');
  }
}
