/*
 * A second peer for the u4 GEMV of bench/cpu/run.ts: the 'dot' form of kernels/lowbit/gemv.ts written
 * by hand with GCC's vector extensions, as one would for this machine. W is in column-major 64x128
 * tiles ([N/64][K/128][128][64] u4 codes, 8 to a word), one f32 scale and zero point per output and
 * group of 128: each row of a tile is 64 codes, unpacked 16 to a vector and multiplied into four
 * accumulators with one FMA each, in k order, then
 *   y[n] += scale[n, g] * (acc[n] - zero[n, g] * sum of the group's x).
 * It shows what plain C reaches here with the same arithmetic (the sum of x is in f32 here, 16-lane
 * double in the kernel: a few instructions per 128 codes). Compiled with tskc's flags plus
 * -ffp-contract=fast for the vector FMAs.
 */
#include <stdint.h>
#include <string.h>

#define BN 64
#define BK 128

typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef float f32x16 __attribute__((vector_size(64)));

/* Codes 16 * h .. 16 * h + 15 of a row held in r (two words), as floats. */
#define CODES(r, h) __builtin_convertvector((i32x16)((__builtin_shufflevector(r, r, 2 * h, 2 * h, 2 * h, 2 * h, 2 * h, 2 * h, 2 * h, 2 * h, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1) >> shifts) & 15u), f32x16)

void gemv_u4_hand(float *y, const float *x, const uint32_t *w, const float *scales, const float *zeros, int64_t n, int64_t k) {
  const int64_t groups = k / BK;
  #pragma omp parallel for schedule(static)
  for (int64_t nb = 0; nb < n / BN; nb++) {
    const u32x16 shifts = { 0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28 };
    float acc[BN] = { 0 };
    for (int64_t g = 0; g < groups; g++) {
      const uint32_t *tile = w + (nb * groups + g) * (BK * BN / 8);
      f32x16 p0 = { 0 }, p1 = { 0 }, p2 = { 0 }, p3 = { 0 };
      float xs = 0;
      for (int q = 0; q < BK; q++) {
        const float xv = x[g * BK + q];
        xs += xv;
        u32x8 r;
        memcpy(&r, tile + q * (BN / 8), 32);
        const f32x16 xb = xv - (f32x16){ 0 };
        p0 += xb * CODES(r, 0);
        p1 += xb * CODES(r, 1);
        p2 += xb * CODES(r, 2);
        p3 += xb * CODES(r, 3);
      }
      float part[BN];
      memcpy(part, &p0, 64);
      memcpy(part + 16, &p1, 64);
      memcpy(part + 32, &p2, 64);
      memcpy(part + 48, &p3, 64);
      for (int j = 0; j < BN; j++) {
        const int64_t at = (nb * BN + j) * groups + g;
        acc[j] += (part[j] - zeros[at] * xs) * scales[at];
      }
    }
    for (int j = 0; j < BN; j++) y[nb * BN + j] = acc[j];
  }
}
