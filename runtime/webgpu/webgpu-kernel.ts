/**
 * A kernel compiled for WebGPU: WGSL from the WGSL backend, one compute pipeline per device and source.
 *
 * `run` takes host tensors, as on every device: it uploads them (outputs too, so that elements the
 * kernel does not write keep their values), runs the grid, reads the status word and copies back what
 * the kernel may write. Validation errors are caught around every pipeline creation and dispatch, so a
 * kernel the device refuses fails loudly instead of leaving zeros.
 */
import { type WgslSource, emitWgsl } from '../../backends/wgsl/index.js';
import { bindArguments, deviceArguments } from '../../compiler/ir/arguments.js';
import { bindLaunchArguments } from '../launch-arguments.js';
import { convertNumber } from '../../compiler/ir/dtype-convert.js';
import { type Kernel, evalGridExpr } from '../../compiler/ir/ir.js';
import { statusMessage } from '../status.js';
import { Tensor } from '../tensor.js';
import { type WebgpuDevice, openWebgpu } from './gpu.js';

export class WebgpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebgpuError';
  }
}

export interface WebgpuCompileOptions {
  /** Threads per workgroup; by default the backend chooses from the largest tile. */
  readonly threads?: number;
  /** Dawn backend in Node (see gpu.ts); by default TSKC_WEBGPU_BACKEND or the first that works. */
  readonly backend?: string;
  /** Words per thread in contiguous loads and stores (see WgslEmitOptions); 1 by default. */
  readonly vectorWords?: 1 | 4;
  /** Loop turns written out at most (see WgslEmitOptions); by default 1 on software adapters, else 256. */
  readonly unroll?: number;
  /** Row reductions through subgroup shuffles (see WgslEmitOptions); by default where the device has subgroups. */
  readonly subgroups?: boolean;
  /** One bounds test per tile for affine accesses (see WgslEmitOptions); off by default. */
  readonly boxed?: boolean;
}

export interface WebgpuKernel {
  readonly kernel: Kernel;
  readonly source: WgslSource;
  readonly gpu: WebgpuDevice;
  run(args: Readonly<Record<string, Tensor | number>>, options?: { readonly grid?: readonly number[] }): Promise<void>;
  /**
   * Runs the grid `repeats` times (one submission) on buffers already on the device: `args` maps each
   * tensor argument to its storage buffer (at least as large as the tensor) and each scalar to its
   * number; `shapes` gives each tensor's shape to bind the symbols. Resolves when the device is done
   * and the status word is checked (benchmarks time it).
   */
  runOnDevice(args: Readonly<Record<string, GPUBuffer | number>>, shapes: Readonly<Record<string, readonly number[]>>, repeats?: number): Promise<void>;
}

/** The WGSL's compilation errors as "line:col: message" with the offending line, or nothing. */
export async function wgslErrors(device: GPUDevice, code: string): Promise<string[]> {
  return (await exclusive(device, () => shaderModule(device, code))).errors;
}

/** The shader module of `code` and its compilation errors (the pipeline is made from the same module). */
async function shaderModule(device: GPUDevice, code: string): Promise<{ module: GPUShaderModule; errors: string[] }> {
  device.pushErrorScope('validation'); // the messages come from getCompilationInfo, not as uncaptured errors
  const module = device.createShaderModule({ code });
  const [info] = await Promise.all([module.getCompilationInfo(), device.popErrorScope()]);
  const lines = code.split('\n');
  const errors = info.messages
    .filter((m) => m.type === 'error')
    .map((m) => `${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`);
  return { module, errors };
}

const busy = new WeakMap<GPUDevice, Promise<unknown>>();

/**
 * Runs `operation` after the device's earlier ones: error scopes are one stack per device, so two
 * operations interleaved at their awaits would pop each other's scopes and blame the wrong kernel.
 */
function exclusive<T>(device: GPUDevice, operation: () => Promise<T>): Promise<T> {
  const result = (busy.get(device) ?? Promise.resolve()).then(operation, operation);
  busy.set(device, result.catch(() => undefined));
  return result;
}

/** Runs `build` inside validation and out-of-memory error scopes; the first error caught, as a message. */
async function scoped<T>(device: GPUDevice, build: () => T): Promise<{ value?: T; error?: string }> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let value: T | undefined;
  let thrown: unknown;
  try {
    value = build();
  } catch (e) {
    thrown = e;
  }
  const [oom, invalid] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
  if (thrown !== undefined) throw thrown;
  const error = (oom ?? invalid)?.message;
  return error === undefined ? { value: value as T } : { error };
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
const fusedFma = new WeakMap<GPUDevice, Promise<boolean>>();

/**
 * Whether the device's WGSL fma rounds once (WGSL allows either): asked once per device with inputs
 * whose fused and unfused results differ.
 */
function fmaIsFused(gpu: WebgpuDevice): Promise<boolean> {
  let known = fusedFma.get(gpu.device);
  if (!known) {
    known = gpu.validationOnly ? Promise.resolve(false) : exclusive(gpu.device, () => probeFma(gpu.device));
    fusedFma.set(gpu.device, known);
  }
  return known;
}

async function probeFma(device: GPUDevice): Promise<boolean> {
  const code = '@group(0) @binding(0) var<storage, read_write> a: array<f32, 4>;\n@compute @workgroup_size(1) fn main() { a[3] = fma(a[0], a[1], a[2]); }';
  const x = 1 + 2 ** -12; // x * x - 1 = 2^-11 + 2^-24 exactly; rounded first, the 2^-24 is lost
  const made = await scoped(device, () => {
    const module = device.createShaderModule({ code });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const data = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(data, 0, new Float32Array([x, x, -1, 0]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(data, 0, read, 0, 16);
    device.queue.submit([encoder.finish()]);
    return { data, read };
  });
  if (!made.value) throw new WebgpuError(`probing the device's fma failed: ${made.error}`);
  const { data, read } = made.value;
  await read.mapAsync(GPUMapMode.READ);
  const fused = new Float32Array(read.getMappedRange())[3] === 2 ** -11 + 2 ** -24;
  data.destroy();
  read.destroy();
  return fused;
}

/** The bind group layout of a generated shader (explicit: 'auto' would drop bindings it does not use). */
function bindGroupLayout(device: GPUDevice, source: WgslSource): GPUBindGroupLayout {
  const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
  return device.createBindGroupLayout({
    entries: [entry(0, 'uniform'), entry(1, 'storage'), ...source.tensorWrites.map((writes, i) => entry(2 + i, writes ? 'storage' : 'read-only-storage'))],
  });
}

export async function compileWebgpu(kernel: Kernel, options: WebgpuCompileOptions = {}): Promise<WebgpuKernel> {
  const gpu = await openWebgpu(options.backend);
  const source = emitWgsl(kernel, {
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.vectorWords === undefined ? {} : { vectorWords: options.vectorWords }),
    unroll: options.unroll ?? (gpu.software ? 1 : 256),
    fusedFma: await fmaIsFused(gpu),
    subgroups: (options.subgroups ?? true) && gpu.subgroups,
    ...(options.boxed === undefined ? {} : { boxed: options.boxed }),
  });
  const { device, limits } = gpu;
  const tensors = kernel.args.filter((a) => a.type.kind === 'tensor');
  const fits: [boolean, string][] = [
    [source.threads <= limits.maxComputeInvocationsPerWorkgroup && source.threads <= limits.maxComputeWorkgroupSizeX, `${source.threads} threads per workgroup (the device allows ${limits.maxComputeInvocationsPerWorkgroup})`],
    [source.workgroupBytes <= limits.maxComputeWorkgroupStorageSize, `${source.workgroupBytes} bytes of workgroup memory (the device allows ${limits.maxComputeWorkgroupStorageSize}); use smaller tiles`],
    [tensors.length + 1 <= limits.maxStorageBuffersPerShaderStage, `${tensors.length} tensor arguments and the status word as storage buffers (the device allows ${limits.maxStorageBuffersPerShaderStage})`],
  ];
  for (const [ok, what] of fits) if (!ok) throw new WebgpuError(`kernel ${kernel.name} does not fit ${gpu.adapterName}: it needs ${what}`);

  let byDevice = pipelines.get(device);
  if (!byDevice) pipelines.set(device, (byDevice = new Map()));
  let pipeline = byDevice.get(source.source);
  if (!pipeline) {
    const created = await exclusive(device, async () => {
      const { module, errors } = await shaderModule(device, source.source);
      const made = await scoped(device, () => {
        const layout = device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout(device, source)] });
        return device.createComputePipeline({ layout, compute: { module, entryPoint: source.entry } });
      });
      if (errors.length > 0 || !made.value) throw new WebgpuError(`kernel ${kernel.name}: the generated WGSL was refused (a tskc bug):\n${errors.join('\n') || made.error}`);
      return made.value;
    });
    byDevice.set(source.source, (pipeline = created));
  }
  const ready = pipeline;

  /** The grid and the uniform buffer's words for a launch with these symbols and scalars. */
  const prepare = (symbols: Readonly<Record<string, number>>, scalars: Readonly<Record<string, number>>, override?: readonly number[]) => {
    if (gpu.lost) throw new WebgpuError(gpu.lost);
    const grid = override ?? kernel.grid.map((g) => evalGridExpr(g, symbols));
    if (grid.length === 0) throw new WebgpuError(`kernel ${kernel.name} defines no grid: pass one to run`);
    const maxGrid = limits.maxComputeWorkgroupsPerDimension;
    if (grid.length > 3 || grid.some((g) => !Number.isSafeInteger(g) || g < 0 || g > maxGrid)) {
      throw new WebgpuError(`grid [${grid}] must be 1 to 3 non-negative integers of at most ${maxGrid} (the device's limit per dimension)`);
    }
    for (const name of source.symbols) {
      if (symbols[name]! > 2 ** 31 - 1) throw new WebgpuError(`extent ${name} = ${symbols[name]} is larger than WGSL's i32 indices allow`);
    }
    const params = new Uint32Array(Math.ceil(source.paramWords / 4) * 4); // the zero words stay 0
    let word = 0;
    for (const a of kernel.args) if (a.type.kind === 'tile') params[word++] = scalarBits(a.type.dtype, scalars[a.name!]!);
    for (const name of source.symbols) params[word++] = symbols[name]!;
    return { grid, params };
  };

  /**
   * Runs the grid `repeats` times on the tensors' buffers (in argument order, each at least as large
   * as its tensor; `tensorBuffers` makes them, inside the error scopes) and checks validation and the
   * status word; `beforeSubmit` may add copies. One device operation at a time (see exclusive).
   */
  const dispatch = (grid: readonly number[], params: Uint32Array<ArrayBuffer>, tensorBuffers: () => readonly GPUBuffer[], repeats: number, beforeSubmit?: (encoder: GPUCommandEncoder) => void) =>
    exclusive(device, async () => {
      const own: GPUBuffer[] = [];
      const buffer = (size: number, usage: number) => {
        const b = device.createBuffer({ size: paddedSize(size), usage });
        own.push(b);
        return b;
      };
      try {
        const made = await scoped(device, () => {
          const paramBuffer = buffer(params.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
          device.queue.writeBuffer(paramBuffer, 0, params);
          const statusBuffer = buffer(4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
          device.queue.writeBuffer(statusBuffer, 0, new Int32Array(4));
          const entries: GPUBindGroupEntry[] = [
            { binding: 0, resource: { buffer: paramBuffer } },
            { binding: 1, resource: { buffer: statusBuffer } },
            ...tensorBuffers().map((b, i) => ({ binding: 2 + i, resource: { buffer: b } })),
          ];
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          pass.setPipeline(ready);
          pass.setBindGroup(0, device.createBindGroup({ layout: ready.getBindGroupLayout(0), entries }));
          for (let i = 0; i < repeats; i++) pass.dispatchWorkgroups(grid[0]!, grid[1] ?? 1, grid[2] ?? 1);
          pass.end();
          const statusRead = buffer(16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
          encoder.copyBufferToBuffer(statusBuffer, 0, statusRead, 0, 16);
          beforeSubmit?.(encoder);
          device.queue.submit([encoder.finish()]);
          return statusRead;
        });
        if (!made.value) throw new WebgpuError(`kernel ${kernel.name}: ${made.error}`);
        if (gpu.validationOnly) throw new WebgpuError(`kernel ${kernel.name}: the null WebGPU backend validates but runs nothing; choose vulkan or opengl to run`);
        await made.value.mapAsync(GPUMapMode.READ);
        const status = new Int32Array(made.value.getMappedRange().slice(0))[0]!;
        if (gpu.lost) throw new WebgpuError(gpu.lost);
        if (status !== 0) throw new WebgpuError(`kernel ${kernel.name}: ${statusMessage(status, kernel.args.map((a) => a.name!))}`);
      } finally {
        for (const b of own) b.destroy();
      }
    });

  return {
    kernel,
    source,
    gpu,
    async run(args, runOptions = {}) {
      const symbols = bindLaunchArguments(kernel, args);
      const { grid, params } = prepare(symbols, args as Record<string, number>, runOptions.grid);
      if (grid.some((g) => g === 0)) return;
      for (const a of tensors) {
        const bytes = (args[a.name!] as Tensor).storage.byteLength;
        if (bytes > limits.maxStorageBufferBindingSize) throw new WebgpuError(`tensor ${a.name} has ${bytes} bytes; ${gpu.adapterName} binds at most ${limits.maxStorageBufferBindingSize}`);
      }
      const created: GPUBuffer[] = [];
      const reads: { tensor: Tensor; from: GPUBuffer; to: GPUBuffer }[] = [];
      // Every tensor goes up, outputs too: elements the kernel does not write keep their values.
      const upload = () =>
        tensors.map((a) => {
          const t = args[a.name!] as Tensor;
          const b = device.createBuffer({ size: paddedSize(t.storage.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
          created.push(b);
          // writeBuffer takes whole words: the storage's bytes, padded.
          const padded = new Uint8Array(Math.ceil(t.storage.byteLength / 4) * 4);
          padded.set(new Uint8Array(t.storage.buffer, t.storage.byteOffset, t.storage.byteLength));
          device.queue.writeBuffer(b, 0, padded);
          // Only what the kernel may write comes back (inputs keep their exact bits).
          if (a.type.kind === 'tensor' && a.type.access !== 'in') {
            const to = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
            created.push(to);
            reads.push({ tensor: t, from: b, to });
          }
          return b;
        });
      try {
        await dispatch(grid, params, upload, 1, (encoder) => reads.forEach(({ from, to }) => encoder.copyBufferToBuffer(from, 0, to, 0, from.size)));
        await Promise.all(reads.map(({ to }) => to.mapAsync(GPUMapMode.READ)));
        for (const { tensor, to } of reads) {
          const bytes = tensor.storage.byteLength;
          new Uint8Array(tensor.storage.buffer, tensor.storage.byteOffset, bytes).set(new Uint8Array(to.getMappedRange(), 0, bytes));
        }
      } finally {
        for (const b of created) b.destroy();
      }
    },
    async runOnDevice(args, shapes, repeats = 1) {
      const buffers: GPUBuffer[] = [];
      let tensorIndex = 0;
      for (const a of kernel.args) {
        const v = args[a.name!];
        if (v === undefined) throw new WebgpuError(`runOnDevice: no value for ${a.name}`);
        if (a.type.kind !== 'tensor') continue;
        const shape = shapes[a.name!];
        if (!shape) throw new WebgpuError(`runOnDevice: no shape for tensor ${a.name}`);
        const buffer = v as GPUBuffer;
        // The shader sees a tensor as an array of words or of 16-byte vec4s: a shorter tail would read
        // as zeros.
        const unit = source.tensorUnits[tensorIndex++]!;
        const bytes = Math.max(unit, Math.ceil(Math.ceil((shape.reduce((p, x) => p * x, 1) * a.type.dtype.bits) / 8) / unit) * unit);
        if (buffer.size < bytes) throw new WebgpuError(`runOnDevice: the buffer for ${a.name} has ${buffer.size} bytes; its shape [${shape.join(', ')}] needs ${bytes} (a whole number of ${unit}-byte units)`);
        buffers.push(buffer);
      }
      // The shapes checked as any launch's are (ranks, one value per symbol, the kernel's requirements).
      const symbols = bindArguments(kernel, deviceArguments(kernel, args, shapes));
      const { grid, params } = prepare(symbols, args as Record<string, number>);
      if (grid.every((g) => g > 0)) await dispatch(grid, params, () => buffers, repeats);
    },
  };
}

/** Buffer sizes: whole 16-byte units, at least one (WebGPU wants sizes in whole words; copies in 4 bytes). */
function paddedSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 16) * 16);
}

/** The uniform-buffer word of a scalar argument: the number converted to the dtype, as its WGSL value's bits. */
function scalarBits(d: Kernel['args'][number]['type']['dtype'], x: number): number {
  const v = convertNumber(d, x);
  if (d.kind === 'float') return new Uint32Array(new Float32Array([v]).buffer)[0]!;
  return v >>> 0;
}
