/**
 * C expressions for the value rules of each op on one element, shared by the C and CUDA backends (the
 * CUDA backend compiles the same prelude, so the same expressions mean the same values there): one
 * rounding per op to the result dtype, integer wrap-around, the interpreter's max/min and division
 * rules. Also the index maps of broadcast and permute over row-major element indices.
 */
import type { Dtype } from '../../compiler/ir/dtype.js';
import { SUM_LANES } from '../../compiler/interpret/tiles.js';
import { roundTo, valueType, wrapTo } from './dtypes.js';

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
export const stridesOf = (shape: readonly number[]) => shape.map((_, d) => size(shape.slice(d + 1)));

export const COMPARE_C: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

const UNARY_MATH: Record<string, (x: string) => string> = {
  exp: (x) => `tskc_exp(${x})`,
  exp2: (x) => `exp2(${x})`,
  log: (x) => `log(${x})`,
  log2: (x) => `log2(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  rsqrt: (x) => `1.0 / sqrt(${x})`,
  tanh: (x) => `tanh(${x})`,
  erf: (x) => `erf(${x})`,
  sigmoid: (x) => `1.0 / (1.0 + tskc_exp(-(${x})))`,
};

export function unaryExpr(op: string, d: Dtype, x: string): string {
  if (op === 'sqrt' && d.name === 'f32') return `sqrtf(${x})`; // correctly rounded, like the interpreter
  if (op === 'exp' && d.name === 'f32') return `tskc_expf(${x})`; // within 2 ulp, 16 lanes wide
  const math = UNARY_MATH[op];
  if (math) return roundTo(d, math(`(double)${x}`));
  switch (op) {
    case 'neg':
      return d.kind === 'float' ? `(-${x})` : wrapTo(d, `-(int64_t)${x}`);
    case 'abs':
      return d.kind === 'float' ? `fabsf(${x})` : wrapTo(d, `llabs((long long)${x})`);
    case 'not':
      return d.kind === 'bool' ? `(uint8_t)!${x}` : wrapTo(d, `~(int64_t)${x}`);
  }
  throw new Error(`C backend: no rule for ${op}`);
}

const BINARY_C: Record<string, string> = { add: '+', sub: '-', mul: '*', and: '&', or: '|', xor: '^' };

export function binaryExpr(op: string, d: Dtype, a: string, b: string): string {
  if (op === 'max' || op === 'min') {
    if (d.kind === 'float') return `tskc_${op}f(${a}, ${b})`;
    return op === 'max' ? `(${a} >= ${b} ? ${a} : ${b})` : `(${a} <= ${b} ? ${a} : ${b})`;
  }
  if (d.kind === 'bool') {
    // Bools are 0 or 1: bitwise and/or give the same values without branches, so loops vectorize.
    if (op === 'and') return `(uint8_t)(${a} & ${b})`;
    if (op === 'or') return `(uint8_t)(${a} | ${b})`;
    if (op === 'xor') return `(uint8_t)(${a} != ${b})`;
  }
  if (d.kind === 'float') {
    // f32's own operations are correctly rounded, which is the interpreter's one rounding of the
    // exact result; smaller formats go through double and one rounding to the format.
    if (d.name === 'f32') return op === 'rem' ? `fmodf(${a}, ${b})` : `(${a} ${op === 'div' ? '/' : BINARY_C[op]} ${b})`;
    if (op === 'div') return roundTo(d, `(double)${a} / (double)${b}`);
    if (op === 'rem') return roundTo(d, `fmod((double)${a}, (double)${b})`);
    return roundTo(d, `(double)${a} ${BINARY_C[op]} (double)${b}`);
  }
  // Integers: int64 sums and differences of operands of 32 bits or fewer cannot overflow; products
  // can, so they are taken in uint64_t (wrapping is all that is kept of them).
  if (op === 'div') return wrapTo(d, `tskc_div((int64_t)${a}, (int64_t)${b})`);
  if (op === 'rem') return wrapTo(d, `tskc_rem((int64_t)${a}, (int64_t)${b})`);
  if (op === 'mul') return wrapTo(d, wrappingProduct(a, b));
  return wrapTo(d, `(int64_t)${a} ${BINARY_C[op]} (int64_t)${b}`);
}

/**
 * An int64 expression whose low 32 bits are those of a * b, as the interpreter's Math.imul keeps them.
 * The product is taken in uint64_t, where wrapping is defined: operands of 32 bits or fewer may still
 * overflow int64 (two u32 values, or the u32 operands of a dot whose accumulator d is i32).
 */
export function wrappingProduct(a: string, b: string): string {
  return `(int64_t)((uint64_t)(${a}) * (uint64_t)(${b}) & 0xffffffffull)`;
}

/** A double expression converted to a value of `to`: rounded (floats), saturated (integers), x != 0 (bool). */
export function fromDouble(to: Dtype, x: string): string {
  if (to.kind === 'bool') return `(uint8_t)((${x}) != 0)`;
  if (to.kind === 'float') return roundTo(to, x);
  return `(${valueType(to)})tskc_f2i(${x}, ${to.minValue}.0, ${to.maxValue}.0)`;
}

export function castExpr(from: Dtype, to: Dtype, x: string): string {
  if (from.name === 'f32' && to.name === 'bf16') return `tskc_bf16_value(tskc_bf16_code_f(${x}))`;
  if (to.kind === 'bool' || from.kind === 'float') return fromDouble(to, `(double)${x}`);
  if (to.kind === 'float') return roundTo(to, `(double)${x}`);
  return wrapTo(to, `(int64_t)${x}`);
}

/**
 * Source index of output element e for numpy broadcasting from `from` to `to`. Element indices of a
 * tile are below 2^32 (a tile is held in memory), so the index math is unsigned 32-bit: divisions by
 * the (constant) strides become shifts or multiplications that vectorize.
 */
export function broadcastSource(from: readonly number[], to: readonly number[]): (e: string) => string {
  const lead = to.length - from.length;
  const [src, dst] = [stridesOf(from), stridesOf(to)];
  const dims = from.flatMap((s, d) => (s === 1 ? [] : [d]));
  return (e) => dims.map((d) => `(((uint32_t)(${e}) / ${dst[lead + d]}u) % ${to[lead + d]}u) * ${src[d]}u`).join(' + ') || '0';
}

/** Source index of output element e of permute(x, perm). */
export function permuteSource(from: readonly number[], perm: readonly number[]): (e: string) => string {
  const shape = perm.map((p) => from[p]!);
  const [src, dst] = [stridesOf(from), stridesOf(shape)];
  return (e) => perm.map((p, k) => `(((uint32_t)(${e}) / ${dst[k]}u) % ${shape[k]}u) * ${src[p]}u`).join(' + ') || '0';
}


/**
 * The statements computing one result of a reduction exactly as the interpreter defines it: element k
 * along the axis is `at(k)` (k a C expression), the axis has n elements, and `assign(value)` is the
 * statement storing the result.
 * - Float sum/prod: SUM_LANES lanes in double, element k into lane k % SUM_LANES in index order, then
 *   the lanes pairwise (the interpreter's order; the lane loop vectorizes without reassociating).
 * - Integer sum/prod: int64 with wrap-around at every step (exact in any order).
 * - max/min: lanes too, which gives the same value because max/min are exact; only which of +0 and
 *   -0 comes out can differ, so a zero result is replaced by the first zero in index order, which is
 *   what the interpreter's sequential rule (the first of equal extremes wins) returns.
 * - argmax/argmin: in index order, skipping NaNs, keeping the first extreme.
 */
export function reduction(kind: string, d: Dtype, n: number, at: (k: string) => string, assign: (value: string) => string): string[] {
  const integer = d.kind === 'signed' || d.kind === 'unsigned';
  const lanes = (type: string, init: string, step: (acc: string, x: string) => string): string[] => [
    `${type} lane[${SUM_LANES}];`,
    `for (int64_t l = 0; l < ${SUM_LANES}; l++) lane[l] = ${init};`,
    'int64_t k = 0;',
    `for (; k + ${SUM_LANES} <= ${n}; k += ${SUM_LANES}) for (int64_t l = 0; l < ${SUM_LANES}; l++) lane[l] = ${step('lane[l]', at('k + l'))};`,
    `for (int64_t l = 0; k + l < ${n}; l++) lane[l] = ${step('lane[l]', at('k + l'))};`,
    `for (int64_t w = ${SUM_LANES / 2}; w >= 1; w /= 2) for (int64_t l = 0; l < w; l++) lane[l] = ${step('lane[l]', 'lane[l + w]')};`,
  ];
  switch (kind) {
    case 'sum':
    case 'prod': {
      if (integer) {
        const step = kind === 'sum' ? `acc + (int64_t)${at('k')}` : wrappingProduct('acc', at('k'));
        return [`int64_t acc = ${kind === 'sum' ? 0 : 1};`, `for (int64_t k = 0; k < ${n}; k++) acc = ${wrapTo(d, step)};`, assign(roundTo(d, 'acc'))];
      }
      const sym = kind === 'sum' ? '+' : '*';
      return ['{', ...lanes('double', kind === 'sum' ? '0.0' : '1.0', (acc, x) => `${acc} ${sym} (double)${x}`), assign(roundTo(d, 'lane[0]')), '}'];
    }
    case 'max':
    case 'min': {
      const zeroFix = d.kind === 'float' ? [`if (lane[0] == 0) for (int64_t q = 0; q < ${n}; q++) if (${at('q')} == 0) { lane[0] = ${at('q')}; break; }`] : [];
      return ['{', ...lanes(valueType(d), at('0'), (acc, x) => binaryExpr(kind, d, acc, x)), ...zeroFix, assign('lane[0]'), '}'];
    }
    case 'argmax':
    case 'argmin': {
      const better = kind === 'argmax' ? '>' : '<';
      return [
        'int64_t best = -1;',
        `for (int64_t k = 0; k < ${n}; k++) {`,
        ...(d.kind === 'float' ? [`  if (isnan(${at('k')})) continue;`] : []),
        `  if (best < 0 || ${at('k')} ${better} ${at('best')}) best = k;`,
        '}',
        assign('(int32_t)(best < 0 ? 0 : best)'),
      ];
    }
  }
  throw new Error(`no reduction ${kind}`);
}
