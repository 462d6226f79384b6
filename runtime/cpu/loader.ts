/**
 * Loading a compiled CPU kernel (a shared object) with koffi and calling the one entry point every
 * generated kernel exports:
 *
 *   void tskc_kernel(void *const *args, const int64_t *symbols, const int64_t *grid, int64_t *status);
 *
 * - args[i]: the storage of tensor argument i (runtime/tensor.ts), or for a scalar argument a pointer to
 *   a double holding its value. Typed arrays are passed zero-copy: the kernel writes them in place.
 * - symbols: the values of the kernel's symbolic extents, in the order the generator fixed.
 * - grid: 3 extents (fewer are padded with 1).
 * - *status: zeroed before the call; the kernel leaves it 0 on success, else sets an error code
 *   (statusMessage): 1 + the index of a tensor argument an unmasked access went outside of, -1 for a
 *   loop whose step is not positive, -2 when the tiles of a block could not be allocated.
 *
 * The call is synchronous and runs on this thread (the kernel's OpenMP threads do the parallel work).
 */
import * as fs from 'node:fs';
import koffi, { type LibraryHandle } from 'koffi';
import { useHostMemory } from '../tensor.js';
export { statusMessage } from '../status.js';

export type ArgumentArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}

export interface KernelLibrary {
  readonly path: string;
  /** Runs the kernel once; returns its status (0 = success, see statusMessage). */
  call(args: readonly (ArgumentArray | number)[], symbols: BigInt64Array | readonly number[], grid: readonly number[]): number;
  /** Unloads the library; further calls throw LoaderError. Closing twice is harmless. */
  close(): void;
}

export const ENTRY_POINT = 'tskc_kernel';

/** Loads the shared object at `path` and binds tskc_kernel. Throws LoaderError naming the path. */
export function loadKernelLibrary(path: string): KernelLibrary {
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new LoaderError(`cannot load kernel library ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  pinOpenMPRuntimes();
  let fn: (...args: unknown[]) => unknown;
  try {
    fn = lib.func(ENTRY_POINT, 'void', ['void **', 'int64_t *', 'int64_t *', 'int64_t *']);
  } catch (e) {
    lib.unload();
    throw new LoaderError(`${path} does not export ${ENTRY_POINT}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new LoadedKernel(path, lib, fn);
}

class LoadedKernel implements KernelLibrary {
  // The library handle is held as long as this object lives: the bound function points into it.
  private lib: LibraryHandle | undefined;
  private readonly fn: (...args: unknown[]) => unknown;
  private readonly status = new BigInt64Array(1);
  private readonly grid = new BigInt64Array(3);

  constructor(
    readonly path: string,
    lib: LibraryHandle,
    fn: (...args: unknown[]) => unknown,
  ) {
    this.lib = lib;
    this.fn = fn;
  }

  call(args: readonly (ArgumentArray | number)[], symbols: BigInt64Array | readonly number[], grid: readonly number[]): number {
    if (this.lib === undefined) throw new LoaderError(`${this.path}: the kernel library is closed`);
    const pointers = args.map((a, i) => {
      if (typeof a === 'number') return Float64Array.of(a);
      if (!ArrayBuffer.isView(a) || a instanceof DataView) throw new LoaderError(`argument ${i} is neither a typed array nor a number`);
      return a;
    });
    const syms = symbols instanceof BigInt64Array ? symbols : BigInt64Array.from(symbols, (s, i) => toInt64(s, `symbol ${i}`));
    if (grid.length < 1 || grid.length > 3) throw new LoaderError(`grid [${grid.join(', ')}] must have 1 to 3 extents`);
    for (let k = 0; k < 3; k++) {
      const g = grid[k] ?? 1;
      if (!Number.isSafeInteger(g) || g < 0) throw new LoaderError(`grid [${grid.join(', ')}] must be non-negative integers`);
      this.grid[k] = BigInt(g);
    }
    this.status[0] = 0n;
    this.fn(pointers, syms, this.grid, this.status);
    return Number(this.status[0]);
  }

  close(): void {
    const lib = this.lib;
    this.lib = undefined;
    lib?.unload();
  }
}

function toInt64(x: number, what: string): bigint {
  if (!Number.isSafeInteger(x)) throw new LoaderError(`${what} is ${x}, not an integer`);
  return BigInt(x);
}

/**
 * Tells allocateStorage where buffers lie and how to ask for huge pages (runtime/tensor.ts:
 * useHostMemory), so that large tensors made from now on start on a cache line and very large ones
 * on transparent huge pages: memset with a length of 0 writes nothing and returns its pointer, and
 * madvise(MADV_HUGEPAGE) marks a range (on Linux; where the kernel has no transparent huge pages it
 * refuses, and the pages stay small). Once per process; where libc.so.6 cannot be opened, storage
 * stays where the allocator puts it (kernels take any alignment, a little slower).
 */
const MADV_HUGEPAGE = 14;
let hostMemoryGiven = false;
export function placeStorage(): void {
  if (hostMemoryGiven) return;
  hostMemoryGiven = true;
  let libc: LibraryHandle;
  try {
    libc = koffi.load('libc.so.6');
  } catch {
    return; // not glibc: storage stays where the allocator puts it
  }
  const memset = libc.func('void *memset(void *s, int c, size_t n)');
  const madvise = process.platform === 'linux' ? libc.func('int madvise(uintptr_t addr, size_t length, int advice)') : undefined;
  useHostMemory({
    addressOf: (bytes) => koffi.address(memset(bytes, 0, 0)) as bigint,
    ...(madvise && { adviseHugePages: (address, bytes) => void madvise(address, bytes, MADV_HUGEPAGE) }),
  });
}

/**
 * Keeps the OpenMP runtime loaded for the rest of the process. A kernel built with -fopenmp pulls in
 * libgomp (or libomp); its worker threads stay parked inside that library after the kernel returns, so
 * if the runtime were ever unmapped those threads would run unmapped code and the process would crash
 * (measured: a segfault with gcc 12's libgomp, on closing the last kernel and also at process exit,
 * when koffi unloads every library it opened). So the runtime is opened once more through libc's own
 * dlopen with RTLD_NODELETE: a handle koffi does not know about, and a flag that keeps the library
 * mapped even after every handle is closed. Linux only (/proc/self/maps); best effort elsewhere.
 */
const pinned = new Set<string>();
const RTLD_NOW = 0x2;
const RTLD_NODELETE = 0x1000;
let dlopen: ((file: string, flags: number) => unknown) | undefined;

function libcDlopen(): (file: string, flags: number) => unknown {
  if (dlopen === undefined) {
    // glibc 2.34+ has dlopen in libc itself; older ones in libdl.
    let libc: LibraryHandle;
    try {
      libc = koffi.load('libc.so.6');
      dlopen = libc.func('void *dlopen(const char *file, int flags)') as (file: string, flags: number) => unknown;
    } catch {
      libc = koffi.load('libdl.so.2');
      dlopen = libc.func('void *dlopen(const char *file, int flags)') as (file: string, flags: number) => unknown;
    }
  }
  return dlopen;
}

function pinOpenMPRuntimes(): void {
  let maps: string;
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return;
  }
  for (const m of maps.matchAll(/\s(\/\S*\/lib(?:gomp|omp|iomp5)\.so[^\s/]*)$/gm)) {
    const file = m[1]!;
    if (pinned.has(file)) continue;
    try {
      if (libcDlopen()(file, RTLD_NOW | RTLD_NODELETE) !== null) pinned.add(file);
    } catch {
      // the library is mapped, so this cannot normally fail; if it does, unloading stays risky only
    }
  }
}
