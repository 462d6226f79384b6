/**
 * The C backend's dot: acc + a @ b as the interpreter defines it. Integers: int64 rows, wrapped at
 * every step. Floats: one f32 fmaf per k in index order for each output, which is what the vector
 * units do, so the micro-kernel below is exact: the row blocks of dotBlocks, the accumulators in small
 * local arrays (registers once gcc vectorizes the column loops), each b row loaded once for all the
 * block's rows; where b is packed codes read nowhere else (CEmitter.packedDotRows), each b row is
 * unpacked from its words right there. With AVX2 and FMA but not AVX-512 (TSKC_FMA8), the blocks keep
 * their accumulators in named vector registers instead.
 */
import type { Dtype } from '../../compiler/ir/dtype.js';
import { roundTo, wrapTo } from '../clike/dtypes.js';
import { wrappingProduct } from '../clike/expressions.js';
import { BYTES_HELPER_CODES, type UnpackHelper, bytesLaneShifts, bytesName, hasBytesHelper, looksUpInRegisters, packedGroup, unpackName } from './unpack.js';

/** The float dot micro-kernel's block: rows sharing each loaded b row, and columns per accumulator row. */
const DOT_ROWS = 8;
const DOT_COLS = 16;
/**
 * The float dot's block where the C compiler has AVX2 and FMA but not AVX-512 (TSKC_FMA8): rows, and
 * 8-lane vectors per row. GCC keeps the portable block's accumulator arrays in registers only where a
 * row is one vector (16 floats, AVX-512); with 8-lane vectors they stay on the stack, and sgemm 2048^3
 * ran at 75 GFLOP/s on Zen 3. Named vector accumulators, 6 x 16 of them in 12 of the 16 registers,
 * ran at 135 (numpy's OpenBLAS: 140-158).
 */
const FMA8_ROWS = 6;
const FMA8_VECTORS = 2;
/**
 * Accumulator vectors of a single row of lane-packed codes with TSKC_FMA8 (lane8Row): 4, not 8, since
 * the words, the shifted codes and x need registers too (the u4 GEMV: 2.4-2.7 ms with 4, 2.7-3.0 with 8).
 */
const LANE8_VECTORS = 4;
/**
 * The same where the codes are unsigned and x scaled (lane8RowScaled): each code is masked in place
 * and read from memory by its and, so 8 chains of fused multiply-adds fit in the registers.
 */
const LANE8_SCALED_VECTORS = 8;
/**
 * What the source needs where a dot has a TSKC_FMA8 or TSKC_BYTES8 block (emit() says whether it has).
 * TSKC_BYTES8, AVX2 and FMA with or without AVX-512: single rows of codes packed one after the other
 * go through byte shuffles in 8-lane registers (packedRows8), which on Zen 4's AVX-512 beat the
 * 16-lane helpers' word permutations (the u3 'dot' GEMV 8192x8192 in a C driver: 3.3 -> 2.0-2.1 ms,
 * u6 3.35 -> 2.4-2.7). Small floats that the 16-lane helpers look up in registers (unpack.ts:
 * looksUpInRegisters) take them only without AVX-512, where those lookups go lane by lane: with it,
 * the lookup decodes them faster (f6e3m2: 4.1 ms, 5.9 by bytes); wider ones take them everywhere
 * (f7e3m3: 5.8-8.5 ms, 9.3-10.0 decoded by shifts in 16 lanes).
 */
export const FMA8_HEAD = [
  '#if defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
  '#include <immintrin.h>',
  '#define TSKC_BYTES8 1',
  '#if !defined(__AVX512F__)',
  '#define TSKC_FMA8 1',
  '#endif',
  '#endif',
];
/**
 * Compiled with -DTSKC_CHECK_PACKED_DOT, a dot that could unpack its packed b rows in place but takes
 * its tile path at run time returns this: the tests' way to see which path ran (runtime/status.ts).
 */
const STATUS_PACKED_DOT_TILE_PATH = -3;
/** How far ahead of a row of packed codes their loads fetch (here and in CEmitter.load). */
export const PACKED_PREFETCH_BYTES = 8192;
/**
 * See CEmitter.packedDotRows: the C name of the flag, the unpacking helper, and where row q's codes
 * are: packed one after the other from the words at `row(q)`; or, with a lane helper, one to a word
 * in the consecutive words at bit `row(q)` of the tensor, at the same offset in each, rows q0 + r (q0
 * a multiple of `wordRows`, r < wordRows) in the same words at bit r * bits.
 */
export interface PackedDotRows {
  readonly flag: string;
  readonly row: (q: string) => string;
  readonly helper: UnpackHelper;
  readonly pointer: string;
  readonly wordRows?: number;
}

/** Lanes a lane helper (unpack.ts) fills: 16 words, one 64-byte cache line. */
export const LANES = 16;

/**
 * The float dot's row blocks for an [m, k] · [k, n] product: DOT_ROWS rows at a time while they last,
 * then single rows. Every block keeps DOT_ROWS x DOT_COLS accumulators: a single row takes DOT_ROWS
 * times the columns, so that its FMAs form as many independent chains (one chain would wait on each).
 */
export function dotBlocks(m: number, n: number): { from: number; to: number; rows: number; cols: number }[] {
  const full = m - (m % DOT_ROWS);
  return [
    ...(full > 0 ? [{ from: 0, to: full, rows: DOT_ROWS, cols: Math.min(n, DOT_COLS) }] : []),
    ...(full < m ? [{ from: full, to: m, rows: 1, cols: Math.min(n, DOT_COLS * DOT_ROWS) }] : []),
  ];
}

/** Where generated lines go: the emitter's, at its indentation. */
export interface CodeWriter {
  line(s: string): void;
  /** Lines written by `build` one level deeper. */
  nested(build: () => void): void;
}

/** A dot's C names (its operands' arrays and the result's) and extents. */
export interface DotOperands {
  readonly a: string;
  readonly b: string;
  readonly acc: string;
  readonly out: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** The result's dtype. */
  readonly d: Dtype;
  /** Where b's rows are unpacked from their words instead of read from a tile. */
  readonly packed?: PackedDotRows;
  /** For an integer dot: an int64_t array of at least n elements for a row's sums. */
  readonly integerRow?: string;
}

export class DotEmitter {
  private fma8 = false;

  constructor(
    private readonly w: CodeWriter,
    private readonly operands: DotOperands,
  ) {}

  private line(s: string): void {
    this.w.line(s);
  }

  private nested(build: () => void): void {
    this.w.nested(build);
  }

  /** Emits the dot; whether it has a TSKC_FMA8 or TSKC_BYTES8 block (FMA8_HEAD must then go in the source). */
  emit(): boolean {
    const { a, b, acc, out, m, k, n, d, packed, integerRow: row } = this.operands;
    if (row !== undefined) {
      this.line(`for (int64_t i = 0; i < ${m}; i++) {`);
      this.line(`  for (int64_t j = 0; j < ${n}; j++) ${row}[j] = (int64_t)${acc}[i * ${n} + j];`);
      this.line(`  for (int64_t q = 0; q < ${k}; q++) {`);
      this.line(`    const int64_t x = ${a}[i * ${k} + q];`);
      this.line(`    for (int64_t j = 0; j < ${n}; j++) ${row}[j] = ${wrapTo(d, `${row}[j] + ${wrapTo(d, wrappingProduct('x', `${b}[q * ${n} + j]`))}`)};`);
      this.line('  }');
      this.line(`  for (int64_t j = 0; j < ${n}; j++) ${out}[i * ${n} + j] = ${wrapTo(d, `${row}[j]`)};`);
      this.line('}');
      return false;
    }
    const block = (rows: number, cols: number, first: string, unpacked: boolean) => {
      const r = Array.from({ length: rows }, (_, t) => t);
      this.line(`  for (int64_t j0 = 0; j0 < ${n}; j0 += ${cols}) {`);
      this.line(`    const int64_t jn = ${n} - j0 < ${cols} ? ${n} - j0 : ${cols};`);
      this.line(`    float ${r.map((t) => `c${t}[${cols}]`).join(', ')};`);
      this.line(`    for (int64_t jj = 0; jj < jn; jj++) { ${r.map((t) => `c${t}[jj] = ${acc}[(${first} + ${t}) * ${n} + j0 + jj];`).join(' ')} }`);
      const xs = `const float ${r.map((t) => `x${t} = ${a}[(${first} + ${t}) * ${k} + q]`).join(', ')};`;
      const fmas = `for (int64_t jj = 0; jj < jn; jj++) { ${r.map((t) => `c${t}[jj] = fmaf(x${t}, bq[jj], c${t}[jj]);`).join(' ')} }`;
      const wordRows = unpacked ? packed!.wordRows : undefined;
      if (wordRows) {
        // P rows of b from the same words, one code to a word: 16 words to a vector, each row shifted
        // to its bits and looked up (the unrolled loop keeps the words in registers).
        this.line(`    for (int64_t q0 = 0; q0 < ${k}; q0 += ${wordRows}) {`);
        this.line(`      const uint32_t *const wq = (const uint32_t *)${packed!.pointer} + (${packed!.row('q0')} >> 5) + j0;`);
        // Every line of the group's words: one fetch per P rows left the u4 GEMV waiting on its loads (2x).
        this.line(`      for (int64_t g = 0; g < jn / ${LANES}; g++) TSKC_PREFETCH(wq + g * ${LANES}, ${PACKED_PREFETCH_BYTES});`);
        this.line(`      #pragma GCC unroll ${wordRows}`);
        this.line(`      for (int64_t q = q0; q < q0 + ${wordRows}; q++) {`);
        this.line(`        ${xs}`);
        this.line(`        float bq[${cols}];`);
        this.line(`        for (int64_t g = 0; g < jn / ${LANES}; g++) ${unpackName(packed!.helper)}(wq + g * ${LANES}, (unsigned)((q - q0) * ${packed!.helper.bits}), bq + g * ${LANES});`);
        this.line(`        ${fmas}`);
        this.line('      }');
      } else {
        this.line(`    for (int64_t q = 0; q < ${k}; q++) {`);
        this.line(`      ${xs}`);
        if (unpacked) {
          // Row q of b from its words: 16 codes to a vector, converted, then straight into the FMAs.
          const { elements, words } = packedGroup(packed!.helper.bits);
          this.line(`      const uint32_t *const wq = ${packed!.row('q')} + j0 * ${packed!.helper.bits} / 32;`);
          this.line(`      TSKC_PREFETCH(wq, ${PACKED_PREFETCH_BYTES});`);
          this.line(`      float bq[${cols}];`);
          this.line(`      for (int64_t g = 0; g < jn / ${elements}; g++) ${unpackName(packed!.helper)}(wq + g * ${words}, bq + g * ${elements});`);
        } else {
          this.line(`      const float *const bq = ${b} + q * ${n} + j0;`);
        }
        this.line(`      ${fmas}`);
      }
      this.line('    }');
      this.line(`    for (int64_t jj = 0; jj < jn; jj++) { ${r.map((t) => `${out}[(${first} + ${t}) * ${n} + j0 + jj] = ${roundTo(d, `c${t}[jj]`)};`).join(' ')} }`);
      this.line('  }');
    };
    const blocks = (unpacked: boolean) => {
      for (const { from, to, rows, cols } of dotBlocks(m, n)) {
        this.line(`for (int64_t i0 = ${from}; i0 < ${to}; i0 += ${rows}) {`);
        // Single rows of lane-packed codes (the GEMV's): in AVX2 registers where TSKC_FMA8 allows.
        const lanes8 = unpacked && rows === 1 && packed!.wordRows !== undefined && d.name === 'f32' && n % (8 * LANE8_VECTORS) === 0;
        // Single rows of codes packed one after the other (column-major tiles): the same, through byte shuffles.
        const bytes8 = unpacked && rows === 1 && packed!.wordRows === undefined && hasBytesHelper(packed!.helper) && d.name === 'f32' && n % (8 * LANE8_VECTORS) === 0;
        if (lanes8 || bytes8) {
          this.fma8 = true;
          this.line(bytes8 && !looksUpInRegisters(packed!.helper) ? '#ifdef TSKC_BYTES8' : '#ifdef TSKC_FMA8');
          if (lanes8) this.lane8Rows(a, acc, out, k, n, packed!);
          else this.packedRows8(a, acc, out, k, n, packed!);
          this.line('#else');
        }
        block(rows, cols, 'i0', unpacked);
        if (lanes8 || bytes8) this.line('#endif');
        this.line('}');
      }
    };
    if (!packed && d.name === 'f32' && m >= FMA8_ROWS && n % (8 * FMA8_VECTORS) === 0) {
      this.fma8 = true;
      this.line('#ifdef TSKC_FMA8');
      const full = this.fma8Blocks(a, b, acc, out, m, k, n);
      if (full < m) {
        this.line(`for (int64_t i0 = ${full}; i0 < ${m}; i0 += 1) {`);
        block(1, Math.min(n, DOT_COLS * DOT_ROWS), 'i0', false);
        this.line('}');
      }
      this.line('#else');
      blocks(false);
      this.line('#endif');
      return this.fma8;
    }
    if (!packed) {
      blocks(false);
      return this.fma8;
    }
    this.line(`if (${packed.flag}) {`);
    this.nested(() => blocks(true));
    this.line('} else {');
    this.line('#ifdef TSKC_CHECK_PACKED_DOT');
    this.line(`  return ${STATUS_PACKED_DOT_TILE_PATH};`);
    this.line('#endif');
    this.nested(() => blocks(false));
    this.line('}');
    return this.fma8;
  }

  /**
   * dot's blocks with TSKC_FMA8: FMA8_ROWS rows by 8 * FMA8_VECTORS columns in named AVX2 registers,
   * each step one fused multiply-add per lane (the interpreter's fmaf, in index order). Returns the
   * rows it covers: the rest take the portable 1-row block.
   */
  private fma8Blocks(a: string, b: string, acc: string, out: string, m: number, k: number, n: number): number {
    const full = m - (m % FMA8_ROWS);
    const cells = Array.from({ length: FMA8_ROWS }, (_, t) => Array.from({ length: FMA8_VECTORS }, (_, h) => ({ t, h, name: `c${t}_${h}`, at: `(i0 + ${t}) * ${n} + j0 + ${8 * h}` }))).flat();
    const vectors = Array.from({ length: FMA8_VECTORS }, (_, h) => h);
    this.line(`for (int64_t i0 = 0; i0 < ${full}; i0 += ${FMA8_ROWS}) {`);
    this.line(`  for (int64_t j0 = 0; j0 < ${n}; j0 += ${8 * FMA8_VECTORS}) {`);
    this.line(`    __m256 ${cells.map((c) => c.name).join(', ')};`);
    for (const c of cells) this.line(`    memcpy(&${c.name}, ${acc} + ${c.at}, 32);`);
    this.line(`    for (int64_t q = 0; q < ${k}; q++) {`);
    this.line(`      __m256 ${vectors.map((h) => `b${h}`).join(', ')};`);
    for (const h of vectors) this.line(`      memcpy(&b${h}, ${b} + q * ${n} + j0 + ${8 * h}, 32);`);
    for (let t = 0; t < FMA8_ROWS; t++) {
      this.line(`      { const __m256 x = _mm256_set1_ps(${a}[(i0 + ${t}) * ${k} + q]); ${vectors.map((h) => `c${t}_${h} = _mm256_fmadd_ps(x, b${h}, c${t}_${h});`).join(' ')} }`);
    }
    this.line('    }');
    for (const c of cells) this.line(`    memcpy(${out} + ${c.at}, &${c.name}, 32);`);
    this.line('  }');
    this.line('}');
    return full;
  }

  /**
   * One row i0 of a lane-packed dot with TSKC_FMA8: lane8RowScaled where the codes are unsigned
   * integers, the outputs fill its vectors and the row's x scales exactly; lane8Row otherwise.
   */
  private lane8Rows(a: string, acc: string, out: string, k: number, n: number, packed: PackedDotRows): void {
    const { bits, to } = packed.helper;
    if (to !== 'unsigned f32' || n % (8 * LANE8_SCALED_VECTORS) !== 0) return this.lane8Row(a, acc, out, k, n, packed);
    const p = packed.wordRows!;
    // xs[q] = x[q] / 2^(bits * (q mod P)), the top code's x unscaled; exact unless a product of x by a
    // power of two under 1 rounds (x below about 2^-102 for u4, 2^-96 for u1) or x is a NaN.
    this.ifScaledExactly(
      [
        `float xs[${k}];`,
        `for (int64_t q = 0; q < ${k}; q++) {`,
        `  const uint32_t s = q % ${p} == ${p - 1} ? 0u : (uint32_t)(q % ${p}) * ${bits}u;`,
        `  const float x = ${a}[i0 * ${k} + q];`,
        '  xs[q] = x * tskc_bits_f32((127u - s) << 23);',
        '  exact &= xs[q] * tskc_bits_f32((127u + s) << 23) == x;',
        '}',
      ],
      () => this.lane8RowScaled(acc, out, k, n, packed),
      () => this.lane8Row(a, acc, out, k, n, packed),
    );
  }

  /**
   * `check` (C lines that clear `exact` where x does not scale exactly), then the `scaled` path where
   * every x did and the `plain` one otherwise: the scaled rows' common frame (lane8Rows, packedRows8).
   */
  private ifScaledExactly(check: readonly string[], scaled: () => void, plain: () => void): void {
    this.line('{');
    this.line('  int exact = 1;');
    for (const l of check) this.line(`  ${l}`);
    this.line('  if (exact) {');
    this.nested(() => this.nested(scaled));
    this.line('  } else {');
    this.nested(() => this.nested(plain));
    this.line('  }');
    this.line('}');
  }

  /**
   * One row i0 of a dot of unsigned lane-packed codes with TSKC_FMA8, x scaled into xs (lane8Rows).
   * The code at bit s of a word is taken as w & (mask << s), which is code * 2^s as an exact int32
   * (the top code, whose bits would reach the sign, as w >> s), and multiplied by x / 2^s: the same
   * product, so each fused multiply-add rounds as the interpreter's does, with one instruction per 8
   * codes fewer than a shift and a mask. The u4 GEMV 8192x8192 in a C driver: 1.60 ms, against 1.80
   * for lane8Row. The empty asm makes each step read its words again from memory (folded into the
   * ands): held in registers, they pushed the 8 accumulators onto the stack (2.7 ms).
   */
  private lane8RowScaled(acc: string, out: string, k: number, n: number, packed: PackedDotRows): void {
    this.lane8Frame(acc, out, k, n, packed, LANE8_SCALED_VECTORS, (vectors) => [
      'const __m256 x = _mm256_set1_ps(xs[q]);',
      `const unsigned s = (unsigned)(q - q0) * ${packed.helper.bits}u;`,
      'const uint32_t *w = wq;',
      '__asm__ volatile("" : "+r"(w));',
      vectors.map((h) => `c${h} = _mm256_fmadd_ps(x, ${unpackName(packed.helper)}_scaled8(w + ${8 * h}, s), c${h});`).join(' '),
    ]);
  }

  /**
   * One row i0 of a dot whose b rows are lane-packed codes (CEmitter.packedDotRows with wordRows), with
   * TSKC_FMA8: LANE8_VECTORS vectors of 8 outputs at a time in registers, each step's codes shifted
   * out of their words, converted (tskc_lanes<B>_<to>_8) and multiplied straight in, one fused
   * multiply-add per lane in k order. The portable block writes each row of codes to memory and keeps
   * its 128 accumulators there too on AVX2: 3.3-4.0 ms for the u4 GEMV 8192x8192 against 2.4-2.7.
   */
  private lane8Row(a: string, acc: string, out: string, k: number, n: number, packed: PackedDotRows): void {
    this.lane8Frame(acc, out, k, n, packed, LANE8_VECTORS, (vectors) => [
      `const __m256 x = _mm256_set1_ps(${a}[i0 * ${k} + q]);`,
      `const unsigned shift = (unsigned)((q - q0) * ${packed.helper.bits});`,
      vectors.map((h) => `c${h} = _mm256_fmadd_ps(x, ${unpackName(packed.helper)}_8(wq + ${8 * h}, shift), c${h});`).join(' '),
    ]);
  }

  /**
   * What lane8Row and lane8RowScaled share: `count` accumulator vectors c0.. of 8 outputs from j0, the
   * steps q0 in whole words of wordRows codes (wq: their words, prefetched), and `step`'s lines for
   * each row q of those words, unrolled.
   */
  private lane8Frame(acc: string, out: string, k: number, n: number, packed: PackedDotRows, count: number, step: (vectors: readonly number[]) => string[]): void {
    const p = packed.wordRows!;
    const vectors = Array.from({ length: count }, (_, h) => h);
    const width = 8 * count;
    this.line(`for (int64_t j0 = 0; j0 < ${n}; j0 += ${width}) {`);
    this.line(`  __m256 ${vectors.map((h) => `c${h}`).join(', ')};`);
    for (const h of vectors) this.line(`  memcpy(&c${h}, ${acc} + i0 * ${n} + j0 + ${8 * h}, 32);`);
    this.line(`  for (int64_t q0 = 0; q0 < ${k}; q0 += ${p}) {`);
    this.line(`    const uint32_t *const wq = (const uint32_t *)${packed.pointer} + (${packed.row('q0')} >> 5) + j0;`);
    this.line(`    for (int64_t g = 0; g < ${width / LANES}; g++) TSKC_PREFETCH(wq + g * ${LANES}, ${PACKED_PREFETCH_BYTES});`);
    this.line(`    #pragma GCC unroll ${p}`);
    this.line(`    for (int64_t q = q0; q < q0 + ${p}; q++) {`);
    for (const l of step(vectors)) this.line(`      ${l}`);
    this.line('    }');
    this.line('  }');
    for (const h of vectors) this.line(`  memcpy(${out} + i0 * ${n} + j0 + ${8 * h}, &c${h}, 32);`);
    this.line('}');
  }

  /**
   * One row i0 of a dot of codes packed one after the other with TSKC_BYTES8 (or TSKC_FMA8, FMA8_HEAD): for unsigned integers,
   * where the row's x scales exactly, each code masked in place (packedRow8 with x scaled, as in
   * lane8RowScaled); packedRow8 as it is otherwise.
   */
  private packedRows8(a: string, acc: string, out: string, k: number, n: number, packed: PackedDotRows): void {
    if (packed.helper.to !== 'unsigned f32') return this.packedRow8(a, acc, out, k, n, packed);
    // Lane l's x is x[q] / 2^shift[l], for the code the scaled helper leaves at bit shift[l]. A product
    // by 2^-s is exact for every s up to the largest where it is exact for that one.
    const shifts = bytesLaneShifts(packed.helper.bits);
    const most = Math.max(...shifts);
    this.ifScaledExactly(
      [`for (int64_t q = 0; q < ${k}; q++) { const float x = ${a}[i0 * ${k} + q]; exact &= x * 0x1p-${most}f * 0x1p${most}f == x; }`],
      () => {
        this.line(`const __m256 lanes = _mm256_setr_ps(${shifts.map((v) => `0x1p-${v}f`).join(', ')});`);
        this.packedRow8(a, acc, out, k, n, packed, 'lanes');
      },
      () => this.packedRow8(a, acc, out, k, n, packed),
    );
  }

  /**
   * One row i0 of a dot whose b rows are integer codes or small floats packed one after the other
   * from a word (CEmitter.packedDotRows without wordRows: column-major tiles, for widths that straddle words), with
   * TSKC_BYTES8 (or TSKC_FMA8, FMA8_HEAD): like lane8Row, LANE8_VECTORS vectors of 8 outputs in registers, each step's 32 codes
   * taken from their 4B bytes by a tskc_bytes helper and multiplied straight in, one fused
   * multiply-add per lane in k order. (The portable block's 16-lane helpers permute words lane by
   * lane without AVX-512: the u3 GEMV 8192x8192 took 7.6-13 ms on AVX2, against 2.8-4.2 for u4.)
   * With `scaledX` (packedRows8), each lane's x is x[q] times that vector's lane, and the codes come
   * from the helper's _scaled variant.
   */
  private packedRow8(a: string, acc: string, out: string, k: number, n: number, packed: PackedDotRows, scaledX?: string): void {
    if (8 * LANE8_VECTORS !== BYTES_HELPER_CODES) throw new Error(`C backend: a tskc_bytes helper gives ${BYTES_HELPER_CODES} codes, not ${8 * LANE8_VECTORS}`);
    const vectors = Array.from({ length: LANE8_VECTORS }, (_, h) => h);
    const width = 8 * LANE8_VECTORS;
    const bits = packed.helper.bits;
    this.line(`for (int64_t j0 = 0; j0 < ${n}; j0 += ${width}) {`);
    this.line(`  __m256 ${vectors.map((h) => `c${h}`).join(', ')};`);
    for (const h of vectors) this.line(`  memcpy(&c${h}, ${acc} + i0 * ${n} + j0 + ${8 * h}, 32);`);
    this.line(`  for (int64_t q = 0; q < ${k}; q++) {`);
    if (scaledX) this.line(`    const __m256 x = _mm256_mul_ps(_mm256_set1_ps(${a}[i0 * ${k} + q]), ${scaledX});`);
    else this.line(`    const __m256 x = _mm256_set1_ps(${a}[i0 * ${k} + q]);`);
    // Row q starts on a word (the flag says so), and j0 is a multiple of 8 codes: a whole byte.
    this.line(`    const uint8_t *const bq = (const uint8_t *)(${packed.row('q')}) + j0 / 8 * ${bits};`);
    this.line(`    TSKC_PREFETCH(bq, ${PACKED_PREFETCH_BYTES});`);
    this.line(`    __m256 b[${LANE8_VECTORS}];`);
    this.line(`    ${bytesName(packed.helper)}${scaledX ? '_scaled' : ''}(bq, b);`);
    this.line(`    ${vectors.map((h) => `c${h} = _mm256_fmadd_ps(x, b[${h}], c${h});`).join(' ')}`);
    this.line('  }');
    for (const h of vectors) this.line(`  memcpy(${out} + i0 * ${n} + j0 + ${8 * h}, &c${h}, 32);`);
    this.line('}');
  }

}
