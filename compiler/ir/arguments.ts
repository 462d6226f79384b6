/**
 * Checking launch arguments against a kernel's signature and binding its symbolic extents. Every
 * device (the interpreter, the CPU, later CUDA and WebGPU) launches through this one check, so a
 * wrong argument reads the same everywhere.
 */
import type { Dtype } from './dtype.js';
import { IrError } from './errors.js';
import { type Kernel, evalGridExpr, formatRequirement, gridSymbols, holds } from './ir.js';

/** What a device knows of a tensor argument at launch. */
export interface ArgumentShape {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
}

/**
 * Checks that every argument is present with the declared dtype and rank, constant extents match,
 * each symbol has one value across all tensors, and the kernel's requirements (Kernel.requires) hold;
 * returns the symbols' values. Scalar arguments are numbers.
 */
export function bindArguments(kernel: Kernel, args: Readonly<Record<string, ArgumentShape | number | undefined>>): Record<string, number> {
  const fail = (message: string): never => {
    throw new IrError('type', `kernel ${kernel.name}: ${message}`);
  };
  const known = new Set(kernel.args.map((a) => a.name));
  for (const name of Object.keys(args)) if (!known.has(name)) fail(`it has no argument ${name} (arguments: ${[...known].join(', ')})`);
  const symbols: Record<string, number> = {};
  const origin: Record<string, string> = {};
  for (const a of kernel.args) {
    const v = args[a.name!];
    if (v === undefined) fail(`argument ${a.name} is missing`);
    if (a.type.kind === 'tile') {
      if (typeof v !== 'number') fail(`argument ${a.name} is a ${a.type.dtype.name} scalar: pass a number`);
      continue;
    }
    if (typeof v === 'number' || v === undefined) return fail(`argument ${a.name} is a tensor: pass a tensor`);
    const t = a.type;
    // By name, not identity: a kernel loaded from source by the CLI has its own copy of the dtypes.
    if (v.dtype.name !== t.dtype.name) fail(`argument ${a.name} must hold ${t.dtype.name}, got ${v.dtype.name}`);
    if (v.shape.length !== t.shape.length) fail(`argument ${a.name} must have rank ${t.shape.length}, got shape [${v.shape}]`);
    t.shape.forEach((dim, i) => {
      const got = v.shape[i]!;
      if (typeof dim === 'number') {
        if (dim !== got) fail(`argument ${a.name}: extent ${i} must be ${dim}, got ${got}`);
      } else if (symbols[dim] === undefined) {
        if (!Number.isSafeInteger(got) || got < 0 || got > 2 ** 31 - 1) fail(`argument ${a.name}: extent ${i} = ${got} does not fit in i32`);
        symbols[dim] = got;
        origin[dim] = a.name!;
      } else if (symbols[dim] !== got) {
        fail(`argument ${a.name}: extent ${i} is ${got} but ${dim} = ${symbols[dim]} from ${origin[dim]}`);
      }
    });
  }
  checkRequirements(kernel, symbols, origin);
  return symbols;
}

/**
 * What bindArguments needs of a launch on data already on a device: each tensor argument's dtype (the
 * kernel's own) and its given shape, each scalar's value.
 */
export function deviceArguments(kernel: Kernel, args: Readonly<Record<string, unknown>>, shapes: Readonly<Record<string, readonly number[]>>): Record<string, ArgumentShape | number | undefined> {
  return Object.fromEntries(
    kernel.args.map((a) => [a.name!, a.type.kind === 'tensor' ? (shapes[a.name!] ? { dtype: a.type.dtype, shape: shapes[a.name!]! } : undefined) : (args[a.name!] as number | undefined)]),
  );
}

/**
 * Fails unless the symbols' values satisfy the kernel's requirements (Kernel.requires), naming the
 * first one broken, the values and the tensor each came from (`origin`).
 */
export function checkRequirements(kernel: Kernel, symbols: Readonly<Record<string, number>>, origin: Readonly<Record<string, string>>): void {
  for (const r of kernel.requires ?? []) {
    let held: boolean;
    try {
      held = holds(r, symbols);
    } catch (e) {
      throw new IrError('type', `kernel ${kernel.name}: requirement ${formatRequirement(r)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (held) continue;
    const values = [...new Set([...gridSymbols(r.left), ...gridSymbols(r.right)])].map((n) => `${n} = ${symbols[n]} (from ${origin[n]})`);
    const [left, right] = [evalGridExpr(r.left, symbols), evalGridExpr(r.right, symbols)];
    throw new IrError('type', `kernel ${kernel.name}: its extents must satisfy ${formatRequirement(r)}, but ${values.join(' and ')}: ${left} ${r.rel === '==' ? '!=' : '>'} ${right}`);
  }
}
