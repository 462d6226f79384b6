/**
 * One device API over every target: compile a kernel for a device, then launch it on tensors.
 *   const dev = device('cpu');             // or 'interp', 'cuda'
 *   const k = await dev.compile(softmax.build());
 *   k.launch({ x: Tensor.fromValues(f32, [m, n], data), y: Tensor.empty(f32, [m, n]) });
 * Tensors hold their data in the storage format every target reads (runtime/tensor.ts); CPU kernels
 * work on it in place, the interpreter on a decoded copy that is written back.
 */
import type { Kernel } from '../compiler/ir/ir.js';
import { type HostTensor, interpret } from '../compiler/interpret/index.js';
import type { ArtifactCache } from './cache.js';
import { compileCpu } from './cpu/cpu-kernel.js';
import { compileCuda } from './cuda/cuda-kernel.js';
import { openCudaDevice } from './cuda/driver.js';
import { nvrtc } from './cuda/nvrtc.js';
import { Tensor } from './tensor.js';

export type DeviceKind = 'cpu' | 'interp' | 'cuda' | 'webgpu';

export interface LaunchOptions {
  /** Overrides the kernel's grid. */
  readonly grid?: readonly number[];
}

export interface CompiledKernel {
  readonly kernel: Kernel;
  launch(args: Readonly<Record<string, Tensor | number>>, options?: LaunchOptions): void;
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
}

export function device(kind: DeviceKind, options: DeviceOptions = {}): Device {
  switch (kind) {
    case 'interp':
      return { kind, compile: async (kernel) => interpreted(kernel) };
    case 'cpu':
      return { kind, compile: (kernel) => compileCpu(kernel, options) };
    case 'cuda':
      // Fails here, naming what is missing (CudaMissingError), on a machine without a GPU or libraries.
      openCudaDevice();
      nvrtc();
      return { kind, compile: (kernel) => compileCuda(kernel, options.cache ? { cache: options.cache } : {}) };
    case 'webgpu':
      throw new DeviceError(`device('${kind}') is not supported yet: the WebGPU backend has not landed`);
  }
  throw new DeviceError(`unknown device '${String(kind)}': choose cpu, interp, cuda or webgpu`);
}

function interpreted(kernel: Kernel): CompiledKernel {
  return {
    kernel,
    launch(args, options = {}) {
      const hosts: Record<string, HostTensor | number> = {};
      for (const [name, v] of Object.entries(args)) hosts[name] = typeof v === 'number' ? v : v.toHostTensor();
      interpret(kernel, hosts, options.grid ? { grid: options.grid } : {});
      // Only what the kernel may write goes back (inputs keep their exact bits, NaN payloads included).
      for (const a of kernel.args) {
        const v = args[a.name!];
        if (v instanceof Tensor && a.type.kind === 'tensor' && a.type.access !== 'in') v.setValues((hosts[a.name!] as HostTensor).data);
      }
    },
  };
}
