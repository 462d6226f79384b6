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

/**
 * `neverPositive`: the kernel proves x is at most 0 or a NaN (compiler/ir/order.ts), which an f32 exp
 * takes in fewer operations.
 */
export function unaryExpr(op: string, d: Dtype, x: string, neverPositive = false): string {
  if (op === 'sqrt' && d.name === 'f32') return `sqrtf(${x})`; // correctly rounded, like the interpreter
  if (op === 'exp' && d.name === 'f32') return `tskc_expf${neverPositive ? '_nonpositive' : ''}(${x})`; // within 1 ulp; vectorizes
  if (op === 'sigmoid' && d.name === 'f32') return `tskc_sigmoidf(${x})`; // within 2 ulp; vectorizes
  if (op === 'erf' && d.name === 'f32') return `tskc_erff(${x})`; // within 2 ulp (1 with FMA); vectorizes
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
  // C converts an integer to float with one rounding, as the interpreter does; an unsigned value of
  // 31 bits or fewer goes through int32_t, whose conversion is one vector instruction everywhere.
  if (to.name === 'f32') return from.kind === 'unsigned' && from.bits <= 31 ? `(float)(int32_t)${x}` : `(float)${x}`;
  if (to.kind === 'float') return roundTo(to, `(double)${x}`);
  return wrapTo(to, `(int64_t)${x}`);
}

/**
 * An element of a tile as C index expressions: its row-major index `flat`, and, where the emitter knows
 * them, its coordinates along each axis of `shape`. With coordinates, a broadcast or permute finds its
 * source element by multiplying and adding; from the flat index alone it must divide, which keeps gcc
 * from vectorizing a loop whose index is `o * n + k` (it cannot see that `% n` gives back `k`).
 */
export interface ElementIndex {
  readonly flat: string;
  readonly shape?: readonly number[];
  readonly coords?: readonly string[];
}

/** An element known only by its flat index. */
export const flatIndex = (flat: string): ElementIndex => ({ flat });

/** The element of `shape` at `coords` (C expressions), with its flat index. */
export function gridIndex(shape: readonly number[], coords: readonly string[]): ElementIndex {
  if (coords.length !== shape.length) throw new Error(`C backend: ${coords.length} coordinates for a tile of rank ${shape.length}`);
  const strides = stridesOf(shape);
  const terms = coords.flatMap((c, d) => (shape[d] === 1 ? [] : [strides[d] === 1 ? `(${c})` : `(${c}) * ${strides[d]}`]));
  return { flat: terms.join(' + ') || '0', shape, coords };
}

/**
 * The coordinates of e along `shape`: its own when it has them for this shape, else digits of its flat
 * index. Element indices of a tile are below 2^32 (a tile is held in memory), so that index math is
 * unsigned 32-bit: divisions by the (constant) strides become shifts or multiplications that vectorize.
 */
export function coordinatesOf(e: ElementIndex, shape: readonly number[]): string[] {
  if (e.coords && e.shape && e.shape.length === shape.length && e.shape.every((s, d) => s === shape[d])) return [...e.coords];
  const strides = stridesOf(shape);
  return shape.map((s, d) => (s === 1 ? '0' : `(((uint32_t)(${e.flat}) / ${strides[d]}u) % ${s}u)`));
}

/**
 * The coordinates in a row-major `shape` of the element whose flat index is the C expression `i`, for
 * i in [0, size(shape)): the first digit needs no modulo and the last no division.
 */
export function indexCoordinates(i: string, shape: readonly number[]): string[] {
  const strides = stridesOf(shape);
  return shape.map((s, d) => {
    if (s === 1) return '0';
    const q = strides[d] === 1 ? i : `(${i}) / ${strides[d]}`;
    return d === 0 ? q : `(${q}) % ${s}`;
  });
}

/** The source element of output element e for numpy broadcasting from `from` to `to`. */
export function broadcastIndex(from: readonly number[], to: readonly number[]): (e: ElementIndex) => ElementIndex {
  const lead = to.length - from.length;
  return (e) => {
    const at = coordinatesOf(e, to);
    return gridIndex(from, from.map((s, d) => (s === 1 ? '0' : at[lead + d]!)));
  };
}

/** The source element of output element e of permute(x, perm). */
export function permuteIndex(from: readonly number[], perm: readonly number[]): (e: ElementIndex) => ElementIndex {
  const shape = perm.map((p) => from[p]!);
  return (e) => {
    const at = coordinatesOf(e, shape);
    const source = from.map(() => '0');
    perm.forEach((p, k) => (source[p] = at[k]!));
    return gridIndex(from, source);
  };
}

/** broadcastIndex on flat indices, for emitters that index every tile by one expression. */
export function broadcastSource(from: readonly number[], to: readonly number[]): (e: string) => string {
  const f = broadcastIndex(from, to);
  return (e) => f(flatIndex(e)).flat;
}

/** permuteIndex on flat indices. */
export function permuteSource(from: readonly number[], perm: readonly number[]): (e: string) => string {
  const f = permuteIndex(from, perm);
  return (e) => f(flatIndex(e)).flat;
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
 *   what the interpreter's sequential rule (the first of equal extremes wins) returns. Float lanes
 *   start at -inf (+inf for min) and pass over NaNs; a result still at that start is NaN when the
 *   row holds no number (that fix-up reads the row again: rows of -inf, such as masked ones, pay it).
 * - argmax/argmin: in index order, skipping NaNs, keeping the first extreme.
 */
export function reduction(kind: string, d: Dtype, n: number, at: (k: string) => string, assign: (value: string) => string, chunkStart: (k: string) => string = () => ''): string[] {
  const integer = d.kind === 'signed' || d.kind === 'unsigned';
  // The lanes combine in steps of constant length (a loop with a variable trip count stays scalar).
  const pairwise = (step: (acc: string, x: string) => string) =>
    Array.from({ length: Math.log2(SUM_LANES) }, (_, i) => SUM_LANES >> (i + 1)).map((w) => `for (int64_t l = 0; l < ${w}; l++) lane[l] = ${step('lane[l]', `lane[l + ${w}]`)};`);
  const lanes = (type: string, init: string, step: (acc: string, x: string) => string, combine = pairwise(step)): string[] => [
    `${type} lane[${SUM_LANES}];`,
    `for (int64_t l = 0; l < ${SUM_LANES}; l++) lane[l] = ${init};`,
    'int64_t k = 0;',
    `for (; k + ${SUM_LANES} <= ${n}; k += ${SUM_LANES}) { ${chunkStart('k')}for (int64_t l = 0; l < ${SUM_LANES}; l++) lane[l] = ${step('lane[l]', at('k + l'))}; }`,
    `for (int64_t l = 0; k + l < ${n}; l++) lane[l] = ${step('lane[l]', at('k + l'))};`,
    ...combine,
  ];
  switch (kind) {
    case 'sum':
    case 'prod': {
      if (integer) {
        const step = kind === 'sum' ? `acc + (int64_t)${at('k')}` : wrappingProduct('acc', at('k'));
        return [`int64_t acc = ${kind === 'sum' ? 0 : 1};`, `for (int64_t k = 0; k < ${n}; k++) acc = ${wrapTo(d, step)};`, assign(roundTo(d, 'acc'))];
      }
      const sym = kind === 'sum' ? '+' : '*';
      const step = (acc: string, x: string) => `${acc} ${sym} (double)${x}`;
      // The prelude's tskc_sum_lanes16 is the same pairwise order, one vector add per step.
      const combine = kind === 'sum' && SUM_LANES === 16 ? ['lane[0] = tskc_sum_lanes16(lane);'] : undefined;
      return ['{', ...lanes('double', kind === 'sum' ? '0.0' : '1.0', step, combine), assign(roundTo(d, 'lane[0]')), '}'];
    }
    case 'max':
    case 'min': {
      if (d.kind !== 'float' || SUM_LANES !== 16) {
        const zeroFix = d.kind === 'float' ? [`if (lane[0] == 0) for (int64_t q = 0; q < ${n}; q++) if (${at('q')} == 0) { lane[0] = ${at('q')}; break; }`] : [];
        return ['{', ...lanes(valueType(d), at('0'), (acc, x) => binaryExpr(kind, d, acc, x)), ...zeroFix, assign('lane[0]'), '}'];
      }
      // The lanes start at the identity (-inf for max) and take each element greater than them
      // (tskc_max_lanes16, one vector instruction per 8 lanes): a NaN compares false and is passed
      // over, as the interpreter's max passes it over, and the lanes never hold one. Where the result
      // is the identity, a row of NaNs alone makes it NaN. Of equal elements the interpreter keeps the
      // first; only 0 and -0 differ, so a zero result is the row's first zero.
      const [identity, order] = kind === 'max' ? ['-INFINITY', '>'] : ['INFINITY', '<'];
      const select = (acc: string, x: string) => `(${x} ${order} ${acc} ? ${x} : ${acc})`;
      return [
        '{',
        'float lane[16];',
        `for (int64_t l = 0; l < 16; l++) lane[l] = ${identity};`,
        'int64_t k = 0;',
        `for (; k + 16 <= ${n}; k += 16) { ${chunkStart('k')}float chunk[16]; for (int64_t l = 0; l < 16; l++) chunk[l] = ${at('k + l')}; tskc_${kind}_lanes16(lane, chunk); }`,
        `for (int64_t l = 0; k + l < ${n}; l++) lane[l] = ${select('lane[l]', at('k + l'))};`,
        ...pairwise(select),
        `if (lane[0] == ${identity}) { int number = 0; for (int64_t q = 0; q < ${n}; q++) number |= ${at('q')} == ${at('q')}; if (!number) lane[0] = NAN; }`,
        `if (lane[0] == 0) for (int64_t q = 0; q < ${n}; q++) if (${at('q')} == 0) { lane[0] = ${at('q')}; break; }`,
        assign('lane[0]'),
        '}',
      ];
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
