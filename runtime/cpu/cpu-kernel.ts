/**
 * A kernel compiled for the CPU: C from the C backend, built into a shared object by the system C
 * compiler, cached on disk by a content hash of everything that decides the binary (the source, the
 * flags, the compiler and its version, the CPU model for -march=native, tskc's version), and loaded
 * with koffi. Launching checks the arguments, binds the symbols and computes the grid.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { emitC } from '../../backends/c/index.js';
import { bindLaunchArguments } from '../launch-arguments.js';
import { type Kernel, evalGridExpr } from '../../compiler/ir/ir.js';
import { ArtifactCache } from '../cache.js';
import type { Tensor } from '../tensor.js';
import { type KernelLibrary, loadKernelLibrary, statusMessage } from './loader.js';
import { DEFAULT_CFLAGS, DEFAULT_LIBS, compileSharedObject, detectToolchain, effectiveFlags } from './toolchain.js';

/** Bumped when the generated code's meaning changes without its text changing (e.g. the ABI). */
const ABI_VERSION = 'tskc-c-abi-1';

export interface CpuCompileOptions {
  /** C compiler flags (default: -O3 -march=native -fopenmp -fPIC -shared -std=c11 -ffp-contract=off). */
  readonly flags?: readonly string[];
  readonly cache?: ArtifactCache;
}

export class CpuLaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CpuLaunchError';
  }
}

export interface CpuKernel {
  readonly kernel: Kernel;
  /** The generated C, and where it is on disk (compiler messages point there). */
  readonly source: string;
  readonly sourcePath: string;
  readonly libraryPath: string;
  /** Runs the kernel over its grid; tensors are read and written in place. */
  launch(args: Readonly<Record<string, Tensor | number>>, options?: { readonly grid?: readonly number[] }): void;
}

export async function compileCpu(kernel: Kernel, options: CpuCompileOptions = {}): Promise<CpuKernel> {
  const c = emitC(kernel);
  const toolchain = await detectToolchain();
  const flags = effectiveFlags(toolchain, options.flags ?? DEFAULT_CFLAGS);
  const cache = options.cache ?? new ArtifactCache();
  const key = cache.key([
    ABI_VERSION,
    c.source,
    toolchain.compiler.path,
    toolchain.compiler.args.join(' '), // CC="gcc -fsanitize=address" is another compiler than CC=gcc
    toolchain.version,
    flags.join(' '),
    DEFAULT_LIBS.join(' '),
    cpus()[0]?.model ?? 'unknown cpu',
  ]);
  const sourcePath = await cache.getOrPut(key, 'c', (tmp) => writeFileSync(tmp, c.source));
  const libraryPath = await cache.getOrPut(key, 'so', async (tmp) => {
    await compileSharedObject(sourcePath, tmp, flags, { toolchain });
  });
  const library = loadKernelLibrary(libraryPath);
  return {
    kernel,
    source: c.source,
    sourcePath,
    libraryPath,
    launch: (args, launchOptions = {}) => launch(kernel, c.symbols, library, args, launchOptions.grid),
  };
}

function launch(kernel: Kernel, symbolOrder: readonly string[], library: KernelLibrary, args: Readonly<Record<string, Tensor | number>>, gridOverride?: readonly number[]): void {
  const symbols = bindLaunchArguments(kernel, args);
  const grid = gridOverride ?? kernel.grid.map((g) => evalGridExpr(g, symbols));
  if (grid.length === 0) throw new CpuLaunchError(`kernel ${kernel.name} defines no grid: pass one to launch`);
  if (grid.length > 3 || grid.some((g) => !Number.isSafeInteger(g) || g < 0)) throw new CpuLaunchError(`grid [${grid}] must be 1 to 3 non-negative integers`);
  const ordered = kernel.args.map((a) => {
    const v = args[a.name!]!;
    return typeof v === 'number' ? v : v.storage;
  });
  const status = library.call(ordered, symbolOrder.map((s) => symbols[s]!), grid);
  if (status !== 0) throw new CpuLaunchError(`kernel ${kernel.name}: ${statusMessage(status, kernel.args.map((a) => a.name!))}`);
}
