/**
 * Helpers of the C backend that unpack a group of packed sub-byte elements from whole words: the
 * smallest run of B-bit elements that starts and ends on a word boundary and fills a 16-lane vector,
 * 32/g elements in B/g words for g = gcd(32, B), doubled while under 16 (16 u4 codes in 2 words; 32 u3
 * codes in 3 words; 16 u6 codes in 3 words). tskc_unpack<B>(words, out) writes the group's codes,
 * lowest bits first, as uint32_t; tskc_unpack<B>_uf and tskc_unpack<B>_sf write them as floats, read
 * as unsigned or as two's complement B-bit integers (a load whose one use converts its codes to f32:
 * the codes go from the vector registers to floats without a pass over a tile of integers).
 *
 * Why helpers instead of a loop the compiler vectorizes: written as a loop over a word's elements
 * inside a loop over words, GCC vectorizes the outer loop and transposes with shuffles (a third of the
 * speed), and a loop that finds each element's word is a gather per element (for widths that do not
 * divide 32 it was 14x slower than u4). With GNU C's vector extensions each 16 codes take a vector
 * of their words (a permutation of the group's words where codes straddle them: the low and the high
 * word of each), one variable shift (two, and an or), and an and. Compiling with
 * -DTSKC_NO_VECTOR_EXTENSIONS takes the plain C path (the tests run both).
 */

import type { FloatDtype } from '../../compiler/ir/dtype.js';
import { decodeFloat } from '../../compiler/ir/float-format.js';
import { f32Bits, f32Word } from '../clike/small-floats.js';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The group of B-bit elements that fills whole words and at least 16 lanes: its element and word counts. */
export function packedGroup(bits: number): { readonly elements: number; readonly words: number } {
  const g = gcd(32, bits);
  const times = Math.max(1, 16 / (32 / g));
  return { elements: (32 / g) * times, words: (bits / g) * times };
}

/**
 * What a helper writes: the codes as uint32_t, as floats of unsigned or signed codes, or as the
 * values of a small float format (`format`): looked up in a table held in one or two vector registers
 * (registerTable: every value up to TABLE_BITS bits, the magnitudes one bit wider), decoded by shifts
 * past them (smallFloatByShifts), and by shifts in the AVX2 paths (the lane helpers without AVX-512,
 * the tskc_bytes helpers) at every width.
 */
export type UnpackTo = 'u32' | 'unsigned f32' | 'signed f32' | 'small float';

export interface UnpackHelper {
  readonly bits: number;
  readonly to: UnpackTo;
  readonly format?: FloatDtype;
  /**
   * A lane helper: 16 codes, one in each of 16 consecutive words at the same bit offset (interleaved
   * tiles, kernels/lowbit/layout.ts), instead of a group of codes packed one after the other.
   */
  readonly perLane?: boolean;
}

/** The widest small float format whose values fit two 16-lane registers. */
export const TABLE_BITS = 5;

/**
 * What a 16-lane small float helper looks up in registers (f32 bit patterns): every code's value up to
 * TABLE_BITS bits; one bit wider, the values of the codes with the sign bit clear (two registers' worth),
 * where every code with it set is the negative of the one without (so the sign goes in by a shift and an
 * or); undefined past that (decoded by shifts, smallFloatByShifts). A table keeps the small float's
 * subnormals out of f32 arithmetic: decoded by shifts they pass through f32 subnormals, whose products
 * take a slow path (the f6e3m2 'dot' GEMV 8192x8192, AVX-512 on Zen 4, in a C driver: 8.4 ms by
 * shifts, 4.1-4.4 by a table).
 */
function registerTable(format: FloatDtype, bits: number): { readonly values: readonly string[]; readonly signed: boolean } | undefined {
  if (bits <= TABLE_BITS) return { values: Array.from({ length: Math.max(16, 2 ** bits) }, (_, c) => f32Bits(decodeFloat(format, c % 2 ** bits))), signed: false };
  const magnitudes = bits === TABLE_BITS + 1 ? signMagnitudes(format) : undefined;
  return magnitudes && { values: magnitudes, signed: true };
}

/**
 * Whether a small float helper of 16 lanes looks its values up in registers (registerTable), where
 * decoding by shifts would pass its subnormal codes through f32 subnormals.
 */
export function looksUpInRegisters({ bits, to, format }: UnpackHelper): boolean {
  return to === 'small float' && registerTable(format!, bits) !== undefined;
}

/**
 * The f32 bit patterns of the codes of `format` whose sign bit is clear, where every code with it set
 * is the negative of the same code without it (the sign goes in by an or); undefined otherwise.
 */
function signMagnitudes(format: FloatDtype): string[] | undefined {
  const half = 2 ** (format.bits - 1);
  const magnitudes = Array.from({ length: half }, (_, c) => decodeFloat(format, c));
  const signMagnitude = magnitudes.every((m, c) => f32Word(decodeFloat(format, half + c)) === (f32Word(m) | 0x80000000) >>> 0);
  return signMagnitude ? magnitudes.map(f32Bits) : undefined;
}

/** The C name of the helper. */
export function unpackName({ bits, to, format, perLane }: UnpackHelper): string {
  const suffix = { u32: '', 'unsigned f32': '_uf', 'signed f32': '_sf', 'small float': `_${format?.name}` }[to];
  return `tskc_${perLane ? 'lanes' : 'unpack'}${bits}${suffix}`;
}

/** The C value a helper writes for `code`, a uint32_t expression of one code's bits (the plain C paths). */
function scalarValue({ bits, to, format }: UnpackHelper, code: string): string {
  return { u32: code, 'unsigned f32': `(float)(int32_t)(${code})`, 'signed f32': `(float)tskc_wrap_s((int64_t)(${code}), ${bits})`, 'small float': `tskc_value_${format?.name}(${code})` }[to];
}

/** The value of code c (its low `bits` bits) as the helper writes it, an f32 bit pattern in C. */
function codeValueBits({ bits, to, format }: UnpackHelper, c: number): string {
  const code = c % 2 ** bits;
  if (to === 'small float') return f32Bits(decodeFloat(format!, code));
  return f32Bits(to === 'signed f32' && code >= 2 ** (bits - 1) ? code - 2 ** bits : code);
}

/**
 * tskc_lanes<B><suffix>(w, shift, out): the codes at bit `shift` of the 16 words w[0..15], as floats.
 * With GCC's vector extensions and AVX-512, one load, one shift, and one lookup in a table of the 16
 * values that the low 4 bits of a lane can name (vpermps reads only those bits, so no mask): 3
 * instructions for 16 codes, against 5 for codes packed one after the other. Without AVX-512 a
 * 16-lane variable shuffle is lowered lane by lane (the u4 GEMV 8192x8192 took 44 ms on AVX2, against
 * 0.85 on AVX-512), so there each 8 codes are shifted, masked and converted (integers: 2.6-3.5 ms in a C
 * driver on AVX2), and small floats decoded by shifts (smallFloatByShifts; a lookup in two 8-lane
 * halves of the table took 5.6-7 ms). Widths of 1 to 4 bits only.
 */
function laneHelper(helper: UnpackHelper): string {
  const { bits, to } = helper;
  if (bits > 4 || to === 'u32') throw new Error(`C backend: no lane helper for ${bits}-bit codes to ${to}`);
  const mask = `${2 ** bits - 1}u`;
  const table = Array.from({ length: 16 }, (_, c) => codeValueBits(helper, c));
  const vectors = (bytes: number) => [
    `  typedef uint32_t lanes __attribute__((vector_size(${bytes})));`,
    `  typedef int32_t ilanes __attribute__((vector_size(${bytes})));`,
    `  typedef float flanes __attribute__((vector_size(${bytes})));`,
  ];
  // Without AVX-512: each half of the 16 codes, as 8 lanes; small floats decoded by shifts (a
  // two-register 8-lane lookup took twice as long: the f4e2m1 GEMV 5.7 ms, against 2.8 for u4).
  const halfValues =
    to === 'small float'
      ? smallFloatOfTop(helper.format!, `(ilanes)(v << (${32 - bits}u - shift))`)
      : `__builtin_convertvector(${to === 'unsigned f32' ? `(ilanes)((v >> shift) & ${mask})` : `((ilanes)(v << (${32 - bits}u - shift))) >> ${32 - bits}`}, flanes)`;
  return [
    `TSKC_FN void ${unpackName(helper)}(const uint32_t *w, unsigned shift, float *out) {`,
    '#if defined(__GNUC__) && !defined(__clang__) && !defined(TSKC_NO_VECTOR_EXTENSIONS) && defined(__AVX512F__)',
    ...vectors(64),
    `  const lanes bits = { ${table.join(', ')} };`,
    '  const flanes table = (flanes)bits;',
    '  lanes v;',
    '  memcpy(&v, w, 64);',
    '  const flanes f = __builtin_shuffle(table, (ilanes)(v >> shift));',
    '  memcpy(out, &f, 64);',
    '#elif defined(__GNUC__) && !defined(__clang__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
    ...vectors(32),
    '  for (int h = 0; h < 2; h++) {',
    '    lanes v;',
    '    memcpy(&v, w + 8 * h, 32);',
    `    const flanes f = ${halfValues};`,
    '    memcpy(out + 8 * h, &f, 32);',
    '  }',
    '#else',
    `  for (int j = 0; j < 16; j++) out[j] = ${scalarValue(helper, `((w[j] >> shift) & ${mask})`)};`,
    '#endif',
    '}',
    // The same for 8 words, as a value: the dot's TSKC_FMA8 single rows multiply it straight in.
    '#ifdef TSKC_FMA8',
    `TSKC_FN __m256 ${unpackName(helper)}_8(const uint32_t *w, unsigned shift) {`,
    ...vectors(32),
    '  lanes v;',
    '  memcpy(&v, w, 32);',
    `  return (__m256)${halfValues};`,
    '}',
    // Unsigned codes in place for DotEmitter.lane8RowScaled (dot.ts): code * 2^shift, exact, the top code shifted down.
    ...(to === 'unsigned f32'
      ? [
          `TSKC_FN __m256 ${unpackName(helper)}_scaled8(const uint32_t *w, unsigned shift) {`,
          ...vectors(32),
          '  lanes v;',
          '  memcpy(&v, w, 32);',
          `  return (__m256)__builtin_convertvector((ilanes)(shift == ${32 - bits}u ? v >> shift : v & (${mask} << shift)), flanes);`,
          '}',
        ]
      : []),
    '#endif',
  ].join('\n');
}

function unpackHelper(helper: UnpackHelper): string {
  const { bits, to, format } = helper;
  const { elements, words } = packedGroup(bits);
  const mask = `${2 ** bits - 1}u`;
  const codes = Array.from({ length: elements }, (_, j) => ({ word: (j * bits) >> 5, shift: (j * bits) & 31 }));
  const straddles = (c: { shift: number }) => c.shift + bits > 32;
  const outType = to === 'u32' ? 'uint32_t' : 'float';
  // The code in a uint32_t, as the element written out.
  // Without vector extensions: one statement per code, every index and shift a constant.
  const scalar = codes.map((c, j) => `  out[${j}] = ${scalarValue(helper, `(${straddles(c) ? `(w[${c.word}] >> ${c.shift}) | (w[${c.word + 1}] << ${32 - c.shift})` : `w[${c.word}] >> ${c.shift}`}) & ${mask}`)};`);
  // A small float's values (or magnitudes) as f32 bit patterns, 16 to a register (codes of fewer than
  // 4 bits repeat them); none for the wider ones, decoded by arithmetic.
  const lookup = to === 'small float' ? registerTable(format!, bits) : undefined;
  const table = lookup?.values ?? [];
  // The 16 codes of vector v (uint32_t lanes, each code masked) written to out + at.
  const write = (v: string, at: number) => {
    if (to === 'u32') return [`  memcpy(out + ${at}, &${v}, 64);`];
    if (to === 'small float' && !lookup) {
      return [`  { const flanes f = ${smallFloatOfTop(format!, `(ilanes)(${v} << ${32 - bits})`)}; memcpy(out + ${at}, &f, 64); }`];
    }
    if (to === 'small float') {
      // A two-register shuffle reads the low 5 bits of each lane: the magnitude, where the sign is bit 5.
      const look = table.length === 16 ? `__builtin_shuffle(lo, ${v})` : `__builtin_shuffle(lo, hi, ${v})`;
      const value = lookup!.signed ? `${look} | ((${v} << ${32 - bits}) & 0x80000000u)` : look;
      return [`  { const lanes f = ${value}; memcpy(out + ${at}, &f, 64); }`];
    }
    const ints = to === 'unsigned f32' ? `(ilanes)${v}` : `((ilanes)(${v} << ${32 - bits})) >> ${32 - bits}`;
    return [`  { const flanes f = __builtin_convertvector(${ints}, flanes); memcpy(out + ${at}, &f, 64); }`];
  };
  const types = [
    '  typedef uint32_t lanes __attribute__((vector_size(64)));',
    '  typedef int32_t ilanes __attribute__((vector_size(64)));',
    '  typedef float flanes __attribute__((vector_size(64)));',
    ...(table.length ? [`  const lanes lo = { ${table.slice(0, 16).join(', ')} };`] : []),
    ...(table.length > 16 ? [`  const lanes hi = { ${table.slice(16).join(', ')} };`] : []),
  ];
  const signature = `TSKC_FN void ${unpackName(helper)}(const uint32_t *w, ${outType} *out) {`;
  const halves = Array.from({ length: elements / 16 }, (_, h) => codes.slice(16 * h, 16 * h + 16));
  const straddling = codes.some(straddles);
  // Where no code straddles words (u1, u2, u4), each lane shifts its own word, named in a vector
  // constructor that any GNU C compiler takes. Otherwise, per 16 codes, the low word of each code
  // and the next one (or a zero lane past the group's words) are picked by __builtin_shuffle, and a
  // small float's values are looked up with it too: GCC only.
  const vector = halves.flatMap((half, h) => {
    const shifts = `(lanes){ ${half.map((c) => c.shift).join(', ')} }`;
    if (!straddling) return [`  const lanes v${h} = ((lanes){ ${half.map((c) => `w[${c.word}]`).join(', ')} } >> ${shifts}) & ${mask};`, ...write(`v${h}`, 16 * h)];
    const zeroLane = 15; // the group has at most 7 words, so lane 15 of the source is zero
    const low = `(__builtin_shuffle(src, (lanes){ ${half.map((c) => c.word).join(', ')} }) >> ${shifts})`;
    const high = half.some(straddles)
      ? ` | (__builtin_shuffle(src, (lanes){ ${half.map((c) => (straddles(c) ? c.word + 1 : zeroLane)).join(', ')} }) << (lanes){ ${half.map((c) => (straddles(c) ? 32 - c.shift : 0)).join(', ')} })`
      : '';
    return [`  const lanes v${h} = (${low}${high}) & ${mask};`, ...write(`v${h}`, 16 * h)];
  });
  const gccOnly = straddling || to === 'small float';
  const converts = to === 'unsigned f32' || to === 'signed f32'; // __builtin_convertvector: clang, GCC 9 on
  const guard = [
    'defined(__GNUC__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
    ...(gccOnly ? ['!defined(__clang__)'] : []),
    ...(converts ? [gccOnly ? '__GNUC__ >= 9' : '(defined(__clang__) || __GNUC__ >= 9)'] : []),
  ];
  return [
    signature,
    `#if ${guard.join(' && ')}`,
    ...types,
    // Built from the words in registers: a memcpy into the vector is narrow stores that a wide load
    // then cannot forward from (a stall that took half of the u6 GEMV's time). The empty asm hides
    // how: inside a dot's unrolled loop GCC otherwise folds each permutation of src into a vector
    // built lane by lane from the words (the u6 'dot' GEMV 4.7 -> 2.6-3.1 ms with it).
    ...(straddling
      ? [
          `  lanes src = { ${Array.from({ length: words }, (_, i) => `w[${i}]`).join(', ')} };`,
          '#if defined(__AVX512F__)',
          '  __asm__("" : "+v"(src));',
          '#endif',
        ]
      : []),
    ...vector,
    '#else',
    ...scalar,
    '#endif',
    '}',
  ].join('\n');
}

/** Codes a tskc_bytes helper gives: 4 vectors of 8. */
export const BYTES_HELPER_CODES = 32;

/** The loads of 1 to 8 bytes into general registers that the tskc_bytes helpers build their words from (wordOfBytes). */
const BYTE_LOADS = [
  '#ifdef TSKC_BYTES8',
  ...[8, 16, 32, 64].map((b) => `TSKC_FN uint64_t tskc_load_u${b}(const uint8_t *p) { uint${b}_t v; memcpy(&v, p, ${b / 8}); return v; }`),
  '#endif',
].join('\n');

/**
 * tskc_bytes<B>_<uf|sf|format>_32(p, out): the 32 codes of 4B bytes at p (codes packed one after the
 * other from a byte boundary) as four vectors of 8 floats, with TSKC_BYTES8 (AVX2), for the dot's single rows of
 * packed codes (dot.ts: DotEmitter.packedRow8). The bytes are read exactly, in windows of at most 16 (one for
 * B <= 4, else two of 2B bytes), into 128-bit registers through general registers (not memory: a wide
 * load after narrow stores would stall), which both halves of a 256-bit register then hold; in each
 * 32-bit lane a byte shuffle gathers the one or two bytes of the lane's code, a variable shift moves
 * the code to bit 0, and an and (unsigned) or a shift left and an arithmetic shift right (signed) leave
 * its value, or a small float's (smallFloatByShifts): 5 or 6 operations for 8 codes of any width under
 * 8 bits, where the 16-lane helpers' variable permutations go lane by lane without AVX-512.
 */
function bytesHelper(helper: UnpackHelper): string {
  const { bits, to } = helper;
  const windows = 4 * bits <= 16 ? 1 : 2;
  const windowCodes = BYTES_HELPER_CODES / windows;
  const windowBytes = (windowCodes * bits) / 8;
  // Code c of a window: its first byte there, and its bit in that byte.
  const lane = (c: number) => ({ byte: (c * bits) >> 3, shift: (c * bits) & 7 });
  // Per 8 codes (the window's codes from `first`): the shuffle's bytes (the lane's first byte, its
  // second where the code reaches it, zeros) and each lane's shift.
  const value = (window: number, first: number, out: number) => {
    const half = Array.from({ length: 8 }, (_, n) => lane(first + n));
    const control = half.flatMap((l) => [l.byte, l.shift + bits > 8 ? l.byte + 1 : -128, -128, -128]).join(', ');
    const picked = `_mm256_shuffle_epi8(v${window}, _mm256_setr_epi8(${control}))`;
    // The code's top bit to bit 31 (signed integers and small floats), or its low bit to bit 0.
    const top = `_mm256_sllv_epi32(${picked}, _mm256_setr_epi32(${half.map((l) => 32 - bits - l.shift).join(', ')}))`;
    if (to === 'small float') return `  out[${out}] = ${smallFloatOfTop8(helper.format!, top)};`;
    const codes =
      to === 'unsigned f32'
        ? `_mm256_and_si256(_mm256_srlv_epi32(${picked}, _mm256_setr_epi32(${half.map((l) => l.shift).join(', ')})), _mm256_set1_epi32(${2 ** bits - 1}))`
        : `_mm256_srai_epi32(${top}, ${32 - bits})`;
    return `  out[${out}] = _mm256_cvtepi32_ps(${codes});`;
  };
  const load = (window: number) => {
    const at = `(p + ${window * windowBytes})`;
    const hi = windowBytes > 8 ? wordOfBytes(`(${at} + 8)`, windowBytes - 8) : '0';
    return `  const __m256i v${window} = _mm256_broadcastsi128_si256(_mm_set_epi64x((long long)(${hi}), (long long)(${wordOfBytes(at, Math.min(8, windowBytes))})));`;
  };
  // Unsigned codes in place, for DotEmitter.packedRow8's scaled x (dot.ts): code * 2^shift, exact (bytesLaneShifts).
  const inPlace = (window: number, first: number, out: number) => {
    const half = Array.from({ length: 8 }, (_, n) => lane(first + n));
    const control = half.flatMap((l) => [l.byte, l.shift + bits > 8 ? l.byte + 1 : -128, -128, -128]).join(', ');
    const masks = half.map((l) => ((2 ** bits - 1) << l.shift) >>> 0).join(', ');
    return `  out[${out}] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_shuffle_epi8(v${window}, _mm256_setr_epi8(${control})), _mm256_setr_epi32(${masks})));`;
  };
  const ws = Array.from({ length: windows }, (_, w) => w);
  const groups = (code: typeof value) => ws.flatMap((w) => Array.from({ length: windowCodes / 8 }, (_, g) => code(w, 8 * g, w * (windowCodes / 8) + g)));
  return [
    '#ifdef TSKC_BYTES8',
    `TSKC_FN void ${bytesName(helper)}(const uint8_t *p, __m256 out[4]) {`,
    ...ws.map(load),
    ...groups(value),
    '}',
    ...(to === 'unsigned f32' ? [`TSKC_FN void ${bytesName(helper)}_scaled(const uint8_t *p, __m256 out[4]) {`, ...ws.map(load), ...groups(inPlace), '}'] : []),
    '#endif',
  ].join('\n');
}

/**
 * The bit at which each of 8 consecutive codes of a tskc_bytes helper sits in its lane after the byte
 * shuffle, the same for every 8 (they start on a byte): the scaled helper leaves code n as
 * code * 2^shift[n], to multiply by x / 2^shift[n].
 */
export function bytesLaneShifts(bits: number): number[] {
  return Array.from({ length: 8 }, (_, n) => (n * bits) & 7);
}

/**
 * The `count` (1 to 8) bytes at p as a little-endian uint64_t, built from loads of 8, 4, 2 and 1 bytes
 * in general registers: a memcpy of an odd size into a uint64_t became narrow stores to the stack and
 * one wide load of them, which cannot be forwarded (the u3 GEMV took 23 ms so, against 7-12 before).
 */
function wordOfBytes(p: string, count: number): string {
  const parts: string[] = [];
  for (let at = 0, size = 8; at < count; size /= 2) {
    if (count - at < size) continue;
    parts.push(`((uint64_t)tskc_load_u${8 * size}(${p} + ${at}) << ${8 * at})`);
    at += size;
  }
  return parts.join(' | ');
}

/** The C name of a helper's tskc_bytes variant (bytesHelper): codes converted to f32 only. */
export function bytesName({ bits, to, format }: UnpackHelper): string {
  if (to === 'u32') throw new Error(`C backend: no byte helper for codes to ${to}`);
  return `tskc_bytes${bits}${{ 'unsigned f32': '_uf', 'signed f32': '_sf', 'small float': `_${format?.name}` }[to]}_32`;
}

/** Whether a packed helper has a tskc_bytes variant: codes of under 8 bits converted to f32. */
export function hasBytesHelper({ bits, to, perLane }: UnpackHelper): boolean {
  return !perLane && bits < 8 && to !== 'u32';
}

/**
 * A small float (sign, E exponent bits, M mantissa bits, bias b; finite: every code is a number) by
 * arithmetic, from its code shifted so that the sign is bit 31: an arithmetic shift right by 8 - E puts
 * the exponent and mantissa where an f32's are (the exponent's low bit at bit 23), the mask keeps them
 * and the sign, and the product by 2^(127 - b) rescales the f32 so read to the format's value, exactly:
 * for subnormal codes too, which read as f32 subnormals (kernels run with flush-to-zero and
 * denormals-are-zero off: emit.ts, IEEE_HEAD). 3 operations for any width, where a table of 2^B values
 * does not fit registers past 5 bits. A product of a subnormal takes a slow path on Zen 4 in 16-lane
 * registers (registerTable), not measurably in 8-lane ones: the f6e3m2 'dot' GEMV 8192x8192 built
 * with -mno-avx512f ran at 5.1-6.1 ms so, and 5.1 (intrinsics) to 7.1 ms (GNU C vectors, which spilled
 * its accumulators) with the subnormal codes decoded apart and selected, in 8 operations instead of 3.
 */
function smallFloatByShifts(format: FloatDtype): { shift: number; mask: string; scale: string } {
  const { exponentBits: e, mantissaBits: m, bias } = format;
  if (format.specials !== 'finite') throw new Error(`C backend: ${format.name} has infinities or NaNs: no decoding by shifts`);
  const mask = (0x80000000 | (((1 << (e + m)) - 1) << (23 - m))) >>> 0;
  return { shift: 8 - e, mask: `0x${mask.toString(16)}u`, scale: `0x1p${127 - bias}f` };
}

/** smallFloatByShifts in GNU C vectors: `top` holds the codes with their sign bits at bit 31, as ilanes. */
function smallFloatOfTop(format: FloatDtype, top: string): string {
  const { shift, mask, scale } = smallFloatByShifts(format);
  return `(flanes)((lanes)((${top}) >> ${shift}) & ${mask}) * ${scale}`;
}

/** The same in AVX2 intrinsics, for __m256i `top`. */
function smallFloatOfTop8(format: FloatDtype, top: string): string {
  const { shift, mask, scale } = smallFloatByShifts(format);
  return `_mm256_mul_ps(_mm256_castsi256_ps(_mm256_and_si256(_mm256_srai_epi32(${top}, ${shift}), _mm256_set1_epi32((int)${mask}))), _mm256_set1_ps(${scale}))`;
}

/** The given helpers, each once. */
export function unpackHelpers(helpers: Iterable<UnpackHelper>): string {
  const unique = new Map([...helpers].map((h) => [unpackName(h), h]));
  const helperCode = [...unique.keys()].sort().map((name) => {
    const helper = unique.get(name)!;
    if (helper.perLane) return laneHelper(helper);
    return [unpackHelper(helper), ...(hasBytesHelper(helper) ? [bytesHelper(helper)] : [])].join('\n');
  });
  return [...([...unique.values()].some(hasBytesHelper) ? [BYTE_LOADS] : []), ...helperCode].join('\n');
}
