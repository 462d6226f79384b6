/**
 * Opening a WebGPU device: in a browser through `navigator.gpu`; in Node through Dawn (npm `webgpu`),
 * Vulkan first, then OpenGL (stock Mesa without a Vulkan driver works there, without f16 and
 * subgroups). `TSKC_WEBGPU_BACKEND` picks one (`vulkan`, `opengl`, or `null`, which validates shaders
 * and runs nothing).
 *
 * Dawn's entry object is kept for the life of the process: when it is garbage-collected while a device
 * is alive, the process can crash.
 */

export class WebgpuMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebgpuMissingError';
  }
}

export interface WebgpuDevice {
  readonly device: GPUDevice;
  /** The Dawn backend in Node ('vulkan', 'opengl', 'null'), or 'browser'. */
  readonly backend: string;
  readonly adapterName: string;
  readonly limits: GPUSupportedLimits;
  /** Whether it only validates (Dawn's null backend): nothing it runs computes anything. */
  readonly validationOnly: boolean;
  /** Whether it is a GPU emulated on the CPU (Mesa's lavapipe, SwiftShader, Dawn's null backend). */
  readonly software: boolean;
  /** Whether the device has WebGPU's `subgroups` feature (asked for wherever the adapter offers it). */
  readonly subgroups: boolean;
  /** The first uncaptured error or device loss, if one happened. */
  lost?: string;
}

/** The limits a kernel may need, asked for at the adapter's maximum rather than WebGPU's defaults. */
const RAISED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
] as const;

const keptAlive: unknown[] = [];
const opened = new Map<string, Promise<WebgpuDevice>>();

/** The device of `backend` (by default TSKC_WEBGPU_BACKEND, or the first that works), opened once. */
export function openWebgpu(backend: string | undefined = envBackend()): Promise<WebgpuDevice> {
  const key = backend ?? 'default';
  let device = opened.get(key);
  if (!device) {
    device = open(backend);
    opened.set(key, device);
    device.catch(() => opened.delete(key));
  }
  return device;
}

function envBackend(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.['TSKC_WEBGPU_BACKEND'] || undefined;
}

async function open(backend: string | undefined): Promise<WebgpuDevice> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu) return fromAdapter(await browserGpu.requestAdapter(), 'browser');
  let dawn: { create: (options: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as unknown as typeof dawn;
  } catch (e) {
    throw new WebgpuMissingError(`Dawn (npm package 'webgpu') could not be loaded: ${(e as Error).message}. Run npm install, or use a browser with WebGPU.`);
  }
  // Dawn's GPUBufferUsage, GPUMapMode, ... where the runtime expects them.
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  const tried: string[] = [];
  for (const candidate of backend ? [backend] : ['vulkan', 'opengl']) {
    // Stock Mesa's OpenGL needs a display unless told to render off-screen.
    if (candidate === 'opengl') (globalThis as { process?: { env: Record<string, string> } }).process!.env['EGL_PLATFORM'] ??= 'surfaceless';
    let gpu: GPU;
    try {
      gpu = dawn.create([`backend=${candidate}`]);
    } catch (e) {
      tried.push(`${candidate}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    keptAlive.push(gpu);
    const adapter = await gpu.requestAdapter();
    if (adapter) return fromAdapter(adapter, candidate);
    tried.push(`${candidate}: no adapter`);
  }
  throw new WebgpuMissingError(
    `no WebGPU adapter (${tried.join('; ')}). On Linux install a Vulkan driver (Mesa's lavapipe: apt install mesa-vulkan-drivers, 25.x from bookworm-backports for shader-f16 and subgroups), or set TSKC_WEBGPU_BACKEND=null to validate shaders only.`,
  );
}

async function fromAdapter(adapter: GPUAdapter | null, backend: string): Promise<WebgpuDevice> {
  if (!adapter) throw new WebgpuMissingError('no WebGPU adapter: navigator.gpu.requestAdapter() returned none (is WebGPU enabled in this browser?)');
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('subgroups') ? ['subgroups' as GPUFeatureName] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  const result: WebgpuDevice = {
    device,
    backend,
    adapterName: [info?.description, info?.vendor].filter(Boolean).join(', ') || 'unknown adapter',
    limits: device.limits,
    validationOnly: backend === 'null',
    software: backend === 'null' || /llvmpipe|lavapipe|swiftshader/i.test(`${info?.description} ${info?.vendor} ${info?.architecture} ${info?.device}`),
    subgroups: device.features.has('subgroups'),
  };
  device.addEventListener('uncapturederror', (event) => {
    result.lost ??= `uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`;
  });
  void device.lost.then((why) => {
    result.lost ??= `the WebGPU device was lost (${why.reason}): ${why.message}`;
  });
  return result;
}
