/**
 * Decoding the float formats of 8 bits or fewer (f8e4m3 ... f3e1m1) from their codes. Generated code
 * calls tskc_value_<name>(code); the emitter defines it for the formats its kernel uses. The C backend
 * looks the value up in a table of the format's 2^bits values, computed by the interpreter's own
 * decodeFloat (the general tskc_decode is a call with ldexp per element, which no loop vectorizes: the
 * f4e2m1 GEMV spent most of its time there); the CUDA backend calls tskc_decode.
 */
import { type Dtype, type FloatDtype, isFloat } from '../../compiler/ir/dtype.js';
import { decodeFloat } from '../../compiler/ir/float-format.js';
import { type Kernel, type Value, walkOps } from '../../compiler/ir/ir.js';

/** Whether d is decoded through tskc_value_<name>: a float format narrower than f16. */
export const isSmallFloat = (d: Dtype): d is FloatDtype => isFloat(d) && d.bits <= 8;

/** The small float formats among the kernel's values: arguments, op results, region arguments. */
export function smallFloatsOf(kernel: Kernel): FloatDtype[] {
  const found = new Map<string, FloatDtype>();
  const see = (v: Value) => {
    const d = v.type.dtype;
    if (isSmallFloat(d)) found.set(d.name, d);
  };
  kernel.args.forEach(see);
  walkOps(kernel.body, (op) => {
    op.results.forEach(see);
    op.regions.forEach((r) => r.args.forEach(see));
  });
  return [...found.values()];
}

/** A C float literal of the exact value x (every value of these formats is a float). */
function floatLiteral(x: number): string {
  if (Number.isNaN(x)) return 'NAN';
  if (!Number.isFinite(x)) return x > 0 ? 'INFINITY' : '-INFINITY';
  if (Object.is(x, -0)) return '-0.0f';
  // The shortest decimal that reads back as the double x; x is a float, so it reads back as x in float too.
  const s = String(x);
  return /[.e]/.test(s) ? `${s}f` : `${s}.0f`;
}

/** Definitions of tskc_value_<name> for `formats`: table lookups (C) or tskc_decode calls (CUDA). */
export function smallFloatDecoders(formats: readonly FloatDtype[], style: 'table' | 'decode'): string {
  return formats
    .map((d) => {
      const mask = `${2 ** d.bits - 1}u`;
      if (style === 'decode') {
        const sp = d.specials === 'ieee' ? 0 : d.specials === 'fn' ? 1 : 2;
        return `TSKC_FN float tskc_value_${d.name}(uint32_t code) { return (float)tskc_decode(code & ${mask}, ${d.exponentBits}, ${d.mantissaBits}, ${sp}); }`;
      }
      const values = Array.from({ length: 2 ** d.bits }, (_, code) => floatLiteral(decodeFloat(d, code)));
      return [`static const float tskc_table_${d.name}[${values.length}] = { ${values.join(', ')} };`, `TSKC_FN float tskc_value_${d.name}(uint32_t code) { return tskc_table_${d.name}[code & ${mask}]; }`].join('\n');
    })
    .join('\n');
}
