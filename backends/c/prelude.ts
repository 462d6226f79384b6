/**
 * The C helpers every generated kernel starts with: the value rules of compiler/interpret written in
 * C11 without undefined behaviour (integer wrap-around through unsigned arithmetic, the RISC-V
 * division rules, NaN-ignoring max/min, saturating float -> int), exact conversion between doubles and
 * every float format, and access to bit-packed tensors.
 */
export const PRELUDE = String.raw`#include <math.h>
#include <stdint.h>
#include <string.h>

/* Two's complement wrap of x to w bits (1 <= w <= 32), through unsigned arithmetic. */
static inline int32_t tskc_wrap_s(int64_t x, int w) {
  const uint64_t m = (w == 64) ? ~0ull : ((1ull << w) - 1u), s = 1ull << (w - 1);
  return (int32_t)(int64_t)((((uint64_t)x & m) ^ s) - s);
}
static inline uint32_t tskc_wrap_u(int64_t x, int w) {
  return (uint32_t)((uint64_t)x & ((1ull << w) - 1u));
}

/* Integer division truncates toward zero; x / 0 = -1 and x % 0 = x (RISC-V); results are wrapped by the caller. */
static inline int64_t tskc_div(int64_t a, int64_t b) { return b == 0 ? -1 : a / b; }
static inline int64_t tskc_rem(int64_t a, int64_t b) { return b == 0 ? a : a % b; }

/* max/min ignore a NaN operand; of equal operands the first is returned. */
static inline float tskc_maxf(float a, float b) { return isnan(a) ? b : isnan(b) ? a : (a >= b ? a : b); }
static inline float tskc_minf(float a, float b) { return isnan(a) ? b : isnan(b) ? a : (a <= b ? a : b); }

/* float -> integer: truncate toward zero, saturate to [lo, hi], NaN -> 0. */
static inline int64_t tskc_f2i(double x, double lo, double hi) {
  if (isnan(x)) return 0;
  if (x <= lo) return (int64_t)lo;
  if (x >= hi) return (int64_t)hi;
  return (int64_t)trunc(x);
}

/*
 * Float formats of 1 sign, E exponent and M mantissa bits; sp: 0 IEEE specials, 1 OCP FN (one NaN
 * code S.1..1, no infinity), 2 all finite. Encoding rounds to nearest even from a double; overflow
 * goes to infinity (IEEE) or saturates; NaN encodes as the canonical NaN, or +0 when there is none.
 */
static uint32_t tskc_encode(double x, int E, int M, int sp) {
  const int bias = (1 << (E - 1)) - 1, bits = 1 + E + M;
  const uint32_t mags = 1u << (bits - 1);
  const uint32_t max = sp == 0 ? mags - (1u << M) - 1u : sp == 1 ? mags - 2u : mags - 1u;
  const uint32_t inf = mags - (1u << M);
  if (isnan(x)) return sp == 0 ? inf + (1u << (M - 1)) : sp == 1 ? mags - 1u : 0u;
  const uint32_t sign = signbit(x) ? mags : 0u;
  const double a = fabs(x);
  if (isinf(a)) return sign | (sp == 0 ? inf : max);
  const int emin = 1 - bias;
  uint64_t mag;
  if (a < ldexp(1.0, emin)) {
    mag = (uint64_t)nearbyint(a / ldexp(1.0, emin - M));
  } else {
    int e;
    frexp(a, &e);
    e -= 1; /* a = 1.f * 2^e */
    if (e > (1 << E)) return sign | (sp == 0 ? inf : max);
    mag = (uint64_t)(e + bias) * (1ull << M) + (uint64_t)nearbyint(a / ldexp(1.0, e - M)) - (1ull << M);
  }
  if (mag > max) return sign | (sp == 0 ? inf : max);
  return sign | (uint32_t)mag;
}

static double tskc_decode(uint32_t code, int E, int M, int sp) {
  const int bias = (1 << (E - 1)) - 1, bits = 1 + E + M;
  const uint32_t mags = 1u << (bits - 1);
  const int negative = (code & mags) != 0;
  const uint32_t mag = code & (mags - 1u), field = mag >> M, man = mag & ((1u << M) - 1u);
  double v;
  if (sp == 0 && field == (1u << E) - 1u) v = man == 0 ? INFINITY : NAN;
  else if (sp == 1 && mag == mags - 1u) v = NAN;
  else if (field == 0) v = ldexp((double)man, 1 - bias - M);
  else v = ldexp((double)(man + (1u << M)), (int)field - bias - M);
  return negative ? -v : v;
}

static inline uint32_t tskc_f32_bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float tskc_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* Element i of a tensor of w-bit elements packed little-endian into 32-bit words. */
static inline uint32_t tskc_get_bits(const uint32_t *w, int64_t i, int width) {
  const uint64_t bit = (uint64_t)i * (uint64_t)width;
  const uint64_t word = bit >> 5;
  const unsigned off = (unsigned)(bit & 31u);
  uint64_t v = (uint64_t)w[word] >> off;
  if (off + (unsigned)width > 32u) v |= (uint64_t)w[word + 1] << (32u - off);
  return (uint32_t)(v & ((1ull << width) - 1u));
}

/* Writes element i; atomically, since neighbouring elements in one word may belong to other threads. */
static inline void tskc_set_bits(uint32_t *w, int64_t i, int width, uint32_t value) {
  const uint64_t bit = (uint64_t)i * (uint64_t)width;
  const uint64_t word = bit >> 5;
  const unsigned off = (unsigned)(bit & 31u);
  const uint64_t mask = (1ull << width) - 1u, v = value & mask;
  __atomic_fetch_and(&w[word], (uint32_t)~(mask << off), __ATOMIC_RELAXED);
  __atomic_fetch_or(&w[word], (uint32_t)(v << off), __ATOMIC_RELAXED);
  if (off + (unsigned)width > 32u) {
    __atomic_fetch_and(&w[word + 1], (uint32_t)~(mask >> (32u - off)), __ATOMIC_RELAXED);
    __atomic_fetch_or(&w[word + 1], (uint32_t)(v >> (32u - off)), __ATOMIC_RELAXED);
  }
}
`;
