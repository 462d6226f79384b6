/**
 * Finding the CUDA libraries: libcuda.so.1 (the driver, installed with the GPU driver) and
 * libnvrtc.so.* (the runtime compiler, part of the CUDA toolkit), plus the headers NVRTC needs for
 * cuda_fp16.h and cuda_bf16.h. Searched in $TSKC_CUDA_PATH, $CUDA_HOME, /usr/local/cuda*, the system
 * library directories and PyTorch's bundled CUDA; nothing is hard-coded to one install.
 */
import { existsSync, readdirSync } from 'node:fs';
import koffi from 'koffi';
import { delimiter, join } from 'node:path';

export class CudaMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CudaMissingError';
  }
}

/** The directories that may hold CUDA libraries, most specific first. */
export function cudaLibraryDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env['TSKC_CUDA_PATH'], env['CUDA_HOME'], env['CUDA_PATH'], '/usr/local/cuda', ...versioned('/usr/local', /^cuda-\d/)].filter(
    (r): r is string => r !== undefined && r !== '',
  );
  const dirs = roots.flatMap((r) => [join(r, 'lib64'), join(r, 'lib'), join(r, 'targets/x86_64-linux/lib')]);
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64');
  // PyTorch wheels carry their own CUDA (nvidia/cu13/lib, nvidia/cuda_nvrtc/lib, ...).
  for (const site of versioned('/usr/local/lib', /^python3/).map((p) => join(p, 'dist-packages'))
    .concat(versioned('/usr/lib', /^python3/).map((p) => join(p, 'dist-packages')))
    .concat(versioned('/usr/local/lib', /^python3/).map((p) => join(p, 'site-packages')))) {
    for (const pkg of versioned(join(site, 'nvidia'), /./)) dirs.push(join(pkg, 'lib'));
  }
  return dirs.filter((d) => existsSync(d));
}

/** Subdirectories of `dir` whose names match, newest version first. */
function versioned(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => pattern.test(n))
      .sort()
      .reverse()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** The first library file named `base` (e.g. libnvrtc.so, any version suffix) in the CUDA directories. */
export function findCudaLibrary(base: string, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = cudaLibraryDirs(env);
  for (const d of dirs) {
    const names = readdirSync(d).filter((n) => n === base || (n.startsWith(`${base}.`) && /^\.\d+(\.\d+)*$/.test(n.slice(base.length))));
    names.sort((a, b) => b.length - a.length || b.localeCompare(a));
    const exact = names.find((n) => /\.so\.\d+$/.test(n)) ?? names[0];
    if (exact) return join(d, exact);
  }
  throw new CudaMissingError(
    `${base} not found: searched ${dirs.length > 0 ? dirs.join(', ') : 'no CUDA directory exists'}; set TSKC_CUDA_PATH to the CUDA installation`,
  );
}

/**
 * The library `base` (findCudaLibrary) loaded, and a way to bind its functions: a file that is found
 * but does not load (a dangling link, not ELF, another architecture) or lacks a function is a
 * CudaMissingError naming the file, not koffi's bare message.
 */
export function openCudaLibrary(base: string, env: NodeJS.ProcessEnv = process.env): { readonly path: string; func(decl: string): unknown } {
  const path = findCudaLibrary(base, env);
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new CudaMissingError(`${base}: ${path} does not load: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    path,
    func(decl) {
      try {
        return lib.func(decl);
      } catch (e) {
        throw new CudaMissingError(`${base}: ${path} lacks what tskc needs (${e instanceof Error ? e.message : String(e)}); is it a CUDA ${base.includes('nvrtc') ? 'toolkit' : 'driver'} library?`);
      }
    },
  };
}

/** The include directory holding cuda_fp16.h, for NVRTC's -I. */
export function findCudaInclude(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const d of cudaLibraryDirs(env)) {
    for (const inc of [join(d, '../include'), join(d, '../../include')]) if (existsSync(join(inc, 'cuda_fp16.h'))) return inc;
  }
  return undefined;
}

/** Where findNvcc looks, in words (for a message that says nvcc is missing). */
export const NVCC_SEARCH = 'on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin';

/**
 * The offline CUDA compiler (nvcc), for the tools that compile generated CUDA without a GPU (the
 * offline compile tests, bench/gpu/offline-compile.ts); the runtime itself compiles with NVRTC.
 */
export function findNvcc(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env['PATH'] ?? '').split(delimiter), env['CUDA_HOME'] && join(env['CUDA_HOME'], 'bin'), '/usr/local/cuda/bin'];
  return dirs.filter((d): d is string => !!d).map((d) => join(d, 'nvcc')).find((p) => existsSync(p));
}
