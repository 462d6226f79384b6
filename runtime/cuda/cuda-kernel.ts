/**
 * A kernel compiled for the GPU: CUDA C from the CUDA backend, compiled by NVRTC for the device's own
 * sm_XY, the cubin cached on disk by a content hash of everything that decides it (the source, the
 * NVRTC version, the architecture, tskc's ABI), and loaded through the driver API.
 *
 * `launch` takes host tensors, as on every device: it uploads them, runs the grid, checks the status
 * word and copies back what the kernel may write. `launchOnDevice` runs on buffers already on the GPU
 * (benchmarks), without copies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { type CudaSource, emitCuda } from '../../backends/cuda/index.js';
import { bindArguments, deviceArguments } from '../../compiler/ir/arguments.js';
import { bindLaunchArguments } from '../launch-arguments.js';
import { type Kernel, evalGridExpr } from '../../compiler/ir/ir.js';
import { ArtifactCache } from '../cache.js';
import { statusMessage } from '../status.js';
import { Tensor } from '../tensor.js';
import { type CudaDevice, doubleBits, openCudaDevice } from './driver.js';
import { nvrtc } from './nvrtc.js';

/** Bumped when the generated code's meaning changes without its text changing (e.g. the ABI). */
const ABI_VERSION = 'tskc-cuda-abi-1';
const MAX_GRID = [2 ** 31 - 1, 65535, 65535];
const DEFAULT_SHARED_LIMIT = 48 * 1024;

export interface CudaCompileOptions {
  readonly cache?: ArtifactCache;
  /** Threads per block; by default the backend chooses from the largest tile. */
  readonly threads?: number;
  /** Blocks per SM to make room for (see CudaEmitOptions); 1 by default. */
  readonly minBlocksPerSm?: number;
  /** bf16/f16 dots on tensor cores (see CudaEmitOptions); on by default where the device has them (sm_80 on). */
  readonly tensorCores?: boolean;
  /** Tensor-core dots with their accumulators in registers (see CudaEmitOptions); on by default, false stages them through shared memory. */
  readonly registerAccumulators?: boolean;
  /** Accumulators in registers: the stages of the cp.async copies ahead (see CudaEmitOptions); 3 by default. */
  readonly pipelineStages?: number;
  /** f32 dots on tensor cores, operands rounded to tf32 (see CudaEmitOptions); off by default, and on devices before sm_80. */
  readonly tf32?: boolean;
  /** The most consecutive elements of a row a thread holds (see CudaEmitOptions); by default 16 bytes of the narrowest tensor's. */
  readonly maxVec?: number;
  /**
   * More NVRTC options, after tskc's own (--gpu-architecture, -std=c++17, --fmad=false, the include
   * path), e.g. ['--Ofast-compile=min'] or ['-lineinfo']; part of the cache key.
   */
  readonly nvrtcOptions?: readonly string[];
}

export class CudaLaunchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CudaLaunchError';
  }
}

export interface CudaKernel {
  readonly kernel: Kernel;
  readonly source: CudaSource;
  readonly sourcePath: string;
  readonly cubinPath: string;
  /** Milliseconds spent in NVRTC (0 when the cubin came from the cache) and in loading the module. */
  readonly compileMs: number;
  readonly loadMs: number;
  launch(args: Readonly<Record<string, Tensor | number>>, options?: { readonly grid?: readonly number[] }): void;
  /**
   * Queues one run on device buffers: `pointers` maps each tensor argument to its device address,
   * numbers are scalar arguments; `shapes` gives each tensor's shape to bind the symbols. No copies,
   * no synchronization, no status check (see `status`).
   */
  launchOnDevice(args: Readonly<Record<string, bigint | number>>, shapes: Readonly<Record<string, readonly number[]>>): void;
  readonly device: CudaDevice;
}

export async function compileCuda(kernel: Kernel, options: CudaCompileOptions = {}): Promise<CudaKernel> {
  const device = openCudaDevice();
  const compiler = nvrtc();
  const arch = `sm_${device.capability[0]}${device.capability[1]}`;
  const source = emitCuda(kernel, {
    arch,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.minBlocksPerSm === undefined ? {} : { minBlocksPerSm: options.minBlocksPerSm }),
    // mma.sync.m16n8k16 with bf16 needs sm_80: older devices keep the FMA dot.
    tensorCores: (options.tensorCores ?? true) && device.capability[0] >= 8,
    ...(options.registerAccumulators === undefined ? {} : { registerAccumulators: options.registerAccumulators }),
    ...(options.pipelineStages === undefined ? {} : { pipelineStages: options.pipelineStages }),
    ...(options.tf32 === undefined ? {} : { tf32: options.tf32 }),
    ...(options.maxVec === undefined ? {} : { maxVec: options.maxVec }),
  });
  const cache = options.cache ?? new ArtifactCache();
  const nvrtcOptions = options.nvrtcOptions ?? [];
  const key = cache.key([ABI_VERSION, source.source, compiler.version, arch, ...(nvrtcOptions.length ? [JSON.stringify(nvrtcOptions)] : [])]);
  const sourcePath = await cache.getOrPut(key, 'cu', (tmp) => writeFileSync(tmp, source.source));
  let compileMs = 0;
  const cubinPath = await cache.getOrPut(key, 'cubin', (tmp) => {
    const start = performance.now();
    writeFileSync(tmp, compiler.compile(source.source, sourcePath, device.capability, nvrtcOptions));
    compileMs = performance.now() - start;
  });
  const loadStart = performance.now();
  const fn = device.loadFunction(readFileSync(cubinPath), source.entry);
  if (source.sharedBytes > DEFAULT_SHARED_LIMIT) device.setMaxDynamicShared(fn, source.sharedBytes);
  const loadMs = performance.now() - loadStart;

  const statusWord = device.alloc(8);
  const parameters = (values: readonly (bigint | number)[], symbols: Readonly<Record<string, number>>) => [
    ...values,
    ...source.symbols.map((s) => symbols[s]!),
    statusWord,
  ];
  const gridOf = (symbols: Readonly<Record<string, number>>, override?: readonly number[]) => {
    const grid = override ?? kernel.grid.map((g) => evalGridExpr(g, symbols));
    if (grid.length === 0) throw new CudaLaunchError(`kernel ${kernel.name} defines no grid: pass one to launch`);
    if (grid.length > 3 || grid.some((g, i) => !Number.isSafeInteger(g) || g < 0 || g > MAX_GRID[i]!)) {
      throw new CudaLaunchError(`grid [${grid}] must be 1 to 3 non-negative integers within CUDA's limits [${MAX_GRID}]`);
    }
    return grid;
  };

  return {
    kernel,
    source,
    sourcePath,
    cubinPath,
    compileMs,
    loadMs,
    device,
    launch(args, launchOptions = {}) {
      const symbols = bindLaunchArguments(kernel, args);
      const grid = gridOf(symbols, launchOptions.grid);
      if (grid.some((g) => g === 0)) return;
      const buffers: bigint[] = [];
      try {
        const values = kernel.args.map((a) => {
          const v = args[a.name!]!;
          if (typeof v === 'number') return doubleBits(v);
          const p = device.alloc(v.storage.byteLength);
          buffers.push(p);
          device.toDevice(p, v.storage);
          return p;
        });
        device.toDevice(statusWord, new BigInt64Array(1));
        device.launch(fn, grid, [source.threads], parameters(values, symbols), source.sharedBytes);
        const status = new BigInt64Array(1);
        device.toHost(status, statusWord);
        if (status[0] !== 0n) throw new CudaLaunchError(`kernel ${kernel.name}: ${statusMessage(Number(status[0]), kernel.args.map((a) => a.name!))}`);
        // Only what the kernel may write comes back (inputs keep their exact bits).
        kernel.args.forEach((a, i) => {
          const v = args[a.name!];
          if (v instanceof Tensor && a.type.kind === 'tensor' && a.type.access !== 'in') device.toHost(v.storage, values[i] as bigint);
        });
      } finally {
        for (const p of buffers) device.free(p);
      }
    },
    launchOnDevice(args, shapes) {
      for (const a of kernel.args) {
        if (a.type.kind === 'tensor' && !shapes[a.name!]) throw new CudaLaunchError(`launchOnDevice: no shape for tensor ${a.name}`);
      }
      // The shapes checked as any launch's are (ranks, one value per symbol, the kernel's requirements).
      const symbols = bindArguments(kernel, deviceArguments(kernel, args, shapes));
      const values = kernel.args.map((a) => {
        const v = args[a.name!];
        if (v === undefined) throw new CudaLaunchError(`launchOnDevice: no value for ${a.name}`);
        return a.type.kind === 'tensor' ? BigInt(v) : doubleBits(Number(v));
      });
      device.launchAsync(fn, gridOf(symbols), [source.threads], parameters(values, symbols), source.sharedBytes);
    },
  };
}
