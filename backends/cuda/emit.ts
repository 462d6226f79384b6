/**
 * CUDA C from Tile IR (SIMT). One CUDA block runs one program of the grid; its register tiles are
 * spread over the block's threads by the shape-determined layout of distribution.ts (one layout per
 * shape in a kernel; with registerAccumulators, a tensor-core dot's result shape takes mma.sync's
 * fragment layout), so elementwise ops are per-thread loops (fully unrolled: the tiles stay in registers).
 *
 * Each value is one of:
 *   - an index value: a pure function of the element index (aranges, constants, program ids, extents,
 *     and elementwise ops, broadcasts, views and permutes of index values or of one-element tiles),
 *     recomputed where it is used, in whatever layout the user has. Broadcasting a one-element tile
 *     costs nothing for the same reason: every thread holds it.
 *   - registers: an array per thread in the value's distribution (loads, reductions, dot, loop-carried
 *     values and everything computed from them).
 *   - packed registers: a bf16 load that only elementwise ops, reductions, dots and stores read keeps
 *     its codes two to a 32-bit register, as loaded, and its f32 cast is no array at all, but each code
 *     shifted into a float where read: a row kernel's bf16 row holds half the registers (RMS norm on
 *     256 threads: 90 -> 78 registers; under 3 blocks per SM, 72 and no spills instead of 12 bytes).
 *     An f32 tile rounded to bf16 is held so too, and a tensor-core dot takes its A fragments from
 *     those words as they are: attention's p, which was rounded, widened, then encoded again (its
 *     64x32 loop: 1178 -> 1018 PTX instructions for 64 mma.sync on the in-bounds path, 216 -> 210
 *     registers). One only stored is encoded where the store writes it, and codes held so are stored
 *     as they are, a word at a time (the bf16 row kernels' in-bounds paths: 16-23% fewer PTX
 *     instructions than when each stored element was decoded and encoded again).
 *   - a shared tile, at a fixed offset in the block's dynamic shared memory.
 * Moving register tiles between distributions (broadcast, permute, view across layouts, reductions
 * across axes other than the last, dot operands) goes through a scratch area of shared memory; every
 * write to it is preceded and followed by __syncthreads(). Control flow is block-uniform (loop bounds
 * and branch conditions are one-element tiles), so every thread reaches every barrier.
 *
 * Values follow the interpreter's rules through the prelude shared with the C backend, with two
 * differences, both in reductions along the last axis: float sums and products accumulate in double
 * per thread and then across threads (a different order than the interpreter's, which differs only in
 * the rare case that the double sums differ and the rounding to the dtype does not hide it), and of
 * equal max/min operands (+0 and -0) the one returned may be another. Generic reductions (other axes,
 * argmax/argmin) and dot run in the interpreter's order and agree bit for bit, except a dot on tensor
 * cores (the tensorCores option), whose sums the hardware forms in its own order and rounding.
 *
 * With registerAccumulators, a loop's tensor-core dot operands that are loaded in the loop's own body
 * are copied to shared memory by cp.async, iterations ahead, into rings of their own (pipelineStages;
 * which operands qualify: pipeline.ts; how: pipelinedLoop).
 *
 * Memory order: a store to an inout tensor is preceded by __syncthreads(), so that every thread has
 * done its earlier loads of what the store overwrites, and followed by one, so the block's later loads
 * see it; blocks are not ordered among themselves (the interpreter runs them in sequence, so kernels
 * whose blocks exchange data through memory are not portable). When lanes of one store write the same
 * element, which lane's value remains is not defined on the GPU (the interpreter keeps the last).
 *
 * The entry point: extern "C" __global__ void tskc_kernel(args..., symbols..., long long *status)
 * with a tensor's device pointer, or a double for a scalar argument, per kernel argument, then one
 * long long per symbolic extent in `CudaSource.symbols` order. *status (zeroed by the caller) becomes 1
 * + the argument index of an unmasked access outside a tensor, or -1 for a loop with a step <= 0.
 */
import { type Block, type Kernel, type Op, type Value, definitions } from '../../compiler/ir/ir.js';
import { isBinary, isCompare, isUnary } from '../../compiler/ir/opcodes.js';
import type { TensorType, TileType } from '../../compiler/ir/types.js';
import type { Dtype } from '../../compiler/ir/dtype.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { AffineAnalysis, boxedAccess } from '../clike/affine.js';
import { COMPARE_C, reduction, binaryExpr, broadcastSource, castExpr, fromDouble, permuteSource, size, unaryExpr, wrappingProduct } from '../clike/expressions.js';
import { bitsOf, fromBitsExpr, fromStorage, literal, roundTo, storageBytes, storageType, toStorage, valueType, wrapTo } from '../clike/dtypes.js';
import { type Distribution, MAX_VEC, colSlice, distribute, fragmentDistribution, isColSliceOf, isRowSliceOf, mmaFragment, rowSlice, sameDistribution } from '../simt/distribution.js';
import { chooseThreads } from '../simt/threads.js';
import { CUDA_PRELUDE } from './prelude.js';
import { type MmaFormat, bMajorOf, formatBytes, mmaK, mmaOperand, mmaStaging, registerDot, stagedType, stagedValue, threadsForFragments } from './mma.js';
import { type PipelinedDot, pipelinedDots, usesIn } from './pipeline.js';
import { type PtxMacro, cpAsyncMacro, ldmatrixMacro, mmaMacro, tf32RoundMacro } from './ptx.js';
import { smallFloatDecoders, smallFloatsOf } from '../clike/small-floats.js';

export interface CudaSource {
  /** The CUDA C++ translation unit (no includes: it compiles with NVRTC as it is). */
  readonly source: string;
  /** The __global__ function to launch. */
  readonly entry: string;
  /** Threads per block. */
  readonly threads: number;
  /** Dynamic shared memory per block, in bytes. */
  readonly sharedBytes: number;
  /** The symbolic extents, in the order the entry point takes them. */
  readonly symbols: readonly string[];
}

export interface CudaEmitOptions {
  /**
   * The architecture the source is for ('sm_90'): the kernel's hints for it (KernelHints.cuda.perArch),
   * where it has some, take the place of its general ones. The runtime passes the device's.
   */
  readonly arch?: string;
  /**
   * Threads per block (a power of two from 32 to 1024); by default the kernel's hint (Kernel.hints),
   * else chosen from the largest tile.
   */
  readonly threads?: number;
  /**
   * The blocks per SM that `__launch_bounds__` asks ptxas to make room for (by default the kernel's
   * hint when the block is the hinted size, else 1): more caps the registers per thread
   * (65536 / (threads x blocks)), trading spills for occupancy.
   */
  readonly minBlocksPerSm?: number;
  /**
   * `dot` of bf16 x bf16 (or f16 x f16) into f32 on tensor cores, mma.sync.m16n8k16, where the tile's
   * M, N and K are multiples of 16, 8 and 16 and its staging fits 48 KiB of shared memory (on by
   * default since the H100 check passed it, 2.6x the FMA dot's speed; false keeps every dot on FMA
   * in the interpreter's order; see CudaEmitter.mmaDot). The tensor core sums the products in its own
   * order and rounding, so results agree with the interpreter within the GPU check's tolerance rather than bit for bit.
   * Needs sm_80 or later (compileCuda leaves it off on older devices).
   */
  readonly tensorCores?: boolean;
  /**
   * A tensor-core dot keeps its accumulator in registers, laid out as mma.sync's C fragments
   * (simt/distribution.ts: fragmentDistribution), instead of staging it through shared memory at every
   * dot: every tile of the dot's result shape takes that layout, so the loop-carried accumulator, the
   * epilogue and the store use it as they use any other. Applies where that layout exists for the
   * block size (M a multiple of threads / 2, N of 8); without `threads`, the block size is chosen so
   * that it does (128 threads for 64 x 64 tiles). On by default since the H200 check passed it
   * (bench/RESULTS-GPU.md, session 22: the linear layer 10x, flash attention 12x the staged path's
   * speed); false stages the accumulator through shared memory at every dot.
   */
  readonly registerAccumulators?: boolean;
  /**
   * With registerAccumulators: the operands a loop's tensor-core dots load from global memory in the
   * loop's own body are copied to shared memory with cp.async, `pipelineStages` - 1 iterations ahead,
   * into a ring of that many stagings (backends/cuda/pipeline.ts says which operands qualify), so that
   * the copies of later iterations run during this one's mma. 1 stages them as the loads complete, in
   * the iteration itself. 3 by default, fewer where the ring would pass PIPELINE_RING_BYTES.
   */
  readonly pipelineStages?: number;
  /**
   * An f32 dot (operands not all exact in one 16-bit format) runs on tensor cores as well, with M, N
   * and K multiples of 16, 8 and 8: its operands rounded to tf32 (10 bits of mantissa, to nearest, ties
   * away from zero: cvt.rna.tf32.f32), the products exact, summed in f32 in the hardware's order, on
   * mma.sync.m16n8k8 (sm_80 on). Off by default: the results are not the interpreter's f32 dot, but
   * that of the operands rounded to tf32, within a tensor-core dot's tolerance.
   */
  readonly tf32?: boolean;
  /**
   * The most consecutive elements of a row one thread holds (a power of two from 1 to 8: a chunk,
   * loaded and stored at once where contiguous; see simt/distribution.ts). By default the elements in
   * 16 bytes of the kernel's narrowest tensor, at most 8: 8 for bf16 and narrower, 4 for 32-bit
   * types, so that a warp's accesses of its widest-chunked tensor are whole 16-byte vectors side by side
   * (8 f32 a thread made two 16-byte accesses 32 bytes apart: each instruction used half of every
   * sector it touched).
   */
  readonly maxVec?: number;
}

export const STATUS_BAD_STEP = -1;
export const ENTRY = 'tskc_kernel';

export function emitCuda(kernel: Kernel, options: CudaEmitOptions = {}): CudaSource {
  return cudaEmitter(kernel, options).emit();
}

/**
 * What the CUDA backend chose for each op of the kernel under `options`, in words (tskc ir --layouts):
 * where a tile value lives (an index expression recomputed where used, registers in the layout of
 * simt/distribution.ts in Tilus's local/spatial terms, shared memory), how each dot runs, and which
 * loops copy their operands ahead.
 */
export function explainCuda(kernel: Kernel, options: CudaEmitOptions = {}): (op: Op) => string | undefined {
  const emitter = cudaEmitter(kernel, options);
  emitter.emit();
  return (op) => emitter.notes.get(op);
}

function cudaEmitter(kernel: Kernel, options: CudaEmitOptions): CudaEmitter {
  if (options.arch !== undefined && !/^sm_\d+a?$/.test(options.arch)) throw new Error(`CUDA backend: arch must name an architecture such as sm_90, got '${options.arch}'`);
  const general = kernel.hints?.cuda;
  const hints = (options.arch === undefined ? undefined : general?.perArch?.[options.arch]) ?? general ?? {};
  const hintedThreads = hints.threads ?? chooseThreads(kernel);
  const tf32 = options.tf32 ?? false;
  const registerAccumulators = options.registerAccumulators ?? true;
  const threads = options.threads ?? (registerAccumulators && options.tensorCores !== false ? threadsForFragments(kernel, hintedThreads, tf32) : hintedThreads);
  // A hinted blocks-per-SM was measured at the hinted block size: at another it does not apply.
  const minBlocksPerSm = options.minBlocksPerSm ?? (threads === hintedThreads ? hints.minBlocksPerSm : undefined) ?? 1;
  return new CudaEmitter(kernel, threads, minBlocksPerSm, options.tensorCores ?? true, registerAccumulators, options.pipelineStages ?? 3, tf32, options.maxVec ?? chunkElements(kernel));
}

/** The elements in 16 bytes of the kernel's narrowest tensor, at most MAX_VEC (CudaEmitOptions.maxVec). */
function chunkElements(kernel: Kernel): number {
  const bits = kernel.args.flatMap((a) => (a.type.kind === 'tensor' ? [a.type.dtype.bits] : []));
  const narrowest = bits.length ? Math.min(...bits) : 16;
  return Math.min(MAX_VEC, 2 ** Math.floor(Math.log2(128 / narrowest)));
}

type Repr =
  | { readonly kind: 'index'; readonly at: (e: string) => string }
  | { readonly kind: 'regs'; readonly name: string; readonly dist: Distribution }
  | { readonly kind: 'shared'; readonly offset: number }
  | { readonly kind: 'tensor'; readonly name: string }
  // bf16 codes two to a 32-bit register (element r in word r / 2, the even one low), decoded where read.
  | { readonly kind: 'packed16'; readonly words: string; readonly dist: Distribution; readonly dtype: Dtype }
  // A cast evaluated where read: of packed16 `codes` to f32 (exact), or of f32 to bf16 for stores only,
  // whose storage code at a site is `code`.
  | { readonly kind: 'lazy'; readonly at: (site: Site) => string; readonly dist: Distribution; readonly codes?: PackedCodes; readonly code?: (site: Site) => string };

/** The words of a packed16 value and its dtype. */
interface PackedCodes {
  readonly words: string;
  readonly dtype: Dtype;
}

/** Where an elementwise loop is: the element index and register index expressions of one element. */
interface Site {
  readonly dist: Distribution;
  readonly e: string;
  readonly r: string;
}

const BYTES: Record<string, number> = { float: 4, int32_t: 4, uint32_t: 4, uint16_t: 2, uint8_t: 1, double: 8, int64_t: 8 };
/** Index expressions longer than this are computed once into registers instead of at every use. */
const MAX_INLINE_EXPR = 800;
const FULL_MASK = '0xffffffffu';

/** A tile shape as a map key. */
const shapeKey = (shape: readonly number[]) => shape.join('x');
/** One mma operand register holding two 16-bit codes, the lower column or row in the low half. */
const codePair = (lo: string, hi: string) => `((uint32_t)${lo} | ((uint32_t)${hi} << 16))`;
/** The 16-bit code of element r of a packed16 value's `words`. */
const halfOf = (words: string, r: string) => `(uint16_t)(${words}[(${r}) / 2] >> (16 * ((${r}) % 2)))`;
/** Sets the 16-bit code of element r of a packed16 value's `words` (the other half of its word kept). */
const setHalf = (words: string, r: string, code: string) =>
  `${words}[(${r}) / 2] = (${words}[(${r}) / 2] & (0xffffu << (16 * (1 - (${r}) % 2)))) | ((uint32_t)(${code}) << (16 * ((${r}) % 2)))`;
/** The reductions along the last axis that lanes combine by warp shuffles (reduceRows). */
const ROW_REDUCTIONS = ['sum', 'prod', 'max', 'min'];
/**
 * Ops besides the unary, binary and comparison ones that read a tile operand element by element
 * (through at): a dot too, on every path (its operands staged, or a's fragments packed from registers).
 */
const ELEMENT_READERS = new Set(['cast', 'bitcast', 'where', 'reduce', 'dot']);
/** Whether op u is a store whose stored value is v (not one of its indices or its mask). */
const storesValue = (u: Op, v: Value) => u.opcode === 'store' && u.operands.indexOf(v) === (u.operands[0]!.type as TensorType).shape.length + 1;

/**
 * The most shared memory a kernel's cp.async rings take, with its shared tiles (the runtime asks for
 * more than 48 KiB where a kernel needs it; sm_86 and sm_89 give a block 99 KiB at most).
 */
export const PIPELINE_RING_BYTES = 96 * 1024;

/** A loop being emitted with its dots' operands copied ahead (CudaEmitter.pipelinedLoop). */
interface Pipeline {
  readonly loop: Op;
  readonly iv: Value;
  readonly stages: number;
  /**
   * The name of this iteration's stage, it % stages for iteration it: a 32-bit int that wraps as the
   * loop steps, where `it % stages` on the loop's 64-bit counter cost a 64-bit multiply-high a use.
   */
  readonly stage: string;
  readonly dots: readonly PipelinedDot[];
  /** Each dot's ring and the places of its a and b: in each stage, or staged once before the loop. */
  readonly rings: ReadonlyMap<Op, Ring>;
  /** The loads copied ahead and their casts and transposes, which are not emitted where they stand. */
  readonly deferred: ReadonlySet<Op>;
  /** Every value defined in the loop's body, nested regions included. */
  readonly bodyValues: ReadonlySet<Value>;
  /** Whether the body has had its wait for this iteration's copies (at its first pipelined dot). */
  waited: boolean;
  /** Where the loop starts in the emitted lines: its prologue goes there. */
  readonly prologueAt: number[];
}

/**
 * Where a pipelined dot's operands lie in shared memory: a ring of stages at byte `offset`, `bytes`
 * each; an operand that changes with the iteration at `at` bytes into every stage, one that does not
 * (computed before the loop) at `fixed` bytes from the start, staged once.
 */
interface Ring {
  readonly offset: number;
  readonly bytes: number;
  readonly a: { readonly at: number } | { readonly fixed: number };
  readonly b: { readonly at: number } | { readonly fixed: number };
}

/** A loop turned out not to pipeline after all (an index held in registers): it is emitted again without. */
class NotPipelined extends Error {}

class CudaEmitter {
  private readonly lines: string[] = [];
  private indent = '  ';
  private readonly repr = new Map<Value, Repr>();
  private readonly symbols: string[] = [];
  private readonly argIndex = new Map<Value, number>();
  private readonly defs = new Map<Value, Op>();
  private affine = this.affineAnalysis();
  /** Tile shapes (by shapeKey) laid out as mma fragments: the results of dots with their accumulators in registers. */
  private readonly fragments = new Map<string, Distribution>();
  /** Tile shapes ([rows] and [rows, 1], by shapeKey) holding the row statistics of such fragments, or of another 2-D tile reduced within a warp: their row slices. */
  private readonly rowSlices = new Map<string, Distribution>();
  /** Shapes of row vectors broadcast down a 2-D tile's rows, and their column slices of it. */
  private readonly colSlices = new Map<string, Distribution>();
  /** The PTX macros the body uses (ptx.ts; see macro), by name: their definitions go before the kernel. */
  private readonly ptxMacros = new Map<string, string>();
  private sharedTileBytes = 0;
  private scratchBytes = 0;
  private fresh = 0;
  /** Every use of each value (pipelinedDots reads it), computed when a loop first asks. */
  private usesCache: Map<Value, Op[]> | undefined;
  /** The loop being emitted with cp.async copies ahead, if any (see pipelinedLoop). */
  private pipe: Pipeline | undefined;
  /** What was chosen for each op, in words (explainCuda). */
  readonly notes = new Map<Op, string>();

  constructor(
    private readonly kernel: Kernel,
    private readonly threads: number,
    private readonly minBlocksPerSm: number,
    private readonly tensorCores: boolean,
    private readonly registerAccumulators: boolean,
    private readonly pipelineStages: number,
    private readonly tf32: boolean,
    private readonly maxVec: number,
  ) {
    if (!Number.isInteger(Math.log2(maxVec)) || maxVec < 1 || maxVec > MAX_VEC) throw new Error(`CUDA backend: maxVec must be a power of two from 1 to ${MAX_VEC}, got ${maxVec}`);
    if (!Number.isInteger(pipelineStages) || pipelineStages < 1 || pipelineStages > 8) throw new Error(`CUDA backend: pipelineStages must be an integer from 1 to 8, got ${pipelineStages}`);
    if (!Number.isInteger(Math.log2(threads)) || threads < 32 || threads > 1024) throw new Error(`CUDA backend: threads must be a power of two from 32 to 1024, got ${threads}`);
    if (!Number.isInteger(minBlocksPerSm) || minBlocksPerSm < 1 || minBlocksPerSm > 32) throw new Error(`CUDA backend: minBlocksPerSm must be an integer from 1 to 32, got ${minBlocksPerSm}`);
    kernel.args.forEach((a, i) => {
      this.argIndex.set(a, i);
      if (a.type.kind === 'tensor') for (const d of a.type.shape) if (typeof d === 'string' && !this.symbols.includes(d)) this.symbols.push(d);
    });
  }

  emit(): CudaSource {
    const k = this.kernel;
    const params: string[] = [];
    k.args.forEach((a, i) => {
      if (a.type.kind === 'tile') {
        params.push(`double arg${i}`);
        // A number becomes a value of the dtype as the interpreter converts it: rounded, or saturated.
        this.line(`const ${valueType(a.type.dtype)} a${i}[1] = { ${fromDouble(a.type.dtype, `arg${i}`)} };`);
        this.repr.set(a, { kind: 'regs', name: `a${i}`, dist: this.uniform().dist });
      } else {
        params.push(`void *a${i}`);
        this.repr.set(a, { kind: 'tensor', name: `a${i}` });
      }
    });
    this.symbols.forEach((_, i) => params.push(`long long s${i}`));
    params.push('long long *tskc_status');
    if (this.tensorCores && this.registerAccumulators) this.chooseFragmentLayouts(k.body);
    this.chooseSlices(k.body);
    this.block(k.body);
    const body = this.lines.splice(0);
    const sharedBytes = this.sharedTileBytes + this.scratchBytes;
    const source = [
      `/* Generated by tskc from kernel ${k.name}: ${this.threads} threads per block, ${sharedBytes} bytes of shared memory. */`,
      CUDA_PRELUDE,
      smallFloatDecoders(smallFloatsOf(k), 'static __device__ const'),
      ...this.ptxMacros.values(),
      // minBlocksPerSm (1 by default): with 1, ptxas may use every register a thread of this block can
      // have rather than spill to fit a second block (the tiles live in registers).
      `extern "C" __global__ void __launch_bounds__(${this.threads}, ${this.minBlocksPerSm}) ${ENTRY}(${params.join(', ')}) {`,
      '  extern __shared__ __align__(16) unsigned char tskc_smem[];',
      // Shared tiles first, then the scratch area for exchanges between threads.
      `  unsigned char *const tskc_scratch = tskc_smem + ${this.sharedTileBytes}; (void)tskc_scratch;`,
      '  const int tid = threadIdx.x;',
      '  long long tskc_bad = 0;',
      ...body,
      '  if (tskc_bad != 0) atomicCAS((unsigned long long *)tskc_status, 0ull, (unsigned long long)tskc_bad);',
      '}',
      '',
    ].join('\n');
    return { source, entry: ENTRY, threads: this.threads, sharedBytes, symbols: [...this.symbols] };
  }

  private affineAnalysis(): AffineAnalysis {
    return new AffineAnalysis(
      (v) => this.defs.get(v),
      (v) => this.at(v, this.uniform()),
    );
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
  /** Defines a macro of ptx.ts in the source (once, however often used) and returns its name. */
  private macro([name, definition]: PtxMacro): string {
    this.ptxMacros.set(name, definition);
    return name;
  }

  private tile(v: Value): TileType {
    if (v.type.kind !== 'tile') throw new Error(`CUDA backend: %${v.id} is not a tile`);
    return v.type;
  }

  /** The site of a one-element tile, which every thread holds (loop bounds, branch conditions). */
  private uniform(): Site {
    return { dist: distribute([], this.threads), e: '0', r: '0' };
  }

  private dist(v: Value): Distribution {
    const shape = this.tile(v).shape;
    const key = shapeKey(shape);
    return this.fragments.get(key) ?? this.rowSlices.get(key) ?? this.colSlices.get(key) ?? distribute(shape, this.threads, this.maxVec);
  }

  /**
   * Before anything is emitted: the result shape of every dot that runs on tensor cores with its
   * accumulator in registers takes the mma fragment layout (the registerAccumulators option), so that
   * its accumulator is born in that layout (a loop's carried value is declared before the dot). Where
   * the kernel reduces a tile of such a shape along its rows (a softmax's max and sum), the shapes of
   * the row statistics, [rows] and [rows, 1], take the fragments' row slice: the reduction ends in
   * registers, and the statistics broadcast back without an exchange.
   */
  private chooseFragmentLayouts(body: Block): void {
    for (const [v, op] of definitions(body)) this.defs.set(v, op);
    for (const op of this.defs.values()) {
      if (op.opcode !== 'dot' || !registerDot(op, this.defs, this.tf32)) continue;
      const shape = this.tile(op.results[0]!).shape;
      const layout = fragmentDistribution(shape, this.threads);
      if (layout) this.fragments.set(shapeKey(shape), layout);
    }
    for (const op of this.defs.values()) {
      const src = op.opcode === 'reduce' ? op.operands[0]! : undefined;
      const layout = src && this.fragments.get(shapeKey(this.tile(src).shape));
      if (!layout || op.attrs['axis'] !== 1 || !ROW_REDUCTIONS.includes(op.attrs['kind'] as string)) continue;
      for (const shape of [[layout.rows], [layout.rows, 1]]) this.rowSlices.set(shapeKey(shape), rowSlice(layout));
    }
  }

  /**
   * After the fragment layouts: any other 2-D tile reduced along its rows within a warp (a row's lanes
   * at most 32) gives its row statistics' shapes its row slice, and a row vector broadcast down a 2-D
   * tile its column slice, where no layout took those shapes first. The butterfly leaves every lane of
   * a row with the row's result, so the reduction needs no barrier, and the statistics broadcast back
   * per thread: the low-bit GEMV's per-step sums of [BN, BK] products went through shared memory
   * behind two barriers a step before.
   */
  private chooseSlices(body: Block): void {
    for (const [, op] of definitions(body)) {
      if (op.opcode !== 'reduce' || op.attrs['axis'] !== 1 || !ROW_REDUCTIONS.includes(op.attrs['kind'] as string)) continue;
      const shape = this.tile(op.operands[0]!).shape;
      if (shape.length !== 2 || this.fragments.has(shapeKey(shape))) continue;
      const parent = distribute(shape, this.threads, this.maxVec);
      if (parent.replicated || parent.rows < 2 || parent.lanes > 32) continue;
      for (const slice of [[parent.rows], [parent.rows, 1]]) if (!this.rowSlices.has(shapeKey(slice))) this.rowSlices.set(shapeKey(slice), rowSlice(parent));
    }
    // A row vector [1, C] broadcast down the rows of an [R, C] tile gives [C] and [1, C] the tile's
    // column slice: the broadcast is a per-thread copy, not an exchange through shared memory (two
    // barriers), and a sum of the vector ends in every thread (the GEMV step's x and its sum).
    for (const [, op] of definitions(body)) {
      if (op.opcode !== 'broadcast') continue;
      const [from, to] = [this.tile(op.operands[0]!).shape, this.tile(op.results[0]!).shape];
      if (from.length !== 2 || to.length !== 2 || from[0] !== 1 || from[1] !== to[1] || to[0]! < 2 || this.fragments.has(shapeKey(to))) continue;
      const parent = distribute(to, this.threads, this.maxVec);
      if (parent.replicated) continue;
      for (const slice of [[to[1]!], [1, to[1]!]]) {
        const key = shapeKey(slice);
        if (!this.fragments.has(key) && !this.rowSlices.has(key) && !this.colSlices.has(key)) this.colSlices.set(key, colSlice(parent));
      }
    }
  }

  /** The operand format of a dot that runs on tensor cores with its accumulator in registers, else undefined. */
  private registerFormat(op: Op): MmaFormat | undefined {
    const operand = this.mmaOperand(op);
    return operand && this.fragments.has(shapeKey(this.tile(op.results[0]!).shape)) && registerDot(op, this.defs, this.tf32) ? operand : undefined;
  }

  /** The operand format of a dot that runs on tensor cores (the tensorCores option), else undefined. */
  private mmaOperand(op: Op): MmaFormat | undefined {
    return this.tensorCores ? mmaOperand(op, this.defs, this.tf32) : undefined;
  }

  private extent(t: TensorType, axis: number): string {
    const d = t.shape[axis]!;
    return typeof d === 'number' ? `${d}LL` : `s${this.symbols.indexOf(d)}`;
  }

  /** A pointer to `count` elements of C type `type` in the scratch area, at byte `offset` of it. */
  private scratch(type: string, count: number, offset = 0): string {
    this.scratchBytes = Math.max(this.scratchBytes, offset + Math.max(count, 1) * BYTES[type]!);
    return `((${type} *)(tskc_scratch + ${offset}))`;
  }

  // ----- values -----

  /** Value v at a site of an elementwise loop. */
  private at(v: Value, site: Site): string {
    const rep = this.repr.get(v);
    if (!rep) throw new Error(`CUDA backend: %${v.id} used before it is defined`);
    return this.atRepr(rep, v, site);
  }

  /** Whether v can be recomputed from the element index anywhere (every operand is uniform or an index value). */
  private isIndexable(v: Value): boolean {
    const rep = this.repr.get(v);
    return rep?.kind === 'index' || (rep?.kind === 'regs' && rep.dist.replicated);
  }

  /** Defines v as an index value, or as registers when its expression would be too long to repeat. */
  private defineIndex(v: Value, at: (e: string) => string): void {
    if (at('e').length <= MAX_INLINE_EXPR) {
      this.repr.set(v, { kind: 'index', at });
      return;
    }
    this.repr.set(v, { kind: 'index', at });
    this.materialize(v);
  }

  /** Registers of v's own distribution holding v (v itself if it already is such registers). */
  private materialize(v: Value): string {
    const rep = this.repr.get(v)!;
    const dist = this.dist(v);
    if (rep.kind === 'regs' && sameDistribution(rep.dist, dist)) return rep.name;
    const name = this.declare(v, `m${v.id}`);
    this.forEach(dist, (site) => this.line(`${name}[${site.r}] = ${this.atRepr(rep, v, site)};`));
    this.repr.set(v, { kind: 'regs', name, dist });
    return name;
  }

  /** Value v, represented by rep, at a site: an index value anywhere, registers in their own distribution. */
  private atRepr(rep: Repr, v: Value, site: Site): string {
    if (rep.kind === 'index') return `(${rep.at(site.e)})`;
    if (rep.kind === 'packed16' || rep.kind === 'lazy') {
      if (!sameDistribution(rep.dist, site.dist)) throw new Error(`CUDA backend: %${v.id} is read in another distribution`);
      return rep.kind === 'lazy' ? `(${rep.at(site)})` : fromStorage(rep.dtype, halfOf(rep.words, site.r));
    }
    if (rep.kind !== 'regs') throw new Error(`CUDA backend: %${v.id} is not a register tile`);
    if (rep.dist.replicated) return `${rep.name}[0]`;
    if (!sameDistribution(rep.dist, site.dist)) throw new Error(`CUDA backend: %${v.id} is read in another distribution`);
    return `${rep.name}[${site.r}]`;
  }

  /**
   * Whether every user of v reads it element by element through at() (elementwise ops, reductions,
   * dots, and stores of it): the users of a packed16 or lazy value. Not a yield, whose loop-carried
   * copy would hold the values unpacked anyway, nor a gather (whose alias needs registers).
   */
  private readByElement(v: Value): boolean {
    const users = this.uses().get(v) ?? [];
    const reads = (u: Op) => isUnary(u.opcode) || isBinary(u.opcode) || isCompare(u.opcode) || ELEMENT_READERS.has(u.opcode) || storesValue(u, v);
    return users.length > 0 && users.every(reads);
  }

  /** Declares the per-thread register array of v (or of a value like it) and returns its name. */
  private declare(v: Value, name = `v${v.id}`): string {
    const t = this.tile(v);
    this.line(`${valueType(t.dtype)} ${name}[${this.dist(v).regs}];`);
    return name;
  }

  /**
   * Emits `body` for every element a thread holds in `dist`: fully unrolled loops over the thread's
   * rows, chunks and chunk elements, with `valid` false for the padding past the tile's edges.
   */
  private forEach(dist: Distribution, body: (site: Site) => void): void {
    if (dist.replicated) {
      this.line('{');
      this.nested(() => {
        this.line('const bool valid = true; (void)valid;');
        body({ dist, e: '0', r: '0' });
      });
      this.line('}');
      return;
    }
    this.forChunks(dist, () => {
      this.line('#pragma unroll');
      this.line(`for (int v = 0; v < ${dist.vec}; v++) {`);
      this.nested(() => {
        this.line(`const int r = (i * ${dist.colIters} + c) * ${dist.vec} + v;`);
        this.line(`const int e = row * ${dist.cols} + chunk * ${dist.vec} + v; (void)e;`);
        body({ dist, e: 'e', r: 'r' });
      });
      this.line('}');
    });
  }

  /** The loops over a thread's chunks: `row`, `chunk`, `valid`, and the loop counters i and c. */
  private forChunks(dist: Distribution, body: () => void): void {
    this.line('#pragma unroll');
    this.line(`for (int i = 0; i < ${dist.rowIters}; i++) {`);
    this.nested(() => {
      this.line(`const int row = ${this.rowOfThread(dist)};`);
      this.line('#pragma unroll');
      this.line(`for (int c = 0; c < ${dist.colIters}; c++) {`);
      this.nested(() => {
        this.line(
          dist.replicas === 1
            ? `const int chunk = c * ${dist.lanes} + tid % ${dist.lanes};`
            : `const int chunk = c * ${dist.lanes / dist.replicas} + (tid % ${dist.lanes}) / ${dist.replicas};`,
        );
        this.line(`const bool valid = row < ${dist.rows} && chunk < ${dist.cols / dist.vec}; (void)valid;`);
        body();
      });
      this.line('}');
    });
    this.line('}');
  }

  /** The row a thread holds at row iteration `i` in `dist` (every group the same row in a column slice). */
  private rowOfThread(dist: Distribution): string {
    const groups = dist.groups / dist.rowReplicas;
    return dist.rowReplicas === 1 ? `i * ${dist.groups} + tid / ${dist.lanes}` : `i * ${groups} + (tid / ${dist.lanes}) / ${dist.rowReplicas}`;
  }

  /** result = expr at each element: an index value when every operand is one, else registers. */
  private elementwise(op: Op, expr: (site: Site) => string): void {
    const res = op.results[0]!;
    if (op.operands.every((v) => this.isIndexable(v))) {
      const dist = this.dist(res);
      this.defineIndex(res, (e) => expr({ dist, e, r: '0' }));
      return;
    }
    const name = this.declare(res);
    const dist = this.dist(res);
    this.forEach(dist, (site) => this.line(`${name}[${site.r}] = ${expr(site)};`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  // ----- ops -----

  private block(b: Block): void {
    for (const op of b.ops) {
      if (op.opcode === 'yield') continue;
      this.op(op);
      this.noteLayout(op);
    }
  }

  /** The op's result's place, after what dot or the pipeline noted about the op itself. */
  private noteLayout(op: Op): void {
    const res = op.results[0];
    const rep = res && res.type.kind === 'tile' ? this.repr.get(res) : undefined;
    if (rep === undefined || op.opcode === 'for') return;
    const d = rep.kind === 'regs' || rep.kind === 'packed16' || rep.kind === 'lazy' ? rep.dist : undefined;
    const place =
      rep.kind === 'index'
        ? 'index expression, recomputed where used'
        : rep.kind === 'shared'
          ? `shared memory at byte ${rep.offset}`
          : d === undefined || d.replicated
            ? 'registers, every thread holds it'
            : d.replicas > 1
              ? `registers: local(${d.rowIters}).spatial(${d.groups}), each value held by the ${d.replicas} lanes of its row (${[...this.fragments.values()].some((f) => isRowSliceOf(d, f)) ? 'the row slice of the mma C fragments' : 'a row slice'})`
              : d.rowReplicas > 1
                ? `registers: local(${d.colIters}).spatial(${d.lanes}).local(${d.vec}), each value held by all ${d.rowReplicas} row groups (a column slice)`
                : `registers: local(${d.rowIters}, ${d.colIters}).spatial(${d.groups}, ${d.lanes}).local(1, ${d.vec})${this.fragments.get(shapeKey(this.tile(res!).shape)) === d ? ', the mma C fragments' : ''}`;
    const how = rep.kind === 'packed16' ? ', its bf16 codes two to a register' : rep.kind === 'lazy' ? (rep.codes ? ', widened from its operand\'s codes where read' : ', encoded where stored') : '';
    const what = op.opcode === 'dot' ? this.notes.get(op) : undefined;
    this.notes.set(op, what ? `${what}; ${place}${how}` : `${place}${how}`);
  }

  private op(op: Op): void {
    op.results.forEach((r) => this.defs.set(r, op));
    // A load copied ahead by cp.async, and its casts and transposes: the dot reads the ring instead.
    if (this.pipe?.deferred.has(op)) {
      this.notes.set(op, `copied ahead by cp.async, ${this.pipe.stages - 1} iteration(s) ahead (the dot reads it from shared memory)`);
      return;
    }
    const res = op.results[0];
    const x = (i: number, site: Site) => this.at(op.operands[i]!, site);
    const d = res?.type.kind === 'tile' ? res.type.dtype : undefined;
    const inDtype = op.operands[0]?.type.dtype;
    if (isUnary(op.opcode)) return this.elementwise(op, (s) => (d!.name === 'f32' && F32_MATH[op.opcode] ? F32_MATH[op.opcode]!(x(0, s)) : unaryExpr(op.opcode, d!, x(0, s))));
    if (isBinary(op.opcode)) return this.elementwise(op, (s) => binaryExpr(op.opcode, d!, x(0, s), x(1, s)));
    if (isCompare(op.opcode)) return this.elementwise(op, (s) => `(uint8_t)(${x(0, s)} ${COMPARE_C[op.opcode]} ${x(1, s)})`);
    switch (op.opcode) {
      case 'program_id':
        return this.defineIndex(res!, () => `(int32_t)blockIdx.${'xyz'[op.attrs['axis'] as number]}`);
      case 'num_programs':
        return this.defineIndex(res!, () => `(int32_t)gridDim.${'xyz'[op.attrs['axis'] as number]}`);
      case 'dim':
        return this.defineIndex(res!, () => `(int32_t)${this.extent(op.operands[0]!.type as TensorType, op.attrs['axis'] as number)}`);
      case 'const':
        return this.defineIndex(res!, () => literal(d!, convertNumber(d!, op.attrs['value'] as number)));
      case 'arange':
        return this.defineIndex(res!, (e) => `(int32_t)(${op.attrs['start']} + ${e})`);
      case 'where':
        return this.elementwise(op, (s) => `${x(0, s)} ? ${x(1, s)} : ${x(2, s)}`);
      case 'cast':
        return this.cast(op);
      case 'bitcast':
        return this.elementwise(op, (s) => fromBitsExpr(d!, bitsOf(inDtype!, x(0, s))));
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
        const shared = this.sharedPointer(op.operands[0]!);
        const name = this.declare(res!);
        this.line('__syncthreads();'); // earlier writes of other threads are visible
        this.forEach(this.dist(res!), (s) => this.line(`${name}[${s.r}] = valid ? ${shared}[${s.e}] : (${valueType(d!)})0;`));
        this.repr.set(res!, { kind: 'regs', name, dist: this.dist(res!) });
        return;
      }
      case 'store_shared': {
        const shared = this.sharedPointer(op.operands[0]!);
        this.line('__syncthreads();'); // earlier reads of other threads are done
        this.forEach(this.dist(op.operands[1]!), (s) => this.line(`if (valid) ${shared}[${s.e}] = ${x(1, s)};`));
        this.line('__syncthreads();');
        return;
      }
      case 'barrier':
        this.line('__syncthreads();');
        return;
      case 'for':
        return this.forLoop(op);
      case 'if':
        return this.ifElse(op);
      case 'yield':
        throw new Error('CUDA backend: yield is emitted by its for or if');
    }
    throw new Error(`CUDA backend: no rule for ${op.opcode}`);
  }

  /**
   * out[e] = in[source(e)] (broadcast, permute, view): an index value from an index value, an alias
   * when the layouts agree, else an exchange through shared memory.
   */
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
    if (op.opcode === 'broadcast' && rep.kind === 'regs' && isRowSliceOf(rep.dist, dist) && this.tile(src).shape.length === 2) {
      // [rows, 1] to [rows, cols] from the row slice: each thread's row iteration i holds its rows' value.
      const name = this.declare(res);
      this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${rep.name}[(${s.r}) / ${dist.colIters * dist.vec}];`));
      this.repr.set(res, { kind: 'regs', name, dist });
      return;
    }
    if (op.opcode === 'broadcast' && rep.kind === 'regs' && isColSliceOf(rep.dist, dist) && this.tile(src).shape.length === 2) {
      // [1, cols] to [rows, cols] from the column slice: each thread's chunks hold its columns' values.
      const name = this.declare(res);
      this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${rep.name}[(${s.r}) % ${dist.colIters * dist.vec}];`));
      this.repr.set(res, { kind: 'regs', name, dist });
      return;
    }
    const staged = this.stage(src);
    const name = this.declare(res);
    this.forEach(dist, (s) => this.line(`${name}[${s.r}] = valid ? ${staged}[${source(s.e)}] : ${staged}[0];`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /** Writes every element of v to the scratch area (row-major, in v's value type) and returns it. */
  private stage(v: Value, offset = 0): string {
    const t = this.tile(v);
    const buf = this.scratch(valueType(t.dtype), size(t.shape), offset);
    this.line('__syncthreads();');
    this.forEach(this.dist(v), (s) => this.line(`if (valid) ${buf}[${s.e}] = ${this.at(v, s)};`));
    this.line('__syncthreads();');
    return buf;
  }

  private sharedPointer(v: Value): string {
    const rep = this.repr.get(v);
    if (rep?.kind !== 'shared') throw new Error(`CUDA backend: %${v.id} is not a shared tile`);
    return `((${valueType(this.tile(v).dtype)} *)(tskc_smem + ${rep.offset}))`;
  }

  private allocShared(op: Op): void {
    const res = op.results[0]!;
    const t = this.tile(res);
    const bytes = size(t.shape) * BYTES[valueType(t.dtype)]!;
    const offset = this.sharedTileBytes;
    this.sharedTileBytes += Math.ceil(bytes / 16) * 16;
    this.repr.set(res, { kind: 'shared', offset });
    // Zeroed, as the interpreter allocates it: reading before the first store is defined.
    this.line('__syncthreads();');
    this.line(`for (int k = tid; k < ${size(t.shape)}; k += ${this.threads}) ${this.sharedPointer(res)}[k] = 0;`);
    this.line('__syncthreads();');
  }

  // ----- memory -----

  /**
   * For each chunk of `vec` elements a thread holds: every lane's tensor offset and whether it is on
   * (masked in) and inside the tensor; an on lane outside sets the status. Then `access` runs per
   * sub-vector of `width` lanes, with `whole` true when all its lanes are ok, contiguous and aligned;
   * `broadcast` where every lane of the chunk is inside at the same offset (a value per row, such as
   * a group's scale, read into a tile's shape), so that one read serves them all.
   */
  private accessChunks(op: Op, dist: Distribution, mask: Value | undefined, access: (lane0: string, whole: string, width: number, broadcast: boolean) => void): void {
    const tensor = op.operands[0]!.type as TensorType;
    const bytes = storageBytes(tensor.dtype);
    // Packed elements are loaded a chunk at a time from the words that hold it (tskc_get_bit_run, any
    // bit alignment); stores of them stay per element (atomic, neighbours may be other threads').
    const packedRun = bytes === 0 && op.opcode === 'load' && dist.vec * tensor.dtype.bits <= 64;
    const width = bytes === 0 ? (packedRun ? dist.vec : 1) : Math.min(dist.vec, 16 / bytes);
    const stride = (d: number) => tensor.shape.slice(d + 1).map((_, k) => this.extent(tensor, d + 1 + k));
    const laneBody = (site: Site) => {
      const idx = tensor.shape.map((_, dIndex) => `x${dIndex}`);
      tensor.shape.forEach((_, dIndex) => this.line(`const long long x${dIndex} = (long long)${this.at(op.operands[1 + dIndex]!, site)};`));
      const inside = idx.map((x, dIndex) => `${x} >= 0 && ${x} < ${this.extent(tensor, dIndex)}`).join(' && ') || 'true';
      this.line(`const bool on = valid && ${mask ? `${this.at(mask, site)} != 0` : 'true'};`);
      this.line(`const bool inside = ${inside};`);
      this.line(`if (on && !inside) tskc_bad = ${1 + this.argIndex.get(op.operands[0]!)!};`);
      this.line(`ok[v] = on && inside;`);
      this.line(`off[v] = ${idx.map((x, dIndex) => [x, ...stride(dIndex)].join(' * ')).join(' + ') || '0'};`);
    };
    if (dist.replicated) {
      this.line('{');
      this.nested(() => {
        this.line('const bool valid = true; const int v = 0; bool ok[1]; long long off[1];');
        laneBody({ dist, e: '0', r: '0' });
        access('0', 'false', 1, false);
      });
      this.line('}');
      return;
    }
    const chunks = (lane: (site: Site) => void, broadcast = false) =>
      this.forChunks(dist, () => {
        this.line(`bool ok[${dist.vec}]; long long off[${dist.vec}];`);
        this.line('#pragma unroll');
        this.line(`for (int v = 0; v < ${dist.vec}; v++) {`);
        this.nested(() => {
          this.line(`const int e = row * ${dist.cols} + chunk * ${dist.vec} + v; (void)e;`);
          this.line(`const int r = (i * ${dist.colIters} + c) * ${dist.vec} + v; (void)r;`);
          lane({ dist, e: 'e', r: 'r' });
        });
        this.line('}');
        this.line('#pragma unroll');
        this.line(`for (int s = 0; s < ${dist.vec}; s += ${width}) {`);
        this.nested(() => {
          if (width > 1 && !broadcast) {
            this.line(`bool whole = ${packedRun ? 'true' : `off[s] % ${width} == 0`};`);
            this.line('#pragma unroll');
            this.line(`for (int v = 0; v < ${width}; v++) whole = whole && ok[s + v] && off[s + v] == off[s] + v;`);
          }
          access('s', width > 1 && !broadcast ? 'whole' : 'false', width, broadcast);
        });
        this.line('}');
      });
    const indices = op.operands.slice(1, 1 + tensor.shape.length);
    const uniform = this.uniform();
    const shape = this.tile(op.operands[1]!).shape;
    // Only indices every thread can evaluate at element 0 (long expressions are held in registers), and
    // rows of the distribution that are rows of the tile (not those of a 1-D row slice).
    const boxed = indices.every((v) => this.isIndexable(v)) && dist.cols === (shape[shape.length - 1] ?? 1)
      ? boxedAccess(tensor, shape, indices.map((v) => this.affine.of(v)), indices.map((v) => this.at(v, uniform)), (d) => this.extent(tensor, d), packedRun, true)
      : undefined;
    if (!boxed) return chunks(laneBody);
    // Every lane inside at its affine offset (one test for the block): no per-lane index math.
    const boxedChunks = (masked: boolean) =>
      chunks(() => {
        this.line(`ok[v] = valid && ${mask && masked ? `${this.at(mask, { dist, e: 'e', r: 'r' })} != 0` : 'true'};`);
        // A row broadcast along the last dim (a scale per row) reads one element for all its lanes.
        this.line(`off[v] = ${boxed.rowBase('row')}${boxed.innerStep === '1' ? ` + chunk * ${dist.vec} + v` : ''};`);
      }, boxed.innerStep === '0');
    // A mask on in every lane wherever the box is inside the tensor (a tile's bounds masks) leaves the
    // lanes inside nothing to test, and one that a block-wide test shows on everywhere the same: in a
    // tiled matmul's copies, the per-element mask was most of the instructions (the H200 profile of
    // session 22: 16 instructions an mma).
    if (mask && this.maskImpliedByBox(op, mask)) {
      this.line(`if (${boxed.guard}) {`);
      this.nested(() => boxedChunks(false));
      this.line('} else {');
      this.nested(() => chunks(laneBody));
      this.line('}');
      return;
    }
    const allOn = mask ? this.maskAllOn(mask) : undefined;
    if (allOn) {
      this.line(`if ((${boxed.guard}) && (${allOn})) {`);
      this.nested(() => boxedChunks(false));
      this.line(`} else if (${boxed.guard}) {`);
    } else {
      this.line(`if (${boxed.guard}) {`);
    }
    this.nested(() => boxedChunks(true));
    this.line('} else {');
    this.nested(() => chunks(laneBody));
    this.line('}');
  }

  /**
   * Whether `mask` is on in every lane wherever all of the access's indices are inside the tensor: an
   * and of comparisons a < extent_d, where a is one of the access's own indices (index d) or another
   * broadcast or view of the value it is a broadcast or view of, and extent_d the tensor's extent along
   * d (`dim` of it, or of a tensor whose extent there is the same symbol; or the literal extent). These
   * are the bounds masks a tiled load or store carries. Sound because broadcasts and views neither drop
   * nor change values: every value a takes is one index d takes, and the box test (boxedAccess) puts
   * all of those in [0, extent_d).
   */
  private maskImpliedByBox(op: Op, mask: Value): boolean {
    const tensor = op.operands[0]!;
    const shape = (tensor.type as TensorType).shape;
    const indices = op.operands.slice(1, 1 + shape.length);
    // The value a broadcast or view (of a broadcast or view ...) is of.
    const base = (v: Value): Value => {
      for (let def = this.defs.get(v); def && (def.opcode === 'broadcast' || def.opcode === 'view'); def = this.defs.get(v)) v = def.operands[0]!;
      return v;
    };
    const indexBases = indices.map(base);
    const isExtent = (bound: Value, d: number): boolean => {
      const def = this.defs.get(base(bound));
      if (def?.opcode === 'dim') return (def.operands[0]!.type as TensorType).shape[def.attrs['axis'] as number] === shape[d];
      // dim() of a literal extent is folded to its number.
      return def?.opcode === 'const' && typeof shape[d] === 'number' && def.attrs['value'] === shape[d];
    };
    const implied = (m: Value): boolean => {
      const def = this.defs.get(m);
      switch (def?.opcode) {
        case 'and':
          return implied(def.operands[0]!) && implied(def.operands[1]!);
        case 'broadcast':
        case 'view':
          return implied(def.operands[0]!);
        case 'lt': {
          const a = base(def.operands[0]!);
          return indexBases.some((b, d) => b === a && isExtent(def.operands[1]!, d));
        }
        default:
          return false;
      }
    };
    return implied(mask);
  }

  /**
   * A block-uniform C condition under which every lane of `mask` is on (AffineAnalysis.allOn: ands of
   * comparisons of affine index tiles), or undefined where the mask is not of that form or a compared
   * tile is held in registers (its element 0 is not every thread's).
   */
  private maskAllOn(mask: Value): string | undefined {
    const uniform = this.uniform();
    let indexable = true;
    const first = (v: Value) => {
      if (this.isIndexable(v)) return this.at(v, uniform);
      indexable = false;
      return '0';
    };
    const condition = this.affine.allOn(mask, (v) => this.tile(v).shape, first);
    return indexable ? condition : undefined;
  }

  /** Per-lane sites inside a sub-vector starting at lane `lane0` of a chunk. */
  private laneSite(dist: Distribution, lane0: string): Site {
    if (dist.replicated) return { dist, e: '0', r: '0' };
    return { dist, e: `(row * ${dist.cols} + chunk * ${dist.vec} + ${lane0} + v)`, r: `((i * ${dist.colIters} + c) * ${dist.vec} + ${lane0} + v)` };
  }

  /**
   * A cast: elementwise, but bf16 codes widened to f32 (exact, a shift) where each user reads them, so
   * that the f32 values never take registers of their own; f32 rounded to bf16 only to be stored,
   * encoded by each store where it writes; and other f32 rounded to bf16 (attention's p for its second
   * dot) kept as its codes, two to a register, which a tensor-core dot's A fragments then take as they
   * are (mmaOnStaged).
   */
  private cast(op: Op): void {
    const [src, res] = [op.operands[0]!, op.results[0]!];
    const [from, to] = [this.tile(src).dtype, this.tile(res).dtype];
    const rep = this.repr.get(src)!;
    const dist = this.dist(res);
    // An index value's cast is one too (elementwise), recomputed where used.
    if (this.isIndexable(src)) return this.elementwise(op, (s) => castExpr(from, to, this.at(src, s)));
    if (rep.kind === 'packed16' && to.name === 'f32' && this.readByElement(res)) {
      this.repr.set(res, { kind: 'lazy', dist, codes: rep, at: (site) => castExpr(from, to, this.atRepr(rep, src, site)) });
      return;
    }
    if (from.name === 'f32' && to.name === 'bf16' && this.onlyStored(res)) {
      const value = (site: Site) => this.atRepr(rep, src, site);
      this.repr.set(res, { kind: 'lazy', dist, at: (site) => castExpr(from, to, value(site)), code: (site) => `(uint16_t)tskc_bf16_code_f(${value(site)})` });
      return;
    }
    if (from.name === 'f32' && to.name === 'bf16' && this.packable(res)) {
      const words = `v${res.id}w`;
      this.line(`uint32_t ${words}[${dist.regs / 2}] = {};`);
      this.forEach(dist, (s) => this.line(`${setHalf(words, s.r, `tskc_bf16_code_f(${this.at(src, s)})`)};`));
      this.repr.set(res, { kind: 'packed16', words, dist, dtype: to });
      return;
    }
    this.elementwise(op, (s) => castExpr(from, to, this.at(src, s)));
  }

  /** Whether every user of v stores it (as the value, into a tensor of v's dtype). */
  private onlyStored(v: Value): boolean {
    const users = this.uses().get(v) ?? [];
    const stores = (u: Op) => storesValue(u, v) && u.operands[0]!.type.dtype.name === this.tile(v).dtype.name;
    return users.length > 0 && users.every(stores);
  }

  /** Whether v, a bf16 tile, can be held as packed16: users that read it element by element, two elements of a chunk to a word. */
  private packable(v: Value): boolean {
    const dist = this.dist(v);
    return this.tile(v).dtype.name === 'bf16' && !dist.replicated && dist.vec % 2 === 0 && this.readByElement(v);
  }

  private load(op: Op): void {
    const res = op.results[0]!;
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const d = tensor.dtype;
    const masked = op.operands.length === rank + 3;
    const dist = this.dist(res);
    const pointer = (this.repr.get(op.operands[0]!) as { name: string }).name;
    const st = storageType(d);
    // bf16 tiles whose users read them element by element stay as their codes, two to a register, and
    // are decoded (one shift) where read: a row kernel's row of bf16 takes half the registers.
    const packed = this.packable(res);
    const words = `v${res.id}w`;
    const name = packed ? words : this.declare(res);
    if (packed) this.line(`uint32_t ${words}[${dist.regs / 2}] = {};`);
    // Element r := the value `value`, whose storage code is `code`.
    const put = (r: string, value: string, code: string) => (packed ? `${setHalf(words, r, code)};` : `${name}[${r}] = ${value};`);
    this.accessChunks(op, dist, masked ? op.operands[rank + 1] : undefined, (lane0, whole, width, broadcast) => {
      const site = this.laneSite(dist, lane0);
      const other = masked ? this.at(op.operands[rank + 2]!, site) : `(${valueType(d)})0`;
      const element = (offset: string) => `((const ${st} *)${pointer})[${offset}]`;
      const scalar = () => {
        this.line('#pragma unroll');
        this.line(
          `for (int v = 0; v < ${width}; v++) ${put(site.r, `ok[${lane0} + v] ? ${this.loadAt(d, pointer, `off[${lane0} + v]`)} : ${other}`, `ok[${lane0} + v] ? ${element(`off[${lane0} + v]`)} : ${toStorage(d, other)}`)}`,
        );
      };
      if (broadcast) {
        // One read for the lanes' one offset (inside the tensor: the boxed guard held), each lane's mask after.
        this.line(`const ${valueType(d)} each = ${this.loadAt(d, pointer, `off[${lane0}]`)};`);
        this.line('#pragma unroll');
        this.line(`for (int v = 0; v < ${width}; v++) ${put(site.r, `ok[${lane0} + v] ? each : ${other}`, `ok[${lane0} + v] ? ${toStorage(d, 'each')} : ${toStorage(d, other)}`)}`);
        return;
      }
      if (width === 1) return scalar();
      // The whole sub-vector at once: packed codes from the words that hold them, else one vector load.
      const bitRun = () => {
        this.line(`const uint64_t run = tskc_get_bit_run((const uint32_t *)${pointer}, off[${lane0}], ${d.bits}u, ${width}u);`);
        this.line('#pragma unroll');
        this.line(`for (int v = 0; v < ${width}; v++) ${name}[${site.r}] = ${fromBitsExpr(d, `(uint32_t)((run >> (v * ${d.bits})) & ${2 ** d.bits - 1}u)`)};`);
      };
      const vector = () => {
        const vec = vectorType(width * storageBytes(d));
        if (packed) {
          // The loaded words are the register words: element pairs in memory order, the first low.
          this.line(`union { ${vec} vec; uint32_t word[${width / 2}]; } u;`);
          this.line(`u.vec = *(const ${vec} *)((const ${st} *)${pointer} + off[${lane0}]);`);
          this.line('#pragma unroll');
          this.line(`for (int v = 0; v < ${width}; v += 2) ${words}[(${site.r}) / 2] = u.word[v / 2];`);
          return;
        }
        this.line(`union { ${vec} vec; ${st} lane[${width}]; } u;`);
        this.line(`u.vec = *(const ${vec} *)((const ${st} *)${pointer} + off[${lane0}]);`);
        this.line('#pragma unroll');
        this.line(`for (int v = 0; v < ${width}; v++) ${name}[${site.r}] = ${fromStorage(d, 'u.lane[v]')};`);
      };
      this.line(`if (${whole}) {`);
      this.nested(d.bits < 8 ? bitRun : vector);
      this.line('} else {');
      this.nested(scalar);
      this.line('}');
    });
    this.repr.set(res, packed ? { kind: 'packed16', words, dist, dtype: d } : { kind: 'regs', name, dist });
  }

  private loadAt(d: Dtype, pointer: string, offset: string): string {
    if (d.bits < 8) return fromBitsExpr(d, `tskc_get_bits((const uint32_t *)${pointer}, ${offset}, ${d.bits})`);
    return fromStorage(d, `((const ${storageType(d)} *)${pointer})[${offset}]`);
  }

  private store(op: Op): void {
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const d = tensor.dtype;
    const value = op.operands[rank + 1]!;
    const dist = this.dist(value);
    const pointer = (this.repr.get(op.operands[0]!) as { name: string }).name;
    const st = storageType(d);
    // A value held as codes of the tensor's own dtype is stored as they are, its words whole where it
    // can; a cast only stored is encoded here, once.
    const rep = this.repr.get(value);
    const codes = rep?.kind === 'packed16' && rep.dtype.name === d.name ? rep.words : undefined;
    const code = codes ? (site: Site) => halfOf(codes, site.r) : rep?.kind === 'lazy' && d.name === 'bf16' ? rep.code : undefined;
    // Every thread's earlier loads of the tensor are done before any thread overwrites it.
    if (tensor.access === 'inout') this.line('__syncthreads();');
    this.accessChunks(op, dist, op.operands[rank + 2], (lane0, whole, width) => {
      const site = this.laneSite(dist, lane0);
      const scalar = () => {
        const element = code ? `((${st} *)${pointer})[off[${lane0} + v]] = ${code(site)};` : this.storeAt(d, pointer, `off[${lane0} + v]`, this.at(value, site));
        this.line('#pragma unroll');
        this.line(`for (int v = 0; v < ${width}; v++) if (ok[${lane0} + v]) { ${element} }`);
      };
      if (width === 1) return scalar();
      this.line(`if (${whole}) {`);
      this.nested(() => {
        const vec = vectorType(width * storageBytes(d));
        if (codes) {
          this.line(`union { ${vec} vec; uint32_t word[${width / 2}]; } u;`);
          this.line('#pragma unroll');
          this.line(`for (int v = 0; v < ${width}; v += 2) u.word[v / 2] = ${codes}[(${site.r}) / 2];`);
        } else {
          this.line(`union { ${vec} vec; ${st} lane[${width}]; } u;`);
          this.line('#pragma unroll');
          this.line(`for (int v = 0; v < ${width}; v++) u.lane[v] = ${code ? code(site) : toStorage(d, this.at(value, site))};`);
        }
        this.line(`*(${vec} *)((${st} *)${pointer} + off[${lane0}]) = u.vec;`);
      });
      this.line('} else {');
      this.nested(scalar);
      this.line('}');
    });
    // The block's later loads of an inout tensor must see every thread's stores, as in the
    // interpreter, where a store completes before the next op.
    if (tensor.access === 'inout') this.line('__syncthreads();');
  }

  private storeAt(d: Dtype, pointer: string, offset: string, v: string): string {
    if (d.bits < 8) return `tskc_set_bits((uint32_t *)${pointer}, ${offset}, ${d.bits}, ${bitsOf(d, v)});`;
    return `((${storageType(d)} *)${pointer})[${offset}] = ${toStorage(d, v)};`;
  }

  // ----- reductions and dot -----

  private reduce(op: Op): void {
    const src = op.operands[0]!;
    const shape = this.tile(src).shape;
    const axis = op.attrs['axis'] as number;
    const kind = op.attrs['kind'] as string;
    const dist = this.dist(src);
    if (axis === shape.length - 1 && ROW_REDUCTIONS.includes(kind) && !dist.replicated && dist.replicas === 1) return this.reduceRows(op);
    return this.reduceInOrder(op);
  }

  /**
   * A reduction along the last axis: each thread combines its elements of a row, the lanes of the row
   * combine through warp shuffles (and shared memory across warps), and the row results reach the
   * result's distribution through the scratch area, unless it is the source's row slice: after the
   * butterfly every lane of a row holds the row's result, computed in the same order.
   */
  private reduceRows(op: Op): void {
    const [src, res] = [op.operands[0]!, op.results[0]!];
    const kind = op.attrs['kind'] as string;
    const d = this.tile(src).dtype;
    const dist = this.dist(src);
    const integer = d.kind === 'signed' || d.kind === 'unsigned';
    const float = d.kind === 'float';
    const accType = kind === 'sum' || kind === 'prod' ? (float ? 'double' : 'int64_t') : float ? 'float' : 'int64_t';
    const identity = kind === 'sum' ? '0' : kind === 'prod' ? '1' : float ? 'NAN' : String(kind === 'max' ? d.minValue : d.maxValue) + 'LL';
    const combine = (a: string, b: string): string => {
      if (kind === 'sum') return `(${a} + ${b})`;
      if (kind === 'prod') return integer ? wrappingProduct(a, b) : `(${a} * ${b})`;
      // fmaxf/fminf ignore a NaN operand as the interpreter's max/min do (one instruction, not five).
      if (float) return `${kind === 'max' ? 'fmaxf' : 'fminf'}(${a}, ${b})`;
      return kind === 'max' ? `(${a} >= ${b} ? ${a} : ${b})` : `(${a} <= ${b} ? ${a} : ${b})`;
    };
    const id = this.fresh++;
    const part = `part${id}`;
    this.line(`${accType} ${part}[${dist.rowIters}];`);
    this.line('#pragma unroll');
    this.line(`for (int i = 0; i < ${dist.rowIters}; i++) ${part}[i] = ${identity};`);
    this.forEach(dist, (s) => this.line(`if (valid) ${part}[i] = ${combine(`${part}[i]`, `(${accType})${this.at(src, s)}`)};`));
    // Across the lanes of a row: a butterfly inside each warp, lower lanes' partials first.
    const warpLanes = Math.min(dist.lanes, 32);
    this.line('#pragma unroll');
    this.line(`for (int i = 0; i < ${dist.rowIters}; i++) {`);
    this.nested(() => {
      this.line('#pragma unroll');
      this.line(`for (int o = ${warpLanes / 2}; o > 0; o /= 2) {`);
      this.line(`  const ${accType} q = __shfl_xor_sync(${FULL_MASK}, ${part}[i], o);`);
      this.line(`  ${part}[i] = (tid & o) ? ${combine('q', `${part}[i]`)} : ${combine(`${part}[i]`, 'q')};`);
      this.line('}');
    });
    this.line('}');
    if (dist.lanes > 32) {
      // Then across the warps of a row, in warp order, through the scratch area.
      const warps = dist.lanes / 32;
      const buf = this.scratch(accType, dist.rowIters * dist.groups * warps);
      this.line('__syncthreads();');
      this.line('#pragma unroll');
      // Slots by group (i * groups + tid / lanes), whichever row the group holds.
      this.line(`for (int i = 0; i < ${dist.rowIters}; i++) if (tid % 32 == 0) ${buf}[(i * ${dist.groups} + tid / ${dist.lanes}) * ${warps} + (tid % ${dist.lanes}) / 32] = ${part}[i];`);
      this.line('__syncthreads();');
      this.line('#pragma unroll');
      this.line(`for (int i = 0; i < ${dist.rowIters}; i++) {`);
      this.line(`  ${accType} t = ${buf}[(i * ${dist.groups} + tid / ${dist.lanes}) * ${warps}];`);
      this.line(`  for (int w = 1; w < ${warps}; w++) t = ${combine('t', `${buf}[(i * ${dist.groups} + tid / ${dist.lanes}) * ${warps} + w]`)};`);
      this.line(`  ${part}[i] = t;`);
      this.line('}');
    }
    const final = (p: string) => (kind === 'sum' || kind === 'prod' ? roundTo(d, p) : `(${valueType(d)})${p}`);
    const resDist = this.dist(res);
    if (resDist.replicated && (dist.lanes === this.threads || dist.rowReplicas === dist.groups)) {
      // One row over the whole block, or held by every group (a column slice): every thread already holds the result.
      const name = this.declare(res);
      this.line(`${name}[0] = ${final(`${part}[0]`)};`);
      this.repr.set(res, { kind: 'regs', name, dist: resDist });
      return;
    }
    if (isRowSliceOf(resDist, dist) && dist.lanes <= 32) {
      const name = this.declare(res);
      this.line('#pragma unroll');
      this.line(`for (int i = 0; i < ${dist.rowIters}; i++) ${name}[i] = ${final(`${part}[i]`)};`);
      this.repr.set(res, { kind: 'regs', name, dist: resDist });
      return;
    }
    // Row results, rounded once to the dtype, to the result's distribution.
    const out = this.scratch(valueType(d), dist.rows);
    this.line('__syncthreads();');
    this.line('#pragma unroll');
    this.line(`for (int i = 0; i < ${dist.rowIters}; i++) {`);
    this.line(`  const int row = ${this.rowOfThread(dist)};`);
    this.line(`  if (row < ${dist.rows} && tid % ${dist.lanes} == 0) ${out}[row] = ${final(`${part}[i]`)};`);
    this.line('}');
    this.line('__syncthreads();');
    const name = this.declare(res);
    this.forEach(resDist, (s) => this.line(`${name}[${s.r}] = valid ? ${out}[${s.e}] : ${out}[0];`));
    this.repr.set(res, { kind: 'regs', name, dist: resDist });
  }

  /** Any reduction, each result element by one thread over the staged source in index order. */
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
      const at = (k: string) => `${staged}[(${s.e} / ${inner}) * ${n * inner} + (${s.e} % ${inner}) + (${k}) * ${inner}]`;
      this.line('if (valid) {');
      this.nested(() => reduction(kind, d, n, at, (v) => `${name}[${s.r}] = ${v};`).forEach((l) => this.line(l)));
      this.line(`} else ${name}[${s.r}] = 0;`);
    });
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /**
   * acc + a @ b: the operands are staged in shared memory and each thread computes its elements of
   * the result over k in index order, one f32 fmaf per step (int64 for integers) as the interpreter
   * does. (Tensor cores come later: mma.sync for f16/bf16 operands with fragment layouts.)
   */
  private dot(op: Op): void {
    const [a, b, acc] = op.operands as [Value, Value, Value];
    const res = op.results[0]!;
    const [m, k] = this.tile(a).shape as [number, number];
    const n = this.tile(b).shape[1]!;
    const d = this.tile(res).dtype;
    const operand = this.mmaOperand(op);
    const pipelined = this.pipe?.dots.find((p) => p.dot === op);
    const mma = operand && `mma.sync.m16n8k${mmaK(operand)} ${operand}`;
    if (pipelined) {
      const ring = this.pipe!.rings.get(op)!;
      const aInRegisters = this.aInFragments(op, { p: pipelined, bodyValues: this.pipe!.bodyValues });
      const how = (which: 'a' | 'b') =>
        `${which} ${pipelined[which] ? 'copied ahead' : which === 'a' && aInRegisters ? 'from its fragment registers' : 'fixed' in ring[which] ? 'staged once before the loop' : 'staged in each iteration'}`;
      this.notes.set(op, `${mma}, accumulator in registers, ${how('a')}, ${how('b')} (${bMajorOf(pipelined.format, pipelined.b)}-major)`);
      return this.pipelinedMmaDot(pipelined);
    }
    if (this.registerFormat(op)) {
      this.notes.set(op, `${mma}, accumulator in registers, ${this.aInFragments(op) ? 'a from its fragment registers, b' : 'a and b'} staged (b ${bMajorOf(operand!)}-major)`);
      return this.mmaDotInRegisters(op, operand!);
    }
    // Its staging within the 48 KiB a block gets without asking: larger tiles keep the FMA loop.
    if (operand && mmaStaging(m, n, k, formatBytes(operand)).bytes <= 48 * 1024) {
      this.notes.set(op, `${mma}, a, b and the accumulator staged in shared memory`);
      return this.mmaDot(op, operand);
    }
    this.notes.set(op, 'FMA loop in the interpreter\'s order over a and b staged in shared memory');
    const integer = d.kind === 'signed' || d.kind === 'unsigned';
    const aBytes = Math.ceil((m * k * BYTES[valueType(this.tile(a).dtype)]!) / 16) * 16;
    const sa = this.scratch(valueType(this.tile(a).dtype), m * k);
    const sb = this.scratch(valueType(this.tile(b).dtype), k * n, aBytes);
    this.line('__syncthreads();');
    this.forEach(this.dist(a), (s) => this.line(`if (valid) ${sa}[${s.e}] = ${this.at(a, s)};`));
    this.forEach(this.dist(b), (s) => this.line(`if (valid) ${sb}[${s.e}] = ${this.at(b, s)};`));
    this.line('__syncthreads();');
    const name = this.declare(res);
    const dist = this.dist(res);
    this.forEach(dist, (s) => {
      this.line(`const int oi = ${s.e} / ${n}, oj = ${s.e} % ${n};`);
      if (integer) {
        this.line(`long long sum = (long long)${this.at(acc, s)};`);
        this.line(`if (valid) for (int q = 0; q < ${k}; q++) sum = ${wrapTo(d, `sum + ${wrapTo(d, wrappingProduct(`${sa}[oi * ${k} + q]`, `${sb}[q * ${n} + oj]`))}`)};`);
        this.line(`${name}[${s.r}] = ${wrapTo(d, 'sum')};`);
      } else {
        this.line(`float sum = (float)${this.at(acc, s)};`);
        this.line(`if (valid) for (int q = 0; q < ${k}; q++) sum = fmaf(${sa}[oi * ${k} + q], ${sb}[q * ${n} + oj], sum);`);
        this.line(`${name}[${s.r}] = ${roundTo(d, 'sum')};`);
      }
    });
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /**
   * acc + a @ b on tensor cores (the tensorCores option), in three steps through shared memory:
   *   1. a and b are staged row-major as 16-bit codes, acc as f32 in a [m, n] array;
   *   2. each warp takes 16 x 8 tiles of the result in turn: its four accumulators from the array, then
   *      mma.sync.m16n8k16 for each 16 of K, its fragments gathered from the staged codes, then the
   *      four results back into the array;
   *   3. each thread reads its elements of the result in its register layout.
   * Fragments, per the PTX ISA for m16n8k16 with 16-bit operands (lane = 4 g + t): A's four registers
   * hold (row g, columns 2t and 2t+1), (row g+8, the same), (row g, columns 2t+8 and 2t+9), (row g+8,
   * the same); B's two hold (rows 2t and 2t+1, column g) and (rows 2t+8 and 2t+9, column g); C's four
   * floats are (row g, columns 2t, 2t+1) and (row g+8, columns 2t, 2t+1). Two codes share a register,
   * the lower column or row in the low half.
   */
  private mmaDot(op: Op, operand: MmaFormat): void {
    const [a, b, acc] = op.operands as [Value, Value, Value];
    const res = op.results[0]!;
    const [m, k] = this.tile(a).shape as [number, number];
    const n = this.tile(b).shape[1]!;
    const staging = mmaStaging(m, n, k, formatBytes(operand));
    const type = stagedType(operand);
    const [sa, sb, sc] = [this.scratch(type, m * k), this.scratch(type, k * n, staging.b), this.scratch('float', m * n, staging.c)];
    this.stageMmaOperands(op, operand, (e) => `${sa}[${e}]`, (e) => `${sb}[${e}]`, () =>
      this.forEach(this.dist(acc), (s) => this.line(`if (valid) ${sc}[${s.e}] = (float)${this.at(acc, s)};`)),
    );
    // tf32: one f32 a register, rounded as cvt.rna.tf32.f32 rounds (A's registers (g, t), (g + 8, t),
    // (g, t + 4), (g + 8, t + 4) of a 16 x 8 tile; B's (t, g) and (t + 4, g) of an 8 x 8 one).
    const one = (x: string) => `${this.macro(tf32RoundMacro())}(__float_as_uint(${x}))`;
    const A = (row: string, col: string) => `${sa}[(r0 + ${row}) * ${k} + kk + ${col}]`;
    const B = (row: string, col: string) => `${sb}[(kk + ${row}) * ${n} + c0 + ${col}]`;
    const C = (row: string, col: string) => `${sc}[(r0 + ${row}) * ${n} + c0 + ${col}]`;
    const cells: [string, string][] = [['g', '2 * t'], ['g', '2 * t + 1'], ['g + 8', '2 * t'], ['g + 8', '2 * t + 1']];
    this.line('{');
    this.nested(() => {
      this.line('const int lane = tid & 31, g = lane >> 2, t = lane & 3;');
      // Warp-uniform loops: every lane of a warp runs each mma.sync together, as .aligned requires.
      this.line(`for (int tile = tid >> 5; tile < ${(m / 16) * (n / 8)}; tile += ${this.threads / 32}) {`);
      this.nested(() => {
        this.line(`const int r0 = (tile / ${n / 8}) * 16, c0 = (tile % ${n / 8}) * 8;`);
        this.line(`float c[4] = { ${cells.map(([r, col]) => C(r, col)).join(', ')} };`);
        this.line(`for (int kk = 0; kk < ${k}; kk += ${mmaK(operand)}) {`);
        this.nested(() => {
          if (operand === 'tf32') {
            this.line(`const uint32_t a0 = ${one(A('g', 't'))}, a1 = ${one(A('g + 8', 't'))}, a2 = ${one(A('g', 't + 4'))}, a3 = ${one(A('g + 8', 't + 4'))};`);
            this.line(`const uint32_t b0 = ${one(B('t', 'g'))}, b1 = ${one(B('t + 4', 'g'))};`);
          } else {
            this.line(`const uint32_t a0 = ${codePair(A('g', '2 * t'), A('g', '2 * t + 1'))}, a1 = ${codePair(A('g + 8', '2 * t'), A('g + 8', '2 * t + 1'))};`);
            this.line(`const uint32_t a2 = ${codePair(A('g', '2 * t + 8'), A('g', '2 * t + 9'))}, a3 = ${codePair(A('g + 8', '2 * t + 8'), A('g + 8', '2 * t + 9'))};`);
            this.line(`const uint32_t b0 = ${codePair(B('2 * t', 'g'), B('2 * t + 1', 'g'))}, b1 = ${codePair(B('2 * t + 8', 'g'), B('2 * t + 9', 'g'))};`);
          }
          this.line(`${this.macro(mmaMacro(operand))}(c[0], c[1], c[2], c[3], a0, a1, a2, a3, b0, b1);`);
        });
        this.line('}');
        cells.forEach(([r, col], i) => this.line(`${C(r, col)} = c[${i}];`));
      });
      this.line('}');
    });
    this.line('}');
    this.line('__syncthreads();');
    const name = this.declare(res);
    const dist = this.dist(res);
    this.forEach(dist, (s) => this.line(`${name}[${s.r}] = valid ? ${sc}[${s.e}] : 0.0f;`));
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  /**
   * A tensor-core dot's a and b written as `operand` elements (stagedValue) to the places `aAt` and
   * `bAt` give for each element index (and whatever `alsoStage` writes), between barriers.
   */
  private stageMmaOperands(op: Op, operand: MmaFormat, aAt: (e: string) => string, bAt: (e: string) => string, alsoStage?: () => void): void {
    const [a, b] = op.operands as [Value, Value];
    this.line('__syncthreads();');
    this.forEach(this.dist(a), (s) => this.line(`if (valid) ${aAt(s.e)} = ${stagedValue(operand, this.at(a, s))};`));
    this.forEach(this.dist(b), (s) => this.line(`if (valid) ${bAt(s.e)} = ${stagedValue(operand, this.at(b, s))};`));
    alsoStage?.();
    this.line('__syncthreads();');
  }

  /**
   * acc + a @ b on tensor cores with the accumulator in registers (registerAccumulators): the result's
   * layout is fragmentDistribution, so each thread's registers already are its C fragments. a and b are
   * staged in shared memory as 16-bit codes, or f32 for tf32 (mmaFragment.staging: rows of 16 bytes
   * that ldmatrix reads without bank conflicts, b k-major for 16-bit codes); then each warp, for each
   * pair of its row iterations and each mma's K (16, or 8 for tf32), loads the A fragment of those 16
   * rows with one ldmatrix.x4, and for each two 8-column blocks their B fragments with another (.trans
   * for k-major b), and runs one mma.sync per block on its own registers. Fragment conventions as in mmaDot.
   */
  private mmaDotInRegisters(op: Op, operand: MmaFormat): void {
    const [a, b] = op.operands as [Value, Value];
    const [m, k] = this.tile(a).shape as [number, number];
    const n = this.tile(b).shape[1]!;
    const bMajor = bMajorOf(operand);
    const staging = mmaFragment.staging(m, n, k, formatBytes(operand), bMajor);
    const type = stagedType(operand);
    const aInRegisters = this.aInFragments(op);
    const sb = this.scratch(type, (staging.bytes - staging.b) / formatBytes(operand), aInRegisters ? 0 : staging.b);
    const bAt = (e: string) => `${sb}[${staging.bAt(`(${e}) / ${n}`, `(${e}) % ${n}`)}]`;
    if (aInRegisters) {
      this.line('__syncthreads();');
      this.forEach(this.dist(b), (s) => this.line(`if (valid) ${bAt(s.e)} = ${stagedValue(operand, this.at(b, s))};`));
      this.line('__syncthreads();');
      return this.mmaOnStaged(op, operand, undefined, sb, bMajor);
    }
    const sa = this.scratch(type, m * staging.stride);
    this.stageMmaOperands(op, operand, (e) => `${sa}[${staging.a(`(${e}) / ${k}`, `(${e}) % ${k}`)}]`, bAt);
    this.mmaOnStaged(op, operand, sa, sb, bMajor);
  }

  /**
   * Whether a register-path dot takes its A fragments from a's own registers rather than through shared
   * memory: a 16-bit dot whose a has the fragment layout too (a [m, k] shape that is another register
   * dot's result, as attention's p is the scores' shape), where m16n8k16's A fragment of k columns
   * kk..kk+15 is exactly what the thread holds of C fragment blocks kk / 8 and kk / 8 + 1 (rows g and
   * g + 8, columns 2t and 2t + 1 of each 8), as FlashAttention-2 reuses p. In a pipelined loop, only an
   * a computed in the loop's body (`bodyValues`): one copied ahead or staged once stays so.
   */
  private aInFragments(op: Op, pipelined?: { readonly p: PipelinedDot; readonly bodyValues: ReadonlySet<Value> }): boolean {
    const a = op.operands[0]!;
    const format = this.registerFormat(op);
    if ((format !== 'bf16' && format !== 'f16') || !this.fragments.has(shapeKey(this.tile(a).shape))) return false;
    return pipelined === undefined || (!pipelined.p.a && pipelined.bodyValues.has(a));
  }

  /**
   * The register path's mma loop (see mmaDotInRegisters) on a and b already staged at the pointers `sa`
   * and `sb` (stagedType; mmaFragment.staging's layout, b `bMajor`), or with `sa` undefined, a's A
   * fragments packed from its registers (aInFragments): the result's registers start as acc's.
   */
  private mmaOnStaged(op: Op, operand: MmaFormat, sa: string | undefined, sb: string, bMajor: 'n' | 'k'): void {
    const [a, b, acc] = op.operands as [Value, Value, Value];
    const res = op.results[0]!;
    const [m, k] = this.tile(a).shape as [number, number];
    const n = this.tile(b).shape[1]!;
    const staging = mmaFragment.staging(m, n, k, formatBytes(operand), bMajor);
    // Elements in 16 bytes: the columns of one 8-row ldmatrix block (8 codes, or 4 floats).
    const half = 16 / formatBytes(operand);
    const dist = this.dist(res);
    const from = this.materialize(acc);
    const name = this.declare(res);
    this.line('#pragma unroll');
    this.line(`for (int r = 0; r < ${dist.regs}; r++) ${name}[r] = ${from}[r];`);
    // ldmatrix.x4 gives lane 4g + t, from matrix q, the codes at row g, columns 2t and 2t + 1 of the
    // 8 x 8 block whose rows lanes 8q to 8q + 7 point at: for A, the blocks of a0 to a3 (mma rows 0-7 or
    // 8-15 by q's low bit, K columns 0-7 or 8-15 by its high bit); for B (b transposed: its columns are
    // rows), b0 and b1 of column blocks c and c + 1. For tf32 the same blocks hold 8 x 4 floats, and
    // lane 4g + t gets the float at row g, column t: m16n8k8's a0 to a3 at rows g, g + 8 and K columns
    // t, t + 4, and its b0 and b1 at K rows t, t + 4 (each rounded to tf32 after the load).
    const C = (c: string, s: 0 | 1 | 2 | 3) => `${name}[${mmaFragment.register(dist, 'p', c, s)}]`;
    // A fragments packed from a's registers are named apart from the kernel's arguments a0, a1, ...,
    // which a's expression may read; ldmatrix's land in a0..a3 as in mmaDot.
    const aRegs = sa === undefined ? 'fa0, fa1, fa2, fa3' : 'a0, a1, a2, a3';
    const mma = (c: string, b0: string, b1: string) => this.line(`${this.macro(mmaMacro(operand))}(${C(c, 0)}, ${C(c, 1)}, ${C(c, 2)}, ${C(c, 3)}, ${aRegs}, ${b0}, ${b1});`);
    const ldmatrix = this.macro(ldmatrixMacro());
    // a's code at slot s (C fragment numbering) of its 8-column block c, in this thread's registers.
    const aDist = this.dist(a);
    const aCode = (c: string, s: 0 | 1 | 2 | 3) => {
      const e = `${mmaFragment.row(aDist, 'p', (s >> 1) as 0 | 1, 'w', 'g')} * ${k} + 8 * (${c}) + 2 * t + ${s & 1}`;
      return stagedValue(operand, this.at(a, { dist: aDist, e, r: mmaFragment.register(aDist, 'p', c, s) }));
    };
    // An A register: codes of slots s and s + 1 (columns 2t and 2t + 1), registers r and r + 1 of a,
    // which for a held as codes of the operand's format (packed16, or widened from it) are one word.
    const aRep = this.repr.get(a);
    const aCodes = aRep?.kind === 'packed16' ? aRep : aRep?.kind === 'lazy' ? aRep.codes : undefined;
    const aPair = (c: string, s: 0 | 2) =>
      aCodes?.dtype.name === operand && sameDistribution(aDist, (aRep as { dist: Distribution }).dist)
        ? `${aCodes.words}[(${mmaFragment.register(aDist, 'p', c, s)}) / 2]`
        : codePair(aCode(c, s), aCode(c, (s + 1) as 1 | 3));
    const round = (regs: string[]) => {
      if (operand === 'tf32') this.line(regs.map((r) => `${r} = ${this.macro(tf32RoundMacro())}(${r});`).join(' '));
    };
    this.line('{ // mma.sync on the accumulator in registers');
    this.nested(() => {
      this.line('const int lane = tid & 31, w = tid >> 5, q = lane >> 3, r8 = lane & 7;');
      if (sa === undefined) this.line('const int g = lane >> 2, t = lane & 3;');
      this.line('#pragma unroll');
      this.line(`for (int p = 0; p < ${dist.rowIters / 2}; p++) {`);
      this.nested(() => {
        if (sa !== undefined) this.line(`const int rowA = ${mmaFragment.row(dist, 'p', '(q & 1)', 'w', 'r8')};`);
        this.line('#pragma unroll');
        this.line(`for (int kk = 0; kk < ${k}; kk += ${mmaK(operand)}) {`);
        this.nested(() => {
          if (sa === undefined) {
            // Rows g and g + 8 (slots 0-1 and 2-3) of the 8-column blocks kk / 8 and kk / 8 + 1.
            const [lo, hi] = ['kk / 8', 'kk / 8 + 1'];
            this.line(`const uint32_t fa0 = ${aPair(lo, 0)}, fa1 = ${aPair(lo, 2)};`);
            this.line(`const uint32_t fa2 = ${aPair(hi, 0)}, fa3 = ${aPair(hi, 2)};`);
          } else {
            this.line('uint32_t a0, a1, a2, a3;');
            this.line(`${ldmatrix}(a0, a1, a2, a3, &${sa}[${staging.a('rowA', `kk + ${half} * (q >> 1)`)}]);`);
            round(['a0', 'a1', 'a2', 'a3']);
          }
          this.line('#pragma unroll');
          this.line(`for (int c = 0; c < ${dist.colIters}; c += 2) {`);
          this.nested(() => {
            // colIters is odd only for N = 8 mod 16: the last pair's second block is then past the tile.
            this.line('uint32_t b0, b1, b2, b3;');
            const block = `8 * (c + (q >> 1) < ${dist.colIters} ? c + (q >> 1) : c)`;
            // n-major: lane r8 of matrix q points at b's column block + r8 from K column kk + 8 (q & 1);
            // k-major, through .trans: at K row kk + 8 (q & 1) + r8 from column block.
            if (bMajor === 'n') this.line(`${ldmatrix}(b0, b1, b2, b3, &${sb}[${staging.bAt(`kk + ${half} * (q & 1)`, `${block} + r8`)}]);`);
            else this.line(`${this.macro(ldmatrixMacro(true))}(b0, b1, b2, b3, &${sb}[${staging.bAt(`kk + 8 * (q & 1) + r8`, block)}]);`);
            round(['b0', 'b1', 'b2', 'b3']);
            mma('c', 'b0', 'b1');
            if (dist.colIters % 2 === 0) mma('(c + 1)', 'b2', 'b3');
            else {
              this.line(`if (c + 1 < ${dist.colIters}) {`);
              this.nested(() => mma('(c + 1)', 'b2', 'b3'));
              this.line('}');
            }
          });
          this.line('}');
        });
        this.line('}');
      });
      this.line('}');
    });
    this.line('}');
    this.repr.set(res, { kind: 'regs', name, dist });
  }

  // ----- control flow -----

  /** Copies each yielded value into its destination registers, through temporaries (a yield may swap values). */
  private copyYield(region: Block, destinations: readonly Value[]): void {
    const yielded = region.ops[region.ops.length - 1]!.operands;
    const temps = yielded.map((v, i) => {
      const name = `y${v.id}_${i}_${this.fresh++}`;
      this.line(`${valueType(this.tile(v).dtype)} ${name}[${this.dist(v).regs}];`);
      this.forEach(this.dist(v), (s) => this.line(`${name}[${s.r}] = ${this.at(v, s)};`));
      return name;
    });
    destinations.forEach((dst, i) => {
      const rep = this.repr.get(dst) as { name: string };
      this.line('#pragma unroll');
      this.line(`for (int r = 0; r < ${this.dist(dst).regs}; r++) ${rep.name}[r] = ${temps[i]}[r];`);
    });
  }

  private forLoop(op: Op): void {
    const dots = this.tensorCores && this.registerAccumulators && this.pipelineStages > 1 ? pipelinedDots(op, this.defs, this.uses(), (d) => this.registerFormat(d)) : [];
    if (dots.length > 0) {
      const saved = this.checkpoint();
      try {
        if (this.pipelinedLoop(op, dots)) return;
      } catch (e) {
        if (!(e instanceof NotPipelined)) throw e;
      }
      this.rollback(saved);
    }
    this.loop(op);
  }

  /**
   * The loop as written; `pipe` adds the iteration counter the ring's stages follow. The carried
   * values live in the results' registers; the region arguments alias them.
   */
  private loop(op: Op, pipe?: Pipeline): void {
    // The plain loop inside a pipelined one's body: the outer loop's dots are not among its ops.
    const outer = this.pipe;
    if (!pipe) this.pipe = undefined;
    const region = op.regions[0]!;
    const [iv, ...carried] = region.args;
    op.results.forEach((r, i) => {
      const name = this.declare(r);
      const dist = this.dist(r);
      this.forEach(dist, (s) => this.line(`${name}[${s.r}] = ${this.at(op.operands[3 + i]!, s)};`));
      this.repr.set(r, { kind: 'regs', name, dist });
      this.repr.set(carried[i]!, { kind: 'regs', name, dist });
    });
    const [lower, upper, step] = this.bounds(op);
    const i = `i${iv!.id}`;
    pipe?.prologueAt.push(this.lines.length);
    if (pipe) this.line(`int ${pipe.stage} = 0;`);
    const nextStage = pipe ? `, ${pipe.stage} = ${pipe.stage} == ${pipe.stages - 1} ? 0 : ${pipe.stage} + 1` : '';
    this.line(`if (${step} <= 0) tskc_bad = ${STATUS_BAD_STEP};`);
    this.line(`else for (long long ${i} = ${lower}; ${i} < ${upper}; ${i} += ${step}${nextStage}) {`);
    this.nested(() => {
      this.line(`const int32_t v${iv!.id}[1] = { (int32_t)${i} };`);
      this.repr.set(iv!, { kind: 'regs', name: `v${iv!.id}`, dist: this.uniform().dist });
      this.block(region);
      this.copyYield(region, op.results);
    });
    this.line('}');
    this.pipe = outer;
  }

  /** A for op's lower bound, upper bound and step, as expressions every thread evaluates alike. */
  private bounds(op: Op): [string, string, string] {
    return [0, 1, 2].map((i) => this.at(op.operands[i]!, this.uniform())) as [string, string, string];
  }

  // ----- cp.async pipelines -----

  private uses(): Map<Value, Op[]> {
    this.usesCache ??= usesIn(this.kernel.body);
    return this.usesCache;
  }

  /** What emitting a loop changes, to take back when its pipeline turns out not to apply. */
  private checkpoint() {
    return { lines: this.lines.length, indent: this.indent, repr: new Map(this.repr), macros: new Map(this.ptxMacros), sharedTileBytes: this.sharedTileBytes, scratchBytes: this.scratchBytes, fresh: this.fresh, pipe: this.pipe };
  }

  private rollback(saved: ReturnType<CudaEmitter['checkpoint']>): void {
    this.lines.length = saved.lines;
    for (const map of [this.repr, this.ptxMacros] as Map<unknown, unknown>[]) map.clear();
    saved.repr.forEach((v, k) => this.repr.set(k, v));
    saved.macros.forEach((v, k) => this.ptxMacros.set(k, v));
    Object.assign(this, { indent: saved.indent, sharedTileBytes: saved.sharedTileBytes, scratchBytes: saved.scratchBytes, fresh: saved.fresh, pipe: saved.pipe });
    // Its memo may hold expressions of values represented otherwise the second time.
    this.affine = this.affineAnalysis();
  }

  /**
   * The loop with its D dots' qualifying operands copied ahead (see pipelineStages): a ring of
   * `stages` stagings per dot in shared memory of its own; before the loop, the copies of the first
   * stages - 1 iterations, a cp.async group per dot and iteration. In iteration `it`, at the first such
   * dot, a wait until every group of `it` has landed ((stages - 2) D later ones may be in flight); at
   * each such dot, a barrier (every thread's copies landed, its other operands stored, and every thread
   * done with iteration it - 1's stage), the copies of its operands for iteration it + stages - 1 into
   * that stage (as a group), then the mma on stage it % stages. Operands computed in the body are
   * stored into the current stage before the barrier, as the register path stages them; operands
   * from before the loop (attention's q) are staged once, before it, outside the ring. False when the
   * rings do not fit PIPELINE_RING_BYTES at 2 stages.
   */
  private pipelinedLoop(op: Op, dots: readonly PipelinedDot[]): boolean {
    const bodyValues = new Set([...op.regions[0]!.args, ...definitions(op.regions[0]!).keys()]);
    // Each operand's bytes in the staging, and whether it is the same in every iteration (then staged once).
    const layouts = dots.map((p) => {
      const staging = this.stagingOf(p);
      const sizes = { a: this.aInFragments(p.dot, { p, bodyValues }) ? 0 : staging.b, b: Math.ceil((staging.bytes - staging.b) / 16) * 16 };
      const invariant = (which: 'a' | 'b') => !p[which] && !bodyValues.has(p.dot.operands[which === 'a' ? 0 : 1]!);
      return { sizes, invariant: { a: invariant('a'), b: invariant('b') } };
    });
    const perStage = layouts.reduce((sum, l) => sum + (l.invariant.a ? 0 : l.sizes.a) + (l.invariant.b ? 0 : l.sizes.b), 0);
    const once = layouts.reduce((sum, l) => sum + (l.invariant.a ? l.sizes.a : 0) + (l.invariant.b ? l.sizes.b : 0), 0);
    // Within the kernel's budget, with its shared tiles and the rings of loops before this one.
    const fits = (stages: number) => this.sharedTileBytes + once + stages * perStage <= PIPELINE_RING_BYTES;
    let stages = this.pipelineStages;
    while (stages > 2 && !fits(stages)) stages--;
    if (!fits(stages)) return false;
    const iv = op.regions[0]!.args[0]!;
    const rings = new Map<Op, Ring>();
    dots.forEach(({ dot }, i) => {
      const { sizes, invariant } = layouts[i]!;
      const place = (which: 'a' | 'b', at: number) => (invariant[which] ? { fixed: (this.sharedTileBytes += sizes[which]) - sizes[which] } : { at });
      const a = place('a', 0);
      const b = place('b', 'at' in a ? sizes.a : 0);
      const bytes = ('at' in a ? sizes.a : 0) + ('at' in b ? sizes.b : 0);
      rings.set(dot, { offset: this.sharedTileBytes, bytes, a, b });
      this.sharedTileBytes += stages * bytes;
    });
    const deferred = new Set(dots.flatMap((d) => [d.a, d.b].flatMap((o) => (o ? [o.load, ...o.chain] : []))));
    const pipe: Pipeline = { loop: op, iv, stages, stage: `stage${iv.id}`, dots, rings, deferred, bodyValues, waited: false, prologueAt: [] };
    // A loop inside a pipelined loop's body has its own (or none); the outer one's resumes after it.
    const outer = this.pipe;
    this.pipe = pipe;
    this.loop(op, pipe);
    this.pipe = outer;
    // Nothing in flight past the loop, and no thread still reading a stage that a later run of the
    // loop (an outer loop's next iteration) refills.
    this.line(`${this.macro(cpAsyncMacro('wait'))}(0);`);
    this.line('__syncthreads();');
    // The first stages - 1 iterations' copies, before the loop: written now that the body has given
    // every index value its representation, then moved into place.
    const [lower, upper, step] = this.bounds(op);
    const at = this.lines.length;
    this.line(`{ // cp.async: the operands of the first ${stages - 1} iteration(s), a group per dot`);
    this.nested(() => {
      // Operands from before the loop, staged once (the first iteration's barrier shows them to all).
      for (const p of dots) for (const which of ['a', 'b'] as const) if ('fixed' in rings.get(p.dot)![which]) this.stageOperand(pipe, p, which, '0');
      for (let s = 0; s < stages - 1; s++) {
        this.line('{');
        this.nested(() => {
          this.line(`const long long next = (long long)${lower} + ${s}LL * (long long)${step};`);
          for (const p of dots) this.copiesAhead(pipe, p, `${step} > 0 && next < ${upper}`, String(s));
        });
        this.line('}');
      }
    });
    this.line('}');
    const prologue = this.lines.splice(at);
    this.lines.splice(pipe.prologueAt[0]!, 0, ...prologue);
    this.notes.set(op, `cp.async pipeline: ${stages} stages, ${dots.flatMap((p) => [p.a, p.b].filter((o) => o)).length} dot operand(s) copied ahead`);
    return true;
  }

  /** The staging of a register-path dot's a and b (mmaFragment.staging). */
  private stagingOf({ dot, format, b }: PipelinedDot) {
    const [m, k] = this.tile(dot.operands[0]!).shape as [number, number];
    return mmaFragment.staging(m, this.tile(dot.operands[1]!).shape[1]!, k, formatBytes(format), bMajorOf(format, b));
  }

  /** A pointer (stagedType) to operand a's (or b's) staging of a dot in the ring's stage `stage` (an expression). */
  private ringPointer(pipe: Pipeline, p: PipelinedDot, operand: 'a' | 'b', stage: string): string {
    const ring = pipe.rings.get(p.dot)!;
    const place = ring[operand];
    return `((${stagedType(p.format)} *)(tskc_smem + ${'fixed' in place ? place.fixed : `${ring.offset} + ${ring.bytes} * (${stage}) + ${place.at}`}))`;
  }

  /** Operand `which` of a pipelined dot, not copied ahead, stored from its registers into its place for `stage`. */
  private stageOperand(pipe: Pipeline, p: PipelinedDot, which: 'a' | 'b', stage: string): void {
    const { dot, format } = p;
    const v = dot.operands[which === 'a' ? 0 : 1]!;
    const cols = this.tile(v).shape[1]!;
    const staging = this.stagingOf(p);
    const to = this.ringPointer(pipe, p, which, stage);
    const at = (e: string) => (which === 'a' ? staging.a(`(${e}) / ${cols}`, `(${e}) % ${cols}`) : staging.bAt(`(${e}) / ${cols}`, `(${e}) % ${cols}`));
    this.forEach(this.dist(v), (s) => this.line(`if (valid) ${to}[${at(s.e)}] = ${stagedValue(format, this.at(v, s))};`));
  }

  /** One dot's copies for the iteration whose loop value is `next` (when `when` holds) into `stage`, then their group's commit. */
  private copiesAhead(pipe: Pipeline, p: PipelinedDot, when: string, stage: string): void {
    this.line(`if (${when}) {`);
    this.nested(() => this.issueCopies(pipe, p, 'next', stage));
    this.line('}');
    this.line(`${this.macro(cpAsyncMacro('commit'))}();`);
  }

  /**
   * cp.async copies of the qualifying operands of one of the loop's dots, for the iteration whose loop
   * value is `next` (an expression), into the ring's stage `stage`: the loop variable is redeclared under its
   * own name, so every index expression (they name it, never a register of the body) reads the later
   * iteration's. Each chunk of a loaded tile lands in its staging row as it is (a as [m, k], b as its
   * transpose [n, k]): 16 bytes at a time where the chunk is whole, contiguous and aligned, else lane by
   * lane with ordinary shared stores (the load's fill for the lanes off).
   */
  private issueCopies(pipe: Pipeline, p: PipelinedDot, next: string, stage: string): void {
    this.line(`const int32_t v${pipe.iv.id}[1] = { (int32_t)(${next}) };`);
    const staging = this.stagingOf(p);
    const type = stagedType(p.format);
    for (const [which, operand] of [['a', p.a], ['b', p.b]] as const) {
      if (!operand) continue;
      const load = operand.load;
      this.requireIndexValues(load.operands.slice(1), pipe);
      const tensor = load.operands[0]!.type as TensorType;
      const rank = tensor.shape.length;
      const masked = load.operands.length === rank + 3;
      // The usual layout of the tile's shape (up to 16 bytes a chunk), even where the shape has the
      // mma fragment layout (2 elements a chunk): the copies only need the operands' index expressions.
      const dist = load.operands.slice(1).every((v) => this.isIndexable(v)) ? distribute(this.tile(load.results[0]!).shape, this.threads, this.maxVec) : this.dist(load.results[0]!);
      const pointer = (this.repr.get(load.operands[0]!) as { name: string }).name;
      const rows = this.ringPointer(pipe, p, which, stage);
      this.line('{');
      this.nested(() =>
        this.accessChunks(load, dist, masked ? load.operands[rank + 1] : undefined, (lane0, whole, width) => {
          const site = this.laneSite(dist, lane0);
          const other = masked ? toStorage(tensor.dtype, this.at(load.operands[rank + 2]!, site)) : `(${type})0`;
          const bytes = width * storageBytes(tensor.dtype);
          // The loaded tile's element (row, col): a's, b's transposed (n-major) or b's own (k-major).
          const [row, col] = ['row', `chunk * ${dist.vec} + ${lane0}`];
          this.line(`${type} *const to = &${rows}[${which === 'a' ? staging.a(row, col) : operand.transposed ? staging.bAt(col, row) : staging.bAt(row, col)}];`);
          this.line(`const ${type} *const from = (const ${type} *)${pointer};`);
          if (width > 1) this.line(`if (${whole}) ${this.macro(cpAsyncMacro(bytes === 16 ? 'cg16' : 'ca'))}(to, from + off[${lane0}]${bytes === 16 ? '' : `, ${bytes}`});`);
          this.line(`${width > 1 ? 'else ' : ''}if (valid) {`);
          this.nested(() => {
            this.line('#pragma unroll');
            this.line(`for (int v = 0; v < ${width}; v++) to[v] = ok[${lane0} + v] ? from[off[${lane0} + v]] : ${other};`);
          });
          this.line('}');
        }),
      );
      this.line('}');
    }
  }

  /**
   * Throws NotPipelined unless every value the index operands are computed from inside the loop is an
   * index expression (or the loop variable): a register of the body holds this iteration's value only.
   */
  private requireIndexValues(values: readonly Value[], pipe: Pipeline): void {
    const seen = new Set<Value>();
    const visit = (v: Value): void => {
      // Values from before the loop are the same in every iteration, however they are held.
      if (v === pipe.iv || seen.has(v) || !pipe.bodyValues.has(v)) return;
      seen.add(v);
      if (this.repr.get(v)?.kind !== 'index') throw new NotPipelined();
      this.defs.get(v)?.operands.forEach(visit);
    };
    values.forEach(visit);
  }

  /**
   * A dot of a pipelined loop: its operands that are not copied ahead (nor taken from registers)
   * stored into this iteration's stage; at the loop's first such dot, the wait for this iteration's
   * copies, a barrier and the copies of iteration it + stages - 1; at the others, a barrier if they
   * stored an operand, and their copies; then the mma on the stage. (A later dot's copies refill the
   * stage its iteration it - 1 read: the first dot's barrier already has every thread past that.)
   */
  private pipelinedMmaDot(p: PipelinedDot): void {
    const pipe = this.pipe!;
    const { dot, format } = p;
    const stage = pipe.stage;
    const [sa, sb] = [this.ringPointer(pipe, p, 'a', stage), this.ringPointer(pipe, p, 'b', stage)];
    const ring = pipe.rings.get(dot)!;
    const aInRegisters = this.aInFragments(dot, { p, bodyValues: pipe.bodyValues });
    // The operands neither copied ahead, nor staged once before the loop, nor in fragments already.
    const stored = (['a', 'b'] as const).filter((which) => !p[which] && 'at' in ring[which] && !(which === 'a' && aInRegisters));
    for (const which of stored) this.stageOperand(pipe, p, which, stage);
    // Every dot's copies of this iteration (a group per dot per iteration) landed, with those of the
    // next stages - 2 iterations in flight.
    const first = !pipe.waited;
    if (first) this.line(`${this.macro(cpAsyncMacro('wait'))}(${(pipe.stages - 2) * pipe.dots.length});`);
    pipe.waited = true;
    if (first || stored.length > 0) this.line('__syncthreads();');
    const [, upper, step] = this.bounds(pipe.loop);
    this.line('{');
    this.nested(() => {
      this.line(`const long long next = i${pipe.iv.id} + ${pipe.stages - 1}LL * (long long)${step};`);
      // Iteration it + stages - 1's stage: (it - 1) % stages, the one iteration it - 1 read.
      this.copiesAhead(pipe, p, `next < ${upper}`, `(${stage} == 0 ? ${pipe.stages - 1} : ${stage} - 1)`);
    });
    this.line('}');
    this.mmaOnStaged(dot, format, aInRegisters ? undefined : sa, sb, bMajorOf(format, p.b));
  }

  private ifElse(op: Op): void {
    op.results.forEach((r) => {
      const name = this.declare(r);
      this.repr.set(r, { kind: 'regs', name, dist: this.dist(r) });
    });
    this.line(`if (${this.at(op.operands[0]!, this.uniform())}) {`);
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

/**
 * f32 transcendentals with CUDA's own f32 functions (at most 2 units in the last place from the exact
 * value, without fast-math), where the C backend rounds a double result: FP64 throughput would bound
 * memory-bound kernels such as softmax. Differences from the interpreter are within the tolerance its
 * comparisons allow after transcendentals. sqrt stays exact (sqrtf is correctly rounded).
 */
const F32_MATH: Record<string, (x: string) => string> = {
  exp: (x) => `expf(${x})`,
  exp2: (x) => `exp2f(${x})`,
  log: (x) => `logf(${x})`,
  log2: (x) => `log2f(${x})`,
  tanh: (x) => `tanhf(${x})`,
  erf: (x) => `erff(${x})`,
  rsqrt: (x) => `(1.0f / sqrtf(${x}))`,
  sigmoid: (x) => `(1.0f / (1.0f + expf(-(${x}))))`,
};

/** The CUDA vector type of `bytes` bytes (2 to 16). */
function vectorType(bytes: number): string {
  switch (bytes) {
    case 16:
      return 'uint4';
    case 8:
      return 'uint2';
    case 4:
      return 'unsigned int';
    case 2:
      return 'unsigned short';
  }
  throw new Error(`CUDA backend: no vector type of ${bytes} bytes`);
}
