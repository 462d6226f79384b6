import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { emitCuda } from './backends/cuda/index.js';
import { bf16, dtype } from './compiler/ir/dtype.js';
import { lowbitGemm } from './kernels/lowbit/gemm.js';
const configs: [string, string, boolean, any, any][] = [
  ['u4', 'M16 16x32x128', true, { BM: 16, BN: 32, BK: 128 }, {}],
  ['u4', 'M16 16x64x64', true, { BM: 16, BN: 64, BK: 64 }, {}],
  ['u4', 'M16 16x128x32', true, { BM: 16, BN: 128, BK: 32 }, {}],
  ['u4', 'M16 16x64x64 staged', true, { BM: 16, BN: 64, BK: 64 }, { registerAccumulators: false }],
  ['u4', 'M16 16x32x128 FMA', true, { BM: 16, BN: 32, BK: 128 }, { tensorCores: false }],
  ['u4', 'big 128x128x32', true, { BM: 128, BN: 128, BK: 32 }, {}],
  ['u4', 'big 64x128x32', true, { BM: 64, BN: 128, BK: 32 }, {}],
  ['u4', 'big 64x64x32', true, { BM: 64, BN: 64, BK: 32 }, {}],
  ['f6e3m2', 'big 128x128x32', false, { BM: 128, BN: 128, BK: 32 }, {}],
  ['i3', 'big 128x128x32', false, { BM: 128, BN: 128, BK: 32 }, {}],
];
for (const [code, what, zp, params, opts] of configs) {
  const src = emitCuda(lowbitGemm(bf16, dtype(code), zp).build({ ...params, GROUP: 128 }), { tensorCores: true, ...opts }).source;
  writeFileSync('/tmp/g.cu', src);
  const t0 = performance.now();
  const out = execFileSync('/usr/local/cuda/bin/nvcc', ['-cubin', '-arch=sm_90', '--fmad=false', '-Xptxas', '-v', '-o', '/tmp/g.cubin', '/tmp/g.cu'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) ;
  const err = execFileSync('bash', ['-c', "/usr/local/cuda/bin/nvcc -cubin -arch=sm_90 --fmad=false -Xptxas -v -o /tmp/g.cubin /tmp/g.cu 2>&1 | grep -oE 'Used [0-9]+ registers|[0-9]+ bytes spill stores'"], { encoding: 'utf8' });
  console.log(code, what, src.match(/__launch_bounds__\((\d+)/)?.[1], 'threads;', err.replace(/\n/g, ' '), ((performance.now() - t0) / 2000).toFixed(1), 's');
}
