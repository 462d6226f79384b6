/**
 * A smoke test of the CUDA runtime layer on a real GPU: device query, NVRTC (with the fp16 header),
 * memory, copies, a launch checked element by element, a compile error reported with NVRTC's log,
 * and the copy bandwidth of a plain float4 kernel. Run by bench/gpu/run.sh on the GPU machine; prints
 * one JSON object and writes it to $OUT/smoke.json when $OUT is set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f16 } from '../../compiler/ir/dtype.js';
import { roundToFormat } from '../../compiler/ir/float-format.js';
import { openCudaDevice } from '../../runtime/cuda/driver.js';
import { NvrtcError, nvrtc } from '../../runtime/cuda/nvrtc.js';

const SOURCE = String.raw`
#include <cuda_fp16.h>
extern "C" __global__ void add_half(const float *x, const float *y, float *z, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) z[i] = __half2float(__float2half(x[i] + y[i]));
}
extern "C" __global__ void copy4(const float4 *src, float4 *dst, long long n4) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += (long long)gridDim.x * blockDim.x) dst[i] = src[i];
}`;

function main(): Record<string, unknown> {
  const dev = openCudaDevice();
  const compiler = nvrtc();
  const result: Record<string, unknown> = { device: dev.name, capability: dev.capability.join('.'), nvrtc: compiler.version };
  let t0 = performance.now();
  const cubin = compiler.compile(SOURCE, 'smoke.cu', dev.capability);
  result['nvrtcCompileMs'] = +(performance.now() - t0).toFixed(1);
  const add = dev.loadFunction(cubin, 'add_half');
  const n = 1_000_003;
  const x = Float32Array.from({ length: n }, (_, i) => (i % 1000) / 7);
  const y = Float32Array.from({ length: n }, (_, i) => (i % 13) / 3);
  const [px, py, pz] = [dev.alloc(4 * n), dev.alloc(4 * n), dev.alloc(4 * n)];
  dev.toDevice(px, x);
  dev.toDevice(py, y);
  dev.launch(add, [Math.ceil(n / 256)], [256], [px, py, pz, n]);
  const z = new Float32Array(n);
  dev.toHost(z, pz);
  let wrong = 0;
  // The kernel rounds the f32 sum to f16 (RNE) and back: the same as tskc's own f16 rounding.
  for (let i = 0; i < n; i++) if (z[i] !== roundToFormat(f16, Math.fround(x[i]! + y[i]!))) wrong++;
  result['addElements'] = n;
  result['addMismatches'] = wrong;
  for (const p of [px, py, pz]) dev.free(p);

  const copy = dev.loadFunction(cubin, 'copy4');
  const bytes = 1 << 30;
  const [src, dst] = [dev.alloc(bytes), dev.alloc(bytes)];
  dev.launch(copy, [132 * 8], [512], [src, dst, bytes / 16]);
  const times: number[] = [];
  for (let r = 0; r < 10; r++) {
    t0 = performance.now();
    dev.launch(copy, [132 * 8], [512], [src, dst, bytes / 16]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[5]!;
  result['copy1GiBms'] = +ms.toFixed(3);
  result['copyGBs'] = +((2 * bytes) / (ms * 1e6)).toFixed(0);
  dev.free(src);
  dev.free(dst);

  try {
    compiler.compile('extern "C" __global__ void broken() { undeclared_name = 1; }', 'broken.cu', dev.capability);
    result['compileErrorReported'] = false;
  } catch (e) {
    result['compileErrorReported'] = e instanceof NvrtcError && e.log.includes('undeclared_name');
    result['compileErrorFirstLine'] = (e as Error).message.split('\n')[0];
  }
  return result;
}

const out = main();
const text = JSON.stringify(out, null, 1);
process.stdout.write(`${text}\n`);
if (process.env['OUT']) writeFileSync(join(process.env['OUT'], 'smoke.json'), text);
