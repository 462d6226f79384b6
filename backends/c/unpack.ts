/**
 * Helpers of the C backend that unpack a group of packed sub-byte elements from whole words: the
 * smallest run of B-bit elements that starts and ends on a word boundary, 32/g elements in B/g words
 * for g = gcd(32, B) (8 u4 codes in a word; 32 u3 codes in 3 words; 16 u6 codes in 3 words).
 * tskc_unpack<B>(words, out) writes the group's codes, lowest bits first, as uint32_t.
 *
 * Why helpers instead of a loop the compiler vectorizes: written as a loop over a word's elements
 * inside a loop over words, GCC vectorizes the outer loop and transposes with shuffles (a third of the
 * speed), and a loop that finds each element's word is a gather per element (for widths that do not
 * divide 32 it was 14x slower than u4). With GCC's vector extensions each 16 codes take two word
 * permutations (the low and the high word of each code), two variable shifts, an or and an and.
 * Compiling with -DTSKC_NO_VECTOR_EXTENSIONS takes the plain C path (the tests run both).
 */

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The group of B-bit elements that fills whole words: its element and word counts. */
export function packedGroup(bits: number): { readonly elements: number; readonly words: number } {
  const g = gcd(32, bits);
  return { elements: 32 / g, words: bits / g };
}

function unpackHelper(bits: number): string {
  const { elements, words } = packedGroup(bits);
  const mask = `${2 ** bits - 1}u`;
  const codes = Array.from({ length: elements }, (_, j) => ({ word: (j * bits) >> 5, shift: (j * bits) & 31 }));
  const straddles = (c: { shift: number }) => c.shift + bits > 32;
  // Without vector extensions: one statement per code, every index and shift a constant.
  const scalar = codes.map((c, j) => `  out[${j}] = (${straddles(c) ? `(w[${c.word}] >> ${c.shift}) | (w[${c.word + 1}] << ${32 - c.shift})` : `w[${c.word}] >> ${c.shift}`}) & ${mask};`);
  if (words === 1) {
    // One word: shift a broadcast of it by each code's offset.
    return [
      `TSKC_FN void tskc_unpack${bits}(const uint32_t *w, uint32_t *out) {`,
      '#if defined(__GNUC__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
      `  typedef uint32_t lanes __attribute__((vector_size(${4 * elements})));`,
      `  const lanes shifts = { ${codes.map((c) => c.shift).join(', ')} };`,
      `  const lanes v = (w[0] >> shifts) & ${mask};`,
      `  memcpy(out, &v, ${4 * elements});`,
      '#else',
      ...scalar,
      '#endif',
      '}',
    ].join('\n');
  }
  // Several words: per 16 codes, the low word of each code and the next one (or a zero lane past the
  // group's words, for a code that does not straddle) picked by __builtin_shuffle (GCC only).
  const halves = Array.from({ length: elements / 16 }, (_, h) => codes.slice(16 * h, 16 * h + 16));
  const zeroLane = 15; // the group has at most 7 words, so lane 15 of the source is zero
  const vector = halves.flatMap((half, h) => [
    '  {',
    `    const lanes lo = { ${half.map((c) => c.word).join(', ')} };`,
    `    const lanes hi = { ${half.map((c) => (straddles(c) ? c.word + 1 : zeroLane)).join(', ')} };`,
    `    const lanes right = { ${half.map((c) => c.shift).join(', ')} };`,
    `    const lanes left = { ${half.map((c) => (straddles(c) ? 32 - c.shift : 0)).join(', ')} };`,
    `    const lanes v = ((__builtin_shuffle(src, lo) >> right) | (__builtin_shuffle(src, hi) << left)) & ${mask};`,
    `    memcpy(out + ${16 * h}, &v, 64);`,
    '  }',
  ]);
  return [
    `TSKC_FN void tskc_unpack${bits}(const uint32_t *w, uint32_t *out) {`,
    '#if defined(__GNUC__) && !defined(__clang__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
    '  typedef uint32_t lanes __attribute__((vector_size(64)));',
    // Built from the words in registers: a memcpy into the vector is narrow stores that a wide load
    // then cannot forward from (a stall that took half of the u6 GEMV's time).
    `  const lanes src = { ${Array.from({ length: words }, (_, i) => `w[${i}]`).join(', ')} };`,
    ...vector,
    '#else',
    ...scalar,
    '#endif',
    '}',
  ].join('\n');
}

/** The helpers for the given sub-byte widths (those of the kernel's packed tensors), each once. */
export function unpackHelpers(widths: readonly number[]): string {
  return [...new Set(widths)].sort((a, b) => a - b).map(unpackHelper).join('\n');
}
