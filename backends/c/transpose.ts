/**
 * Transposes of 32-bit tiles for the C backend: a permute that swaps a tile's last two dims (a linear
 * layer's Wᵀ, attention's Kᵀ) copies it in 8 x 8 blocks. Element by element, the copy took 12% of
 * a 1024x2048x2048 linear layer on AVX2: it wrote one element per cycle, with a division per index.
 * With AVX, each block is 8 row loads, 24 shuffles and 8 row stores; elsewhere the blocks keep both
 * tiles' lines in the cache. Elements are moved as bits, never converted.
 */

/** The C helper; tskc_transpose32(src, dst, rows, cols) writes dst[j * rows + i] = src[i * cols + j]. */
export const TRANSPOSE_HEAD = [
  '#if defined(__GNUC__) && defined(__AVX__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)',
  '#include <immintrin.h>',
  '/* 8 rows of 8 lanes, `from` apart, to 8 rows `to` apart: lane j of row i goes to lane i of row j. */',
  'static inline void tskc_transpose8x8(const float *src, int64_t from, float *dst, int64_t to) {',
  '  __m256 r[8], t[8], u[8];',
  '  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * from);',
  '  /* Pairs of rows interleaved, then pairs of pairs: each 128-bit half then holds 4 lanes of a column... */',
  '  for (int i = 0; i < 8; i += 2) { t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]); t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]); }',
  '  for (int i = 0; i < 8; i += 4) {',
  '    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44); u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);',
  '    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44); u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);',
  '  }',
  '  /* ...and the halves from rows 0-3 and 4-7 joined make whole columns. */',
  '  for (int j = 0; j < 4; j++) {',
  '    _mm256_storeu_ps(dst + j * to, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));',
  '    _mm256_storeu_ps(dst + (j + 4) * to, _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));',
  '  }',
  '}',
  '#define TSKC_TRANSPOSE8X8 1',
  '#endif',
  '/* Elements are moved by memcpy (bytes): the tiles may be float or int32_t, never read as another type. */',
  'static void tskc_transpose32(const void *src_, void *dst_, int64_t rows, int64_t cols) {',
  '  const char *const src = (const char *)src_;',
  '  char *const dst = (char *)dst_;',
  '  for (int64_t i0 = 0; i0 < rows; i0 += 8) {',
  '    for (int64_t j0 = 0; j0 < cols; j0 += 8) {',
  '#ifdef TSKC_TRANSPOSE8X8',
  '      if (i0 + 8 <= rows && j0 + 8 <= cols) {',
  '        tskc_transpose8x8((const float *)src + i0 * cols + j0, cols, (float *)dst + j0 * rows + i0, rows);',
  '        continue;',
  '      }',
  '#endif',
  '      for (int64_t i = i0; i < i0 + 8 && i < rows; i++)',
  '        for (int64_t j = j0; j < j0 + 8 && j < cols; j++) memcpy(dst + 4 * (j * rows + i), src + 4 * (i * cols + j), 4);',
  '    }',
  '  }',
  '}',
];

/** Whether `perm` swaps the last two of its dims and keeps the others where they are. */
export function swapsLastTwo(perm: readonly number[]): boolean {
  const r = perm.length;
  return r >= 2 && perm.every((p, i) => p === (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
}
