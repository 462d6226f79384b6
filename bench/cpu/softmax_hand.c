/*
 * A second peer for the softmax benchmark of bench/cpu/run.ts: the row softmax written by hand in C as
 * one would for this machine, fused into three passes over each row (max; exp, store and sum; scale),
 * with the same f32 exp polynomial as tskc_expf (backends/clike/prelude.ts) and the same 16-lane double
 * sum, so that it does the same arithmetic as the generated kernel. It shows what plain C reaches here.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float scale2(int32_t e) {
  const uint32_t bits = (uint32_t)(e + 127) << 23;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline float exp_f32(float x) {
  const float c = x > 88.8f ? 88.8f : x < -104.0f ? -104.0f : (x == x ? x : 0.0f);
  const float n = rintf(c * 1.44269504f);
  const float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t ni = (int32_t)n, n1 = ni / 2;
  return x > 88.8f ? INFINITY : x == x ? p * scale2(n1) * scale2(ni - n1) : x;
}

/* y = softmax(x) over each of the m rows of n floats (n a multiple of 16). */
void softmax_rows(float *restrict y, const float *restrict x, int64_t m, int64_t n) {
  #pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < m; row++) {
    const float *xr = x + row * n;
    float *yr = y + row * n;
    float lanes[16];
    for (int l = 0; l < 16; l++) lanes[l] = -INFINITY;
    for (int64_t j = 0; j < n; j += 16)
      for (int l = 0; l < 16; l++) lanes[l] = xr[j + l] > lanes[l] ? xr[j + l] : lanes[l];
    float max = lanes[0];
    for (int l = 1; l < 16; l++) max = lanes[l] > max ? lanes[l] : max;
    double sums[16] = {0};
    for (int64_t j = 0; j < n; j += 16)
      for (int l = 0; l < 16; l++) {
        const float e = exp_f32(xr[j + l] - max);
        yr[j + l] = e;
        sums[l] += e;
      }
    for (int w = 8; w >= 1; w /= 2)
      for (int l = 0; l < w; l++) sums[l] += sums[l + w];
    const float total = (float)sums[0];
    for (int64_t j = 0; j < n; j++) yr[j] = yr[j] / total;
  }
}
