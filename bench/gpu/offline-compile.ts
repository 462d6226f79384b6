/**
 * Compiles every case of the GPU bench (cases.ts) with nvcc for sm_90, here, without a GPU: a case
 * whose CUDA would not compile fails here before it costs device time, and ptxas's registers and
 * spills and nvcc's time (a stand-in for NVRTC's cold compile there) come out per case, in bench order.
 *   node --import tsx bench/gpu/offline-compile.ts [parts of case names, separated by '|']
 * Prints one line per kernel and exits 1 if any failed to compile. The emit options are the bench's
 * (bench.ts measure()), with tensor cores on as on sm_90; nvrtcOptions are NVRTC's own and not passed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { type CudaEmitOptions, emitCuda } from '../../backends/cuda/index.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { NVCC_SEARCH, findNvcc } from '../../runtime/cuda/libraries.js';
import { type Case, benchCases } from './cases.js';

const run = promisify(execFile);

/** A case's emit options: its compile options but NVRTC's own, for sm_90 (its launch hints, tensor cores on). */
const emitOptions = (c: Case): CudaEmitOptions => {
  const { nvrtcOptions: _, ...emit } = c.options ?? {};
  return { arch: 'sm_90', tensorCores: true, ...emit };
};

interface Compiled {
  readonly label: string;
  readonly seconds: number;
  readonly report: string;
  readonly error?: string;
}

async function compileOne(nvcc: string, dir: string, label: string, kernel: Kernel, options: CudaEmitOptions, index: number): Promise<Compiled> {
  const path = join(dir, `${index}-${kernel.name}.cu`);
  const start = performance.now();
  try {
    writeFileSync(path, emitCuda(kernel, options).source);
    const { stderr } = await run(nvcc, ['-cubin', '-arch=sm_90', '--fmad=false', '-Xptxas', '-v', '-o', join(dir, `${index}.cubin`), path], { maxBuffer: 64 << 20 });
    return { label, seconds: (performance.now() - start) / 1000, report: stderr };
  } catch (e) {
    const message = e instanceof Error ? ((e as { stderr?: string }).stderr || e.message) : String(e);
    return { label, seconds: (performance.now() - start) / 1000, report: '', error: message.split('\n').slice(0, 8).join(' | ') };
  }
}

/** "R registers, S bytes of spills" for the kernel's entry (the last function ptxas reports). */
function summary(report: string): string {
  const registers = [...report.matchAll(/Used (\d+) registers/g)].map((m) => m[1]).at(-1);
  const spills = [...report.matchAll(/(\d+) bytes spill stores, (\d+) bytes spill loads/g)].at(-1);
  const shared = [...report.matchAll(/(\d+) bytes smem/g)].map((m) => m[1]).at(-1);
  return `${registers ?? '?'} registers, spills ${spills ? `${spills[1]}/${spills[2]}` : '?'} bytes, ${shared ?? 0} bytes smem`;
}

async function main(): Promise<void> {
  const nvcc = findNvcc();
  if (nvcc === undefined) throw new Error(`offline-compile: nvcc not found ${NVCC_SEARCH}`);
  const dir = mkdtempSync(join(tmpdir(), 'tskc-offline-compile-'));
  const only = process.argv[2];
  const jobs: { label: string; kernel: Kernel; options: CudaEmitOptions }[] = [];
  for (const c of benchCases()) {
    if (only && !only.split('|').some((part) => c.name.includes(part))) continue;
    const kernels = c.graph ? c.graph.steps.map((s) => s.kernel) : [c.kernel];
    kernels.forEach((kernel, i) => jobs.push({ label: kernels.length > 1 ? `${c.name} [${i + 1}/${kernels.length}]` : c.name, kernel, options: emitOptions(c) }));
  }
  // A pool of nvcc processes, results printed in bench order.
  const results: Promise<Compiled>[] = [];
  let next = 0;
  const slots = Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      results[i] = compileOne(nvcc, dir, job.label, job.kernel, job.options, i);
      await results[i];
    }
  });
  let failed = 0;
  const printed = (async () => {
    for (let i = 0; i < jobs.length; i++) {
      while (results[i] === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      const r = await results[i]!;
      if (r.error) failed++;
      console.log(`${r.seconds.toFixed(1).padStart(5)} s  ${r.error ? `FAILED: ${r.error}` : summary(r.report)}  ${r.label}`);
    }
  })();
  await Promise.all([...slots, printed]);
  console.log(`${jobs.length} kernels, ${failed} failed (sources in ${dir})`);
  process.exitCode = failed ? 1 : 0;
}

await main();
