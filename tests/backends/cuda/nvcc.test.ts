/**
 * The generated CUDA compiles offline, without a GPU: every example, the GPU benchmark kernels and
 * random programs go through `nvcc -cubin` for sm_90 and sm_80 (the source has no includes, as NVRTC
 * sees it), and ptxas reports no spills for the benchmark kernels. Skips, saying why, without nvcc
 * (searched on PATH, in $CUDA_HOME/bin and /usr/local/cuda/bin). Running the code is bench/gpu/run.sh's
 * job, on the GPU machine.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CudaEmitOptions, emitCuda } from '../../../backends/cuda/index.js';
import type { Kernel } from '../../../compiler/ir/ir.js';
import { exampleKernels } from '../../../examples/index.js';
import { libraryKernels } from '../../../kernels/index.js';
import { freshSeed } from '../../../examples/check.js';
import { copy } from '../../../bench/gpu/kernels.js';
import { bf16 } from '../../../compiler/ir/dtype.js';
import { flashAttention } from '../../../kernels/attention.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { NVCC_SEARCH, findNvcc } from '../../../runtime/cuda/libraries.js';

const run = promisify(execFile);
jest.setTimeout(300_000);

const nvcc = findNvcc();
if (nvcc === undefined) process.stderr.write(`tskc: skipping the offline CUDA compile tests: nvcc not found ${NVCC_SEARCH}\n`);
const withNvcc = nvcc === undefined ? test.skip : test;
const dir = mkdtempSync(join(tmpdir(), 'tskc-nvcc-'));

/** Compiles the kernels' CUDA in one nvcc call; returns ptxas's report. */
async function compile(kernels: readonly Kernel[], arch: string, options: CudaEmitOptions = {}): Promise<string> {
  const files = kernels.map((k, i) => {
    const path = join(dir, `${arch}-${i}-${k.name}${options.tensorCores ? '-mma' : ''}${options.registerAccumulators ? '-registers' : ''}${options.tf32 ? '-tf32' : ''}.cu`);
    writeFileSync(path, emitCuda(k, { arch, ...options }).source);
    return path;
  });
  const { stderr } = await run(nvcc!, ['-cubin', `-arch=${arch}`, '--fmad=false', '-Xptxas', '-v', '-odir', dir, ...files], { maxBuffer: 64 << 20 });
  return stderr;
}

const examples = Object.values(exampleKernels).map((def) => (def as { build(): Kernel }).build());
const benchKernels = [copy.build()];
const library = Object.values(libraryKernels).map((def) => def.build());

describe('generated CUDA compiles with nvcc', () => {
  // Default options: bf16/f16 dots on tensor cores, their accumulators in registers.
  withNvcc.each(['sm_90', 'sm_80'])('examples, benchmark and library kernels for %s, no spills', async (arch) => {
    const all = [...examples, ...benchKernels, ...library];
    const report = await compile(all, arch);
    expect(report).not.toMatch(/error/i);
    // One entry per kernel; out-of-line helpers (the general float format decoder) report too.
    expect([...report.matchAll(/Compiling entry function/g)].length).toBe(all.length);
    const spills = [...report.matchAll(/(\d+) bytes spill stores, (\d+) bytes spill loads/g)];
    expect(spills.length).toBeGreaterThanOrEqual(all.length);
    for (const [, stores, loads] of spills) expect([stores, loads]).toEqual(['0', '0']);
  });

  /** The library kernels whose source under `options` contains `marker` (the linear layers among them) compile without spills. */
  const compilesWithoutSpills = async (arch: string, options: CudaEmitOptions, marker: string, expected = ['linear_bf16_silu', 'linear_bf16_bias_gelu_residual']) => {
    const kernels = library.filter((k) => emitCuda(k, options).source.includes(marker));
    expect(kernels.map((k) => k.name)).toEqual(expect.arrayContaining(expected));
    const report = await compile(kernels, arch, options);
    expect(report).not.toMatch(/error/i);
    const spills = [...report.matchAll(/(\d+) bytes spill stores, (\d+) bytes spill loads/g)];
    expect(spills.length).toBeGreaterThanOrEqual(kernels.length);
    for (const [, stores, loads] of spills) expect([stores, loads]).toEqual(['0', '0']);
  };

  withNvcc.each(['sm_90', 'sm_80'])('library kernels whose dots run on tensor cores (mma.sync), the accumulator staged, for %s, no spills', (arch) =>
    compilesWithoutSpills(arch, { tensorCores: true, registerAccumulators: false }, 'mma.sync'));

  withNvcc.each(['sm_90', 'sm_80'])('library kernels whose tensor-core dots keep their accumulators in registers, on 128 threads, for %s, no spills', (arch) =>
    compilesWithoutSpills(arch, { registerAccumulators: true, threads: 128 }, 'mma.sync on the accumulator in registers'));

  // One architecture: the tf32 path is the same code on both, and the two above cover sm_90's. (tf32 is
  // opt-in; at the block size its fragments choose, 64 threads, attention_f32's register path spills
  // 28 bytes on sm_90 and 56 on sm_80.)
  withNvcc.each(['sm_80'])('library kernels whose f32 dots run on tf32 tensor cores, staged and in registers (on 128 threads), for %s, no spills', async (arch) => {
    await compilesWithoutSpills(arch, { tf32: true, registerAccumulators: false }, 'cvt.rna.tf32.f32', ['linear_f32_bias_relu', 'attention_f32']);
    await compilesWithoutSpills(arch, { tf32: true, registerAccumulators: true, threads: 128 }, 'cvt.rna.tf32.f32', ['linear_f32_bias_relu']);
  });

  // The GPU bench's flash attention at D = 128 (bench/gpu/bench.ts): on the register path, 64 x 32
  // tiles on 128 threads fit the registers only since the row statistics and p stay in registers.
  withNvcc.each(['sm_90'])('flash attention bf16, D = 128, accumulators in registers, 64x32 tiles, for %s, no spills', async (arch) => {
    const kernels = [false, true].map((causal) => flashAttention(bf16, causal).build({ BM: 64, BN: 32, BLOCK_D: 128, SCALE: 1 / Math.sqrt(128) }));
    for (const k of kernels) expect(emitCuda(k, { registerAccumulators: true }).source).toContain('mma.sync on the accumulator in registers');
    const report = await compile(kernels, arch, { registerAccumulators: true });
    expect(report).not.toMatch(/error/i);
    const spills = [...report.matchAll(/(\d+) bytes spill stores, (\d+) bytes spill loads/g)];
    expect(spills.length).toBeGreaterThanOrEqual(kernels.length);
    for (const [, stores, loads] of spills) expect([stores, loads]).toEqual(['0', '0']);
  });

  const seed = freshSeed();
  withNvcc(`8 random programs from seed ${seed}`, async () => {
    const kernels = Array.from({ length: 8 }, (_, i) => randomProgram((seed + i) >>> 0).kernel);
    expect(await compile(kernels, 'sm_90')).not.toMatch(/error/i);
  });
});
