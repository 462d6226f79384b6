/**
 * How each dtype's values live in WGSL and the expression of each elementwise op on one element, with
 * the interpreter's rules (the functions called here are in prelude.ts).
 *
 * Values: every float dtype in an f32 (each of their values is one), signed integers in i32, unsigned
 * in u32, bool in u32 (0 or 1). An op on floats narrower than f32 is computed in f32 and rounded once
 * to the dtype: for + - * / and sqrt that equals the one rounding of the exact result, because f32 has
 * at least 2p + 2 bits for every such format of p bits (11 for f16, the widest).
 *
 * Storage: every tensor is an array of 32-bit words; elements narrower than 32 bits (f16, bf16, 8-bit
 * and packed dtypes) are read and written through their words, little-endian, as runtime/tensor.ts
 * lays them out, so a tensor's bytes are the same on every target.
 */
import type { Dtype, FloatDtype } from '../../compiler/ir/dtype.js';

const COMPARE_WGSL: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

/** The operands of a float op, hidden from the driver's algebraic rewrites (prelude.ts, tskc_opaque). */
const opaque = (a: string, b: string) => [`tskc_opaque(${a})`, `tskc_opaque_r(${b})`] as const;

/** The WGSL type of a value of d. */
export function valueType(d: Dtype): 'f32' | 'i32' | 'u32' {
  return d.kind === 'float' ? 'f32' : d.kind === 'signed' ? 'i32' : 'u32';
}

function formatArgs(d: FloatDtype): string {
  const sp = d.specials === 'ieee' ? 0 : d.specials === 'fn' ? 1 : 2;
  return `${d.exponentBits}u, ${d.mantissaBits}u, ${sp}u`;
}

/** Wraps an i32 or u32 expression to d's width (two's complement). */
export function wrapTo(d: Dtype, x: string): string {
  if (d.bits >= 32) return x;
  return d.kind === 'signed' ? `tskc_wrap_s(${x}, ${d.bits}u)` : `tskc_wrap_u(${x}, ${d.bits}u)`;
}

/** An f32 expression rounded once to a value of the float dtype d. */
export function roundFloat(d: Dtype, x: string): string {
  if (d.name === 'f32') return x;
  if (d.name === 'bf16') return `tskc_bf16_value(tskc_bf16_code(${x}))`;
  if (d.name === 'f16') return `tskc_f16_value(tskc_f16_code(${x}))`;
  return `tskc_decode(tskc_encode(${x}, ${formatArgs(d as FloatDtype)}), ${formatArgs(d as FloatDtype)})`;
}

/** The bit pattern (u32) of the value expression v of d; a NaN has the canonical pattern. */
export function bitsOf(d: Dtype, v: string): string {
  if (d.name === 'f32') return `tskc_f32_bits(${v})`;
  if (d.name === 'bf16') return `tskc_bf16_code(${v})`;
  if (d.name === 'f16') return `tskc_f16_code(${v})`;
  if (d.kind === 'float') return `tskc_encode(${v}, ${formatArgs(d as FloatDtype)})`;
  if (d.kind === 'signed') return `tskc_wrap_u(bitcast<u32>(${v}), ${d.bits}u)`;
  return `tskc_wrap_u(${v}, ${d.bits}u)`;
}

/** The value of d whose bit pattern is the u32 expression b (only its low d.bits bits are set). */
export function fromBits(d: Dtype, b: string): string {
  if (d.name === 'f32') return `bitcast<f32>(${b})`;
  if (d.name === 'bf16') return `tskc_bf16_value(${b})`;
  if (d.name === 'f16') return `tskc_f16_value(${b})`;
  if (d.kind === 'float') return `tskc_decode(${b}, ${formatArgs(d as FloatDtype)})`;
  if (d.kind === 'signed') return `tskc_wrap_s(bitcast<i32>(${b}), ${d.bits}u)`;
  if (d.kind === 'bool') return `((${b}) & 1u)`;
  return `(${b})`;
}

/** A WGSL literal of the value x of d (already a value of d). */
export function literal(d: Dtype, x: number): string {
  if (d.kind === 'signed') return x === -2147483648 ? 'bitcast<i32>(0x80000000u)' : `${x}i`;
  if (d.kind !== 'float') return `${x}u`;
  if (Number.isNaN(x)) return 'tskc_bits_nan()';
  if (x === Infinity) return 'tskc_bits_inf()';
  if (x === -Infinity) return '(-tskc_bits_inf())';
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 24 && !Object.is(x, -0)) return `${x}.0f`;
  // Exact whatever the value (subnormals and -0 included): the f32 bits.
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  return `bitcast<f32>(0x${bits.toString(16)}u)`;
}

const UNARY_F32: Record<string, (x: string) => string> = {
  exp: (x) => `tskc_expf(${x})`,
  exp2: (x) => `tskc_exp2(${x})`,
  log: (x) => `tskc_log(${x})`,
  log2: (x) => `tskc_log2(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  rsqrt: (x) => `(1.0f / sqrt(${x}))`,
  tanh: (x) => `tskc_tanh(${x})`,
  erf: (x) => `tskc_erf(${x})`,
  sigmoid: (x) => `tskc_sigmoid(${x})`,
};

export function unaryExpr(op: string, d: Dtype, x: string): string {
  const math = UNARY_F32[op];
  if (math) return roundFloat(d, math(x));
  switch (op) {
    case 'neg':
      return d.kind === 'float' ? `(-${x})` : wrapTo(d, d.kind === 'signed' ? `(0i - ${x})` : `(0u - ${x})`);
    case 'abs':
      return d.kind === 'float' ? `abs(${x})` : d.kind === 'signed' ? wrapTo(d, `select(${x}, 0i - ${x}, ${x} < 0i)`) : x;
    case 'not':
      return d.kind === 'bool' ? `(1u - ${x})` : wrapTo(d, `(~${x})`);
  }
  throw new Error(`WGSL backend: no rule for ${op}`);
}

const BINARY_WGSL: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', and: '&', or: '|', xor: '^' };

export function binaryExpr(op: string, d: Dtype, a: string, b: string): string {
  if (op === 'max' || op === 'min') {
    if (d.kind === 'float') return `tskc_${op}f(${a}, ${b})`;
    return op === 'max' ? `select(${b}, ${a}, (${a} >= ${b}))` : `select(${b}, ${a}, (${a} <= ${b}))`;
  }
  if (d.kind === 'float') {
    if (op === 'rem') return roundFloat(d, `tskc_fmod(${a}, ${b})`);
    const [x, y] = opaque(a, b);
    return roundFloat(d, `(${x} ${BINARY_WGSL[op]} ${y})`);
  }
  if (d.kind === 'bool') return `(${a} ${BINARY_WGSL[op]} ${b})`;
  const sign = d.kind === 'signed' ? 's' : 'u';
  if (op === 'div') return wrapTo(d, `tskc_div_${sign}(${a}, ${b})`);
  if (op === 'rem') return wrapTo(d, `tskc_rem_${sign}(${a}, ${b})`);
  return wrapTo(d, `(${a} ${BINARY_WGSL[op]} ${b})`);
}

/**
 * A comparison of two values of d, as a bool value (0 or 1). NaN is tested through the bits: drivers
 * may compare as if there were none (lavapipe's NaN != 0 is false), while the interpreter's is true.
 */
export function compareExpr(op: string, d: Dtype, a: string, b: string): string {
  // Parenthesized: a < b, c > d inside a call would read as a template list.
  if (d.kind !== 'float') return `select(0u, 1u, (${a} ${COMPARE_WGSL[op]} ${b}))`;
  const [x, y] = opaque(a, b);
  const unordered = `tskc_isnan(${a}) || tskc_isnan(${b})`;
  if (op === 'ne') return `select(0u, 1u, ${unordered} || (${x} != ${y}))`;
  return `select(0u, 1u, !(${unordered}) && (${x} ${COMPARE_WGSL[op]} ${y}))`;
}

/** A value of `from` converted to `to` value by value (the interpreter's cast). */
export function castExpr(from: Dtype, to: Dtype, x: string): string {
  if (to.kind === 'bool') return from.kind === 'float' ? compareExpr('ne', from, x, '0.0f') : `select(0u, 1u, ${x} != ${from.kind === 'signed' ? '0i' : '0u'})`;
  if (from.kind === 'float') {
    if (to.kind === 'float') return roundFloat(to, x);
    if (to.kind === 'signed') return `tskc_f2i(${x}, ${literal(to, to.minValue)}, ${literal(to, to.maxValue)})`;
    return `tskc_f2u(${x}, ${to.maxValue}u)`;
  }
  if (to.kind === 'float') {
    const signed = from.kind === 'signed';
    if (to.name === 'f32') return signed ? `tskc_i2f(${x})` : `tskc_u2f(${x})`;
    return roundFloat(to, signed ? `tskc_i2f_odd(${x})` : `tskc_u2f_odd(${x})`);
  }
  // Integer to integer: the value's low bits, wrapped to the target's width and signedness.
  const bits = from.kind === 'signed' ? `bitcast<u32>(${x})` : x;
  return to.kind === 'signed' ? wrapTo(to, `bitcast<i32>(${bits})`) : wrapTo(to, bits);
}

/** A bitcast: d's bits reinterpreted as `to` (same width). */
export function bitcastExpr(from: Dtype, to: Dtype, x: string): string {
  return fromBits(to, bitsOf(from, x));
}
