/**
 * The CUDA backend's generated source run on the CPU, without a GPU: compiled as C++ with shim.h
 * force-included (CUDA's keywords and intrinsics, threads as OS threads, mma.sync from the PTX
 * fragment definitions) and a main that runs the grid block by block, every thread of a block at once.
 * A `Runner` for tests/backends/differential.ts: the kernel's outputs are compared with the
 * interpreter's as any device's are. What it cannot show is the hardware's own behaviour (its memory
 * model, the tensor cores' summation order, timing); what it shows is that the generated code computes
 * the right values with its threads, barriers, shuffles and fragments as CUDA defines them.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CudaEmitOptions, emitCuda } from '../../../../backends/cuda/index.js';
import { bindArguments } from '../../../../compiler/ir/arguments.js';
import { type Kernel, evalGridExpr } from '../../../../compiler/ir/ir.js';
import { statusMessage } from '../../../../runtime/status.js';
import { Tensor } from '../../../../runtime/tensor.js';
import type { Runner } from '../../differential.js';

const run = promisify(execFile);
const shim = fileURLToPath(new URL('./shim.h', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tskc-cuda-emulator-'));
/** Binaries by the hash of their source and main: a kernel compiles once per test process. */
const built = new Map<string, Promise<string>>();

/** Why the emulator cannot run here (no g++ with C++20's <barrier>), or undefined when it can. */
export async function emulatorMissing(): Promise<string | undefined> {
  const probe = join(work, 'probe.cpp');
  writeFileSync(probe, '#include <barrier>\nint main() { std::barrier<> b(1); b.arrive_and_wait(); }\n');
  try {
    await run('g++', ['-std=c++20', '-pthread', '-o', join(work, 'probe'), probe]);
    return undefined;
  } catch (e) {
    return `g++ with C++20 <barrier> is needed to emulate the generated CUDA: ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * The main program for a kernel's signature: tensors from files a<i>.bin (written back after the grid
 * for outputs), scalars, symbols and the grid from argv, then the status word on stdout.
 */
function mainSource(kernel: Kernel, symbols: number, threads: number, sharedBytes: number): string {
  const params: string[] = [];
  const call: string[] = [];
  const setup: string[] = [];
  const finish: string[] = [];
  let arg = 1;
  kernel.args.forEach((a, i) => {
    if (a.type.kind === 'tile') {
      params.push('double');
      call.push(`atof(argv[${arg++}])`);
      return;
    }
    setup.push(`std::vector<unsigned char> t${i} = readAll("a${i}.bin");`);
    params.push('void *');
    call.push(`t${i}.data()`);
    if (a.type.access !== 'in') finish.push(`writeAll("a${i}.bin", t${i});`);
  });
  for (let s = 0; s < symbols; s++) {
    params.push('long long');
    call.push(`atoll(argv[${arg++}])`);
  }
  params.push('long long *');
  call.push('&status');
  return `#include <stdio.h>
#include <stdlib.h>
thread_local Dim3 threadIdx;
Dim3 blockIdx, gridDim;
std::barrier<> *tskc_block_barrier;
std::vector<Warp *> tskc_warps;
thread_local std::vector<std::vector<TskcCopy>> tskc_copy_groups;
thread_local std::vector<TskcCopy> tskc_open_copies;
alignas(16) unsigned char tskc_smem[${Math.max(sharedBytes, 16)}];
const size_t tskc_smem_bytes = sizeof tskc_smem;
thread_local int tskc_interval;
static int chunkRead[sizeof tskc_smem / 16 + 1], chunkCopied[sizeof tskc_smem / 16 + 1];
int *tskc_chunk_read = chunkRead, *tskc_chunk_copied = chunkCopied;
extern "C" void tskc_kernel(${params.join(', ')});

static std::vector<unsigned char> readAll(const char *path) {
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  std::vector<unsigned char> bytes(ftell(f) + 64);
  fseek(f, 0, SEEK_SET);
  if (fread(bytes.data(), 1, bytes.size() - 64, f) != bytes.size() - 64) abort();
  fclose(f);
  return bytes;
}

static void writeAll(const char *path, const std::vector<unsigned char> &bytes) {
  FILE *f = fopen(path, "wb");
  fwrite(bytes.data(), 1, bytes.size() - 64, f);
  fclose(f);
}

/** A thread that ends with cp.async copies not waited for (or not committed) has a pipeline bug. */
static void copiesLanded() {
  if (tskc_copy_groups.empty() && tskc_open_copies.empty()) return;
  fprintf(stderr, "tskc emulator: a thread ended with cp.async copies in flight\\n");
  abort();
}

int main(int argc, char **argv) {
  (void)argc;
  long long status = 0;
  ${setup.join('\n  ')}
  gridDim = { (unsigned)atoi(argv[${arg}]), (unsigned)atoi(argv[${arg + 1}]), (unsigned)atoi(argv[${arg + 2}]) };
  for (int w = 0; w < ${threads / 32}; w++) tskc_warps.push_back(new Warp());
  for (unsigned z = 0; z < gridDim.z; z++) for (unsigned y = 0; y < gridDim.y; y++) for (unsigned x = 0; x < gridDim.x; x++) {
    blockIdx = { x, y, z };
    for (size_t c = 0; c < sizeof chunkRead / sizeof *chunkRead; c++) chunkRead[c] = chunkCopied[c] = -1;
    std::barrier<> block(${threads});
    tskc_block_barrier = &block;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < ${threads}; t++) threads.emplace_back([&, t] { threadIdx = { t, 0, 0 }; tskc_kernel(${call.join(', ')}); copiesLanded(); });
    for (std::thread &t : threads) t.join();
  }
  ${finish.join('\n  ')}
  printf("%lld\\n", status);
}
`;
}

/** The emulated CUDA device: each kernel emitted with `options`, compiled by g++, run on the CPU. */
export function emulatedCuda(options: CudaEmitOptions = {}): Runner {
  return {
    compile: async (kernel) => {
      const source = emitCuda(kernel, options);
      const main = mainSource(kernel, source.symbols.length, source.threads, source.sharedBytes);
      const hash = createHash('sha256').update(source.source).update(main).digest('hex').slice(0, 16);
      let binary = built.get(hash);
      if (!binary) {
        binary = (async () => {
          const base = join(work, hash);
          const [kernelFile, mainFile, exe] = [`${base}.cu`, `${base}-main.cpp`, `${base}.exe`];
          writeFileSync(kernelFile, source.source);
          writeFileSync(mainFile, main);
          // -O1: the unrolled register tiles compile in seconds; the vector extensions are the C backend's business.
          const flags = ['-std=c++20', '-O1', '-w', '-pthread', '-DTSKC_NO_VECTOR_EXTENSIONS', '-include', shim];
          await run('g++', [...flags, '-x', 'c++', kernelFile, '-x', 'c++', mainFile, '-o', exe], { maxBuffer: 16 << 20 });
          return exe;
        })();
        built.set(hash, binary);
      }
      const exe = await binary;
      return {
        run: async (args) => {
          const symbols = bindArguments(kernel, args as never);
          const grid = kernel.grid.map((g) => evalGridExpr(g, symbols));
          while (grid.length < 3) grid.push(1);
          const dir = mkdtempSync(join(work, 'run-'));
          const argv: string[] = [];
          kernel.args.forEach((a, i) => {
            const v = args[a.name!]!;
            if (typeof v === 'number') argv.push(String(v));
            else writeFileSync(join(dir, `a${i}.bin`), new Uint8Array(v.storage.buffer, v.storage.byteOffset, v.storage.byteLength));
          });
          argv.push(...source.symbols.map((s) => String(symbols[s])), ...grid.map(String));
          // A barrier some thread never reaches would hang: the run is bounded instead.
          const { stdout } = await run(exe, argv, { cwd: dir, timeout: 240_000 });
          kernel.args.forEach((a, i) => {
            const v = args[a.name!];
            if (!(v instanceof Tensor) || a.type.kind !== 'tensor' || a.type.access === 'in') return;
            new Uint8Array(v.storage.buffer, v.storage.byteOffset, v.storage.byteLength).set(readFileSync(join(dir, `a${i}.bin`)));
          });
          const status = Number(stdout.trim());
          if (status !== 0) throw new Error(`kernel ${kernel.name} (emulated CUDA): ${statusMessage(status, kernel.args.map((a) => a.name!))}`);
        },
      };
    },
  };
}
