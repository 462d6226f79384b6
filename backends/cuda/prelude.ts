/**
 * The CUDA header under the shared prelude (backends/clike/prelude.ts): NVRTC has no libc headers, so the
 * fixed-width integer types are defined here (nvcc, used to check the source offline, has stdint.h),
 * and INFINITY and NAN as device values; helpers are device functions; bit
 * casts are CUDA intrinsics; packed-bit writes use the device's atomics. Then the 16-byte vector type
 * used by vectorized loads and stores.
 */
import { PRELUDE_BODY } from '../clike/prelude.js';

const CUDA_PRELUDE_HEADER = String.raw`#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#else
#include <stdint.h>
#endif
#undef INFINITY
#undef NAN
#define INFINITY __int_as_float(0x7f800000)
#define NAN __int_as_float(0x7fc00000)

#define TSKC_FN [[maybe_unused]] static __device__ __forceinline__
#define TSKC_COLD [[maybe_unused]] static __device__ __noinline__
TSKC_FN uint32_t tskc_raw_f32_bits(float x) { return __float_as_uint(x); }
TSKC_FN float tskc_bits_f32(uint32_t u) { return __uint_as_float(u); }
TSKC_FN double tskc_bits_f64(uint64_t u) { return __longlong_as_double((long long)u); }
TSKC_FN uint64_t tskc_f64_bits(double x) { return (uint64_t)__double_as_longlong(x); }
TSKC_FN void tskc_atomic_and(uint32_t *p, uint32_t v) { atomicAnd(p, v); }
TSKC_FN void tskc_atomic_or(uint32_t *p, uint32_t v) { atomicOr(p, v); }
/*
 * The bits of n consecutive width-bit elements from element i on (n * width <= 64), the first element
 * lowest: the one to three words that hold them, each read once, instead of one or two reads and a
 * 64-bit address per element. A word is read only when the run reaches it, so none past the tensor.
 */
TSKC_FN uint64_t tskc_get_bit_run(const uint32_t *w, int64_t i, unsigned width, unsigned n) {
  const uint64_t bit = (uint64_t)i * width;
  const uint32_t *p = w + (bit >> 5);
  const unsigned sh = (unsigned)(bit & 31u), end = sh + width * n;
  uint64_t v = p[0];
  if (end > 32u) v |= (uint64_t)p[1] << 32;
  v >>= sh;
  if (end > 64u) v |= (uint64_t)p[2] << (64u - sh);
  return v;
}
`;

export const CUDA_PRELUDE = `${CUDA_PRELUDE_HEADER}\n${PRELUDE_BODY}\n`;
