/**
 * Inputs for running a kernel from the command line: extents for its symbols, random tensors for
 * what it reads, poisoned tensors for what it writes (so unwritten elements show), and the comparison
 * of two runs' outputs. Browser-safe (the web example uses it): nothing here touches Node.
 */
import type { Dtype } from '../compiler/ir/dtype.js';
import { checkRequirements } from '../compiler/ir/arguments.js';
import { type GridExpr, type Kernel, evalGridExpr, gridSymbols } from '../compiler/ir/ir.js';
import { rng } from '../examples/check.js';
import { Tensor } from '../runtime/tensor.js';
import type { KernelDefLike } from './kernel-source.js';
import { UsageError } from './usage-error.js';

/**
 * The value of every symbol of the kernel's tensors: from --shape, else from the kernel's requirements
 * and the extents given (K == mul(G, 128) with K given sets G = K / 128; NB == cdiv(N, 128) with N
 * given sets NB), else from the requirements and the kernel's default sizes (with --param GROUP=64 and
 * no extents, G = 8192 / 64 from K's default), else the kernel's defaults. Extents that break a
 * requirement fail here, as they would at launch, before anything is allocated or compiled.
 */
export function symbolValues(kernel: Kernel, def: KernelDefLike, given: Readonly<Record<string, number>>): Record<string, number> {
  // Code may pass a grid at launch; the command line has only the kernel's own.
  if (kernel.grid.length === 0) throw new UsageError(`kernel ${kernel.name} defines no grid (grid(...) in .tk, options.grid in TypeScript), so the command line cannot launch it`);
  const derived = derivedSymbols(kernel, given, def.options.shapes ?? {});
  const symbols: Record<string, number> = {};
  const origin: Record<string, string> = {};
  for (const a of kernel.args) {
    if (a.type.kind !== 'tensor') continue;
    for (const d of a.type.shape) {
      if (typeof d !== 'string' || Object.hasOwn(symbols, d)) continue;
      origin[d] = a.name!;
      const v = own(given, d) ?? own(derived, d) ?? own(def.options.shapes ?? {}, d);
      if (v === undefined) throw new UsageError(`kernel ${kernel.name} needs the extent ${d}: pass --shape ${d}=VALUE`);
      if (!Number.isSafeInteger(v) || v < 1 || v > 2 ** 31 - 1) {
        const from = Object.hasOwn(given, d) ? `--shape ${d}=${v}` : Object.hasOwn(derived, d) ? `${d} = ${v} (from the kernel's requirements)` : `${d} = ${v} (the kernel's default)`;
        throw new UsageError(`${from}: extents are integers from 1 to 2^31 - 1`);
      }
      symbols[d] = v;
    }
  }
  for (const name of Object.keys(given)) if (!Object.hasOwn(symbols, name)) throw new UsageError(`kernel ${kernel.name} has no extent ${name}`);
  checkRequirements(kernel, symbols, origin);
  // Each extent fits; their product must too, before makeArguments allocates (and fills) the tensors.
  for (const a of kernel.args) {
    if (a.type.kind !== 'tensor') continue;
    const shape = argumentShape(a.type.shape, symbols);
    const count = shape.reduce((p, x) => p * x, 1);
    if (count > MAX_ELEMENTS) throw new UsageError(`argument ${a.name} would be [${shape.join(', ')}], ${count} elements: the command line makes tensors of at most 2^31 - 1`);
  }
  return symbols;
}

const MAX_ELEMENTS = 2 ** 31 - 1;

/** A tensor argument's extents at the symbols' values. */
const argumentShape = (dims: readonly (number | string)[], symbols: Readonly<Record<string, number>>): number[] =>
  dims.map((x) => (typeof x === 'number' ? x : symbols[x]!));

/** record[key] where the record has it as its own (not a name every object has, such as constructor). */
const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/**
 * Symbols not given that a requirement `A == e` (either way round) fixes from known ones: A itself, or
 * A times a constant (an A that would not be an integer is left to the defaults, and the launch's check
 * of the requirement then says what is wrong). Known: given, or fixed so earlier; then, for what that
 * leaves open, the defaults of the sizes, which fix the counts (`counts`) the same way.
 */
function derivedSymbols(kernel: Kernel, given: Readonly<Record<string, number>>, defaults: Readonly<Record<string, number | undefined>>): Record<string, number> {
  const known: Record<string, number> = { ...given };
  const derived: Record<string, number> = {};
  const unknownIn = (e: GridExpr) => gridSymbols(e).filter((s) => !Object.hasOwn(known, s));
  const derive = () => {
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of kernel.requires ?? []) {
        if (r.rel !== '==') continue;
        for (const [target, source] of [[r.left, r.right], [r.right, r.left]] as const) {
          const unknowns = unknownIn(target);
          if (unknowns.length !== 1 || unknownIn(source).length > 0) continue;
          const unknown = unknowns[0]!;
          const value = solve(target, unknown, evalGridExpr(source, known));
          if (value === undefined) continue;
          known[unknown] = derived[unknown] = value;
          changed = true;
        }
      }
    }
  };
  derive();
  const countSymbols = counts(kernel);
  for (const [name, value] of Object.entries(defaults)) if (value !== undefined && !Object.hasOwn(known, name) && !countSymbols.has(name)) known[name] = value;
  derive();
  return derived;
}

/**
 * The symbols requirements count in units of other extents: x in `A == mul(x, c)` (G groups of 128 in
 * K) and in `x == cdiv(A, c)` (NB tiles of 128 over N). Derived from the sizes, not the other way round.
 */
function counts(kernel: Kernel): Set<string> {
  const found = new Set<string>();
  for (const r of kernel.requires ?? []) {
    if (r.rel !== '==') continue;
    for (const [side, other] of [[r.left, r.right], [r.right, r.left]] as const) {
      if (typeof side === 'object' && side.op === 'mul') for (const a of side.args) if (typeof a === 'string') found.add(a);
      if (typeof side === 'string' && typeof other === 'object' && other.op === 'cdiv') found.add(side);
    }
  }
  return found;
}

/** The x for which `e` (x itself, or x times a constant) equals `value`, when it is a positive integer. */
function solve(e: GridExpr, x: string, value: number): number | undefined {
  if (e === x) return Number.isSafeInteger(value) && value >= 1 ? value : undefined;
  if (typeof e !== 'object' || e.op !== 'mul') return undefined;
  const [a, b] = e.args;
  const factor = a === x ? b : b === x ? a : undefined;
  return typeof factor === 'number' && factor > 0 ? solve(x, x, value / factor) : undefined;
}

/** Fresh tensors (and scalars) for every argument: random where the kernel reads, poisoned where it only writes. */
export function makeArguments(kernel: Kernel, symbols: Readonly<Record<string, number>>, seed: number): Record<string, Tensor | number> {
  const r = rng(seed);
  const args: Record<string, Tensor | number> = {};
  for (const a of kernel.args) {
    const d = a.type.dtype;
    if (a.type.kind === 'tile') {
      args[a.name!] = randomValue(r, d);
      continue;
    }
    const shape = argumentShape(a.type.shape, symbols);
    const count = shape.reduce((p, x) => p * x, 1);
    args[a.name!] =
      a.type.access === 'out'
        ? Tensor.empty(d, shape).fill(d.hasNaN ? NaN : d.maxValue)
        : Tensor.fromValues(d, shape, Float64Array.from({ length: count }, () => randomValue(r, d)));
  }
  return args;
}

function randomValue(r: () => number, d: Dtype): number {
  if (d.kind === 'bool') return r() < 0.5 ? 0 : 1;
  if (d.kind === 'float') return 2 * r() - 1;
  return Math.floor(d.minValue + r() * (Math.min(d.maxValue, 1000) - d.minValue + 1));
}

/** A copy of the arguments (tensors copied), so two devices start from the same data. */
export function copyArguments(args: Readonly<Record<string, Tensor | number>>): Record<string, Tensor | number> {
  const out: Record<string, Tensor | number> = {};
  for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'number' ? v : Tensor.fromValues(v.dtype, v.shape, v.toValues());
  return out;
}

export interface OutputComparison {
  readonly name: string;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  readonly pass: boolean;
}

/** `ulps` (4 unless given) units in the last place of float dtype d, at the largest finite magnitude in `want`. */
export function floatTolerance(d: Dtype, want: Float64Array, ulps = 4): number {
  const scale = want.reduce((m, x) => (Number.isFinite(x) ? Math.max(m, Math.abs(x)) : m), 0);
  return ulps * 2 ** -(d.mantissaBits ?? 23) * Math.max(scale, d.minNormal ?? 0);
}

/**
 * Compares what the kernel wrote. Integers and bools must match exactly. Floats must be within 4 units
 * (or `floatUlps`) in the last place of the output dtype, measured against the largest magnitude in the tensor: a
 * backend may round transcendentals differently and the GPU reassociates sums, and such an error is a
 * fraction of what was summed, which near cancellation (a layer norm's outputs near zero) can be far
 * more than the element itself. NaN must match NaN, infinities exactly, +0 and -0 are equal.
 */
export function compareOutputs(kernel: Kernel, got: Readonly<Record<string, Tensor | number>>, want: Readonly<Record<string, Tensor | number>>, floatUlps = 4): OutputComparison[] {
  return kernel.args
    .filter((a) => a.type.kind === 'tensor' && a.type.access !== 'in')
    .map((a) => {
      const [g, w] = [(got[a.name!] as Tensor).toValues(), (want[a.name!] as Tensor).toValues()];
      const d = a.type.dtype;
      const allowed = d.kind === 'float' ? floatTolerance(d, w, floatUlps) : 0;
      let [maxAbsError, maxRelError, pass] = [0, 0, true];
      for (let i = 0; i < w.length; i++) {
        if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i])) || (g[i] === 0 && w[i] === 0)) continue;
        const err = Number.isFinite(g[i]) && Number.isFinite(w[i]) ? Math.abs(g[i]! - w[i]!) : Infinity;
        maxAbsError = Math.max(maxAbsError, err);
        maxRelError = Math.max(maxRelError, err / Math.max(Math.abs(w[i]!), Number.MIN_VALUE));
        if (!(err <= allowed)) pass = false;
      }
      return { name: a.name!, maxAbsError, maxRelError, pass };
    });
}
