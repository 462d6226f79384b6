/**
 * How each dtype lives in generated C: the C type that holds its values in registers, and how its
 * elements are read from and written to tensors in their storage format (runtime/tensor.ts):
 *   f32 float; f16/bf16 uint16_t bits; i32/u32/i8/u8 their C integer; other 8-bit dtypes uint8_t
 *   bits; dtypes narrower than 8 bits (bool included) packed into uint32_t words.
 * Values: f32 and every smaller float in a `float` (all of them are exactly representable), signed
 * integers in int32_t, unsigned in uint32_t, bool in uint8_t (0 or 1).
 */
import type { Dtype, FloatDtype } from '../../compiler/ir/dtype.js';

export function isFloatDtype(d: Dtype): d is FloatDtype {
  return d.kind === 'float';
}

/** The C type of a value of d. */
export function valueType(d: Dtype): string {
  switch (d.kind) {
    case 'float':
      return 'float';
    case 'signed':
      return 'int32_t';
    case 'unsigned':
      return 'uint32_t';
    case 'bool':
      return 'uint8_t';
  }
}

/** The C element type of d's tensors (packed types are read through their words). */
export function storageType(d: Dtype): string {
  if (d.bits < 8) return 'uint32_t';
  if (d.name === 'f32') return 'float';
  if (d.bits === 16) return 'uint16_t';
  if (d.name === 'i32') return 'int32_t';
  if (d.name === 'u32') return 'uint32_t';
  if (d.name === 'i8') return 'int8_t';
  return 'uint8_t';
}

/** The format arguments of tskc_encode/tskc_decode for a float dtype: "E, M, sp". */
function formatArgs(d: FloatDtype): string {
  const sp = d.specials === 'ieee' ? 0 : d.specials === 'fn' ? 1 : 2;
  return `${d.exponentBits}, ${d.mantissaBits}, ${sp}`;
}

/** A C expression rounding the double expression `x` to a value of d (the one rounding of every op). */
export function roundTo(d: Dtype, x: string): string {
  if (d.kind === 'float') {
    if (d.name === 'f32') return `(float)(${x})`;
    if (d.name === 'bf16') return `tskc_bf16_value(tskc_bf16_code(${x}))`;
    if (d.name === 'f16') return `tskc_f16_value(tskc_f16_code(${x}))`;
    return `(float)tskc_decode(tskc_encode(${x}, ${formatArgs(d as FloatDtype)}), ${formatArgs(d as FloatDtype)})`;
  }
  if (d.kind === 'bool') return `(uint8_t)((${x}) != 0)`;
  return wrapTo(d, x);
}

/** Wraps an int64 expression to d's width (two's complement). */
export function wrapTo(d: Dtype, x: string): string {
  return d.kind === 'signed' ? `tskc_wrap_s((int64_t)(${x}), ${d.bits})` : `tskc_wrap_u((int64_t)(${x}), ${d.bits})`;
}

/**
 * The bit pattern (uint32_t) of the value expression `v` of d. A NaN has one pattern, the canonical
 * quiet NaN (the interpreter's values carry no payload), whatever bits the hardware left in it.
 */
export function bitsOf(d: Dtype, v: string): string {
  if (d.name === 'f32') return `tskc_f32_bits(${v})`;
  if (d.name === 'bf16') return `tskc_bf16_code_f(${v})`; // values of bf16 are floats
  if (d.name === 'f16') return `tskc_f16_code((double)(${v}))`;
  if (d.kind === 'float') return `tskc_encode((double)(${v}), ${formatArgs(d as FloatDtype)})`;
  if (d.kind === 'bool') return `(uint32_t)(${v})`;
  return `tskc_wrap_u((int64_t)(${v}), ${d.bits})`;
}

/** The value of d whose bit pattern is the uint32_t expression `b`. */
export function fromBitsExpr(d: Dtype, b: string): string {
  if (d.name === 'f32') return `tskc_bits_f32(${b})`;
  if (d.name === 'bf16') return `tskc_bf16_value(${b})`;
  if (d.name === 'f16') return `tskc_f16_value(${b})`;
  if (d.kind === 'float') return `tskc_value_${d.name}(${b})`; // defined per kernel: small-floats.ts
  if (d.kind === 'bool') return `(uint8_t)((${b}) & 1u)`;
  if (d.kind === 'signed') return `tskc_wrap_s((int64_t)(${b}), ${d.bits})`;
  return `(uint32_t)(${b})`;
}

/** Bytes of one stored element of d, or 0 for dtypes packed into words. */
export function storageBytes(d: Dtype): number {
  if (d.bits < 8) return 0;
  return d.bits / 8;
}

/** The value of d held in `raw`, an element of d's storage type. */
export function fromStorage(d: Dtype, raw: string): string {
  if (d.name === 'f32' || d.kind !== 'float') return `(${valueType(d)})${raw}`;
  return fromBitsExpr(d, `(uint32_t)${raw}`);
}

/** The storage-type element holding the value expression `v` of d. */
export function toStorage(d: Dtype, v: string): string {
  const st = storageType(d);
  if (d.name === 'f32' || d.kind !== 'float') return `(${st})(${v})`;
  return `(${st})${bitsOf(d, v)}`;
}

/** The value of element `offset` of a tensor of d whose storage pointer is `p`. */
export function loadElement(d: Dtype, p: string, offset: string): string {
  if (d.bits < 8) return fromBitsExpr(d, `tskc_get_bits((const uint32_t *)${p}, ${offset}, ${d.bits})`);
  return fromStorage(d, `((const ${storageType(d)} *)${p})[${offset}]`);
}

/** A statement writing value `v` of d to element `offset` of the tensor at `p`. */
export function storeElement(d: Dtype, p: string, offset: string, v: string): string {
  if (d.bits < 8) return `tskc_set_bits((uint32_t *)${p}, ${offset}, ${d.bits}, ${bitsOf(d, v)});`;
  return `((${storageType(d)} *)${p})[${offset}] = ${toStorage(d, v)};`;
}

/** A C literal of the value x of d (already a value of d). */
export function literal(d: Dtype, x: number): string {
  if (d.kind !== 'float') return d.kind === 'unsigned' ? `${x}u` : String(x);
  if (Number.isNaN(x)) return 'NAN';
  if (x === Infinity) return 'INFINITY';
  if (x === -Infinity) return '(-INFINITY)';
  if (Object.is(x, -0)) return '(-0.0f)';
  // A decimal string that reads back as this double; the value is exact in float, so the cast is too.
  return `(float)${formatDouble(x)}`;
}

function formatDouble(x: number): string {
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
