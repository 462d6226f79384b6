/**
 * One device API over every target: compile a kernel for a device, then run it on tensors.
 *   const dev = device('cpu');             // or 'interp', 'cuda', 'webgpu'
 *   const k = await dev.compile(softmax.build());
 *   await k.run({ x: Tensor.fromValues(f32, [m, n], data), y: Tensor.empty(f32, [m, n]) });
 * `launch` does the same synchronously where the target can (not WebGPU, whose readback is async).
 * Tensors hold their data in the storage format every target reads (runtime/tensor.ts); CPU kernels
 * work on it in place, the interpreter on a decoded copy that is written back.
 */
import type { Kernel } from '../compiler/ir/ir.js';
import type { ArtifactCache } from './cache.js';
import { compileCpu } from './cpu/cpu-kernel.js';
import { placeStorage } from './cpu/loader.js';
import { compileCuda } from './cuda/cuda-kernel.js';
import { openCudaDevice } from './cuda/driver.js';
import { nvrtc } from './cuda/nvrtc.js';
import { interpretTensors } from './interpret-tensors.js';
import type { Tensor } from './tensor.js';
import { compileWebgpu } from './webgpu/webgpu-kernel.js';

export type DeviceKind = 'cpu' | 'interp' | 'cuda' | 'webgpu';

export interface LaunchOptions {
  /** Overrides the kernel's grid. */
  readonly grid?: readonly number[];
}

export interface CompiledKernel {
  readonly kernel: Kernel;
  /** Runs the grid and copies back what the kernel writes; throws a DeviceError on WebGPU. */
  launch(args: Readonly<Record<string, Tensor | number>>, options?: LaunchOptions): void;
  /** The same, on every device. */
  run(args: Readonly<Record<string, Tensor | number>>, options?: LaunchOptions): Promise<void>;
}

export interface Device {
  readonly kind: DeviceKind;
  compile(kernel: Kernel): Promise<CompiledKernel>;
}

export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

export interface DeviceOptions {
  /** C compiler flags for 'cpu'. */
  readonly flags?: readonly string[];
  readonly cache?: ArtifactCache;
  /** 'cuda': bf16/f16 dots on tensor cores (mma.sync; CudaEmitOptions.tensorCores). On by default (sm_80 on); false keeps them on FMA. */
  readonly tensorCores?: boolean;
  /** 'cuda': tensor-core dots keep their accumulators in registers (CudaEmitOptions.registerAccumulators). On by default; false stages them through shared memory at every dot. */
  readonly registerAccumulators?: boolean;
  /** 'cuda', accumulators in registers: the stages of the cp.async copies ahead (CudaEmitOptions.pipelineStages); 3 by default, 1 for none. */
  readonly pipelineStages?: number;
  /** 'cuda': f32 dots on tensor cores too, their operands rounded to tf32 (CudaEmitOptions.tf32). Off by default. */
  readonly tf32?: boolean;
}

export function device(kind: DeviceKind, options: DeviceOptions = {}): Device {
  switch (kind) {
    case 'interp':
      return { kind, compile: async (kernel) => withRun(interpreted(kernel)) };
    case 'cpu':
      placeStorage();
      return { kind, compile: async (kernel) => withRun(await compileCpu(kernel, options)) };
    case 'cuda':
      // Fails here, naming what is missing (CudaMissingError), on a machine without a GPU or libraries.
      openCudaDevice();
      nvrtc();
      return {
        kind,
        compile: async (kernel) =>
          withRun(
            await compileCuda(kernel, {
              ...(options.cache ? { cache: options.cache } : {}),
              ...(options.tensorCores === undefined ? {} : { tensorCores: options.tensorCores }),
              ...(options.registerAccumulators === undefined ? {} : { registerAccumulators: options.registerAccumulators }),
              ...(options.pipelineStages === undefined ? {} : { pipelineStages: options.pipelineStages }),
              ...(options.tf32 === undefined ? {} : { tf32: options.tf32 }),
            }),
          ),
      };
    case 'webgpu':
      // The adapter is opened by the first compile (asynchronously), which names what is missing.
      return {
        kind,
        compile: async (kernel) => {
          const compiled = await compileWebgpu(kernel);
          return {
            kernel,
            run: (args, launchOptions) => compiled.run(args, launchOptions),
            launch() {
              throw new DeviceError('WebGPU runs asynchronously: use `await kernel.run(...)` instead of launch');
            },
          };
        },
      };
  }
  throw new DeviceError(`unknown device '${String(kind)}': choose cpu, interp, cuda or webgpu`);
}

/** A synchronous kernel with `run` as well. */
function withRun<K extends Omit<CompiledKernel, 'run'>>(k: K): K & CompiledKernel {
  return Object.assign(k, { run: async (args: Readonly<Record<string, Tensor | number>>, options?: LaunchOptions) => k.launch(args, options) });
}

function interpreted(kernel: Kernel): Omit<CompiledKernel, 'run'> {
  return { kernel, launch: (args, options = {}) => interpretTensors(kernel, args, options.grid) };
}
