/**
 * The CUDA runtime layer. Without a GPU (CI, this machine) only the library search runs, and the GPU
 * test is skipped with the reason printed; bench/gpu/run.sh runs the same checks on the GPU machine.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CudaMissingError, findCudaLibrary, openCudaLibrary } from '../../../runtime/cuda/libraries.js';

/** libm, which every Linux has: a shared library that is not CUDA's. */
const findLibm = () => ['/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/lib64/libm.so.6', '/usr/lib64/libm.so.6'].find((p) => existsSync(p))!;
import { openCudaDevice } from '../../../runtime/cuda/driver.js';
import { nvrtc } from '../../../runtime/cuda/nvrtc.js';
import { device } from '../../../runtime/device.js';

function gpuMissing(): string | undefined {
  try {
    openCudaDevice();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const missing = gpuMissing();
if (missing !== undefined) process.stderr.write(`tskc: skipping the CUDA device tests: ${missing}\n`);
const withGpu = missing === undefined ? test : test.skip;

describe('CUDA runtime', () => {
  test('a missing library is named, with the directories searched and TSKC_CUDA_PATH', () => {
    expect(() => findCudaLibrary('libtskc_no_such_library.so', { TSKC_CUDA_PATH: '/nonexistent' })).toThrow(CudaMissingError);
    expect(() => findCudaLibrary('libtskc_no_such_library.so', {})).toThrow(/^libtskc_no_such_library\.so not found: .*set TSKC_CUDA_PATH/);
  });

  test('a library found that does not load, or lacks the functions, is named with its path', () => {
    const root = mkdtempSync(join(tmpdir(), 'tskc-cuda-'));
    mkdirSync(join(root, 'lib64'));
    const env = { TSKC_CUDA_PATH: root };
    symlinkSync(join(root, 'nowhere'), join(root, 'lib64', 'libtskc_dangling.so.1'));
    expect(() => openCudaLibrary('libtskc_dangling.so', env)).toThrow(new RegExp(`^libtskc_dangling\\.so: ${root}/lib64/libtskc_dangling\\.so\\.1 does not load: `));
    // A real library, but not CUDA's: the first function bound fails.
    symlinkSync(findLibm(), join(root, 'lib64', 'libtskc_other.so.1'));
    const other = openCudaLibrary('libtskc_other.so', env);
    expect(() => other.func('int cuInit(unsigned int flags)')).toThrow(CudaMissingError);
    expect(() => other.func('int cuInit(unsigned int flags)')).toThrow(/lacks what tskc needs .*is it a CUDA driver library\?/);
  });

  (missing === undefined ? test.skip : test)("without a GPU, device('cuda') fails naming what is missing", () => {
    expect(() => device('cuda')).toThrow(CudaMissingError);
    expect(() => device('cuda')).toThrow(missing!);
  });

  withGpu('NVRTC compiles for the device and a launch computes the right values', () => {
    const dev = openCudaDevice();
    const cubin = nvrtc().compile(
      'extern "C" __global__ void twice(float *x, long long n) { long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; if (i < n) x[i] *= 2.0f; }',
      'twice.cu',
      dev.capability,
    );
    const fn = dev.loadFunction(cubin, 'twice');
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const p = dev.alloc(4 * n);
    dev.toDevice(p, x);
    dev.launch(fn, [4], [256], [p, n]);
    dev.toHost(x, p);
    dev.free(p);
    expect(Array.from(x)).toEqual(Array.from({ length: n }, (_, i) => 2 * i));
  });
});
