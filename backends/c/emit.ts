/**
 * Portable C from Tile IR. A block's tile ops become loops over whole tiles (arrays in the block's
 * frame); the grid's blocks run in parallel with OpenMP. Every value is computed as the reference
 * interpreter defines it: elementwise ops with one rounding to the result dtype, integer arithmetic
 * exact, float reductions in double over the interpreter's 16 interleaved lanes (which vectorize),
 * float dot as one f32 fmaf per k in index order, integers in int64 with wrap-around. Results match
 * the interpreter bit for bit except after transcendental functions (within 2 units in the last place).
 *
 * The entry point of every generated file (runtime/cpu/loader.ts binds it):
 *   void tskc_kernel(void *const *args, const int64_t *symbols, const int64_t *grid, int64_t *status)
 * args[i] is the storage of tensor argument i, or a pointer to a double holding scalar argument i;
 * symbols holds the symbolic extents in the order of `CKernel.symbols`; *status is 0, or 1 + the
 * argument index of an unmasked access outside a tensor, -1 for a loop with a step <= 0, or -2 when
 * the block frame (every tile of a block, one frame per thread, on the heap) cannot be allocated.
 * Every C identifier is made here (v12, a0, ...); nothing from the user reaches the source.
 */
import type { Dtype } from '../../compiler/ir/dtype.js';
import type { Block, Kernel, Op, Value } from '../../compiler/ir/ir.js';
import { isBinary, isCompare, isUnary } from '../../compiler/ir/opcodes.js';
import { neverPositive } from '../../compiler/ir/order.js';
import type { TensorType, TileType } from '../../compiler/ir/types.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { AffineAnalysis, type BoxedAccess, addC, boxedAccess, mulC } from '../clike/affine.js';
import { PRELUDE } from '../clike/prelude.js';
import { DotEmitter, FMA8_HEAD, LANES, PACKED_PREFETCH_BYTES, type PackedDotRows, dotBlocks } from './dot.js';
import { TRANSPOSE_HEAD, swapsLastTwo } from './transpose.js';
import { TABLE_BITS, type UnpackHelper, packedGroup, unpackHelpers, unpackName } from './unpack.js';
import { isSmallFloat, smallFloatDecoders, smallFloatsOf } from '../clike/small-floats.js';
import { COMPARE_C, type ElementIndex, reduction, binaryExpr, broadcastIndex, castExpr, coordinatesOf, flatIndex, fromDouble, gridIndex, permuteIndex, size, unaryExpr, indexCoordinates } from '../clike/expressions.js';
import { bitsOf, fromBitsExpr, literal, loadElement, storageType, storeElement, toStorage, valueType } from '../clike/dtypes.js';

export interface CKernel {
  /** The complete C11 translation unit. */
  readonly source: string;
  /** The symbolic extents, in the order the entry point expects them. */
  readonly symbols: readonly string[];
}

const STATUS_BAD_STEP = -1;
/**
 * Chunks of blocks per thread in the dynamic schedule: enough that a thread ends at most about 1/32
 * of its work after the others, few enough that consecutive blocks (a rows kernel's next row, which
 * it prefetches) mostly stay on one thread. Causal flash attention, B=1 H=8 S=1024 D=64 on 2 Zen 3
 * cores: 14.3 ms with equal static shares, 9.8 with these chunks; softmax, the u4 GEMV and sgemm
 * within the VM's noise of static.
 */
const BLOCK_CHUNKS_PER_THREAD = 32;
/**
 * Streaming (non-temporal) stores: a large output written in whole aligned 64-byte lines bypasses the
 * caches, so the store does not first read each line it writes (a plain C copy ran at 27 GB/s here,
 * one with streaming stores at 38-42). Only where the output will not be read back soon: tensors of at
 * least TSKC_STREAM_MIN_BYTES (the L3 of the machines measured is 32 MiB), which -D can change.
 */
const STREAM_HEAD = [
  '#if defined(__GNUC__) && defined(__AVX__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
  '#include <immintrin.h>',
  '#define TSKC_STREAM 1',
  '#ifndef TSKC_STREAM_MIN_BYTES',
  '#define TSKC_STREAM_MIN_BYTES (32ull << 20)',
  '#endif',
  '/* A cache line, 64 bytes from src (any alignment) to dst (64-byte aligned), past the caches. */',
  'static inline void tskc_stream64(void *dst, const void *src) {',
  '  _mm256_stream_si256((__m256i *)dst, _mm256_loadu_si256((const __m256i *)src));',
  '  _mm256_stream_si256((__m256i *)dst + 1, _mm256_loadu_si256((const __m256i *)src + 1));',
  '}',
  '#endif',
];
/**
 * Element e = o * inner + col of the loops over the rows of a boxed access (o the row, col the lane
 * along the tile's last dim), with its coordinates: an operand broadcast along the rows then reads
 * element col of its own row, where digits of e (e % inner) kept GCC from vectorizing the loop
 * (rotary's cos and sin, one head per row).
 */
function rowElement(shape: readonly number[]): ElementIndex {
  if (shape.length === 0) return flatIndex('e'); // a scalar store has no row loops
  const outer = shape.slice(0, -1);
  return { flat: 'e', shape, coords: [...(outer.length ? coordinatesOf(flatIndex('o'), outer) : []), 'col'] };
}

/** Bytes a streaming store writes at once (tskc_stream64): whole lines, so that no line is written in part. */
const STREAM_CHUNK_BYTES = 64;
/**
 * Elements per chunk of a flat loop that prefetches the next block's row (nextRowMarks), with a mark
 * every 16 elements (a cache line of f32): 32 ran softmax's exp pass in 6.9 ms, 16 in 7.5.
 */
const ROW_CHUNK = 32;
/** The shortest row streamed: past the plain stores around it, at least 3 whole lines. */
const STREAM_MIN_ROW_BYTES = 4 * STREAM_CHUNK_BYTES;
/**
 * The interpreter's floats have subnormals. A host library may have set flush-to-zero or
 * denormals-are-zero (x86's MXCSR bits 15 and 6; gcc's -ffast-math links code that sets both), which
 * would turn subnormal operands and results into zeros (and the small floats decoded by shifts,
 * which pass through f32 subnormals): each thread clears them while it runs a kernel's blocks, and
 * restores them after.
 */
const IEEE_HEAD = [
  '#if (defined(__x86_64__) || defined(__i386__)) && defined(__SSE__)',
  '#include <xmmintrin.h>',
  '#define TSKC_IEEE_ENTER const unsigned tskc_csr = _mm_getcsr(); _mm_setcsr(tskc_csr & ~0x8040u);',
  '#define TSKC_IEEE_LEAVE _mm_setcsr(tskc_csr);',
  '#else',
  '#define TSKC_IEEE_ENTER',
  '#define TSKC_IEEE_LEAVE',
  '#endif',
];
/** omp_get_max_threads, for the schedule's chunks (BLOCK_CHUNKS_PER_THREAD), where OpenMP is on. */
const OPENMP_HEAD = ['#ifdef _OPENMP', '#include <omp.h>', '#endif'];
const STATUS_NO_MEMORY = -2;

const C_TYPE_BYTES: Record<string, number> = { float: 4, int32_t: 4, uint32_t: 4, uint8_t: 1, double: 8, int64_t: 8 };

/**
 * The helper (unpack.ts) that writes a packed load's values straight into its tile, converted to f32
 * where `castTo` (the cast that is the load's one use) asks for it; undefined where the codes go
 * through a tile of uint32_t (bools, small floats of over 5 bits not converted to f32, other casts)
 * or are not packed.
 */
function directUnpack(d: Dtype, castTo: Dtype | undefined): UnpackHelper | undefined {
  if (d.bits >= 8) return undefined;
  const table: UnpackHelper | undefined = isSmallFloat(d) && d.bits <= TABLE_BITS ? { bits: d.bits, to: 'small float', format: d } : undefined;
  if (!castTo) return d.kind === 'unsigned' ? { bits: d.bits, to: 'u32' } : table;
  if (castTo.name !== 'f32') return undefined;
  if (d.kind === 'unsigned') return { bits: d.bits, to: 'unsigned f32' };
  if (d.kind === 'signed') return { bits: d.bits, to: 'signed f32' };
  // Converted to f32, wider small floats are decoded by arithmetic (unpack.ts: smallFloatByShifts).
  return isSmallFloat(d) ? { bits: d.bits, to: 'small float', format: d } : undefined;
}

export function emitC(kernel: Kernel): CKernel {
  return new CEmitter(kernel).emit();
}

class CEmitter {
  private readonly lines: string[] = [];
  private indent = '  ';
  private readonly names = new Map<Value, string>();
  private readonly symbols: string[] = [];
  private readonly argIndex = new Map<Value, number>();
  private readonly defs = new Map<Value, Op>();
  /** Values computed again at each use because they are one operation on a row read in place (cheapOfRow). */
  private readonly cheapRows = new Set<Value>();
  /**
   * Rows read in place from their tensors (streamedRow), by the name of the pointer the uses read
   * through: the row's bytes, and the name of the row's address in its tensor, which the prefetches
   * of the next row count from whether the row was read in place or copied into its tile.
   */
  private readonly rowSources = new Map<string, { readonly bytes: number; readonly address: string }>();
  /** Views and reshapes emitted as pointers to another value's array: the value owning the array. */
  private readonly aliases = new Map<Value, Value>();
  /** Values whose array is another's, named before their op is emitted (accumulatesInPlace). */
  private readonly placed = new Set<Value>();
  /** Values computed where they are used (see inlineable), as expressions of an element index. */
  private readonly inlined = new Map<Value, (e: ElementIndex) => string>();
  /** Tiles computed inside their one user (see inlineable), with their expressions' depth. */
  private readonly inlinedDepth = new Map<Value, number>();
  /** Index and mask tiles computed again at each use (see recomputable), with their expressions' depth. */
  private readonly recomputed = new Map<Value, number>();
  private readonly uses = new Map<Value, { count: number; user: Op; block: Block }>();
  /** Every op that reads a value, once per operand slot. */
  private readonly users = new Map<Value, Op[]>();
  /** The unpacking helpers that loads of packed elements call (unpack.ts). */
  private readonly unpacks: UnpackHelper[] = [];
  /** Whether a dot has a TSKC_FMA8 or TSKC_BYTES8 block (FMA8_HEAD then goes in the source). */
  private fma8 = false;
  /** Whether a store has a streaming path (STREAM_HEAD then goes in the source). */
  private streams = false;
  /** Whether a permute copies a tile through tskc_transpose32 (TRANSPOSE_HEAD then goes in the source). */
  private transposes = false;
  /** The b operands of dots that unpack their rows from words (see packedDotRows). */
  private readonly dotRows = new Map<Value, PackedDotRows>();
  /** Rows read where they are used, and casts of them (see streamedRow). */
  private readonly streamed = new Set<Value>();
  /** Casts whose values their operand's load wrote (see load). */
  private readonly castsAtLoads = new Set<Op>();
  /** Bytes of the block frame: every tile array lives there, on the heap, not on a thread's stack. */
  private frameBytes = 0;
  /** The mask whose lanes are all on in the version of the kernel body being emitted (see versioned). */
  private maskOn: Value | undefined;
  /** Where the two versions of the kernel body lie in the lines (see versioned and nextRowPrefetches). */
  private versions: { whole: [number, number]; otherwise: [number, number] } | undefined;
  private currentBlock: Block | undefined;
  private readonly affine = new AffineAnalysis(
    (v) => this.defs.get(v),
    (v) => `${this.name(v)}[0]`,
  );

  constructor(private readonly kernel: Kernel) {
    const count = (b: Block) => {
      for (const op of b.ops) {
        for (const v of op.operands) {
          this.uses.set(v, { count: (this.uses.get(v)?.count ?? 0) + 1, user: op, block: b });
          this.users.set(v, [...(this.users.get(v) ?? []), op]);
        }
        op.regions.forEach(count);
      }
    };
    count(kernel.body);
    kernel.args.forEach((a, i) => {
      this.argIndex.set(a, i);
      if (a.type.kind === 'tensor') for (const d of a.type.shape) if (typeof d === 'string' && !this.symbols.includes(d)) this.symbols.push(d);
    });
  }

  emit(): CKernel {
    const k = this.kernel;
    const head = [
      `/* Generated by tskc from kernel ${k.name}. */`,
      PRELUDE,
      smallFloatDecoders(smallFloatsOf(k), 'static const'),
    ];
    const open = [
      'static int64_t tskc_block(char *const frame, void *const *args, const int64_t *symbols, const int64_t *pid, const int64_t *grid) {',
      '  (void)frame; (void)args; (void)symbols; (void)pid; (void)grid;',
    ];
    // Tensor pointers and symbol values are read once, into locals: loops then see them as invariant.
    k.args.forEach((a, i) => {
      const name = `a${i}`;
      this.names.set(a, name);
      if (a.type.kind === 'tile') {
        // A number becomes a value of the dtype as the interpreter converts it: rounded, or saturated.
        this.line(`${valueType(a.type.dtype)} ${name}[1] = { ${fromDouble(a.type.dtype, `*(const double *)args[${i}]`)} };`);
      } else {
        this.line(`void *const ${name} = args[${i}];`);
      }
    });
    this.symbols.forEach((_, i) => this.line(`const int64_t s${i} = symbols[${i}];`));
    this.block(k.body);
    this.line('return 0;');
    const body = this.nextRowPrefetches(this.lines.splice(0));
    const entry = [
      '}',
      '',
      'void tskc_kernel(void *const *args, const int64_t *symbols, const int64_t *grid, int64_t *status) {',
      '  const int64_t blocks = grid[0] * grid[1] * grid[2];',
      '  int64_t failed = 0;',
      // Blocks are handed out in chunks, about BLOCK_CHUNKS_PER_THREAD to a thread, as threads come
      // free: blocks of unequal work (a causal attention's later query rows) and a thread the VM's
      // host stalls no longer hold the others waiting at the end, as equal static shares did.
      '#ifdef _OPENMP',
      `  const int64_t chunk = blocks / (${BLOCK_CHUNKS_PER_THREAD} * (int64_t)omp_get_max_threads());`,
      '#endif',
      '  #pragma omp parallel',
      '  {',
      '    TSKC_IEEE_ENTER',
      `    char *const frame = aligned_alloc(64, ${Math.max(this.frameBytes, 64)});`,
      `    if (frame == NULL) __atomic_store_n(&failed, ${STATUS_NO_MEMORY}, __ATOMIC_RELAXED);`,
      '    #pragma omp for schedule(dynamic, chunk > 1 ? chunk : 1)',
      '    for (int64_t b = 0; b < blocks; b++) {',
      '      if (__atomic_load_n(&failed, __ATOMIC_RELAXED) != 0) continue;',
      '      const int64_t pid[3] = { b / (grid[1] * grid[2]), (b / grid[2]) % grid[1], b % grid[2] };',
      '      const int64_t s = tskc_block(frame, args, symbols, pid, grid);',
      '      if (s != 0) __atomic_store_n(&failed, s, __ATOMIC_RELAXED);',
      '    }',
      // Streaming stores are weakly ordered: drained before the thread's blocks count as done.
      ...(this.streams ? ['    #ifdef TSKC_STREAM', '    _mm_sfence();', '    #endif'] : []),
      '    free(frame);',
      '    TSKC_IEEE_LEAVE',
      '  }',
      '  *status = failed;',
      '}',
      '',
    ];
    return { source: [...head, ...IEEE_HEAD, ...OPENMP_HEAD, ...(this.fma8 ? FMA8_HEAD : []), ...(this.streams ? STREAM_HEAD : []), ...(this.transposes ? TRANSPOSE_HEAD : []), unpackHelpers(this.unpacks), ...open, ...body, ...entry].join('\n'), symbols: [...this.symbols] };
  }

  private line(s: string): void {
    this.lines.push(this.indent + s);
  }

  private name(v: Value): string {
    let n = this.names.get(v);
    if (n === undefined) this.names.set(v, (n = `v${v.id}`));
    return n;
  }

  private tile(v: Value): TileType {
    if (v.type.kind !== 'tile') throw new Error(`C backend: %${v.id} is not a tile`);
    return v.type;
  }

  /** Declares the array of a result value (unless it was given one already: see accumulatesInPlace). */
  private declare(v: Value): string {
    if (this.placed.has(v)) return this.name(v);
    const t = this.tile(v);
    return this.array(this.name(v), valueType(t.dtype), size(t.shape));
  }

  /**
   * An array of `count` elements of C type `type`: scalars on the stack, tiles at their own offset
   * in the block frame (large tiles would overflow a thread's stack). Each array keeps its offset for
   * the whole kernel, so no two arrays share bytes.
   */
  private array(name: string, type: string, count: number): string {
    if (count <= 1) {
      this.line(`${type} ${name}[1];`);
      return name;
    }
    const offset = this.frameBytes;
    this.frameBytes += Math.ceil((count * C_TYPE_BYTES[type]!) / 64) * 64;
    this.line(`${type} *const ${name} = (${type} *)(frame + ${offset});`);
    return name;
  }

  /** Bytes of `count` elements of v's C type. */
  private bytes(v: Value): string {
    const t = this.tile(v);
    return `${Math.max(size(t.shape), 1) * C_TYPE_BYTES[valueType(t.dtype)]!}`;
  }

  /** Element `e` (a flat C index expression, or an element with its coordinates) of tile v. */
  private elem(v: Value, e: string | ElementIndex): string {
    const at = typeof e === 'string' ? flatIndex(e) : e;
    const f = this.inlined.get(v);
    return f ? `(${f(at)})` : `${this.name(v)}[${at.flat}]`;
  }

  /**
   * Whether v is computed inside its users instead of into an array of its own: loop fusion by
   * substitution. Only for tiles (scalars are computed once anyway), read element by element: an index
   * or mask tile at every use, wherever it is (recomputable); any other tile only where it has a single
   * use in the same block (not inside a loop body, which would recompute it each iteration).
   */
  private inlineable(v: Value): boolean {
    const use = this.uses.get(v);
    if (size(this.tile(v).shape) <= 1) return false;
    if (this.recomputable(v)) return true;
    if (use?.count !== 1 || use.block !== this.currentBlock || !INLINE_CONSUMERS.has(use.user.opcode)) return false;
    // A chain of single-use ops becomes one expression: past MAX_INLINED_DEPTH (thousands of `t = t + 1`
    // overflowed the stack that builds it) the chain goes through an array.
    const depth = 1 + Math.max(0, ...(this.defs.get(v)?.operands ?? []).map((o) => this.expressionDepth(o)));
    if (depth > MAX_INLINED_DEPTH) return false;
    this.inlinedDepth.set(v, depth);
    return true;
  }

  /** How deep v's expression is where it is computed at its uses (0 where it is read from an array). */
  private expressionDepth(v: Value): number {
    return this.inlinedDepth.get(v) ?? this.recomputed.get(v) ?? 0;
  }

  /**
   * Whether v is an index or mask tile (an arange, a constant, a broadcast of a scalar, integer and
   * boolean arithmetic and comparisons of such tiles and scalars) that every user reads element by
   * element: it is then computed again at each use, an add or a compare in a loop that runs anyway,
   * instead of into an array first (a row kernel wrote its column indices and its mask, 5 bytes an
   * element, for every row; 10% of a softmax here).
   */
  private recomputable(v: Value): boolean {
    const op = this.defs.get(v);
    if (op && this.tile(v).dtype.kind === 'float' && this.cheapOfRow(op)) return true;
    if (!op || !RECOMPUTED.has(op.opcode) || (op.opcode !== 'const' && this.tile(v).dtype.kind === 'float')) return false;
    if (!(this.users.get(v) ?? []).every((u) => INLINE_CONSUMERS.has(u.opcode))) return false;
    const depth = 1 + Math.max(0, ...op.operands.map((o) => (size(this.tile(o).shape) <= 1 ? 0 : (this.recomputed.get(o) ?? Infinity))));
    if (depth > MAX_RECOMPUTED_DEPTH) return false;
    this.recomputed.set(v, depth);
    return true;
  }

  /**
   * Whether op is one float add, sub or mul of a row read in place (streamedRow), or of such a value,
   * and scalars or recomputed tiles, read element by element: computed again at each use too, one
   * operation where an array costs a store and a load per element (log-softmax's x - max, read by its
   * exp pass and its store: 11.1 -> 10.0 ms for 4096x4096 in a C driver).
   */
  private cheapOfRow(op: Op): boolean {
    // Not where: a select per element, recomputed in a reduction, kept GCC from vectorizing layer
    // norm's variance pass (5.9 -> 14.3 ms).
    if (!['add', 'sub', 'mul'].includes(op.opcode)) return false;
    if (!(this.users.get(op.results[0]!) ?? []).every((u) => INLINE_CONSUMERS.has(u.opcode))) return false;
    const row = (o: Value) => this.streamed.has(o) || this.cheapRows.has(o);
    const rows = op.operands.filter(row);
    if (rows.length !== 1 || !op.operands.every((o) => row(o) || this.recomputed.has(o) || this.scalarBroadcast(o))) return false;
    const depth = 1 + Math.max(...op.operands.map((o) => this.expressionDepth(o)));
    if (depth > MAX_INLINED_DEPTH) return false;
    this.inlinedDepth.set(op.results[0]!, depth);
    this.cheapRows.add(op.results[0]!);
    return true;
  }

  /** Whether v is a scalar, or a broadcast, view or reshape of one: one value for every element. */
  private scalarBroadcast(v: Value): boolean {
    if (size(this.tile(v).shape) <= 1) return true;
    const op = this.defs.get(v);
    return op !== undefined && ['broadcast', 'view', 'reshape'].includes(op.opcode) && this.scalarBroadcast(op.operands[0]!);
  }

  /** `out[e] = expr(e)` for every element e of v, or v inlined into its user. */
  private elementwise(v: Value, expr: (e: ElementIndex) => string): void {
    if (this.inlineable(v)) {
      this.inlined.set(v, expr);
      return;
    }
    const n = this.declare(v);
    this.eachElement(this.tile(v).shape, (e) => `${n}[${e.flat}] = ${expr(e)};`);
  }

  /**
   * A loop over the elements of a tile of `shape`, running `statement` for each. A tile of two or more
   * dims with at least 8 elements in its last dim is walked one loop per dim, so that an operand
   * broadcast along the last dim is indexed by the loop's coordinates (row o reads scale[o]), not by
   * divisions of the flat index: those kept gcc from vectorizing the low-bit GEMM's per-row zero
   * points and scales (21% of its time, one element at a time, when it dequantized its codes).
   */
  private eachElement(shape: readonly number[], statement: (e: ElementIndex) => string): void {
    const last = shape[shape.length - 1] ?? 1;
    if (shape.length < 2 || last < 8 || size(shape) === last) {
      const count = size(shape);
      const body = statement(flatIndex('e'));
      const marks = count >= 2 * ROW_CHUNK ? Array.from({ length: ROW_CHUNK / 16 }, (_, i) => this.nextRowMarks(body, i === 0 ? 'e0' : `e0 + ${16 * i}`)).join('') : '';
      if (!marks) {
        this.line(`for (int64_t e = 0; e < ${count}; e++) ${body}`);
        return;
      }
      // Chunks of two cache lines of f32 (the inner loop still vectorizes), each line with its mark.
      const whole = count - (count % ROW_CHUNK);
      this.line(`for (int64_t e0 = 0; e0 < ${whole}; e0 += ${ROW_CHUNK}) { ${marks}for (int64_t e = e0; e < e0 + ${ROW_CHUNK}; e++) ${body} }`);
      if (whole < count) this.line(`for (int64_t e = ${whole}; e < ${count}; e++) ${body}`);
      return;
    }
    const coords = shape.map((n, d) => (n === 1 ? '0' : `c${d}`));
    const loops = shape.flatMap((n, d) => (n === 1 ? [] : [`for (int64_t c${d} = 0; c${d} < ${n}; c${d}++)`]));
    this.line(`${loops.join(' ')} ${statement(gridIndex(shape, coords))}`);
  }

  /** The extent `axis` of a tensor argument, as a C expression. */
  private extent(t: TensorType, axis: number): string {
    const d = t.shape[axis]!;
    return typeof d === 'number' ? `${d}` : `s${this.symbols.indexOf(d)}`;
  }

  /** The ops of a block; a region's closing yield is handled by its op (copyYield). */
  private block(b: Block): void {
    const outer = this.currentBlock;
    this.currentBlock = b;
    const ops = b.ops.filter((op) => op.opcode !== 'yield');
    for (const [i, op] of ops.entries()) {
      const whole = b === this.kernel.body && !this.versions ? this.wholeMask(op) : undefined;
      if (whole) {
        this.versioned(whole, ops.slice(i));
        break;
      }
      this.op(op);
    }
    this.currentBlock = outer;
  }

  /**
   * For a where over a tile mask whose lanes can be decided all on at run time (AffineAnalysis.allOn:
   * a row's `cols < n` when the row fills the block), the mask and that C condition.
   */
  private wholeMask(op: Op): { mask: Value; condition: string } | undefined {
    if (op.opcode !== 'where') return undefined;
    const mask = op.operands[0]!;
    if (mask.type.kind !== 'tile' || size(mask.type.shape) <= 1 || !this.sameTile(op.results[0]!, op.operands[1]!)) return undefined;
    const condition = this.affine.allOn(mask, (v) => this.tile(v).shape, (v) => this.elem(v, '0'));
    return condition ? { mask, condition } : undefined;
  }

  /**
   * The rest of the kernel body twice: where the mask's lanes are all on, with every where over it
   * read as its first operand (a block whose row fills the tile, the common case), and as it is
   * otherwise. A where selects per element, so its value is an array of its own, read back by each
   * later pass; without it the value is an expression of the row that each pass computes again
   * (cheapOfRow) and that GCC vectorizes: layer norm 4096x4096 in a C driver, 5.36 -> 4.31 ms. The two
   * versions never run together, so their arrays share the frame's bytes past the split.
   */
  private versioned(whole: { mask: Value; condition: string }, ops: readonly Op[]): void {
    const state = this.passState();
    const frameStart = this.frameBytes;
    /** The ops, one level deeper; the lines they took. */
    const emit = (): [number, number] => {
      const from = this.lines.length;
      this.nested(() => ops.forEach((op) => this.op(op)));
      return [from, this.lines.length];
    };
    this.line(`if (${whole.condition}) { /* every lane of ${this.name(whole.mask)} on */`);
    this.maskOn = whole.mask;
    const wholeLines = emit();
    this.maskOn = undefined;
    const wholeFrame = this.frameBytes;
    this.restorePassState(state);
    this.frameBytes = frameStart;
    this.line('} else {');
    this.versions = { whole: wholeLines, otherwise: emit() };
    this.line('}');
    this.frameBytes = Math.max(this.frameBytes, wholeFrame);
  }

  /**
   * What emitting ops records about values, which a second version of the body must not inherit from
   * the first (versioned). Not rowSources: a row's pointer has the same name and bytes in both.
   */
  private passRecords(): (Map<unknown, unknown> | Set<unknown>)[] {
    return [this.cheapRows, this.aliases, this.placed, this.inlined, this.recomputed, this.dotRows, this.streamed, this.castsAtLoads];
  }

  /** Copies of passRecords, in its order. */
  private passState(): (Map<unknown, unknown> | Set<unknown>)[] {
    return this.passRecords().map((r) => (r instanceof Map ? new Map(r) : new Set(r)));
  }

  /** passRecords refilled from copies that passState made. */
  private restorePassState(state: readonly (Map<unknown, unknown> | Set<unknown>)[]): void {
    this.passRecords().forEach((record, i) => {
      const copy = state[i]!;
      record.clear();
      if (record instanceof Map) for (const [k, v] of copy as Map<unknown, unknown>) record.set(k, v);
      else for (const k of copy as Set<unknown>) record.add(k);
    });
  }

  /** Whether tiles a and b have the same shape and dtype (a where's type rule; checked as a guard). */
  private sameTile(a: Value, b: Value): boolean {
    if (a.type.kind !== 'tile' || b.type.kind !== 'tile') return false;
    const [ta, tb] = [a.type, b.type];
    return ta.dtype.name === tb.dtype.name && ta.shape.length === tb.shape.length && ta.shape.every((n, i) => n === tb.shape[i]);
  }

  /**
   * v as another name of `same`, a value of the same shape and dtype: its array, or its expression
   * where that is cheap to compute at each use (a row, one operation on a row, an index tile) and
   * every user of v reads it element by element. Otherwise an expression of `same` (inlined because
   * it had one use: an exp, say) is computed as v's own, once: into an array unless v has one use.
   */
  private sameValue(v: Value, same: Value): void {
    const expr = this.inlined.get(same);
    const cheap = this.cheapRows.has(same) || this.streamed.has(same) || this.recomputed.has(same);
    if (expr && !(cheap && (this.users.get(v) ?? []).every((u) => INLINE_CONSUMERS.has(u.opcode)))) return this.elementwise(v, expr);
    if (expr) {
      this.inlined.set(v, expr);
      if (this.cheapRows.has(same)) this.cheapRows.add(v);
      if (this.streamed.has(same)) this.streamed.add(v);
      const depth = this.recomputed.get(same);
      if (depth !== undefined) this.recomputed.set(v, depth);
      return;
    }
    this.line(`${valueType(this.tile(v).dtype)} *const ${this.name(v)} = ${this.name(same)};`);
    this.aliases.set(v, this.arrayOf(same));
  }

  private op(op: Op): void {
    op.results.forEach((r) => this.defs.set(r, op));
    const res = op.results[0];
    const x = (i: number) => this.name(op.operands[i]!);
    const inType = op.operands[0]?.type;
    const inDtype = inType?.dtype;
    const at = (i: number, e: ElementIndex) => this.elem(op.operands[i]!, e);
    if (isUnary(op.opcode)) {
      const nonpositive = op.opcode === 'exp' && neverPositive(op.operands[0]!, (v) => this.defs.get(v));
      return this.elementwise(res!, (e) => unaryExpr(op.opcode, this.tile(res!).dtype, at(0, e), nonpositive));
    }
    if (isBinary(op.opcode)) return this.elementwise(res!, (e) => binaryExpr(op.opcode, this.tile(res!).dtype, at(0, e), at(1, e)));
    if (isCompare(op.opcode)) return this.elementwise(res!, (e) => `(uint8_t)(${at(0, e)} ${COMPARE_C[op.opcode]} ${at(1, e)})`);
    const d = res ? this.tile(res).dtype : undefined;
    switch (op.opcode) {
      case 'program_id':
        return this.elementwise(res!, () => `(int32_t)pid[${op.attrs['axis']}]`);
      case 'num_programs':
        return this.elementwise(res!, () => `(int32_t)grid[${op.attrs['axis']}]`);
      case 'dim':
        return this.elementwise(res!, () => `(int32_t)${this.extent(inType as TensorType, op.attrs['axis'] as number)}`);
      case 'const':
        return this.elementwise(res!, () => literal(d!, convertNumber(d!, op.attrs['value'] as number)));
      case 'arange':
        return this.elementwise(res!, (e) => `(int32_t)(${op.attrs['start']} + ${e.flat})`);
      case 'load':
        return this.load(op);
      case 'store':
        return this.store(op);
      case 'alloc_shared': {
        // Zeroed, as the interpreter allocates it: reading before the first store is defined.
        const n = this.declare(res!);
        this.line(`memset(${n}, 0, sizeof(${valueType(d!)}) * ${size(this.tile(res!).shape)});`);
        return;
      }
      case 'load_shared':
      case 'store_shared': {
        const [dst, src] = op.opcode === 'load_shared' ? [this.declare(res!), x(0)] : [x(0), x(1)];
        const t = this.tile(op.operands[op.opcode === 'load_shared' ? 0 : 1]!);
        this.line(`memcpy(${dst}, ${src}, sizeof(${valueType(t.dtype)}) * ${size(t.shape)});`);
        return;
      }
      case 'where':
        // In the version where the mask is all on (versioned): the first operand.
        if (op.operands[0] === this.maskOn && this.sameTile(res!, op.operands[1]!)) return this.sameValue(res!, op.operands[1]!);
        return this.elementwise(res!, (e) => `tskc_where_${valueType(d!)}(${at(0, e)}, ${at(1, e)}, ${at(2, e)})`);
      case 'cast':
        if (this.castsAtLoads.has(op)) return; // computed by its load
        // A cast of a row read where it is used (streamedRow) is converted where it is used too, by
        // each reader: a conversion costs less than a pass over a tile.
        if (this.streamed.has(op.operands[0]!) && this.readsByElement(res!)) {
          this.streamed.add(res!);
          this.inlined.set(res!, (e) => castExpr(inDtype!, d!, at(0, e)));
          return;
        }
        return this.elementwise(res!, (e) => castExpr(inDtype!, d!, at(0, e)));
      case 'bitcast':
        return this.elementwise(res!, (e) => fromBitsExpr(d!, bitsOf(inDtype!, at(0, e))));
      case 'reduce':
        return this.reduce(op);
      case 'broadcast':
        return this.gather(op, broadcastIndex(this.tile(op.operands[0]!).shape, this.tile(res!).shape));
      case 'view':
      case 'reshape':
        // Same elements in the same order: an alias of a materialized tile, else the same expression.
        if (!this.inlined.has(op.operands[0]!) && !this.inlineable(res!)) {
          this.line(`${valueType(d!)} *const ${this.name(res!)} = ${x(0)};`);
          this.aliases.set(res!, this.arrayOf(op.operands[0]!));
          return;
        }
        return this.elementwise(res!, (e) => at(0, e));
      case 'permute':
        return this.permute(op);
      case 'dot':
        return this.dot(op);
      case 'for':
        return this.forLoop(op);
      case 'if':
        return this.ifElse(op);
      case 'barrier':
        return; // the blocks' tile ops run in program order already
      case 'yield':
        throw new Error('C backend: yield is emitted by its for or if');
    }
    throw new Error(`C backend: no rule for ${op.opcode}`);
  }

  /** out[e] = in[source(e)] for a static index map (broadcast, permute). */
  /**
   * A permute: computed at each use where it can be, else copied. A transpose of the last two dims of
   * a 32-bit tile copies in blocks (backends/c/transpose.ts), from an array of the source written in
   * its own order first where the source is computed at its uses (the low-bit GEMM's centred codes:
   * element by element in transposed order, neither side vectorizes); other permutes copy
   * element by element.
   */
  private permute(op: Op): void {
    const [source, res] = [op.operands[0]!, op.results[0]!];
    const shape = this.tile(source).shape;
    const perm = op.attrs['perm'] as number[];
    const type = valueType(this.tile(res).dtype);
    const [rows, cols] = shape.slice(-2) as [number, number];
    // A side of 1: the transpose keeps the elements' order, and the element copy is a plain copy.
    if (this.inlineable(res) || !swapsLastTwo(perm) || C_TYPE_BYTES[type] !== 4 || rows === 1 || cols === 1) {
      return this.gather(op, permuteIndex(shape, perm));
    }
    let from = this.name(source);
    if (this.inlined.has(source)) {
      from = this.array(`p${res.id}`, type, size(shape));
      this.eachElement(shape, (e) => `${from}[${e.flat}] = ${this.elem(source, e)};`);
    }
    const out = this.declare(res);
    this.transposes = true;
    this.line(`for (int64_t t = 0; t < ${size(shape.slice(0, -2))}; t++) tskc_transpose32(${from} + t * ${rows * cols}, ${out} + t * ${rows * cols}, ${rows}, ${cols});`);
  }

  private gather(op: Op, source: (e: ElementIndex) => ElementIndex): void {
    this.elementwise(op.results[0]!, (e) => this.elem(op.operands[0]!, source(e)));
  }

  /** For lane e of a load or store: the bounds check (1 when outside) and the element offset. */
  private offsets(op: Op): { checks: string; offset: string } {
    const tensor = op.operands[0]!.type as TensorType;
    const idx = (dIndex: number) => `(int64_t)${this.elem(op.operands[1 + dIndex]!, 'e')}`;
    const strides = tensor.shape.map((_, dIndex) => tensor.shape.slice(dIndex + 1).map((__, k) => this.extent(tensor, dIndex + 1 + k)));
    // Bitwise | and & (each comparison is 0 or 1): no short circuit, so no branch in the loop.
    const checks = tensor.shape.map((_, dIndex) => `(${idx(dIndex)} < 0) | (${idx(dIndex)} >= ${this.extent(tensor, dIndex)})`).join(' | ');
    const offset = tensor.shape.map((_, dIndex) => [idx(dIndex), ...strides[dIndex]!].join(' * ')).join(' + ') || '0';
    return { checks: checks || '0', offset };
  }

  /**
   * Loads and stores are written without branches so that gcc vectorizes them (as gathers and
   * scatters): every lane computes whether it is on (its mask) and inside the tensor, off lanes read
   * element 0 (never past the tensor: an empty tensor takes a separate path) and take the fill value,
   * and an on lane outside the tensor sets a flag that fails the block after the loop.
   */
  /**
   * When the offsets of a load or store are affine in the tile coordinates with stride 1 along the
   * last dim, the element offset of row o (all dims but the last) and lane j of the last dim is
   * rowBase(o) + j: the access can be a contiguous (masked) vector access.
   */
  private contiguous(op: Op, shape: readonly number[]): { outer: number; inner: number; rowBase: string } | undefined {
    const tensor = op.operands[0]!.type as TensorType;
    if (tensor.dtype.bits < 8 || shape.length === 0) return undefined;
    const forms = tensor.shape.map((_, d) => this.affine.of(op.operands[1 + d]!));
    if (forms.some((f) => f === undefined)) return undefined;
    const stride = (d: number) => tensor.shape.slice(d + 1).reduce<string>((acc, _, k) => mulC(acc, this.extent(tensor, d + 1 + k)), '1');
    let base = '0';
    const coefs = shape.map(() => '0');
    forms.forEach((f, d) => {
      base = addC(base, mulC(`(int64_t)${f!.base}`, stride(d)));
      f!.coefs.forEach((c, k) => (coefs[k] = addC(coefs[k]!, mulC(c, stride(d)))));
    });
    if (coefs[coefs.length - 1] !== '1') return undefined;
    const inner = shape[shape.length - 1]!;
    const rows = shape.slice(0, -1);
    const rowCoords = indexCoordinates('o', rows);
    const rowBase = rows.reduce((acc, _, k) => addC(acc, mulC(coefs[k]!, `(${rowCoords[k]})`)), base);
    return { outer: size(rows), inner, rowBase: `(int64_t)(uint64_t)${rowBase}` };
  }

  /**
   * Loads and stores are written without branches so that gcc vectorizes them: every lane computes
   * whether it is on (its mask) and inside the tensor, off lanes take the fill value without reading
   * (a conditional load: a masked vector load or gather),
   * and an on lane outside the tensor sets a flag that fails the block after the loop. Contiguous
   * accesses (see contiguous()) become masked vector accesses; a lane whose real offset differs from
   * the affine one (i32 wrap-around) sends the whole access down the general path, a gather.
   */
  /**
   * The loops shared by loads and stores. For every lane e, `ok` says whether it is on (`on`, its
   * mask) and inside the tensor; an on lane outside sets `bad`. `lane(ok, offset)` emits the lane's
   * work. A contiguous access (see contiguous()) first runs with the affine offset `at`, counting a
   * lane as ok only where `at` is the real offset; if any lane differs, the general loop runs again
   * over all lanes (loads recompute, stores rewrite the same values: both harmless).
   */
  /** See boxedAccess: one range check for the whole access instead of one per lane. */
  private boxed(op: Op, shape: readonly number[], packed: boolean): BoxedAccess | undefined {
    const tensor = op.operands[0]!.type as TensorType;
    const indices = op.operands.slice(1, 1 + tensor.shape.length);
    return boxedAccess(tensor, shape, indices.map((v) => this.affine.of(v)), indices.map((v) => this.elem(v, '0')), (d) => this.extent(tensor, d), packed, false, true);
  }

  /**
   * `packedRow`, for loads of packed elements, emits (at the given indent, inside the loop over rows
   * `o` with element offset `row` and flag `whole`) code that reads a whole row through its words when
   * the row starts on a word, and goes on to the next row; other rows take the lane-by-lane loops.
   */
  private accessLoops(
    op: Op,
    shape: readonly number[],
    on: string,
    indent: string,
    lane: (ok: string, offset: string, inRow?: boolean) => string,
    packedRow?: (ind: string) => void,
    streamRow?: (ind: string) => void,
  ): void {
    const { checks, offset } = this.offsets(op);
    const general = (ind: string) => {
      this.line(`${ind}for (int64_t e = 0; e < ${size(shape)}; e++) {`);
      this.line(`${ind}  const int ok = ${on} & !(${checks});`);
      this.line(`${ind}  bad |= ${on} & !ok;`);
      this.line(`${ind}  ${lane('ok', offset)}`);
      this.line(`${ind}}`);
    };
    const box = this.boxed(op, shape, packedRow !== undefined);
    if (box) {
      // When the mask is decidable for the whole tile (see AffineAnalysis.allOn), rows skip its check.
      const mask = op.opcode === 'load' ? op.operands[(op.operands[0]!.type as TensorType).shape.length + 1] : op.operands[(op.operands[0]!.type as TensorType).shape.length + 2];
      const allOn = mask && on !== '1' ? this.affine.allOn(mask, (v) => this.tile(v).shape, (v) => this.elem(v, '0')) : undefined;
      if (allOn) this.line(`${indent}const int all_on = ${allOn};`);
      // Every lane inside and affine: rows are runs of memory; only the mask decides per lane.
      this.line(`${indent}if (${box.guard}) {`);
      this.line(`${indent}  for (int64_t o = 0; o < ${box.outer}; o++) {`);
      this.line(`${indent}    const int64_t row = ${box.rowBase('o')};`);
      // A row with every lane on is a plain copy: no condition left to keep the loop scalar.
      this.line(`${indent}    int whole = ${allOn ? 'all_on' : on === '1' ? '1' : '0'};`);
      if (on !== '1') this.line(`${indent}    if (!whole) { whole = 1; for (int64_t e = o * ${box.inner}; e < (o + 1) * ${box.inner}; e++) whole &= ${on}; }`);
      // A whole row of packed elements starting on a word: a group of words at a time, then the next row.
      if (packedRow && box.innerStep === '1') packedRow(`${indent}    `);
      // A whole row of a large output: streamed past the caches, then the next row.
      if (streamRow && box.innerStep === '1') streamRow(`${indent}    `);
      for (const [cond, ok] of [['whole', '1'], ['!whole', on]] as const) {
        this.line(`${indent}    if (${cond}) for (int64_t j = 0; j < ${box.inner}; j++) {`);
        this.line(`${indent}      const int64_t e = o * ${box.inner} + j, col = j; (void)e; (void)col;`);
        this.line(`${indent}      ${lane(ok, box.innerStep === '1' ? 'row + j' : `row + j * ${box.innerStep}`, true)}`);
        this.line(`${indent}    }`);
      }
      this.line(`${indent}  }`);
      if (box.clipped) {
        // Rows that run past the tensor's last dim (the last chunk of a row walked in chunks): the
        // lanes inside as a run of memory, the rest off (or out of bounds, which fails the launch).
        this.line(`${indent}} else if (${box.clipped.guard}) {`);
        this.line(`${indent}  const int64_t inside = ${box.clipped.inside};`);
        this.line(`${indent}  for (int64_t o = 0; o < ${box.outer}; o++) {`);
        this.line(`${indent}    const int64_t row = ${box.rowBase('o')};`);
        this.line(`${indent}    for (int64_t j = 0; j < inside; j++) { const int64_t e = o * ${box.inner} + j, col = j; (void)col; ${lane(on, 'row + j', true)} }`);
        this.line(`${indent}    for (int64_t j = inside; j < ${box.inner}; j++) { const int64_t e = o * ${box.inner} + j, col = j; (void)col; bad |= ${on}; ${lane('0', 'row', true)} }`);
        this.line(`${indent}  }`);
      }
      this.line(`${indent}} else {`);
      this.generalOrContiguous(op, shape, on, `${indent}  `, lane, general, checks, offset);
      this.line(`${indent}}`);
      return;
    }
    this.generalOrContiguous(op, shape, on, indent, lane, general, checks, offset);
  }

  /** The contiguous path (rows checked lane by lane), else the general one. */
  private generalOrContiguous(
    op: Op,
    shape: readonly number[],
    on: string,
    indent: string,
    lane: (ok: string, offset: string) => string,
    general: (indent: string) => void,
    checks: string,
    offset: string,
  ): void {
    const fast = this.contiguous(op, shape);
    if (!fast) return general(indent);
    this.line(`${indent}int differ = 0;`);
    this.line(`${indent}for (int64_t o = 0; o < ${fast.outer}; o++) {`);
    this.line(`${indent}  const int64_t row = ${fast.rowBase};`);
    // A row whose lanes are all on, inside and affine is a plain contiguous copy: check that first
    // (a vectorized reduction), so that the copy loop has no conditions left to keep it scalar.
    this.line(`${indent}  int whole = 1;`);
    this.line(`${indent}  for (int64_t j = 0; j < ${fast.inner}; j++) {`);
    this.line(`${indent}    const int64_t e = o * ${fast.inner} + j;`);
    this.line(`${indent}    const int64_t at = (int64_t)((uint64_t)row + (uint64_t)j);`);
    this.line(`${indent}    whole &= ${on} & !(${checks}) & (at == ${offset});`);
    this.line(`${indent}  }`);
    this.line(`${indent}  if (whole) {`);
    this.line(`${indent}    for (int64_t j = 0; j < ${fast.inner}; j++) {`);
    this.line(`${indent}      const int64_t e = o * ${fast.inner} + j;`);
    this.line(`${indent}      const int64_t at = (int64_t)((uint64_t)row + (uint64_t)j);`);
    this.line(`${indent}      (void)e; ${lane('1', 'at')}`);
    this.line(`${indent}    }`);
    this.line(`${indent}    continue;`);
    this.line(`${indent}  }`);
    this.line(`${indent}  for (int64_t j = 0; j < ${fast.inner}; j++) {`);
    this.line(`${indent}    const int64_t e = o * ${fast.inner} + j;`);
    this.line(`${indent}    const int64_t at = (int64_t)((uint64_t)row + (uint64_t)j);`);
    this.line(`${indent}    const int ok = ${on} & !(${checks});`);
    this.line(`${indent}    const int same = at == (ok ? ${offset} : at);`);
    this.line(`${indent}    bad |= ${on} & !ok;`);
    this.line(`${indent}    differ |= !same;`);
    this.line(`${indent}    ${lane('ok & same', 'at')}`);
    this.line(`${indent}  }`);
    this.line(`${indent}}`);
    this.line(`${indent}if (differ) {`);
    general(`${indent}  `);
    this.line(`${indent}}`);
  }

  /**
   * Loads and stores are written without branches so that gcc vectorizes them; masked-off lanes take
   * the fill value without reading (a conditional load: a masked vector load or a gather), and the
   * block fails after the loop if an on lane was outside the tensor.
   */
  private load(op: Op): void {
    const res = op.results[0]!;
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const streamed = this.streamedRow(op);
    // A load whose one use is a cast in the same block converts as it reads, into the cast's array: one
    // pass over the tile instead of two (low-bit codes go from the unpacking's registers to floats).
    const use = this.uses.get(res);
    const cast = !streamed && use?.count === 1 && use.block === this.currentBlock && use.user.opcode === 'cast' ? use.user : undefined;
    const target = cast ? cast.results[0]! : res;
    const convert = cast ? (x: string) => castExpr(tensor.dtype, this.tile(target).dtype, `(${x})`) : (x: string) => x;
    if (cast) this.castsAtLoads.add(cast);
    // (A streamed row's tile is declared with its flag.)
    const n = streamed ? this.name(res) : this.declare(target);
    const shape = this.tile(res).shape;
    const masked = op.operands.length === rank + 3;
    const on = masked ? `(${this.elem(op.operands[rank + 1]!, 'e')} != 0)` : '1';
    const other = convert(masked ? this.elem(op.operands[rank + 2]!, 'e') : `(${valueType(tensor.dtype)})0`);
    const total = tensor.shape.map((_, d) => this.extent(tensor, d)).join(' * ') || '1';
    const pointer = this.name(op.operands[0]!);
    const d = tensor.dtype;
    const inner = shape[shape.length - 1] ?? 1;
    // Packed elements in rows of whole words: read the row a group of words at a time and unpack each
    // group with a tskc_unpack<bits> helper (unpack.ts, emitted with the kernel), instead of finding
    // each element's word. directUnpack says which values the helper writes straight into the tile;
    // the others go through their uint32_t codes.
    const group = packedGroup(d.bits);
    const to = this.tile(target).dtype;
    const direct = directUnpack(d, cast ? to : undefined);
    // Floats of codes that only a dot reads: where the rows can be unpacked in place, the dot does it
    // and this tile is written only when they cannot (see packedDotRows).
    const dotRows = cast && direct && !masked ? this.packedDotRows(op, cast, direct, pointer) : undefined;
    if (dotRows) this.line(`if (!${dotRows.flag})`);
    if (streamed) this.line(`if (!${streamed.flag})`);
    this.line('{');
    this.line('  int bad = 0;');
    // An empty tensor has no element to read: every on lane is outside it.
    this.line(`  if (${total} == 0) {`);
    this.line(`    for (int64_t e = 0; e < ${size(shape)}; e++) { bad |= ${on}; ${n}[e] = ${other}; }`);
    this.line('  } else {');
    const packedRow =
      d.bits < 8 && inner % group.elements === 0
        ? (ind: string) => {
            const helper = direct ?? { bits: d.bits, to: 'u32' };
            this.unpacks.push(helper);
            this.line(`${ind}if (whole && (((uint64_t)row * ${d.bits}u) & 31u) == 0) {`);
            this.line(`${ind}  const uint32_t *const words = (const uint32_t *)${pointer} + (((uint64_t)row * ${d.bits}u) >> 5);`);
            // Packed codes are weights streamed once: fetch ahead of the walk (the hardware's prefetchers
            // stop at each 4 KiB page, and a GEMV step's tile is one page; 1.5x on the u4 GEMV here).
            this.line(`${ind}  TSKC_PREFETCH(words, ${PACKED_PREFETCH_BYTES});`);
            this.line(`${ind}  for (int64_t g = 0; g < ${inner / group.elements}; g++) {`);
            if (direct) {
              this.line(`${ind}    ${unpackName(helper)}(words + g * ${group.words}, ${n} + o * ${inner} + g * ${group.elements});`);
            } else {
              this.line(`${ind}    uint32_t codes[${group.elements}];`);
              this.line(`${ind}    ${unpackName(helper)}(words + g * ${group.words}, codes);`);
              this.line(`${ind}    for (int64_t j = 0; j < ${group.elements}; j++) { const int64_t e = o * ${inner} + g * ${group.elements} + j; ${n}[e] = ${convert(fromBitsExpr(d, 'codes[j]'))}; }`);
            }
            this.line(`${ind}  }`);
            this.line(`${ind}  continue;`);
            this.line(`${ind}}`);
          }
        : undefined;
    this.accessLoops(op, shape, on, '    ', (ok, at) => `${n}[e] = (${ok}) ? ${convert(loadElement(d, pointer, at))} : ${other};`, packedRow);
    this.line('  }');
    this.line(`  if (bad) return ${1 + this.argIndex.get(op.operands[0]!)!};`);
    this.line('}');
    if (streamed) {
      // Where the flag holds, each use reads the tensor itself; the tile above is the other case's.
      this.streamed.add(res);
      this.inlined.set(res, (e) => `${streamed.source}[${e.flat}]`);
    }
  }

  /**
   * A load of one row of a tensor (a tile whose dims but the last are 1, contiguous along it) that
   * every use reads element by element (elementwise ops, reductions, stores, broadcasts, views) is
   * read where it is used: the consumer's loop reads the tensor itself, all the streams of a kernel at
   * once, instead of first copying the row to a tile and then reading the tile (a copy per stream in
   * turn, which left the memory-bound row kernels waiting: SwiGLU 5.4 -> 4.0 ms in a C driver here).
   * The values are the same as long as no store writes the tensor between the load and its uses, so a
   * run-time flag holds only where the whole row is inside the tensor, the load's mask is provably all
   * on, and every store after the load in this block (nested regions included) writes a tensor whose
   * bytes are disjoint from it; otherwise the row is loaded into its tile as before. Returns the C
   * names of the flag and of the pointer the uses read through (to the row, or to the tile).
   */
  private streamedRow(op: Op): { flag: string; source: string } | undefined {
    const res = op.results[0]!;
    const tensor = op.operands[0]!.type as TensorType;
    const shape = this.tile(res).shape;
    // Elements stored as the values they are (f32, i32, u32; not bools, packed a bit each): the uses
    // read through one pointer, to the row or to the tile, with no select per element (GCC then
    // vectorizes the reader's loop).
    const type = valueType(tensor.dtype);
    if (storageType(tensor.dtype) !== type || shape.length === 0) return undefined;
    if (!this.users.get(res)?.length || !this.readsByElement(res)) return undefined;
    const block = this.currentBlock!;
    const stores = block.ops.slice(block.ops.indexOf(op) + 1).flatMap(storesIn);
    if (stores.some((st) => st.operands[0] === op.operands[0])) return undefined;
    const box = this.boxed(op, shape, false);
    if (!box || box.outer !== 1 || box.innerStep !== '1') return undefined;
    // A mask must be provably all on where the flag holds (a select per element on a bool tile kept
    // GCC from vectorizing SwiGLU's loop: 2x slower than the copy); the tile holds the rest.
    const mask = op.operands.length === tensor.shape.length + 3 ? op.operands[tensor.shape.length + 1]! : undefined;
    const allOn = mask ? this.affine.allOn(mask, (v) => this.tile(v).shape, (v) => this.elem(v, '0')) : '1';
    if (!allOn) return undefined;
    const id = res.id;
    const [flag, source] = [`row${id}`, `row${id}_source`];
    const pointer = this.name(op.operands[0]!);
    const disjoint = stores.map((st) => `tskc_disjoint(${pointer}, ${this.tensorBytes(tensor)}, ${this.name(st.operands[0]!)}, ${this.tensorBytes(st.operands[0]!.type as TensorType)})`);
    this.line(`const int ${flag} = (${box.guard}) && (${allOn})${disjoint.map((c) => ` && ${c}`).join('')};`);
    const tile = this.declare(res);
    this.line(`const ${type} *const ${source} = ${flag} ? (const ${type} *)${pointer} + ${box.rowBase('0')} : ${tile};`);
    // Only rows that move with the block (a weight row that every block reads has no next row). The
    // address is an integer (never dereferenced, so no row outside the tensor is a pointer): a row
    // copied into its tile (a chunk past the end of a row, masked) still prefetches from the tensor,
    // not past the tile (cross-entropy 1024x32000 in chunks of 4096: the next row's first chunk then
    // came from memory unprefetched).
    if (op.operands.slice(1, 1 + tensor.shape.length).some((v) => this.dependsOnProgramId(v))) {
      const address = `row${id}_address`;
      this.line(`const uintptr_t ${address} = (uintptr_t)${pointer} + (uintptr_t)(${box.rowBase('0')}) * sizeof(${type});`);
      this.rowSources.set(source, { bytes: size(shape) * C_TYPE_BYTES[type]!, address });
    }
    return { flag, source };
  }

  /** Whether every user of v reads it element by element only (never its array by name, as a dot does). */
  private readsByElement(v: Value): boolean {
    return (this.users.get(v) ?? []).every((u) => isUnary(u.opcode) || isBinary(u.opcode) || isCompare(u.opcode) || STREAM_READERS.has(u.opcode));
  }

  /** The bytes of a tensor argument, as a C expression (packed elements rounded up to whole words). */
  private tensorBytes(t: TensorType): string {
    const elements = t.shape.map((_, d) => `(uint64_t)${this.extent(t, d)}`).join(' * ') || '1';
    return `((${elements} * ${t.dtype.bits}u + 31u) / 32u * 4u)`;
  }

  /**
   * For the codes of a dot's b operand (a packed load whose one use is its cast to f32, whose one use
   * is that dot, or a reshape that merges its leading dims and then that dot): C variables saying
   * whether every row of the tile lies inside the tensor on a word boundary, one row a fixed number of
   * words after the other, and where the first row's words are. The dot then unpacks each row of b as
   * it multiplies (16 codes to a vector register, straight into its FMAs), and the tile of floats is
   * never written: half the instructions of the u4 GEMV. Codes one to a word (interleaved tiles) take
   * the lane helpers instead, under one flag: every lane inside the tensor, every group of P rows on a
   * word boundary; row q's bit offset is computed where it is read.
   */
  private packedDotRows(op: Op, cast: Op, helper: UnpackHelper, pointer: string): PackedDotRows | undefined {
    // The dot's b: the cast, or a reshape of it that merges the leading dims (interleaved tiles are
    // loaded as [BK / P, P, BN]), so that b's row q is row q of the loaded tile either way.
    const single = (v: Value) => {
      const use = this.uses.get(v);
      return use?.count === 1 && use.block === this.currentBlock ? use.user : undefined;
    };
    const shape = this.tile(op.results[0]!).shape;
    let b = cast.results[0]!;
    const reshape = single(b);
    if (reshape?.opcode === 'reshape') {
      const merged = this.tile(reshape.results[0]!).shape;
      if (merged.length !== 2 || merged[1] !== shape[shape.length - 1]) return undefined;
      b = reshape.results[0]!;
    }
    const dot = single(b);
    if (dot?.opcode !== 'dot' || dot.operands[1] !== b || shape.length < 2) return undefined;
    const n = shape[shape.length - 1]!;
    const m = this.tile(dot.operands[0]!).shape[0]!;
    const box = this.boxed(op, shape, true);
    if (!box) return undefined;
    const id = op.results[0]!.id;
    // Codes one to a word, the words of a row consecutive, and P = 32 / bits rows in each word (the
    // tile's last row dim, of step 1): a lane helper per 16 columns, the words read once per P rows.
    const wordRows = 32 / helper.bits;
    const steps = box.rowSteps;
    if (Number(box.innerStep) === wordRows && helper.bits <= 4 && helper.to !== 'u32' && shape[shape.length - 2] === wordRows && steps[steps.length - 1] === '1') {
      if (n % LANES !== 0 || dotBlocks(m, n).some((blk) => blk.cols % LANES !== 0)) return undefined;
      const lanes: UnpackHelper = { ...helper, perLane: true };
      const flag = `rows${id}`;
      const row = (q: string) => `((uint64_t)${box.rowBase(q)} * ${helper.bits}u)`;
      // Each group of P rows starts on a word: the first, and the steps of the other row dims.
      const aligned = [row('0'), ...steps.slice(0, -1).map((step) => `((uint64_t)${step} * ${helper.bits}u)`)].map((bit) => `((${bit} & 31u) == 0)`);
      this.line(`const int ${flag} = (${box.guard}) && ${aligned.join(' && ')};`);
      this.unpacks.push(lanes);
      const rows: PackedDotRows = { flag, row, helper: lanes, pointer, wordRows };
      this.dotRows.set(b, rows);
      return rows;
    }
    const { elements } = packedGroup(helper.bits);
    // Each block of the dot's columns must be whole unpacking groups, the rows equally far apart.
    if (shape.length !== 2 || box.innerStep !== '1' || n % elements !== 0 || dotBlocks(m, n).some((blk) => blk.cols % elements !== 0)) return undefined;
    const [flag, words, step] = [`rows${id}`, `rows${id}_words`, `rows${id}_step`];
    const [first, second] = [`(int64_t)(${box.rowBase('0')})`, `(int64_t)(${box.rowBase('1')})`];
    const aligned = (offset: string) => `((((uint64_t)${offset} * ${helper.bits}u) & 31u) == 0)`;
    this.line(`const int ${flag} = (${box.guard}) && ${aligned(first)} && ${aligned(second)};`);
    this.line(`const uint32_t *const ${words} = (const uint32_t *)${pointer} + (${flag} ? (int64_t)(((uint64_t)${first} * ${helper.bits}u) >> 5) : 0);`);
    this.line(`const int64_t ${step} = ${flag} ? (${second} - ${first}) * ${helper.bits} / 32 : 0;`);
    this.unpacks.push(helper);
    const rows: PackedDotRows = { flag, row: (q) => `${words} + (${q}) * ${step}`, helper, pointer };
    this.dotRows.set(b, rows);
    return rows;
  }

  private store(op: Op): void {
    const tensor = op.operands[0]!.type as TensorType;
    const rank = tensor.shape.length;
    const shape = this.tile(op.operands[rank + 1]!).shape;
    const on = op.operands.length === rank + 3 ? `(${this.elem(op.operands[rank + 2]!, 'e')} != 0)` : '1';
    const pointer = this.name(op.operands[0]!);
    const value = this.elem(op.operands[rank + 1]!, 'e');
    // In the loops over a row, the same value read by the element's coordinates.
    const rowValue = this.elem(op.operands[rank + 1]!, rowElement(shape));
    this.line('{');
    this.line('  int bad = 0;');
    const streamRow = this.streamRow(op, shape, pointer, rowValue);
    this.accessLoops(op, shape, on, '  ', (ok, at, inRow) => `if (${ok}) { ${storeElement(tensor.dtype, pointer, at, inRow ? rowValue : value)} }`, undefined, streamRow);
    this.line(`  if (bad) return ${1 + this.argIndex.get(op.operands[0]!)!};`);
    this.line('}');
  }

  /**
   * The streaming path of a store (see STREAM_HEAD), for the rows of a boxed access: a row with every
   * lane on is written up to its first line boundary with plain stores, then in whole 64-byte lines
   * past the caches, the rest with plain stores again; then the next row. Only for byte-sized elements,
   * in rows of at least STREAM_MIN_ROW_BYTES, to a tensor that nothing in the kernel reads; at run time only where
   * the tensor is large and shares no byte with another argument. A thread sees its own streaming
   * stores in order; other threads, after the sfence that ends its blocks.
   */
  private streamRow(op: Op, shape: readonly number[], pointer: string, value: string): ((ind: string) => void) | undefined {
    const tensor = op.operands[0]!.type as TensorType;
    const d = tensor.dtype;
    const inner = shape[shape.length - 1] ?? 1;
    const bytes = d.bits / 8;
    if (d.bits < 8 || d.bits % 8 !== 0 || inner * bytes < STREAM_MIN_ROW_BYTES) return undefined;
    if ((this.users.get(op.operands[0]!) ?? []).some((u) => u.opcode === 'load')) return undefined;
    this.streams = true;
    const others = this.kernel.args.filter((a) => a !== op.operands[0] && a.type.kind === 'tensor');
    const total = this.tensorBytes(tensor);
    const disjoint = others.map((a) => ` && tskc_disjoint(${pointer}, ${total}, ${this.name(a)}, ${this.tensorBytes(a.type as TensorType)})`).join('');
    this.line('#ifdef TSKC_STREAM');
    this.line(`  const int stream = ${total} >= TSKC_STREAM_MIN_BYTES${disjoint}; (void)stream;`);
    this.line('#endif');
    const type = storageType(d);
    const chunk = STREAM_CHUNK_BYTES / bytes;
    const plain = (ind: string, bound: string) =>
      this.line(`${ind}for (; j < ${bound}; j++) { const int64_t e = o * ${inner} + j, col = j; (void)e; (void)col; out[j] = ${toStorage(d, value)}; }`);
    return (ind) => {
      this.line('#ifdef TSKC_STREAM');
      this.line(`${ind}if (whole && stream) {`);
      this.line(`${ind}  ${type} *const out = (${type} *)${pointer} + row;`);
      this.line(`${ind}  int64_t j = 0;`);
      // Elements are aligned to their size, so some whole number of them reaches the boundary.
      this.line(`${ind}  if ((uintptr_t)out % ${bytes}u == 0) {`);
      plain(`${ind}    `, `(int64_t)((${STREAM_CHUNK_BYTES}u - (uintptr_t)out % ${STREAM_CHUNK_BYTES}u) % ${STREAM_CHUNK_BYTES}u / ${bytes}u)`);
      this.line(`${ind}    for (; j + ${chunk} <= ${inner}; j += ${chunk}) {`);
      const marks = this.nextRowMarks(value, 'j', 'streaming');
      if (marks) this.line(`${ind}      ${marks}`);
      this.line(`${ind}      ${type} chunk[${chunk}];`);
      this.line(`${ind}      for (int64_t l = 0; l < ${chunk}; l++) { const int64_t e = o * ${inner} + j + l, col = j + l; (void)e; (void)col; chunk[l] = ${toStorage(d, value)}; }`);
      this.line(`${ind}      tskc_stream64(out + j, chunk);`);
      this.line(`${ind}    }`);
      this.line(`${ind}  }`);
      plain(`${ind}  `, `${inner}`);
      this.line(`${ind}  continue;`);
      this.line(`${ind}}`);
      this.line('#endif');
    };
  }

  private reduce(op: Op): void {
    const res = op.results[0]!;
    const src = this.tile(op.operands[0]!);
    const d = src.dtype;
    const axis = op.attrs['axis'] as number;
    const kind = op.attrs['kind'] as string;
    const n = src.shape[axis]!;
    const inner = size(src.shape.slice(axis + 1));
    const out = this.declare(res);
    // Result element o is (outer, inner) of the source's shape split around the axis; element k along
    // the axis is known by its coordinates, so broadcast operands index without dividing by k.
    const outerCoords = indexCoordinates(inner === 1 ? 'o' : `o / ${inner}`, src.shape.slice(0, axis));
    const innerCoords = indexCoordinates(`o % ${inner}`, src.shape.slice(axis + 1));
    const at = (k: string) => this.elem(op.operands[0]!, gridIndex(src.shape, [...outerCoords, k, ...innerCoords]));
    this.line(`for (int64_t o = 0; o < ${size(this.tile(res).shape)}; o++) {`);
    for (const l of reduction(kind, d, n, at, (v) => `${out}[o] = ${v};`, (k) => this.nextRowMarks(at(k), k))) this.line(`  ${l}`);
    this.line('}');
  }

  /** acc + a @ b (dot.ts: DotEmitter). */
  private dot(op: Op): void {
    const [a, b, acc] = [0, 1, 2].map((i) => this.name(op.operands[i]!)) as [string, string, string];
    const [m, k] = this.tile(op.operands[0]!).shape as [number, number];
    const n = this.tile(op.operands[1]!).shape[1]!;
    const d = this.tile(op.results[0]!).dtype;
    const out = this.declare(op.results[0]!);
    const integerRow = d.kind === 'signed' || d.kind === 'unsigned' ? this.array(`r${op.results[0]!.id}`, 'int64_t', Math.max(n, 2)) : undefined;
    const packed = this.dotRows.get(op.operands[1]!);
    const writer = { line: (l: string) => this.line(l), nested: (build: () => void) => this.nested(build) };
    if (new DotEmitter(writer, { a, b, acc, out, m, k, n, d, ...(packed ? { packed } : {}), ...(integerRow !== undefined ? { integerRow } : {}) }).emit()) this.fma8 = true;
  }

  /**
   * Copies each yielded value into its destination. A yield may swap carried values, so a value read
   * from another destination's array goes through a temporary first; one already in its destination
   * (accumulatesInPlace, or a carried value yielded unchanged) is not copied.
   */
  private copyYield(region: Block, destinations: readonly Value[]): void {
    const yielded = region.ops[region.ops.length - 1]!.operands;
    const targets = new Set(destinations.map((d) => this.name(this.arrayOf(d))));
    const sources = yielded.map((v, i) => {
      const from = this.name(this.arrayOf(v));
      if (from === this.name(this.arrayOf(destinations[i]!)) || !targets.has(from)) return from;
      const t = this.tile(v);
      const tmp = this.array(`y${v.id}_${i}`, valueType(t.dtype), size(t.shape));
      this.line(`memcpy(${tmp}, ${from}, ${this.bytes(v)});`);
      return tmp;
    });
    destinations.forEach((dst, i) => {
      if (sources[i] !== this.name(dst)) this.line(`memcpy(${this.name(dst)}, ${sources[i]}, ${this.bytes(dst)});`);
    });
  }

  /**
   * Marks, at the start of a chunk of a loop over the row elements from `index` on, for each row read
   * in place that `text` (the loop's body) reads; `streaming` in a streaming store's branch.
   * nextRowPrefetches turns a row's last marks into prefetches of the bytes just past that row, where
   * the next block's row usually is (one program per row): the block's first pass over its row then
   * finds it in the cache, where the hardware prefetcher, idle while the block computes, had fetched
   * only its first lines. Softmax 4096x4096 in a C driver: 8.8 -> 6.9-7.5 ms, with the prefetches in
   * its exp pass; 7.8 in its max pass, which reads the row from memory itself; 9.4 issued all at the
   * block's start.
   */
  private nextRowMarks(text: string, index: string, kind: 'plain' | 'streaming' = 'plain'): string {
    return [...this.rowSources.keys()].filter((source) => text.includes(`${source}[`)).map((source) => `@next-row:${kind}:${source}:${index}@`).join('');
  }

  /** Whether v is computed from a program_id (through ops already emitted). */
  private dependsOnProgramId(v: Value, seen = new Set<Value>()): boolean {
    const op = this.defs.get(v);
    if (!op || seen.has(v)) return false;
    seen.add(v);
    return op.opcode === 'program_id' || op.operands.some((o) => this.dependsOnProgramId(o, seen));
  }

  /**
   * The lines with marks (nextRowMarks) made prefetches of the row after each row: the last plain mark
   * of each row, and its last mark if that one is in a streaming store, which runs only when the store
   * streams (TSKC_STREAM, a large output); the other marks dropped. Last along each path the block
   * can take: where the body has two versions (versioned), each version's last marks count.
   */
  private nextRowPrefetches(lines: string[]): string[] {
    const mark = /@next-row:(plain|streaming):(\w+):([^@]*)@/g;
    // The lines that run together: all of them, or each version of the body with the lines before it.
    const inside = (i: number, [from, to]: [number, number]) => i >= from && i < to;
    const v = this.versions;
    const paths: ((i: number) => boolean)[] = v ? [(i) => !inside(i, v.otherwise), (i) => !inside(i, v.whole)] : [() => true];
    const lastMarks = paths.map((onPath) => {
      const [lastPlain, last] = [new Map<string, number>(), new Map<string, number>()];
      lines.forEach((l, i) => {
        if (!onPath(i)) return;
        for (const [, kind, source] of l.matchAll(mark)) {
          if (kind === 'plain') lastPlain.set(source!, i);
          last.set(source!, i);
        }
      });
      return { lastPlain, last };
    });
    return lines.map((l, i) =>
      l.replace(mark, (_, kind: string, source: string, index: string) => {
        const kept = lastMarks.some(({ lastPlain, last }) => (kind === 'plain' ? lastPlain.get(source) === i : last.get(source) === i));
        const row = this.rowSources.get(source)!;
        return kept ? `TSKC_PREFETCH_L2(${row.address}, ${row.bytes} + (${index}) * sizeof *${source}); ` : '';
      }),
    );
  }

  /** The value whose array v's name points at: v itself unless v is a view or reshape alias. */
  private arrayOf(v: Value): Value {
    return this.aliases.get(v) ?? v;
  }

  /**
   * The dot that can write a loop's carried value i in place: the value the body yields in slot i,
   * when it is a dot in the body whose accumulator is that carried value and nothing else reads the
   * carried value. Every dot path reads a block of its accumulator before writing the same block,
   * so its result can live in the loop's own array: a matmul's K loop then copies nothing per step
   * (two 64 KiB copies for a 128x128 f32 tile, 15% of sgemm's time).
   */
  private accumulatesInPlace(region: Block, carried: Value, i: number): Value | undefined {
    const yielded = region.ops[region.ops.length - 1]!.operands[i];
    const dot = region.ops.find((o) => o.opcode === 'dot' && o.results[0] === yielded);
    return dot && dot.operands[2] === carried && this.uses.get(carried)?.count === 1 ? yielded : undefined;
  }

  private nested(build: () => void): void {
    const saved = this.indent;
    this.indent += '  ';
    build();
    this.indent = saved;
  }

  private forLoop(op: Op): void {
    const region = op.regions[0]!;
    const [iv, ...carried] = region.args;
    const [lower, upper, step] = [0, 1, 2].map((i) => `${this.name(op.operands[i]!)}[0]`);
    // The carried values live in the results' arrays; the region arguments alias them.
    op.results.forEach((r, i) => {
      const n = this.declare(r);
      this.line(`memcpy(${n}, ${this.name(op.operands[3 + i]!)}, ${this.bytes(r)});`);
      this.names.set(carried[i]!, n);
      const inPlace = this.accumulatesInPlace(region, carried[i]!, i);
      if (inPlace) {
        this.names.set(inPlace, n);
        this.placed.add(inPlace);
      }
    });
    this.line(`if (${step} <= 0) return ${STATUS_BAD_STEP};`);
    this.line(`for (int64_t i${iv!.id} = ${lower}; i${iv!.id} < ${upper}; i${iv!.id} += ${step}) {`);
    this.nested(() => {
      this.line(`int32_t ${this.name(iv!)}[1] = { (int32_t)i${iv!.id} };`);
      this.block(region);
      this.copyYield(region, op.results);
    });
    this.line('}');
  }

  private ifElse(op: Op): void {
    op.results.forEach((r) => this.declare(r));
    this.line(`if (${this.name(op.operands[0]!)}[0]) {`);
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

/** Ops besides the elementwise ones that read their operands only element by element (streamedRow). */
const STREAM_READERS = new Set<string>(['where', 'cast', 'bitcast', 'reduce', 'store', 'broadcast', 'view', 'reshape', 'permute']);

/** The stores in op and the regions inside it. */
function storesIn(op: Op): Op[] {
  return [...(op.opcode === 'store' ? [op] : []), ...op.regions.flatMap((r) => r.ops.flatMap(storesIn))];
}

/** The ops of index and mask tiles, which are computed again at each use (recomputable). */
const RECOMPUTED = new Set<string>([
  ...['arange', 'const', 'broadcast', 'view', 'reshape', 'cast', 'not'],
  ...['add', 'sub', 'mul', 'max', 'min', 'and', 'or', 'xor', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'],
]);

/** The deepest expression recomputed at a use: past it, the tile is computed once into an array. */
const MAX_RECOMPUTED_DEPTH = 4;

/** The deepest chain of single-use ops computed as one expression (inlineable). */
const MAX_INLINED_DEPTH = 64;

/** Ops that read their operands element by element, so a producer can be inlined into them (inlineable). */
const INLINE_CONSUMERS = new Set<string>([
  ...['neg', 'abs', 'exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sigmoid', 'not'],
  ...['add', 'sub', 'mul', 'div', 'rem', 'max', 'min', 'and', 'or', 'xor', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'],
  ...['where', 'cast', 'bitcast', 'broadcast', 'view', 'reshape', 'permute', 'load', 'store', 'reduce'],
]);
