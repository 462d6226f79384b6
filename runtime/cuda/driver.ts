/**
 * The CUDA driver API through koffi: just what tskc needs to run kernels (device query, a context,
 * memory, copies, modules, launches, synchronization). Every call's result is checked; a failure is a
 * CudaError carrying the driver's error name (CUDA_ERROR_...), never a silent wrong result.
 */
import { CudaMissingError, openCudaLibrary } from './libraries.js';

export class CudaError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    readonly codeName: string,
  ) {
    super(`${call} failed: ${codeName} (${code})`);
    this.name = 'CudaError';
  }
}

type Fn = (...args: unknown[]) => number;

export interface CudaDevice {
  readonly name: string;
  /** Compute capability, e.g. [9, 0] for an H100. */
  readonly capability: readonly [number, number];
  alloc(bytes: number): bigint;
  free(pointer: bigint): void;
  toDevice(pointer: bigint, data: ArrayBufferView): void;
  toHost(data: ArrayBufferView, pointer: bigint): void;
  /** Loads a cubin and returns its function `name`. */
  loadFunction(cubin: Uint8Array, name: string): unknown;
  /**
   * Launches `fn` and synchronizes. Each argument fills an 8-byte parameter slot: a device pointer or
   * an integer (a double parameter takes its bits, see doubleBits).
   */
  launch(fn: unknown, grid: readonly number[], block: readonly number[], args: readonly (bigint | number)[], sharedBytes?: number): void;
  /** The same, without waiting for the kernel to finish. */
  launchAsync(fn: unknown, grid: readonly number[], block: readonly number[], args: readonly (bigint | number)[], sharedBytes?: number): void;
  /** Lets `fn` use more than 48 KiB of dynamic shared memory. */
  setMaxDynamicShared(fn: unknown, bytes: number): void;
  /** Milliseconds between two events recorded around `work` (kernels queued by it), on the GPU's clock. */
  time(work: () => void): number;
  synchronize(): void;
}

/** The 8-byte parameter slot of a double: its IEEE bits. */
export function doubleBits(x: number): bigint {
  return new BigInt64Array(Float64Array.of(x).buffer)[0]!;
}

const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

let opened: CudaDevice | undefined;

/** The first GPU, with a context current on this thread. Throws CudaMissingError or CudaError. */
export function openCudaDevice(): CudaDevice {
  if (opened) return opened;
  const lib = openCudaLibrary('libcuda.so');
  const f = (decl: string): Fn => lib.func(decl) as Fn;
  const cuGetErrorName = f('int cuGetErrorName(int error, _Out_ const char **name)');
  const check = (call: string, code: number) => {
    if (code === 0) return;
    const out: (string | null)[] = [null];
    cuGetErrorName(code, out);
    throw new CudaError(call, code, out[0] ?? 'unknown CUDA error');
  };
  const cuInit = f('int cuInit(unsigned int flags)');
  const cuDeviceGetCount = f('int cuDeviceGetCount(_Out_ int *count)');
  const cuDeviceGet = f('int cuDeviceGet(_Out_ int *device, int ordinal)');
  const cuDeviceGetName = f('int cuDeviceGetName(_Out_ uint8_t *name, int len, int device)');
  const cuDeviceGetAttribute = f('int cuDeviceGetAttribute(_Out_ int *value, int attribute, int device)');
  const cuDevicePrimaryCtxRetain = f('int cuDevicePrimaryCtxRetain(_Out_ void **ctx, int device)');
  const cuCtxSetCurrent = f('int cuCtxSetCurrent(void *ctx)');
  const cuMemAlloc = f('int cuMemAlloc_v2(_Out_ uint64_t *pointer, size_t bytes)');
  const cuMemFree = f('int cuMemFree_v2(uint64_t pointer)');
  const cuMemcpyHtoD = f('int cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes)');
  const cuMemcpyDtoH = f('int cuMemcpyDtoH_v2(_Out_ void *dst, uint64_t src, size_t bytes)');
  const cuModuleLoadData = f('int cuModuleLoadData(_Out_ void **module, const void *image)');
  const cuModuleGetFunction = f('int cuModuleGetFunction(_Out_ void **fn, void *module, const char *name)');
  const cuLaunchKernel = f(
    'int cuLaunchKernel(void *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int sharedBytes, void *stream, void **params, void **extra)',
  );
  const cuCtxSynchronize = f('int cuCtxSynchronize()');
  const cuFuncSetAttribute = f('int cuFuncSetAttribute(void *fn, int attribute, int value)');
  const cuEventCreate = f('int cuEventCreate(_Out_ void **event, unsigned int flags)');
  const cuEventRecord = f('int cuEventRecord(void *event, void *stream)');
  const cuEventSynchronize = f('int cuEventSynchronize(void *event)');
  const cuEventDestroy = f('int cuEventDestroy_v2(void *event)');
  const cuEventElapsedTime = f('int cuEventElapsedTime(_Out_ float *ms, void *start, void *end)');

  check('cuInit', cuInit(0));
  const count = [0];
  check('cuDeviceGetCount', cuDeviceGetCount(count));
  if (count[0] === 0) throw new CudaMissingError('no CUDA device: the driver sees no GPU');
  const dev = [0];
  check('cuDeviceGet', cuDeviceGet(dev, 0));
  const nameBuf = new Uint8Array(256);
  check('cuDeviceGetName', cuDeviceGetName(nameBuf, nameBuf.length, dev[0]));
  const major = [0];
  const minor = [0];
  check('cuDeviceGetAttribute', cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]));
  check('cuDeviceGetAttribute', cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]));
  const ctx: unknown[] = [null];
  check('cuDevicePrimaryCtxRetain', cuDevicePrimaryCtxRetain(ctx, dev[0]));
  check('cuCtxSetCurrent', cuCtxSetCurrent(ctx[0]));
  const modules: unknown[] = []; // kept alive with the device

  opened = {
    name: new TextDecoder().decode(nameBuf.subarray(0, nameBuf.indexOf(0))),
    capability: [major[0]!, minor[0]!],
    alloc(bytes) {
      const p = [0n];
      check('cuMemAlloc', cuMemAlloc(p, Math.max(bytes, 1)));
      return BigInt(p[0]!);
    },
    free(pointer) {
      check('cuMemFree', cuMemFree(pointer));
    },
    toDevice(pointer, data) {
      check('cuMemcpyHtoD', cuMemcpyHtoD(pointer, data, data.byteLength));
    },
    toHost(data, pointer) {
      check('cuMemcpyDtoH', cuMemcpyDtoH(data, pointer, data.byteLength));
    },
    loadFunction(cubin, name) {
      const mod: unknown[] = [null];
      check('cuModuleLoadData', cuModuleLoadData(mod, cubin));
      modules.push(mod[0]);
      const fn: unknown[] = [null];
      check('cuModuleGetFunction', cuModuleGetFunction(fn, mod[0], name));
      return fn[0];
    },
    launch(fn, grid, block, args, sharedBytes = 0) {
      this.launchAsync(fn, grid, block, args, sharedBytes);
      check('cuCtxSynchronize', cuCtxSynchronize());
    },
    launchAsync(fn, grid, block, args, sharedBytes = 0) {
      // Each kernel parameter is passed as a pointer to its value: 8-byte slots for pointers and int64s.
      const slots = args.map((a) => BigInt64Array.of(BigInt(a)));
      const g = [...grid, 1, 1, 1];
      const b = [...block, 1, 1, 1];
      check('cuLaunchKernel', cuLaunchKernel(fn, g[0], g[1], g[2], b[0], b[1], b[2], sharedBytes, null, slots, null));
    },
    setMaxDynamicShared(fn, bytes) {
      check('cuFuncSetAttribute', cuFuncSetAttribute(fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
    },
    time(work) {
      const start: unknown[] = [null];
      const end: unknown[] = [null];
      check('cuEventCreate', cuEventCreate(start, 0));
      check('cuEventCreate', cuEventCreate(end, 0));
      check('cuEventRecord', cuEventRecord(start[0], null));
      work();
      check('cuEventRecord', cuEventRecord(end[0], null));
      check('cuEventSynchronize', cuEventSynchronize(end[0]));
      const ms = [0];
      check('cuEventElapsedTime', cuEventElapsedTime(ms, start[0], end[0]));
      check('cuEventDestroy', cuEventDestroy(start[0]));
      check('cuEventDestroy', cuEventDestroy(end[0]));
      return ms[0]!;
    },
    synchronize() {
      check('cuCtxSynchronize', cuCtxSynchronize());
    },
  };
  return opened;
}
