/**
 * Random well-typed Tile IR programs, for differential testing of backends against the interpreter.
 * A program loads a few small tensors of random dtypes and shapes whole (some with a mask and an
 * `other` value), applies a random sequence of ops that the type rules accept (elementwise math,
 * comparisons, where, casts, bitcasts, reductions, broadcasts, views, permutes, dot, a loop, an
 * if/else), and stores every value it made to its own output (some stores masked). Everything derives from one seed, so a failure is replayed from the seed alone.
 */
import { KernelBuilder } from '../../compiler/ir/builder.js';
import { type Dtype, dtype } from '../../compiler/ir/dtype.js';
import type { Kernel, Value } from '../../compiler/ir/ir.js';
import type { Opcode } from '../../compiler/ir/opcodes.js';
import { type TileType, tensorType } from '../../compiler/ir/types.js';
import { hostTensor, type HostTensor } from '../../compiler/interpret/index.js';
import { rng } from '../../examples/check.js';

export const FUZZ_DTYPES = ['f32', 'f16', 'bf16', 'f8e4m3', 'f4e2m1', 'i32', 'u32', 'i8', 'u8', 'i3', 'u5', 'bool'].map(dtype);

export interface RandomProgram {
  readonly seed: number;
  readonly kernel: Kernel;
  /** Fresh inputs and poisoned outputs for one run (call again for another copy). */
  readonly makeArgs: () => Record<string, HostTensor>;
  /** Whether output `name` went through a transcendental op (compared with a tolerance, not bit-exact). */
  readonly approximate: ReadonlySet<string>;
}

/** Ops whose float results a backend may compute differently in the last bit (library functions). */
const TRANSCENDENTAL = new Set(['exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sigmoid']);

/**
 * `wide` draws extents about ten times larger (rows up to 1100 elements, 2-D tiles up to 40 x 90):
 * tiles that spread over several warps and threads' vectors on the GPU backends, and blocks of the C
 * backend's dot. The draws are otherwise the same.
 *
 * `orderedSums` false is for backends that add a float sum's or product's double partials in their
 * own order (CUDA and WGSL: see their emitters' file comments), which agree with the interpreter's
 * order only while the double sums are exact. They stop being so when a tile holds floats made by a
 * bitcast (a random f16 pattern read as bf16 spans 2^-133 to 2^128: seed 3851463335 summed +-2.7e36
 * with values near 1, 0 in the interpreter's order, -182272 in CUDA's). A sum or product of such a
 * value is then drawn as a max, without another draw, so every other program stays the same.
 */
export function randomProgram(seed: number, steps = 8, wide = false, orderedSums = true): RandomProgram {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const b = new KernelBuilder('fuzz', {}, [1 + Math.floor(r() * 2)]);
  const inputs: { name: string; dtype: Dtype; shape: number[] }[] = [];
  const pool: Value[] = [];
  /** The masks of the masked loads (rows past a bound read `other`). */
  const loadMasks: Value[] = [];
  const approx = new Set<Value>();
  /** Floats made by a bitcast, and values computed from them: any magnitude a float has. */
  const bitcastFloats = new Set<Value>();

  const wholeIndices = (shape: readonly number[]): Value[] =>
    shape.map((n, d) => {
      const along = b.emit1('arange', [], { start: 0, end: n });
      if (shape.length === 1) return along;
      const v = b.emit1('view', [along], { shape: shape.map((_, k) => (k === d ? n : 1)) });
      return b.emit1('broadcast', [v], { shape: [...shape] });
    });

  for (let i = 0; i < 1 + Math.floor(r() * 3); i++) {
    const d = pick(FUZZ_DTYPES);
    const shape = r() < 0.5 ? [1 + Math.floor(r() * (wide ? 1100 : 37))] : [1 + Math.floor(r() * (wide ? 40 : 9)), 1 + Math.floor(r() * (wide ? 90 : 11))];
    const name = `in${i}`;
    inputs.push({ name, dtype: d, shape });
    const arg = b.arg(name, tensorType(d, shape, 'in'));
    const indices = wholeIndices(shape);
    if (r() < 0.3) {
      // Masked: rows past a random bound read `other` instead.
      const bound = b.emit1('broadcast', [b.emit1('const', [], { value: Math.floor(r() * (shape[0]! + 1)), dtype: 'i32' })], { shape: [...shape] });
      const mask = b.emit1('lt', [indices[0]!, bound]);
      const fill = b.emit1('const', [], { value: d.kind === 'bool' ? 1 : d.kind === 'float' ? -1.5 : 3, dtype: d.name });
      const other = b.emit1('broadcast', [fill], { shape: [...shape] });
      pool.push(b.emit1('load', [arg, ...indices, mask, other]));
      loadMasks.push(mask);
    } else pool.push(b.emit1('load', [arg, ...indices]));
  }

  const type = (v: Value) => v.type as TileType;
  const sameShape = (a: Value, c: Value) => type(a).shape.join() === type(c).shape.join();
  const tryEmit = (opcode: Opcode, operands: Value[], attrs: Record<string, number | string | boolean | number[]> = {}): Value | undefined => {
    try {
      const v = b.emit1(opcode, operands, attrs);
      if (operands.some((o) => approx.has(o)) || TRANSCENDENTAL.has(opcode)) approx.add(v);
      if (operands.some((o) => bitcastFloats.has(o)) || (opcode === 'bitcast' && type(v).dtype.kind === 'float')) bitcastFloats.add(v);
      return v;
    } catch {
      return undefined; // not well typed: choose again
    }
  };

  for (let step = 0; step < steps; step++) {
    const x = pick(pool);
    const t = type(x);
    const partner = pool.filter((y) => y !== x && type(y).dtype === t.dtype && sameShape(x, y));
    const kind = pick(['unary', 'binary', 'compare', 'where', 'cast', 'bitcast', 'reduce', 'broadcast', 'permute', 'reshape', 'dot', 'loop', 'branch'] as const);
    let made: Value | undefined;
    switch (kind) {
      case 'unary':
        made = tryEmit(pick(['neg', 'abs', 'not', 'exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sigmoid'] as const), [x]);
        break;
      case 'binary': {
        const opcode = pick(['add', 'sub', 'mul', 'div', 'rem', 'max', 'min', 'and', 'or', 'xor'] as const);
        const y = partner.length > 0 ? pick(partner) : x;
        // A float remainder x - n·y of an approximate operand is off by n times its error, past any
        // tolerance relative to the result (rem(x, sigmoid(x)) on WebGPU): not generated.
        if (!(opcode === 'rem' && t.dtype.kind === 'float' && (approx.has(x) || approx.has(y)))) made = tryEmit(opcode, [x, y]);
        break;
      }
      case 'compare':
        made = tryEmit(pick(['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const), [x, partner.length > 0 ? pick(partner) : x]);
        break;
      case 'where': {
        // The load masks too: a where over one that the C backend can decide all on runs in two
        // versions there (emit.ts: versioned).
        const conds = [...pool, ...loadMasks].filter((c) => type(c).dtype.name === 'bool' && sameShape(c, x));
        if (conds.length > 0) made = tryEmit('where', [pick(conds), x, partner.length > 0 ? pick(partner) : x]);
        break;
      }
      case 'cast':
        made = tryEmit('cast', [x], { dtype: pick(FUZZ_DTYPES).name });
        break;
      case 'bitcast': {
        const same = FUZZ_DTYPES.filter((d) => d.bits === t.dtype.bits && d !== t.dtype);
        if (same.length > 0) made = tryEmit('bitcast', [x], { dtype: pick(same).name });
        break;
      }
      case 'reduce':
        if (t.shape.length > 0) {
          const drawn = pick(['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as const);
          const inOwnOrder = !orderedSums && bitcastFloats.has(x) && (drawn === 'sum' || drawn === 'prod');
          made = tryEmit('reduce', [x], { kind: inOwnOrder ? 'max' : drawn, axis: Math.floor(r() * t.shape.length), keepDims: r() < 0.5 });
        }
        break;
      case 'broadcast':
        made = tryEmit('broadcast', [x], { shape: [1 + Math.floor(r() * 3), ...t.shape] });
        break;
      case 'permute':
        if (t.shape.length === 2) made = tryEmit('permute', [x], { perm: [1, 0] });
        break;
      case 'reshape':
        made = tryEmit(r() < 0.5 ? 'view' : 'reshape', [x], { shape: [...t.shape, 1] });
        break;
      case 'dot': {
        if (t.shape.length !== 2 || t.dtype.kind === 'bool') break;
        const [m, k] = t.shape as [number, number];
        const others = pool.filter((y) => type(y).dtype === t.dtype && type(y).shape.length === 2 && type(y).shape[0] === k);
        if (others.length === 0) break;
        const rhs = pick(others);
        const n = type(rhs).shape[1]!;
        const accType = t.dtype.kind === 'float' ? 'f32' : 'i32';
        const zero = b.emit1('const', [], { value: 0, dtype: accType });
        made = tryEmit('dot', [x, rhs, b.emit1('broadcast', [zero], { shape: [m, n] })]);
        break;
      }
      case 'loop': {
        if (t.dtype.kind === 'bool') break;
        const bound = (v: number) => b.emit1('const', [], { value: v, dtype: 'i32' });
        const [acc] = b.forLoop(bound(0), bound(1 + Math.floor(r() * 3)), bound(1), [x], (_i, [c]) => [b.emit1('add', [c!, x])]);
        if (approx.has(x)) approx.add(acc!);
        made = acc;
        break;
      }
      case 'branch': {
        // if/else on a condition from the data when there is a bool vector to reduce, else a constant.
        if (t.dtype.kind === 'bool') break;
        const vectors = pool.filter((c) => type(c).dtype.name === 'bool' && type(c).shape.length === 1);
        const cond = (vectors.length > 0 ? tryEmit('reduce', [pick(vectors)], { kind: 'max', axis: 0, keepDims: false }) : undefined) ?? b.emit1('const', [], { value: r() < 0.5 ? 0 : 1, dtype: 'bool' });
        const [chosen] = b.ifElse(cond, () => [b.emit1('add', [x, x])], () => [x]);
        if (approx.has(x)) approx.add(chosen!);
        made = chosen;
        break;
      }
    }
    if (made) pool.push(made);
  }

  // Every value made (and loaded) goes to an output of its own, so nothing computed goes unchecked.
  const approximate = new Set<string>();
  const outputs = pool.map((v, i) => {
    const t = type(v);
    const shape = t.shape.length === 0 ? [1] : [...t.shape];
    const name = `out${i}`;
    if (approx.has(v)) approximate.add(name);
    const arg = b.arg(name, tensorType(t.dtype, shape, 'out'));
    const value = t.shape.length === 0 ? b.emit1('view', [v], { shape: [1] }) : v;
    // Sometimes masked by a bool value of the same shape: the elements it leaves out keep their poison.
    const masks = pool.filter((m) => type(m).dtype.name === 'bool' && type(m).shape.length > 0 && sameShape(m, v));
    if (masks.length > 0 && r() < 0.3) b.emit('store', [arg, ...wholeIndices(shape), value, pick(masks)]);
    else b.emit('store', [arg, ...wholeIndices(shape), value]);
    return { name, dtype: t.dtype, shape };
  });
  const kernel = b.finish();

  const makeArgs = () => {
    const data = rng(seed ^ 0x5bd1e995);
    const args: Record<string, HostTensor> = {};
    for (const inp of inputs) args[inp.name] = hostTensor(inp.dtype, inp.shape, randomValues(data, inp.dtype, inp.shape));
    for (const out of outputs) {
      const t = hostTensor(out.dtype, out.shape);
      t.data.fill(out.dtype.kind === 'float' && out.dtype.hasNaN ? NaN : out.dtype.maxValue);
      args[out.name] = t;
    }
    return args;
  };
  return { seed, kernel, makeArgs, approximate };
}

/** Values spread over the dtype's range, with zeros, negatives and (for floats) a few specials. */
function randomValues(r: () => number, d: Dtype, shape: readonly number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => {
    const u = r();
    if (d.kind === 'bool') return u < 0.5 ? 0 : 1;
    if (d.kind !== 'float') {
      // Edge values a fifth of the time: division by zero, MIN / -1 and wrap-around live there.
      const edges = [0, 1, d.maxValue, d.minValue, ...(d.kind === 'signed' ? [-1] : [])];
      if (u < 0.2) return edges[Math.floor((u / 0.2) * edges.length)]!;
      return Math.floor(d.minValue + r() * (d.maxValue - d.minValue + 1));
    }
    if (u < 0.05) return [0, -0, Infinity, -Infinity, NaN][Math.floor(u * 100)] ?? 0;
    return (r() - 0.5) * 2 * Math.min(d.maxValue, 8) * 1.1;
  });
}
