/*
 * A second peer for the softmax benchmark of bench/cpu/run.ts: the row softmax written by hand in C as
 * one would for this machine, fused into three passes over each row (max; exp into a row buffer and
 * sum; scale into y, with streaming stores where there is AVX, as the generated kernel writes large
 * outputs),
 * with tskc's own f32 exp (tskc_expf, from the prelude of backends/clike/prelude.ts) and the same
 * 16-lane double sum, so that it does the same arithmetic as the generated kernel. It shows what plain C reaches here.
 *
 * Compiled with -DWITHOUT_EXP the exp is left out (the result is not a softmax): the same passes over
 * memory with the same sums, a bound on what any exact softmax can reach on this machine.
 */
#include "tskc_prelude.h" /* written by bench/cpu/run.ts: tskc_expf is the generated kernels' own */
#if defined(__AVX__)
#include <immintrin.h>
#endif

#ifdef WITHOUT_EXP
#define EXP(x) (x)
#else
#define EXP(x) tskc_expf(x)
#endif

/* y = softmax(x) over each of the m rows of n floats (n a multiple of 16). */
void softmax_rows(float *restrict y, const float *restrict x, int64_t m, int64_t n) {
  #pragma omp parallel
  {
  #pragma omp for schedule(static)
  for (int64_t row = 0; row < m; row++) {
    const float *xr = x + row * n;
    float *yr = y + row * n;
    float lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = -INFINITY;
    for (int64_t j = 0; j < n; j += 16)
      for (int l = 0; l < 16; l++) lanes[l] = xr[j + l] > lanes[l] ? xr[j + l] : lanes[l];
    float max = lanes[0];
    for (int l = 1; l < 16; l++) max = lanes[l] > max ? lanes[l] : max;
    float e[n];
    double sums[16] = {0};
    for (int64_t j = 0; j < n; j += 16)
      for (int l = 0; l < 16; l++) {
        e[j + l] = EXP(xr[j + l] - max);
        sums[l] += e[j + l];
      }
    for (int w = 8; w >= 1; w /= 2)
      for (int l = 0; l < w; l++) sums[l] += sums[l + w];
    const float total = (float)sums[0];
    int64_t j = 0;
#if defined(__AVX__)
    if (((uintptr_t)yr & 31u) == 0)
      for (; j + 8 <= n; j += 8) {
        float q[8];
        for (int l = 0; l < 8; l++) q[l] = e[j + l] / total;
        _mm256_stream_ps(yr + j, _mm256_loadu_ps(q));
      }
#endif
    for (; j < n; j++) yr[j] = e[j] / total;
  }
#if defined(__AVX__)
  _mm_sfence();
#endif
  }
}
