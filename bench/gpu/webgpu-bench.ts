/**
 * The memory-bound GPU benchmarks on WebGPU (the WGSL backend, Dawn on the GPU's Vulkan driver), run by
 * bench/gpu/run.sh in the same call as the CUDA ones (bench.ts), under the same names, so the table
 * puts the two side by side: WebGPU's target is 80% of the CUDA backend's bandwidth. Times are the
 * median of 10 samples of one submission of 20 back-to-back dispatches on device-resident buffers,
 * after warm-up, by the wall clock (submission and the status read included: about 0.1 ms a sample).
 * Prints one JSON object and writes $OUT/webgpu-bench.json. Runs anywhere Dawn finds an adapter
 * (shapes shrink with TSKC_BENCH_SMALL=1, for a software adapter).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bf16, f32 } from '../../compiler/ir/dtype.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { rng } from '../../examples/check.js';
import { Tensor } from '../../runtime/tensor.js';
import { type WebgpuCompileOptions, compileWebgpu } from '../../runtime/webgpu/webgpu-kernel.js';
import { copy, rowCopy } from './kernels.js';
import { softmaxRows } from '../../kernels/rows/softmax.js';
import { layerNormRows, rmsNormRows } from '../../kernels/rows/norms.js';

const small = process.env['TSKC_BENCH_SMALL'] === '1';
const [M, N] = small ? [256, 8192] : [4096, 8192];
const COPY = small ? 1 << 22 : 1 << 28;

interface Case {
  readonly name: string;
  readonly kernel: Kernel;
  readonly shapes: Record<string, number[]>;
  readonly bytes: number;
}

// The copy takes blocks of 8192, not bench.ts's 4096: WebGPU allows at most 65535 workgroups a dimension.
const cases: Case[] = [
  { name: small ? 'copy f32 16 MiB' : 'copy f32 1 GiB', kernel: copy.build({ BLOCK: 8192 }), shapes: { x: [COPY], y: [COPY] }, bytes: 2 * 4 * COPY },
  { name: `softmax bf16 ${M}x${N}`, kernel: softmaxRows(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: `layer_norm bf16 ${M}x${N}`, kernel: layerNormRows(bf16).build(), shapes: { x: [M, N], w: [N], b: [N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: `rms_norm bf16 ${M}x${N}`, kernel: rmsNormRows(bf16).build(), shapes: { x: [M, N], w: [N], y: [M, N] }, bytes: 2 * 2 * M * N },
];
// Where the row kernels' time goes (session 7: 0.14-0.17 of the CUDA backend's bandwidth): the flat
// copy of the f32 row copy's bytes, as a control for the size (session 22, H200: the 1 GiB copy 2662
// GB/s, the row copies 690-721 at 1/8 and 1/16 of its bytes, time in proportion to their bytes); the
// same rows copied without arithmetic, bf16 (packed two to a word, stored through atomics) and f32;
// and softmax on f32.
const diagnostics: Case[] = [
  { name: `copy f32 ${(M * N) >> 20}M elements (the f32 row copy's bytes)`, kernel: copy.build({ BLOCK: 8192 }), shapes: { x: [M * N], y: [M * N] }, bytes: 2 * 4 * M * N },
  { name: `row copy bf16 ${M}x${N}`, kernel: rowCopy(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: `row copy f32 ${M}x${N}`, kernel: rowCopy(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
  { name: `softmax f32 ${M}x${N}`, kernel: softmaxRows(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const results: Record<string, unknown>[] = [];
  const r = rng(20261126);
  let adapter = '';
  let subgroups = false;
  // The backend's default (one word per thread and access, subgroup reductions where the device has
  // them) under the CUDA bench's names; 16 bytes per thread (vec4), the workgroup-memory reductions
  // and other thread counts as extra rows, the evidence for the defaults.
  const rows: [Case, string, WebgpuCompileOptions][] = [
    ...[...cases, ...diagnostics].map((c): [Case, string, WebgpuCompileOptions] => [c, '', {}]),
    ...cases.map((c): [Case, string, WebgpuCompileOptions] => [c, ' (vec4 per thread)', { vectorWords: 4 }]),
    ...cases.slice(1).map((c): [Case, string, WebgpuCompileOptions] => [c, ' (no subgroups)', { subgroups: false }]),
    // One bounds test per tile (WgslEmitOptions.boxed): session 8 found the one-word copy 3.4x slower with it, the vec4 copy 2.9x faster.
    ...[...cases, ...diagnostics.slice(1, 3)].map((c): [Case, string, WebgpuCompileOptions] => [c, ' (boxed)', { boxed: true }]),
    ...cases.map((c): [Case, string, WebgpuCompileOptions] => [c, ' (vec4 per thread, boxed)', { vectorWords: 4, boxed: true }]),
    ...cases.slice(1).flatMap((c) => [512, 1024].map((t): [Case, string, WebgpuCompileOptions] => [c, ` @${t} threads`, { threads: t }])),
  ];
  for (const [c, variant, options] of rows) {
    let row: Record<string, unknown>;
    try {
      const m = await measure(c, options, r);
      [adapter, subgroups] = [m.adapter, m.subgroups];
      row = { name: c.name + variant, ms: +m.ms.toFixed(4), threads: m.threads, GBps: +(c.bytes / (m.ms * 1e6)).toFixed(1) };
    } catch (e) {
      row = { name: c.name + variant, error: (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join(' | ') };
    }
    results.push(row);
    console.error(JSON.stringify(row));
  }
  const report = { adapter, subgroups, results };
  console.log(JSON.stringify(report));
  if (process.env['OUT']) writeFileSync(join(process.env['OUT'], 'webgpu-bench.json'), JSON.stringify(report, null, 2));
}

/** One case's median time per dispatch (ms), its thread count and the adapter's name. */
async function measure(c: Case, options: WebgpuCompileOptions, r: () => number) {
  const compiled = await compileWebgpu(c.kernel, options);
  const { device } = compiled.gpu;
  const buffers: Record<string, GPUBuffer> = {};
  try {
    for (const a of c.kernel.args) {
      if (a.type.kind !== 'tensor') continue;
      const count = c.shapes[a.name!]!.reduce((p, x) => p * x, 1);
      // Random data (never zeros), uploaded in blocks so 1 GiB does not need 1 GiB of doubles.
      const block = Tensor.empty(a.type.dtype, [Math.min(count, 1 << 22)]);
      block.setValues(Float64Array.from({ length: block.size }, () => 2 * r() - 1));
      const elementBytes = block.storage.byteLength / block.size;
      const buffer = device.createBuffer({ size: Math.ceil((count * elementBytes) / 16) * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      for (let at = 0; at < count; at += block.size) {
        const n = Math.min(block.size, count - at);
        device.queue.writeBuffer(buffer, at * elementBytes, new Uint8Array(block.storage.buffer, block.storage.byteOffset, Math.ceil((n * elementBytes) / 4) * 4));
      }
      buffers[a.name!] = buffer;
    }
    const run = (repeats: number) => compiled.runOnDevice(buffers, c.shapes, repeats);
    await run(3);
    const samples: number[] = [];
    for (let s = 0; s < 10; s++) {
      const t0 = performance.now();
      await run(20);
      samples.push((performance.now() - t0) / 20);
    }
    return { ms: median(samples), threads: compiled.source.threads, adapter: compiled.gpu.adapterName, subgroups: compiled.gpu.subgroups };
  } finally {
    for (const b of Object.values(buffers)) b.destroy(); // up to 2 GiB for the copy, failed or not
  }
}

await main();
