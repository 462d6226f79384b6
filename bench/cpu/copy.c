/* The copy-bandwidth yardstick of bench/cpu/run.ts: a plain parallel float copy. */
#include <stdint.h>

void copy_floats(float *restrict dst, const float *restrict src, int64_t n) {
  #pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}
