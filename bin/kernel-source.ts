/**
 * Where the command line finds kernels: a built-in name (`tskc list` shows them), a `.tk` file (the
 * kernel language, no TypeScript toolchain involved), or a file that exports kernels (`kernel(...)`
 * definitions). TypeScript files are loaded through tsx, so no build step is needed; JavaScript files
 * are imported as they are.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kernel } from '../compiler/ir/ir.js';
import { compileTk } from '../dsl/text/index.js';
import { exampleKernels } from '../examples/index.js';
import { libraryKernels } from '../kernels/index.js';
import { UsageError } from './usage-error.js';

/**
 * What the CLI needs of a kernel definition. Checked by shape rather than with instanceof: a file
 * loaded from source carries its own copy of tskc's classes.
 */
export interface KernelDefLike {
  readonly name: string;
  readonly args: Readonly<Record<string, { readonly kind: string }>>;
  readonly params: Readonly<Record<string, number>>;
  readonly options: {
    readonly shapes?: Readonly<Record<string, number | undefined>>;
    readonly flops?: (shapes: never, params: never) => number;
  };
  build(params?: Record<string, number>): Kernel;
}

export { UsageError } from './usage-error.js';

function isKernelDef(x: unknown): x is KernelDefLike {
  const d = x as Partial<KernelDefLike> | null;
  return typeof d === 'object' && d !== null && typeof d.build === 'function' && typeof d.name === 'string' && typeof d.args === 'object';
}

/** The built-in kernels by name: the examples, then the library. */
export function builtinKernels(): ReadonlyMap<string, KernelDefLike> {
  return new Map([...Object.entries(exampleKernels), ...Object.entries(libraryKernels)] as [string, KernelDefLike][]);
}

/** The kernels a name or file stands for, keyed by kernel name. */
export async function loadKernels(target: string): Promise<ReadonlyMap<string, KernelDefLike>> {
  const builtin = builtinKernels().get(target);
  if (builtin) return new Map([[target, builtin]]);
  const path = resolve(target);
  if (!existsSync(path)) {
    throw new UsageError(`${target} is neither a file nor a built-in kernel (built-in: ${[...builtinKernels().keys()].join(', ')})`);
  }
  if (!statSync(path).isFile()) throw new UsageError(`${target} is a directory, not a kernel file`);
  const ext = extname(path);
  if (ext === '.tk') {
    const defs = compileTk(readFileSync(path, 'utf8'), target);
    if (defs.length === 0) throw new UsageError(`${target} defines no kernels`);
    return new Map(defs.map((d) => [d.name, d as unknown as KernelDefLike]));
  }
  if (!SCRIPT_EXTENSIONS.includes(ext)) throw new UsageError(`${target}: expected a .tk file, or a .ts or .js file exporting kernels`);
  const module = await importScript(path);
  const defs = new Map<string, KernelDefLike>();
  for (const value of Object.values(module)) if (isKernelDef(value)) defs.set(value.name, value);
  if (defs.size === 0) throw new UsageError(`${target} exports no kernels (export the result of kernel(...))`);
  return defs;
}

const SCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs'];

/** A file that exists and is a script, else a UsageError saying what `what` expected. */
export function scriptPath(target: string, what: string): string {
  const path = resolve(target);
  if (!existsSync(path)) throw new UsageError(`${target}: no such file`);
  if (!statSync(path).isFile()) throw new UsageError(`${target} is a directory, not a file`);
  if (!SCRIPT_EXTENSIONS.includes(extname(path))) throw new UsageError(`${target}: expected a .ts or .js file ${what}`);
  return path;
}

/** The exports of a .ts file (through tsx: no build step) or a .js file. */
export async function importScript(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (/\.[mc]?ts$/.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/** The one kernel `--kernel NAME` picks, or the only one there is. */
export function pickKernel(defs: ReadonlyMap<string, KernelDefLike>, name: string | undefined, target: string): KernelDefLike {
  if (name !== undefined) {
    const d = defs.get(name);
    if (!d) throw new UsageError(`${target} has no kernel ${name} (it has: ${[...defs.keys()].join(', ')})`);
    return d;
  }
  if (defs.size > 1) throw new UsageError(`${target} has several kernels (${[...defs.keys()].join(', ')}): choose one with --kernel`);
  return [...defs.values()][0]!;
}

/** Parses repeated NAME=VALUE options into numbers. */
export function parseAssignments(what: string, items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
    const value = m && m[2]!.trim() !== '' ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(value)) throw new UsageError(`${what} ${item}: expected NAME=NUMBER`);
    // Own properties: `__proto__` assigned to a plain object would set its prototype and vanish.
    Object.defineProperty(out, m[1]!, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
