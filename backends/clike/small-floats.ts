/**
 * Decoding the float formats of 8 bits or fewer (f8e4m3 ... f3e1m1) from their codes. Generated code
 * calls tskc_value_<name>(code); the emitter defines it for the formats its kernel uses, as a lookup
 * in a table of the format's 2^bits values computed by the interpreter's own decodeFloat. The general
 * tskc_decode is a call with ldexp per element, which no loop vectorizes: the f4e2m1 GEMV on the CPU
 * spent 95% of its time there (393 ms; 19 ms with the table).
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

/** The bit pattern of x as an f32 (x is a value of a small format, so exact); NaN is the canonical quiet NaN. */
export function f32Word(x: number): number {
  if (Number.isNaN(x)) return 0x7fc00000;
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0);
}

/** f32Word(x) as a C literal. */
export function f32Bits(x: number): string {
  return `0x${f32Word(x).toString(16).padStart(8, '0')}u`;
}

/**
 * Definitions of tskc_value_<name> for `formats`: a lookup in a table of the format's values as f32
 * bit patterns (bit patterns, not float literals: CUDA's NAN and INFINITY are not constant
 * expressions). `qualifier` declares the table: `static const` in C, `static __device__ const` in CUDA.
 */
export function smallFloatDecoders(formats: readonly FloatDtype[], qualifier: string): string {
  return formats
    .map((d) => {
      const values = Array.from({ length: 2 ** d.bits }, (_, code) => f32Bits(decodeFloat(d, code)));
      return [
        `${qualifier} uint32_t tskc_table_${d.name}[${values.length}] = { ${values.join(', ')} };`,
        `TSKC_FN float tskc_value_${d.name}(uint32_t code) { return tskc_bits_f32(tskc_table_${d.name}[code & ${2 ** d.bits - 1}u]); }`,
      ].join('\n');
    })
    .join('\n');
}
