/**
 * The CUDA runtime layer. Without a GPU (CI, this machine) only the library search runs, and the GPU
 * test is skipped with the reason printed; bench/gpu/run.sh runs the same checks on the GPU machine.
 */
import { CudaMissingError, findCudaLibrary } from '../../../runtime/cuda/libraries.js';
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
