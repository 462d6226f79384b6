/**
 * The WGSL functions every generated shader starts with: the interpreter's value rules written for a
 * language with 32-bit types only (no f64, no i64, no 8- or 16-bit storage).
 *
 * Why each one exists:
 *   - NaN and infinity tests go through the bits (drivers may optimize `x != x` away), and NaN and
 *     infinity values come from bits held in a `var` (a constant expression must not be either).
 *   - Integer division and remainder follow RISC-V (x / 0 = -1, x % 0 = x), which WGSL does not.
 *   - Conversions: float to integer saturates with NaN to 0; integer to f32 rounds to nearest even
 *     (split in two exact halves, one correctly rounded add); integer to a narrower float rounds to odd
 *     first, so that the second rounding is the only one that counts.
 *   - Small float formats (f16, bf16, fExMy) are encoded from an f32 value with one rounding to nearest
 *     even, and decoded exactly: every value of them is an f32.
 *   - Float sums and products accumulate in float-float pairs (hi, lo) with error-free transformations,
 *     about 48 bits, where the interpreter accumulates in double; the pair is rounded once at the end.
 *   - exp is our own (a Taylor series to r^7, 2 units in the last place at most); WGSL's exp is only
 *     required to be within 3 + 2|x| units. erf does not exist in WGSL.
 *   - fmod is exact (WGSL's float % is x - y * trunc(x / y), which is not).
 */
export const WGSL_PRELUDE = String.raw`
// Two zeros, read from the uniform buffer by the entry point: values the shader compiler cannot know,
// so that tskc_opaque(x) and tskc_opaque_r(x) (x itself) hide x's origin from algebraic rewrites.
// Drivers treat float ops as free to rewrite (Mesa turns x - x into 0, x * 0 into 0 and (a + b) - a
// into b, wrong for infinities, NaN and rounding), so the operands of every float op are hidden, the
// two of one op differently (else common subexpressions would make them one value again).
var<private> tskc_zero: u32;
var<private> tskc_zero_r: u32;
fn tskc_opaque(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ tskc_zero); }
fn tskc_opaque_r(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ tskc_zero_r); }

fn tskc_bits_inf() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn tskc_bits_nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn tskc_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn tskc_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn tskc_special(x: f32) -> bool { return tskc_isinf(x) || tskc_isnan(x); }
fn tskc_f32_bits(x: f32) -> u32 { return select(bitcast<u32>(x), 0x7fc00000u, tskc_isnan(x)); }

fn tskc_wrap_s(x: i32, w: u32) -> i32 { let s = 32u - w; return (x << s) >> s; }
fn tskc_wrap_u(x: u32, w: u32) -> u32 { return select(x & ((1u << (w & 31u)) - 1u), x, w >= 32u); }

fn tskc_div_s(a: i32, b: i32) -> i32 { return select(a / select(b, 1, b == 0), -1, b == 0); }
fn tskc_rem_s(a: i32, b: i32) -> i32 { return select(a % select(b, 1, b == 0), a, b == 0); }
fn tskc_div_u(a: u32, b: u32) -> u32 { return select(a / select(b, 1u, b == 0u), 0xffffffffu, b == 0u); }
fn tskc_rem_u(a: u32, b: u32) -> u32 { return select(a % select(b, 1u, b == 0u), a, b == 0u); }

// max/min ignore a NaN operand; of equal operands the first is returned.
fn tskc_maxf(a: f32, b: f32) -> f32 {
  if (tskc_isnan(a)) { return b; }
  if (tskc_isnan(b)) { return a; }
  return select(b, a, a >= b);
}
fn tskc_minf(a: f32, b: f32) -> f32 {
  if (tskc_isnan(a)) { return b; }
  if (tskc_isnan(b)) { return a; }
  return select(b, a, a <= b);
}

fn tskc_f2i(x: f32, lo: i32, hi: i32) -> i32 {
  if (tskc_isnan(x)) { return 0; }
  if (x <= f32(lo)) { return lo; }
  if (x >= f32(hi)) { return hi; }
  return i32(trunc(x));
}
fn tskc_f2u(x: f32, hi: u32) -> u32 {
  if (tskc_isnan(x) || x <= 0.0) { return 0u; }
  if (x >= f32(hi)) { return hi; }
  return u32(trunc(x));
}

fn tskc_u2f(x: u32) -> f32 { return f32(x >> 16u) * 65536.0 + f32(x & 0xffffu); }
fn tskc_i2f(x: i32) -> f32 {
  let f = tskc_u2f(select(u32(x), 0u - u32(x), x < 0));
  return select(f, -f, x < 0);
}
fn tskc_u2f_odd(x: u32) -> f32 {
  if (x < 0x1000000u) { return f32(x); }
  let drop = firstLeadingBit(x) - 23u;
  let sticky = select(0u, 1u, (x & ((1u << drop) - 1u)) != 0u);
  return ldexp(f32((x >> drop) | sticky), i32(drop));
}
fn tskc_i2f_odd(x: i32) -> f32 {
  let f = tskc_u2f_odd(select(u32(x), 0u - u32(x), x < 0));
  return select(f, -f, x < 0);
}

// A format of 1 sign, E exponent and M mantissa bits; sp: 0 IEEE specials, 1 OCP FN (one NaN code, no
// infinity), 2 all finite. Overflow goes to infinity (IEEE) or saturates; NaN encodes as the canonical
// NaN, or +0 when there is none.
fn tskc_encode(x: f32, E: u32, M: u32, sp: u32) -> u32 {
  let bias = i32((1u << (E - 1u)) - 1u);
  let mags = 1u << (E + M);
  let maxc = select(select(mags - 1u, mags - 2u, sp == 1u), mags - (1u << M) - 1u, sp == 0u);
  let inf = mags - (1u << M);
  let over = select(maxc, inf, sp == 0u);
  if (tskc_isnan(x)) { return select(select(0u, mags - 1u, sp == 1u), inf + (1u << (M - 1u)), sp == 0u); }
  let sign = select(0u, mags, (bitcast<u32>(x) >> 31u) != 0u);
  let a = abs(x);
  if (tskc_isinf(a)) { return sign | over; }
  let emin = 1 - bias;
  var mag = 0u;
  if (a < ldexp(1.0f, emin)) {
    mag = u32(round(ldexp(a, i32(M) - emin)));
  } else {
    let e = i32((bitcast<u32>(a) >> 23u) & 0xffu) - 127;
    if (e > (1 << E)) { return sign | over; }
    mag = u32(e + bias) * (1u << M) + u32(round(ldexp(a, i32(M) - e))) - (1u << M);
  }
  if (mag > maxc) { return sign | over; }
  return sign | mag;
}
fn tskc_decode(code: u32, E: u32, M: u32, sp: u32) -> f32 {
  let bias = i32((1u << (E - 1u)) - 1u);
  let mags = 1u << (E + M);
  let mag = code & (mags - 1u);
  let field = mag >> M;
  let man = mag & ((1u << M) - 1u);
  var v = 0.0f;
  if (sp == 0u && field == (1u << E) - 1u) { v = select(tskc_bits_nan(), tskc_bits_inf(), man == 0u); }
  else if (sp == 1u && mag == mags - 1u) { v = tskc_bits_nan(); }
  else if (field == 0u) { v = ldexp(f32(man), 1 - bias - i32(M)); }
  else { v = ldexp(f32(man + (1u << M)), i32(field) - bias - i32(M)); }
  return select(v, -v, (code & mags) != 0u);
}
fn tskc_bf16_value(code: u32) -> f32 { return bitcast<f32>(code << 16u); }
fn tskc_bf16_code(x: f32) -> u32 {
  let u = bitcast<u32>(x);
  return select((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u, 0x7fc0u, tskc_isnan(x));
}
fn tskc_f16_value(code: u32) -> f32 { return tskc_decode(code, 5u, 10u, 0u); }
fn tskc_f16_code(x: f32) -> u32 { return tskc_encode(x, 5u, 10u, 0u); }

// a + b exactly, as RN(a + b) and the error (Knuth's TwoSum).
fn tskc_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = tskc_opaque(a + b);
  let v = tskc_opaque(s - a);
  return vec2<f32>(s, (a - (s - v)) + (b - v));
}
// Float-float accumulation: (hi, lo) with hi + lo the running value, hi = fl(hi + lo).
fn tskc_ff_add(a: vec2<f32>, x: f32) -> vec2<f32> {
  let t = tskc_two_sum(a.x, x);
  let lo = a.y + t.y;
  let hi = tskc_opaque(t.x + lo);
  return vec2<f32>(hi, lo - (hi - t.x));
}
fn tskc_ff_sum(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return tskc_ff_add(tskc_ff_add(a, b.x), b.y); }
// Dekker's exact product of two floats, as hi + lo (no fused multiply-add needed).
fn tskc_two_prod(a: f32, b: f32) -> vec2<f32> {
  let p = tskc_opaque(a * b);
  let ca = tskc_opaque(4097.0 * a);
  let ah = tskc_opaque(ca - (ca - a));
  let al = a - ah;
  let cb = tskc_opaque(4097.0 * b);
  let bh = tskc_opaque(cb - (cb - b));
  let bl = b - bh;
  return vec2<f32>(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}
// Products of finite, nonzero pairs (the accumulators deal with zeros and specials first).
fn tskc_ff_mul(a: vec2<f32>, x: f32) -> vec2<f32> {
  let p = tskc_two_prod(a.x, x);
  let lo = p.y + a.y * x;
  let hi = tskc_opaque(p.x + lo);
  return vec2<f32>(hi, lo - (hi - p.x));
}
fn tskc_ff_prod(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let p = tskc_two_prod(a.x, b.x);
  let lo = p.y + (a.x * b.y + a.y * b.x);
  let hi = tskc_opaque(p.x + lo);
  return vec2<f32>(hi, lo - (hi - p.x));
}
// hi + lo rounded to f32 (nearest even), or to odd for a later rounding to a narrower format.
fn tskc_ff_f32(a: vec2<f32>) -> f32 {
  if (tskc_special(a.x) || a.y == 0.0) { return a.x; } // -0 + 0 would be +0
  return a.x + a.y;
}
fn tskc_ff_odd(a: vec2<f32>) -> f32 {
  if (tskc_special(a.x) || a.y == 0.0 || (bitcast<u32>(a.x) & 1u) == 1u) { return a.x; }
  // hi is even and the exact value lies beyond it toward lo: the odd neighbour on lo's side.
  let toward = (a.y > 0.0) == (a.x > 0.0);
  return bitcast<f32>(select(bitcast<u32>(a.x) - 1u, bitcast<u32>(a.x) + 1u, toward));
}

// The accumulator of a float sum or product: (hi + lo) * 2^e, the pair with about 48 bits and the
// exponent wide enough for the range of the interpreter's double accumulation (f32's alone would
// overflow where double does not: a product of a few large bf16 values). Products keep |hi| in
// [0.5, 1) and follow double into infinity or zero beyond its range.
struct TskcAcc { hi: f32, lo: f32, e: i32 }
fn tskc_scaled(a: TskcAcc, e: i32) -> vec2<f32> { return vec2<f32>(ldexp(a.hi, a.e - e), ldexp(a.lo, a.e - e)); }
fn tskc_sum_fix(v: vec2<f32>, e: i32) -> TskcAcc {
  if (abs(v.x) > 0x1p100f && !tskc_isinf(v.x)) { return TskcAcc(ldexp(v.x, -64), ldexp(v.y, -64), e + 64); }
  return TskcAcc(v.x, v.y, e);
}
fn tskc_sum_add(a: TskcAcc, x: f32) -> TskcAcc {
  if (tskc_special(a.hi) || tskc_special(x)) { return TskcAcc(a.hi + x, 0.0, 0); }
  return tskc_sum_fix(tskc_ff_add(vec2<f32>(a.hi, a.lo), ldexp(x, -a.e)), a.e);
}
fn tskc_sum_join(a: TskcAcc, b: TskcAcc) -> TskcAcc {
  if (tskc_special(a.hi) || tskc_special(b.hi)) { return TskcAcc(a.hi + b.hi, 0.0, 0); }
  let e = max(a.e, b.e);
  return tskc_sum_fix(tskc_ff_sum(tskc_scaled(a, e), tskc_scaled(b, e)), e);
}
fn tskc_prod_fix(v: vec2<f32>, e: i32) -> TskcAcc {
  if (v.x == 0.0 || tskc_special(v.x)) { return TskcAcc(v.x, 0.0, 0); }
  let f = tskc_frexp(v.x);
  let t = e + f.exp;
  if (t > 1024) { return TskcAcc(select(tskc_bits_inf(), -tskc_bits_inf(), v.x < 0.0), 0.0, 0); }
  if (t < -1075) { return TskcAcc(select(0.0, -0.0, v.x < 0.0), 0.0, 0); }
  return TskcAcc(f.fract, ldexp(v.y, -f.exp), t);
}
fn tskc_prod_mul(a: TskcAcc, x: f32) -> TskcAcc {
  if (a.hi == 0.0 || tskc_special(a.hi) || x == 0.0 || tskc_special(x)) { return TskcAcc(a.hi * x, 0.0, 0); }
  let f = tskc_frexp(x);
  return tskc_prod_fix(tskc_ff_mul(vec2<f32>(a.hi, a.lo), f.fract), a.e + f.exp);
}
fn tskc_prod_join(a: TskcAcc, b: TskcAcc) -> TskcAcc {
  if (a.hi == 0.0 || tskc_special(a.hi) || b.hi == 0.0 || tskc_special(b.hi)) { return TskcAcc(a.hi * b.hi, 0.0, 0); }
  return tskc_prod_fix(tskc_ff_prod(vec2<f32>(a.hi, a.lo), vec2<f32>(b.hi, b.lo)), a.e + b.e);
}
// Partials of a float max or min as (value bits, index of its element; 0xffffffff when empty): the
// extreme, and of equal extremes the first; NaN only when every element is NaN.
fn tskc_max_first(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return tskc_extreme_first(a, b, true); }
fn tskc_min_first(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return tskc_extreme_first(a, b, false); }
fn tskc_extreme_first(a: vec2<u32>, b: vec2<u32>, greater: bool) -> vec2<u32> {
  if (a.y == 0xffffffffu) { return b; }
  if (b.y == 0xffffffffu) { return a; }
  let x = tskc_opaque(bitcast<f32>(a.x));
  let y = tskc_opaque_r(bitcast<f32>(b.x));
  if (tskc_isnan(x) != tskc_isnan(y)) { return select(a, b, tskc_isnan(x)); }
  var first = select((x < y), (x > y), greater);
  if (tskc_isnan(x) || x == y) { first = a.y < b.y; }
  return select(b, a, first);
}

// The accumulated value rounded to f32, or to odd at f32's precision for a narrower format.
// x * 2^e for e of any size: WGSL leaves ldexp undefined for exponents above 128, so large ones go in
// steps (overflowing to infinity, as they should). Small ones go at once: a step into the subnormal
// range would round twice.
fn tskc_ldexp(x: f32, e: i32) -> f32 {
  var v = x;
  var k = e;
  for (var i = 0; i < 8 && k > 127; i++) {
    v = ldexp(v, 127);
    k = k - 127;
  }
  return ldexp(v, k);
}
// A result below f32's normal range is rounded to odd first, so that ldexp's rounding is the only one.
fn tskc_acc_f32(a: TskcAcc) -> f32 {
  let v = vec2<f32>(a.hi, a.lo);
  if (a.hi != 0.0 && !tskc_special(a.hi) && a.e + tskc_frexp(a.hi).exp < -125) { return tskc_ldexp(tskc_ff_odd(v), a.e); }
  return tskc_ldexp(tskc_ff_f32(v), a.e);
}
fn tskc_acc_odd(a: TskcAcc) -> f32 { return tskc_ldexp(tskc_ff_odd(vec2<f32>(a.hi, a.lo)), a.e); }

// a * b + c rounded once, without a fused multiply-add (for devices whose fma is not fused). With
// a = ma 2^ea and b = mb 2^eb (|ma|, |mb| in [0.5, 1)), x = a b + c = (ma mb + c 2^-e) 2^e, e = ea + eb:
// the exact product ma mb as hi + lo, c 2^-e + hi exactly as (th, tl), then th + RO(tl + lo) rounded
// once (Boldo and Melquiond's emulation through rounding to odd): to nearest where x is a normal
// number, then scaled back (overflowing to infinity where x rounds to it); below f32's normal range,
// at the subnormal's precision. Scaled so, no step overflows or underflows:
// c far beyond the product is the result (the product is below half of c's last place), and c far
// below it only decides ties (kept as the least float of its sign where its scaling underflows).
// Factors that are not finite, a NaN c or a zero factor make the plain expression's exact result; a
// finite product and an infinite c make c (the plain product may overflow to the other infinity).
fn tskc_fma(a: f32, b: f32, c: f32) -> f32 {
  // Most multiply-adds need no scaling: factors whose split cannot overflow, a product whose low part
  // is exact, and nothing near overflow (2.6x faster on lavapipe than the scaled path for all).
  let u = tskc_two_prod(a, b);
  if (abs(a) < 1e30 && abs(b) < 1e30 && abs(u.x) > 1e-30 && abs(u.x) < 1e37 && abs(c) < 1e37) {
    let t = tskc_two_sum(c, u.x);
    return t.x + tskc_ff_odd(tskc_two_sum(t.y, u.y));
  }
  return tskc_fma_scaled(a, b, c);
}
fn tskc_fma_scaled(a: f32, b: f32, c: f32) -> f32 {
  if (tskc_special(a) || tskc_special(b) || tskc_isnan(c) || a == 0.0 || b == 0.0) { return tskc_opaque(a * b) + tskc_opaque_r(c); }
  if (tskc_isinf(c)) { return c; }
  let fa = tskc_frexp(a);
  let fb = tskc_frexp(b);
  let e = fa.exp + fb.exp;
  if (e > 130) { return select(tskc_bits_inf(), -tskc_bits_inf(), (a < 0.0) != (b < 0.0)); } // |a b| >= 2^129 > |c| + 2^128
  if (c != 0.0 && tskc_frexp(c).exp > e + 26) { return c; }
  var cs = tskc_ldexp(c, -e);
  if (cs == 0.0 && c != 0.0) { cs = select(0x1p-149f, -0x1p-149f, c < 0.0); }
  let u = tskc_two_prod(fa.fract, fb.fract);
  let t = tskc_two_sum(cs, u.x);
  let s = tskc_two_sum(t.x, tskc_ff_odd(tskc_two_sum(t.y, u.y)));
  if (s.x == 0.0 || tskc_frexp(s.x).exp + e >= -125) { return tskc_ldexp(s.x, e); }
  // Below the normal range: the count of 2^-149 units, s.x + s.y rounded to an integer (s.x scaled is
  // exact; s.y, which carries the sticky bit, decides a tie), as the float's bits: a value rounded to
  // odd at 24 bits has too few bits beyond the 23 of [2^-127, 2^-126), and lavapipe's ldexp rounds
  // subnormal results wrongly.
  let scaled = abs(tskc_ldexp(s.x, e + 149));
  var units = round(scaled);
  if (scaled - floor(scaled) == 0.5 && s.y != 0.0) { units = floor(scaled) + select(0.0, 1.0, (s.y > 0.0) == (s.x > 0.0)); }
  return bitcast<f32>(u32(units) | select(0u, 0x80000000u, s.x < 0.0));
}

fn tskc_expf(x: f32) -> f32 {
  let c = select(select(select(0.0f, x, !tskc_isnan(x)), -104.0f, x < -104.0f), 88.8f, x > 88.8f);
  let n = round(c * 1.44269504f);
  let r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
  var p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  let ni = i32(n);
  let n1 = ni / 2;
  let e = ldexp(ldexp(p, n1), ni - n1);
  if (tskc_isnan(x)) { return x; }
  return select(e, tskc_bits_inf(), x > 88.8f);
}
// frexp that is right for subnormals too (lavapipe reads a subnormal's exponent field as if it were
// normal): x = fract * 2^exp with |fract| in [0.5, 1), exact.
struct TskcFrexp { fract: f32, exp: i32 }
fn tskc_frexp(x: f32) -> TskcFrexp {
  if (x != 0.0 && abs(x) < 0x1p-126f) {
    let f = frexp(ldexp(x, 64));
    return TskcFrexp(f.fract, f.exp - 64);
  }
  let f = frexp(x);
  return TskcFrexp(f.fract, f.exp);
}

// log, log2, exp2, tanh and sigmoid of our own: drivers' are far from a few units in the last place
// where it matters (lavapipe: tanh(1e-5) 1e4 units off, log just below 1 off by 15%, exp2 flushing
// subnormal results), and WGSL promises little more.
// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172.
fn tskc_log_parts(x: f32) -> vec2<f32> {
  let f = tskc_frexp(x);
  var m = f.fract;
  var e = f.exp;
  if (m < 0.70710678) { m = m * 2.0; e = e - 1; }
  let s = (m - 1.0) / (m + 1.0);
  let z = s * s;
  return vec2<f32>(f32(e), s * (2.0 + z * (0.6666666667 + z * (0.4 + z * (0.2857142857 + z * (0.2222222222 + z * 0.1818181818))))));
}
fn tskc_log_special(x: f32) -> bool { return tskc_isnan(x) || x <= 0.0 || tskc_isinf(x); }
fn tskc_log_of_special(x: f32) -> f32 {
  if (x == 0.0) { return -tskc_bits_inf(); }
  if (tskc_isnan(x) || x < 0.0) { return tskc_bits_nan(); }
  return x;
}
fn tskc_log(x: f32) -> f32 {
  if (tskc_log_special(x)) { return tskc_log_of_special(x); }
  let p = tskc_log_parts(x);
  return p.x * 0.693359375 + (p.x * -2.12194440e-4 + p.y); // e ln2 in two parts, the first exact
}
fn tskc_log2(x: f32) -> f32 {
  if (tskc_log_special(x)) { return tskc_log_of_special(x); }
  let p = tskc_log_parts(x);
  return p.x + p.y * 1.44269504; // exact for powers of two
}
fn tskc_exp2(x: f32) -> f32 {
  if (tskc_isnan(x)) { return x; }
  if (x >= 128.0) { return tskc_bits_inf(); }
  if (x < -151.0) { return 0.0; }
  let n = round(x);
  let ni = i32(n);
  let n1 = ni / 2;
  return ldexp(ldexp(tskc_expf((x - n) * 0.693147181), n1), ni - n1);
}
// tanh: its Taylor series to x^15 near 0 (truncation below 1e-9 relative for |x| < 0.4), else from exp.
fn tskc_tanh(x: f32) -> f32 {
  if (tskc_isnan(x)) { return x; }
  let a = abs(x);
  if (a < 0.4) {
    let z = x * x;
    return x + x * z * (-0.3333333333 + z * (0.1333333333 + z * (-0.05396825397 + z * (0.02186948854 + z * (-0.008863235530 + z * (0.003592128036 + z * -0.001455834387))))));
  }
  let t = select(1.0 - 2.0 / (tskc_expf(2.0 * a) + 1.0), 1.0, a > 9.5);
  return select(t, -t, x < 0.0);
}
fn tskc_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + tskc_expf(-x)); }
  let e = tskc_expf(x); // for x < 0, exp(x) / (1 + exp(x)): no overflow, and subnormal results where they are
  return e / (1.0 + e);
}
// erf: a Taylor series near 0, else 1 - erfc with erfc from Numerical Recipes' Chebyshev fit
// (relative error below 1.2e-7).
fn tskc_erf(x: f32) -> f32 {
  if (tskc_isnan(x)) { return x; }
  let a = abs(x);
  if (a < 0.5) {
    let z = x * x;
    return x * 1.12837917f * (1.0 + z * (-1.0 / 3.0 + z * (0.1 + z * (-1.0 / 42.0 + z * (1.0 / 216.0 + z * (-1.0 / 1320.0))))));
  }
  let t = 1.0 / (1.0 + 0.5 * a);
  let y = t * tskc_expf(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(1.0 - y, y - 1.0, x < 0.0);
}
fn tskc_fmod(a: f32, b: f32) -> f32 {
  if (tskc_isnan(a) || tskc_isnan(b) || tskc_isinf(a) || b == 0.0) { return tskc_bits_nan(); }
  if (tskc_isinf(b)) { return a; }
  var r = abs(a);
  let d = abs(b);
  let fd = tskc_frexp(d);
  // Subtract the largest d * 2^k not above r, built as d's fraction in r's binade (ldexp's exponent
  // stays within WGSL's range): exact each time (Sterbenz), one binade or more down each step.
  for (var i = 0; i < 300 && r >= d && r >= 0x1p-126f; i++) {
    let er = tskc_frexp(r).exp;
    var t = ldexp(fd.fract, er);
    if (t > r) { t = ldexp(fd.fract, er - 1); }
    r = r - t;
  }
  // Both subnormal: their values are their bits times 2^-149, so the remainder is the bits'.
  if (r >= d) { r = bitcast<f32>(bitcast<u32>(r) % bitcast<u32>(d)); }
  return select(r, -r, bitcast<u32>(a) >= 0x80000000u);
}

// Element i of a tensor of w-bit elements packed little-endian into 32-bit words (w <= 32): word and
// bit position computed without forming i * w, which may not fit 32 bits.
fn tskc_word_of(i: u32, w: u32) -> u32 { return (i / 32u) * w + ((i % 32u) * w) / 32u; }
fn tskc_shift_of(i: u32, w: u32) -> u32 { return ((i % 32u) * w) % 32u; }
`;
