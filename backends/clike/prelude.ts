/**
 * The helpers every generated kernel starts with: the value rules of compiler/interpret written in C
 * without undefined behaviour (integer wrap-around through unsigned arithmetic, the RISC-V division
 * rules, NaN-ignoring max/min, saturating float -> int), exact conversion between doubles and every
 * float format, and access to bit-packed tensors. The body is shared by the C and CUDA backends; each
 * supplies a header with the types, TSKC_FN (how a helper is declared; TSKC_COLD for the rarely taken
 * general float paths, kept out of line on the GPU), bit casts and atomics.
 */

/** The portable C11 header: libc for math and bit casts, GCC builtins for atomics. */
export const C_PRELUDE_HEADER = String.raw`#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TSKC_FN static inline
#define TSKC_COLD static
/* A hint to fetch the cache line "ahead" bytes after p (_L2: into the L2, not the L1). The address is
   computed as an integer (it may lie past the end of a tensor, where pointer arithmetic is undefined)
   and a prefetch never faults. */
#if defined(__GNUC__)
#define TSKC_PREFETCH(p, ahead) __builtin_prefetch((const void *)((uintptr_t)(p) + (uintptr_t)(ahead)))
#define TSKC_PREFETCH_L2(p, ahead) __builtin_prefetch((const void *)((uintptr_t)(p) + (uintptr_t)(ahead)), 0, 2)
#else
#define TSKC_PREFETCH(p, ahead) ((void)(p))
#define TSKC_PREFETCH_L2(p, ahead) ((void)(p))
#endif
/* Whether the pb bytes at p and the qb bytes at q share none. */
TSKC_FN int tskc_disjoint(const void *p, uint64_t pb, const void *q, uint64_t qb) {
  return (uintptr_t)p + pb <= (uintptr_t)q || (uintptr_t)q + qb <= (uintptr_t)p;
}
TSKC_FN uint32_t tskc_raw_f32_bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
TSKC_FN float tskc_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
TSKC_FN double tskc_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }
TSKC_FN uint64_t tskc_f64_bits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
TSKC_FN void tskc_atomic_and(uint32_t *p, uint32_t v) { __atomic_fetch_and(p, v, __ATOMIC_RELAXED); }
TSKC_FN void tskc_atomic_or(uint32_t *p, uint32_t v) { __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }
/* where(c, x, y) with both operands evaluated: GCC 12.2 at -O3 with AVX-512BW vectorizes the select
   c[e] ? x[e] : y[e] (uint8_t c, wider x and y) through masked loads and gets some lanes wrong. The
   operands are plain values, so evaluating both changes nothing but the code GCC makes. */
TSKC_FN float tskc_where_float(uint8_t c, float x, float y) { return c ? x : y; }
TSKC_FN int32_t tskc_where_int32_t(uint8_t c, int32_t x, int32_t y) { return c ? x : y; }
TSKC_FN uint32_t tskc_where_uint32_t(uint8_t c, uint32_t x, uint32_t y) { return c ? x : y; }
TSKC_FN uint8_t tskc_where_uint8_t(uint8_t c, uint8_t x, uint8_t y) { return c ? x : y; }
`;

/** The helpers, after a header. */
export const PRELUDE_BODY = String.raw`/*
 * The 16 lanes of a float sum combined pairwise, lane l with lane l + w for w = 8, 4, 2, 1: the
 * interpreter's order (compiler/interpret/tiles.ts). GCC makes scalar shuffles of the plain loops;
 * with vector extensions the first three steps are vector adds (one each with 512-bit vectors) and
 * the last a scalar add. NVRTC, and C compiled with -DTSKC_NO_VECTOR_EXTENSIONS, take the plain C.
 */
TSKC_FN double tskc_sum_lanes16(const double *lane) {
#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)
  typedef double f64x8 __attribute__((vector_size(64)));
  typedef double f64x4 __attribute__((vector_size(32)));
  typedef double f64x2 __attribute__((vector_size(16)));
  f64x8 a8, b8;
  memcpy(&a8, lane, 64);
  memcpy(&b8, lane + 8, 64);
  a8 = a8 + b8;
  f64x4 a4, b4;
  memcpy(&a4, &a8, 32);
  memcpy(&b4, (const char *)&a8 + 32, 32);
  a4 = a4 + b4;
  f64x2 a2, b2;
  memcpy(&a2, &a4, 16);
  memcpy(&b2, (const char *)&a4 + 16, 16);
  a2 = a2 + b2;
  return a2[0] + a2[1];
#else
  double t[8];
  for (int l = 0; l < 8; l++) t[l] = lane[l] + lane[l + 8];
  for (int l = 0; l < 4; l++) t[l] = t[l] + t[l + 4];
  t[0] = t[0] + t[2];
  t[1] = t[1] + t[3];
  return t[0] + t[1];
#endif
}

/*
 * The 16 lanes of a float max (min) reduction take 16 more elements: lane[l] = x[l] > lane[l] ? x[l] :
 * lane[l] (< for min), which passes over a NaN x. x86's maxps is that select, one instruction per 8
 * lanes; GCC 12 made branches or scalar code of the plain loop, and of the NaN-aware tskc_maxf five
 * vector instructions.
 */
#if defined(__GNUC__) && defined(__AVX__) && !defined(__CUDACC__) && !defined(TSKC_NO_VECTOR_EXTENSIONS)
#include <immintrin.h>
#define TSKC_MINMAX_LANES16(name, op) \
  TSKC_FN void name(float *lane, const float *x) { \
    _mm256_storeu_ps(lane, op(_mm256_loadu_ps(x), _mm256_loadu_ps(lane))); \
    _mm256_storeu_ps(lane + 8, op(_mm256_loadu_ps(x + 8), _mm256_loadu_ps(lane + 8))); \
  }
TSKC_MINMAX_LANES16(tskc_max_lanes16, _mm256_max_ps)
TSKC_MINMAX_LANES16(tskc_min_lanes16, _mm256_min_ps)
#else
TSKC_FN void tskc_max_lanes16(float *lane, const float *x) { for (int l = 0; l < 16; l++) lane[l] = x[l] > lane[l] ? x[l] : lane[l]; }
TSKC_FN void tskc_min_lanes16(float *lane, const float *x) { for (int l = 0; l < 16; l++) lane[l] = x[l] < lane[l] ? x[l] : lane[l]; }
#endif

/* Two's complement wrap of x to w bits (1 <= w <= 32), through unsigned arithmetic. */
TSKC_FN int32_t tskc_wrap_s(int64_t x, int w) {
  const uint64_t m = (w == 64) ? ~0ull : ((1ull << w) - 1u), s = 1ull << (w - 1);
  return (int32_t)(int64_t)((((uint64_t)x & m) ^ s) - s);
}
TSKC_FN uint32_t tskc_wrap_u(int64_t x, int w) {
  return (uint32_t)((uint64_t)x & ((1ull << w) - 1u));
}

/* Integer division truncates toward zero; x / 0 = -1 and x % 0 = x (RISC-V); results are wrapped by the caller. */
TSKC_FN int64_t tskc_div(int64_t a, int64_t b) { return b == 0 ? -1 : a / b; }
TSKC_FN int64_t tskc_rem(int64_t a, int64_t b) { return b == 0 ? a : a % b; }

/* max/min ignore a NaN operand; of equal operands the first is returned. */
TSKC_FN float tskc_maxf(float a, float b) { return isnan(a) ? b : isnan(b) ? a : (a >= b ? a : b); }
TSKC_FN float tskc_minf(float a, float b) { return isnan(a) ? b : isnan(b) ? a : (a <= b ? a : b); }

/* float -> integer: truncate toward zero, saturate to [lo, hi], NaN -> 0. */
TSKC_FN int64_t tskc_f2i(double x, double lo, double hi) {
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
TSKC_COLD uint32_t tskc_encode(double x, int E, int M, int sp) {
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

TSKC_COLD double tskc_decode(uint32_t code, int E, int M, int sp) {
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

/*
 * Fast paths for the 16-bit floats, equal to tskc_encode/tskc_decode for every input (the tests check
 * them against the interpreter): decoding is a shift (bf16) or a rebias (f16); encoding a double in
 * the normal range rounds to nearest even on its bits, and a carry out of the mantissa lands in the
 * exponent, up to infinity, as it should. Everything else (zeros, subnormals, overflow, NaN) takes the
 * general path.
 */
TSKC_FN float tskc_bf16_value(uint32_t code) { return tskc_bits_f32(code << 16); }
TSKC_FN float tskc_f16_value(uint32_t code) {
  const uint32_t sign = (code & 0x8000u) << 16, field = (code >> 10) & 0x1fu, man = code & 0x3ffu;
  if (field == 0x1fu) return tskc_bits_f32(sign | 0x7f800000u | (man << 13));
  if (field != 0) return tskc_bits_f32(sign | ((field + 112u) << 23) | (man << 13));
  const float v = (float)man * 5.9604644775390625e-8f; /* man * 2^-24, exact */
  return sign ? -v : v;
}
/* The double x rounded to nearest even, keeping keep of its 52 mantissa bits, rebiased to bias. */
TSKC_FN uint32_t tskc_round_bits(double x, int keep, int bias) { /* 16-bit formats only */
  const uint64_t b = (uint64_t)tskc_f64_bits(x), mag = b & 0x7fffffffffffffffull;
  const int drop = 52 - keep;
  const uint64_t rest = mag & ((1ull << drop) - 1u), half = 1ull << (drop - 1), lsb = (mag >> drop) & 1u;
  const uint64_t kept = (mag >> drop) + (rest > half || (rest == half && lsb));
  const uint32_t sign = (uint32_t)(b >> 63) << 15; /* both formats are 16 bits wide */
  return sign | (uint32_t)(kept - ((uint64_t)(1023 - bias) << keep));
}
TSKC_FN uint32_t tskc_bf16_code(double x) {
  const double a = fabs(x);
  return a >= 0x1p-126 && a < 0x1p+128 ? tskc_round_bits(x, 7, 127) : tskc_encode(x, 8, 7, 0);
}
/* A float's bf16 code: bf16 is f32 with 16 fewer mantissa bits, so rounding its bits is exact everywhere. */
TSKC_FN uint32_t tskc_bf16_code_f(float x) {
  const uint32_t u = tskc_raw_f32_bits(x);
  return isnan(x) ? 0x7fc0u : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
TSKC_FN uint32_t tskc_f16_code(double x) {
  const double a = fabs(x);
  return a >= 0x1p-14 && a < 0x1p+16 ? tskc_round_bits(x, 10, 15) : tskc_encode(x, 5, 10, 0);
}

/* 2^n for an integral double n in [-1022, 1023], built in the exponent bits. */
TSKC_FN double tskc_pow2i(double n) {
  return tskc_bits_f64((uint64_t)((int64_t)n + 1023) << 52);
}

/*
 * exp for results of float precision or less, computed in double and written so that loops over it
 * vectorize (no calls, no branches): x = n ln2 + r with |r| <= ln2/2, exp(r) by its Taylor series to
 * r^13 (relative error below 1e-16 there), times 2^n in two halves so both stay normal. Rounded to
 * float it agrees with a correctly rounded exp except when the exact value lies within about 1e-16 of a
 * float rounding boundary. Beyond x = 709 the result is infinity (it is for every float format anyway).
 */
TSKC_FN double tskc_exp(double x) {
  const double c = x > 709.0 ? 709.0 : x < -745.0 ? -745.0 : (x == x ? x : 0.0);
  const double n = rint(c * 1.4426950408889634);
  const double r = (c - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const double n1 = rint(n * 0.5);
  const double e = x > 709.0 ? INFINITY : p * tskc_pow2i(n1) * tskc_pow2i(n - n1);
  return x == x ? e : x;
}

/*
 * exp of a float, in float, written to vectorize 16 lanes wide (no calls, no branches, no conversions):
 * x = n ln2 + r with |r| <= ln2/2, exp(r) = 1 + r + r^2 q(r) with q of degree 4 fitted to exp's relative
 * error (below 4e-9 on that interval), times 2^n in two halves so both stay normal. n comes from the
 * round-to-integer of adding 1.5 * 2^23 + 254: the sum's word then holds n + 254 in its low bits over a
 * multiple of 2^10, so the halves' exponent fields are (word >> 1) << 23 and (word - (word >> 1)) << 23
 * (254 = two biases of 127; the high bits shift out). ln2 is split in two (n * 0.693359375 is exact).
 * Within one unit in the last place of the exact value over every float (0.91: bench/cpu/ulp.ts; tests/
 * backends/c/regressions.test.ts samples it); used where the result is an f32, as a transcendental may be (the
 * interpreter rounds the exact value once). Past 88.8 the result is infinity (a select) and below -104
 * zero (an and), both after the arithmetic, which runs on x as it is (a NaN carries through it). Clamping x
 * first gave the same bits over every float, but gcc then specialized the steps for each clamp value
 * and merged them with 11 blends: this form takes 2, and a softmax's exp 1.4x less time here. Where
 * the target has a fused multiply-add (C11's FP_FAST_FMAF) the steps use it: fewer instructions in the
 * vector loop, and one rounding less per step.
 */
#ifdef FP_FAST_FMAF
#define TSKC_MULADDF(a, b, c) fmaf(a, b, c)
#else
#define TSKC_MULADDF(a, b, c) ((a) * (b) + (c))
#endif
/*
 * exp(x - n ln2) times scale, for the integral n nearest x / ln2 (n * 0.693359375 is exact): tskc_expf's
 * polynomial with each coefficient times scale, a power of 2 (2^-64 at the least), so that each step's
 * sum is normal and rounds as the unscaled one's, scaled. (Without FMA a product q * r can be subnormal
 * for |r| below about 2^-50; it is then far below half a unit of the sum it joins, which rounds the
 * same either way.)
 */
TSKC_FN float tskc_exp_reduced(float x, float n, float scale) {
  const float r = TSKC_MULADDF(n, 2.12194440e-4f, TSKC_MULADDF(n, -0.693359375f, x));
  float q = 0x1.6a244cp-10f * scale;
  q = TSKC_MULADDF(q, r, 0x1.1239d4p-7f * scale);
  q = TSKC_MULADDF(q, r, 0x1.5558f2p-5f * scale);
  q = TSKC_MULADDF(q, r, 0x1.555492p-3f * scale);
  q = TSKC_MULADDF(q, r, 0x1.fffffcp-2f * scale);
  return TSKC_MULADDF(TSKC_MULADDF(q, r, scale), r, scale);
}

TSKC_FN float tskc_expf(float x) {
  const float t = x * 1.44269504f + 12583166.0f, n = t - 12583166.0f;
  const float p = tskc_exp_reduced(x, n, 1.0f);
  const uint32_t word = tskc_raw_f32_bits(t), half = word >> 1;
  const float e = p * tskc_bits_f32(half << 23) * tskc_bits_f32((word - half) << 23);
  const float below = x > 88.8f ? INFINITY : e;
  // Zero below -104 by clearing the bits: where the result is summed in double, a select made GCC
  // widen its mask and select in double lanes (cross-entropy 1024x32000: 15.2 -> 14.0 ms).
  return tskc_bits_f32(tskc_raw_f32_bits(below) & ((uint32_t)(x < -104.0f) - 1u));
}

/*
 * tskc_expf for an x the kernel proves is at most 0 (or a NaN; compiler/ir/order.ts), as in softmax's
 * exp(x - max x), with 2^n built in one piece: the round-to-integer adds 1.5 * 2^23 + 191, so the
 * word's low 9 bits hold n + 191, which for n in [-190, 63] is the exponent field of 2^(n + 64), a
 * normal float. The polynomial is evaluated times 2^-64 (tskc_exp_reduced's roundings, scaled), and
 * its product with 2^(n + 64) rounds once, to a subnormal where the result is one. Not always the bits of
 * tskc_expf: where x * log2(e) falls halfway between integers, the two round-to-integers may pick
 * different n (a handful of floats, both results within the bound below). One shift and one product
 * instead of tskc_expf's four integer operations, two products and the select past 88.8 (which x <= 0
 * never reaches): 0.31 ns an element on a row in L1 against 0.41 (one Zen 3 core). Right for every x
 * up to 44 (n <= 63), so a difference rounded up past 0 changes nothing; below -104 it is 0, as in
 * tskc_expf. bench/cpu/ulp.ts checks it over every x <= 44: within 0.91 units of the exact value with
 * fused multiply-adds and 1.18 without, as tskc_expf.
 */
TSKC_FN float tskc_expf_nonpositive(float x) {
  const float t = TSKC_MULADDF(x, 1.44269504f, 12583103.0f), n = t - 12583103.0f;
  const float e = tskc_exp_reduced(x, n, 0x1p-64f) * tskc_bits_f32(tskc_raw_f32_bits(t) << 23);
  return tskc_bits_f32(tskc_raw_f32_bits(e) & ((uint32_t)(x < -104.0f) - 1u));
}

/*
 * sigmoid of a float, in float: 1 / (1 + e) for x >= 0 and e / (1 + e) below, with e = exp(-|x|), so
 * nothing overflows and tiny results stay subnormal where they are. Within 2.41 units in the last place
 * of the exact value over every float, and within 2 floats of the correctly rounded result
 * (bench/cpu/ulp.ts): the exp's unit, 1 + e's rounding and the division's; one exp and one division,
 * 16 lanes wide.
 */
TSKC_FN float tskc_sigmoidf(float x) {
  const float e = tskc_expf_nonpositive(-fabsf(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/*
 * erf of a float, in float, written to vectorize like tskc_expf (both pieces computed, one selected):
 *   |x| < 1:  erf(x) = x + x p(x^2), p of degree 6 fitted to erf(x)/x - 1 (the exact term x carries most
 *             of the value, so the rounding of p's steps reaches the result one eighth as large);
 *   |x| >= 1: erf(x) = K - s q(s), s = min(|x|, 3.92) - 2.46, q of degree 13 fitted so that the whole
 *             is within 1.3e-8 of erf on [1, 3.92], K the float nearest erf(2.46) (the constant term
 *             then takes no rounding, and the last step is one fused multiply-add where the target
 *             has one); past 3.92 erf rounds to 1, as K - s q(s) does at 3.92 (infinity included).
 *             A NaN carries through s.
 * Written as 1 - exp(-x^2) erfcx(x) before, the second piece cost an exp besides its polynomial: the
 * exact gelu 1.34 ns an element, now 0.85 (one thread here). The sign is x's, so erf(-0) = -0.
 * Checked against double erf over all 2^32 floats (bench/cpu/ulp.ts): within 1 unit in the last place
 * with a fused multiply-add (0.994 at most), 1.32 without (tests/backends/c/regressions.test.ts samples it).
 */
TSKC_FN float tskc_erff(float x) {
  const float a = fabsf(x), t = a * a;
  float p = 0x1.492356p-14f;
  p = TSKC_MULADDF(p, t, -0x1.a3dc26p-11f);
  p = TSKC_MULADDF(p, t, 0x1.5401dep-8f);
  p = TSKC_MULADDF(p, t, -0x1.b7f88cp-6f);
  p = TSKC_MULADDF(p, t, 0x1.ce2cf0p-4f);
  p = TSKC_MULADDF(p, t, -0x1.81273ep-2f);
  p = TSKC_MULADDF(p, t, 0x1.06eba8p-3f);
  const float below1 = TSKC_MULADDF(a, p, a);
  const float c = a > 3.92f ? 3.92f : a, s = c - 0x1.3ae148p+1f;
  float q = -0x1.311a88p-20f;
  q = TSKC_MULADDF(q, s, -0x1.973d4ep-24f);
  q = TSKC_MULADDF(q, s, 0x1.28703ap-16f);
  q = TSKC_MULADDF(q, s, -0x1.9e809ep-16f);
  q = TSKC_MULADDF(q, s, -0x1.4290dcp-14f);
  q = TSKC_MULADDF(q, s, 0x1.3a2bcp-12f);
  q = TSKC_MULADDF(q, s, -0x1.735868p-12f);
  q = TSKC_MULADDF(q, s, -0x1.e1a4cep-12f);
  q = TSKC_MULADDF(q, s, 0x1.80c7cp-9f);
  q = TSKC_MULADDF(q, s, -0x1.bd9d7p-8f);
  q = TSKC_MULADDF(q, s, 0x1.44e3fp-7f);
  q = TSKC_MULADDF(q, s, -0x1.42309cp-7f);
  q = TSKC_MULADDF(q, s, 0x1.ac3cc8p-8f);
  q = TSKC_MULADDF(q, s, -0x1.5c2886p-9f);
  const float from1 = TSKC_MULADDF(-s, q, 0x1.ffbe06p-1f);
  return copysignf(a < 1.0f ? below1 : from1, x);
}

TSKC_FN uint32_t tskc_f32_bits(float x) { return isnan(x) ? 0x7fc00000u : tskc_raw_f32_bits(x); }

/* Element i of a tensor of w-bit elements packed little-endian into 32-bit words. */
TSKC_FN uint32_t tskc_get_bits(const uint32_t *w, int64_t i, int width) {
  const uint64_t bit = (uint64_t)i * (uint64_t)width;
  const uint64_t word = bit >> 5;
  const unsigned off = (unsigned)(bit & 31u);
  /* The second word is read whatever the element: the next one where the element straddles, else the
     same one (whose bits then land above the element's and are masked off): no branch to vectorize. */
  const uint64_t v = ((uint64_t)w[word] >> off) | ((uint64_t)w[word + (off + (unsigned)width > 32u)] << (32u - off));
  return (uint32_t)(v & ((1ull << width) - 1u));
}

/* Writes element i; atomically, since neighbouring elements in one word may belong to other threads. */
TSKC_FN void tskc_set_bits(uint32_t *w, int64_t i, int width, uint32_t value) {
  const uint64_t bit = (uint64_t)i * (uint64_t)width;
  const uint64_t word = bit >> 5;
  const unsigned off = (unsigned)(bit & 31u);
  const uint64_t mask = (1ull << width) - 1u, v = value & mask;
  tskc_atomic_and(&w[word], (uint32_t)~(mask << off));
  tskc_atomic_or(&w[word], (uint32_t)(v << off));
  if (off + (unsigned)width > 32u) {
    tskc_atomic_and(&w[word + 1], (uint32_t)~(mask >> (32u - off)));
    tskc_atomic_or(&w[word + 1], (uint32_t)(v >> (32u - off)));
  }
}
`;

/** The whole C prelude. */
export const PRELUDE = `${C_PRELUDE_HEADER}\n${PRELUDE_BODY}`;
