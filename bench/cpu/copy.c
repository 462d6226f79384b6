/*
 * The copy-bandwidth yardsticks of bench/cpu/run.ts: a plain parallel float copy, and the same with
 * streaming (non-temporal) stores, which skip reading each destination line before writing it. The
 * generated kernels stream their large outputs too (backends/c/emit.ts: streamRow), so the faster of
 * the two is the limit they are measured against.
 */
#include <stdint.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

void copy_floats(float *restrict dst, const float *restrict src, int64_t n) {
  #pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) dst[i] = src[i];
}

/* Plain stores up to dst's first 32-byte boundary and after the last whole 32 bytes; streams between. */
void copy_floats_streaming(float *restrict dst, const float *restrict src, int64_t n) {
#if defined(__AVX__)
  int64_t head = (int64_t)((32u - (uintptr_t)dst % 32u) % 32u / 4u);
  if (head > n) head = n;
  for (int64_t i = 0; i < head; i++) dst[i] = src[i];
  const int64_t body = head + (n - head) / 8 * 8;
  #pragma omp parallel
  {
    #pragma omp for schedule(static)
    for (int64_t i = head; i < body; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
    _mm_sfence();
  }
  for (int64_t i = body; i < n; i++) dst[i] = src[i];
#else
  copy_floats(dst, src, n);
#endif
}
