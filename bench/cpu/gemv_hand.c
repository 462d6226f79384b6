/*
 * A second peer for the u4 GEMV of bench/cpu/run.ts: the 'dot' form of kernels/lowbit/gemv.ts written
 * by hand with GCC's vector extensions, as one would for this machine, on the same arguments. W is in
 * interleaved 128x128 tiles (kernels/lowbit/layout.ts: [N/128][K/128][16][128][8] u4 codes, the 8
 * codes of one output and 8 consecutive k in each word), and the f32 scales and zero points are
 * group-major, [K/128][N]. Each group of 8 rows of a tile is 128 words in vectors, loaded once; row r
 * of it is each word shifted by 4r and looked up in a table of the 16 code values (vpermps reads only
 * a lane's low 4 bits; converted without AVX-512), then multiplied into the 128 outputs' accumulators
 * (8 vectors of 16, or 16 of 8) with one FMA each, in k order, and
 *   y[n] += scale[g, n] * (acc[n] - zero[g, n] * sum of the group's x).
 * It shows what plain C reaches here with the same arithmetic (the sum of x is in f32 here, 16-lane
 * double in the kernel: a few instructions per 128 codes). Compiled with tskc's flags plus
 * -ffp-contract=fast for the vector FMAs.
 */
#include <stdint.h>
#include <string.h>

#define BN 128
#define BK 128
#define CODES_PER_WORD 8
/* 16 lanes with AVX-512. Elsewhere 8, and each code converted instead of looked up: a 16-lane
   variable shuffle is lowered lane by lane without AVX-512 (36 ms here on AVX2), and an 8-lane one
   over a 16-entry table takes two permutes and a blend. */
#if defined(__AVX512F__)
#define LANES 16
#else
#define LANES 8
#endif
#define VECTORS (BN / LANES)

typedef uint32_t u32v __attribute__((vector_size(4 * LANES)));
typedef int32_t i32v __attribute__((vector_size(4 * LANES)));
typedef float f32v __attribute__((vector_size(4 * LANES)));

static inline f32v code_values(u32v words, int r) {
#if LANES == 16
  const f32v table = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
  return __builtin_shuffle(table, (i32v)(words >> (4 * r)));
#else
  return __builtin_convertvector((i32v)((words >> (4 * r)) & 15u), f32v);
#endif
}

void gemv_u4_hand(float *y, const float *x, const uint32_t *w, const float *scales, const float *zeros, int64_t n, int64_t k) {
  const int64_t groups = k / BK;
  #pragma omp parallel for schedule(static)
  for (int64_t nb = 0; nb < n / BN; nb++) {
    float acc[BN] = { 0 };
    for (int64_t g = 0; g < groups; g++) {
      const uint32_t *tile = w + (nb * groups + g) * (BK * BN / CODES_PER_WORD);
      f32v p[VECTORS] = { 0 };
      float xs = 0;
      for (int q0 = 0; q0 < BK; q0 += CODES_PER_WORD) {
        const uint32_t *words = tile + (q0 / CODES_PER_WORD) * BN;
        u32v v[VECTORS];
        memcpy(v, words, sizeof v);
        for (int h = 0; h < BN / 16; h++) __builtin_prefetch((const char *)(words + 16 * h) + 8192);
        for (int r = 0; r < CODES_PER_WORD; r++) {
          const float xv = x[g * BK + q0 + r];
          xs += xv;
          const f32v xb = xv - (f32v){ 0 };
          for (int h = 0; h < VECTORS; h++) p[h] += xb * code_values(v[h], r);
        }
      }
      float part[BN];
      memcpy(part, p, sizeof part);
      for (int j = 0; j < BN; j++) acc[j] += (part[j] - zeros[g * n + nb * BN + j] * xs) * scales[g * n + nb * BN + j];
    }
    for (int j = 0; j < BN; j++) y[nb * BN + j] = acc[j];
  }
}
