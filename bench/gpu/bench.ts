/**
 * GPU benchmarks of tskc's CUDA backend, run by bench/gpu/run.sh next to PyTorch (torch_peer.py) in
 * the same call: a DSL copy kernel, bf16 row softmax / layer norm / RMS norm at 4096 x 8192, the
 * example f32 matmul, and the low-bit GEMV (kernels/lowbit/gemv.ts) at several code widths; and graphs
 * of the graph API (dsl/graph) as the fusion pass cuts them, every kernel of a graph in one timed run.
 * Times are CUDA-event medians of up to 20 samples of up to 10 back-to-back launches (runs of a graph)
 * on device-resident buffers, after warm-up; slow cases take fewer (see timing()), so that the whole
 * bench fits the GPU machine's short lease. Also the NVRTC cold compile and the cached module load.
 * Each result is printed to stderr as a JSON line as soon as it is measured (a case that fails gives a
 * row with its error); the end prints one JSON object and writes $OUT/bench.json. The cases are in
 * cases.ts; NVRTC compiles them all first, in several processes at once (precompile()).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Dtype } from '../../compiler/ir/dtype.js';
import type { GraphProgram } from '../../compiler/graph/program.js';
import { rng } from '../../examples/check.js';
import { ArtifactCache } from '../../runtime/cache.js';
import { compileCuda } from '../../runtime/cuda/cuda-kernel.js';
import { Tensor } from '../../runtime/tensor.js';
import { type Case, benchCases } from './cases.js';
import { compilerArguments, runAsCompiler, spawnCompiler } from './compilers.js';
import { copy } from './kernels.js';
import type { CudaCompileOptions, CudaKernel } from '../../runtime/cuda/cuda-kernel.js';

/** One block of 4M random elements in [-1, 1) (never zeros) per dtype, encoded once for the whole bench. */
const randomBlocks = new Map<Dtype, Tensor>();

/**
 * A device buffer of `count` random elements: the dtype's random block uploaded over and over, so 1 GiB
 * needs neither 1 GiB of doubles nor seconds of encoding per case (timing does not depend on the values).
 */
function randomBuffer(dev: CudaKernel['device'], d: Dtype, count: number, r: () => number): bigint {
  let block = randomBlocks.get(d);
  if (block === undefined) {
    const values = new Float64Array(1 << 22);
    for (let i = 0; i < values.length; i++) values[i] = 2 * r() - 1;
    block = Tensor.empty(d, [values.length]).setValues(values);
    randomBlocks.set(d, block);
  }
  const elementBytes = block.storage.byteLength / block.size;
  const p = dev.alloc(count * elementBytes);
  for (let at = 0; at < count; at += block.size) {
    const n = Math.min(block.size, count - at);
    dev.toDevice(p + BigInt(at * elementBytes), new Uint8Array(block.storage.buffer, block.storage.byteOffset, n * elementBytes));
  }
  return p;
}

/** Device buffers for every tensor of a graph (all random), and one run of all its kernels. */
async function graphRun(graph: GraphProgram, options: CudaCompileOptions, r: () => number) {
  const kernels: CudaKernel[] = [];
  for (const step of graph.steps) kernels.push(await compileCuda(step.kernel, options));
  const dev = kernels[0]!.device;
  const buffers = new Map<number, bigint>();
  const bufferOf = (node: GraphProgram['steps'][number]['args'][number]['node']): bigint => {
    let p = buffers.get(node.id);
    if (p !== undefined) return p;
    p = randomBuffer(dev, node.dtype, node.shape.reduce((a, b) => a * b, 1), r);
    buffers.set(node.id, p);
    return p;
  };
  const free = () => [...buffers.values()].forEach((p) => dev.free(p));
  try {
    const launches = graph.steps.map((step, i) => {
      const pointers = Object.fromEntries(step.args.map((a) => [a.arg, bufferOf(a.node)]));
      const shapes = Object.fromEntries(step.args.map((a) => [a.arg, [a.node.shape.reduce((p, q) => p * q, 1)]]));
      return () => kernels[i]!.launchOnDevice(pointers, shapes);
    });
    return { kernels, run: () => launches.forEach((l) => l()), free };
  } catch (e) {
    free(); // an allocation failed part way: the buffers already made go back
    throw e;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The median time of one run, in ms: 3 warm-up runs, then samples of back-to-back runs timed with CUDA
 * events. A run is first timed alone; samples then take as many runs as fit ~20 ms (1 to 10) and there
 * are as many samples as fit ~1 s (5 to 20), so an attention case of 100 ms a run costs seconds, not
 * minutes.
 */
function timing(dev: { synchronize(): void; time(f: () => void): number }, run: () => void): number {
  for (let i = 0; i < 3; i++) run();
  dev.synchronize();
  const once = dev.time(run);
  const repeats = Math.max(1, Math.min(10, Math.floor(20 / once)));
  const count = Math.max(5, Math.min(20, Math.floor(1000 / (once * repeats))));
  const samples: number[] = [];
  for (let s = 0; s < count; s++) samples.push(dev.time(() => { for (let i = 0; i < repeats; i++) run(); }) / repeats);
  return median(samples);
}

const rate = (c: Case, ms: number): Record<string, number> => ({
  ...(c.bytes ? { GBps: Math.round(c.bytes / ms / 1e6) } : {}),
  ...(c.flops ? { TFLOPs: +(c.flops / ms / 1e9).toFixed(3) } : {}),
});

/** The compile options of a case, with the cache. */
const compileOptions = (c: Case, cache: ArtifactCache): CudaCompileOptions => ({ cache, ...c.options });

/**
 * One case's row: its time, rate and compile costs. `coldMs` is NVRTC's time for the case's kernels
 * when a precompiling process compiled them into the cache (see precompile()).
 */
async function measure(c: Case, cache: ArtifactCache, r: () => number, coldMs?: number): Promise<Record<string, unknown>> {
  const options = compileOptions(c, cache);
  if (c.graph) {
    const g = await graphRun(c.graph, options, r);
    try {
      const ms = timing(g.kernels[0]!.device, g.run);
      return { name: c.name, ms: +ms.toFixed(4), ...rate(c, ms), nvrtcColdMs: +(coldMs ?? g.kernels.reduce((t, k) => t + k.compileMs, 0)).toFixed(1), cachedLoadMs: 0 };
    } finally {
      g.free();
    }
  }
  const compiled = await compileCuda(c.kernel, options);
  const again = await compileCuda(c.kernel, options); // from the cache: load only
  const dev = compiled.device;
  const pointers: Record<string, bigint> = {};
  try {
    for (const a of c.kernel.args) {
      if (a.type.kind !== 'tensor') continue;
      pointers[a.name!] = randomBuffer(dev, a.type.dtype, c.shapes[a.name!]!.reduce((p, x) => p * x, 1), r);
    }
    const ms = timing(dev, () => compiled.launchOnDevice(pointers, c.shapes));
    return {
      name: c.name,
      ms: +ms.toFixed(4),
      ...rate(c, ms),
      threads: compiled.source.threads,
      sharedBytes: compiled.source.sharedBytes,
      nvrtcColdMs: +(coldMs ?? compiled.compileMs).toFixed(1),
      cachedLoadMs: +again.loadMs.toFixed(2),
    };
  } finally {
    for (const p of Object.values(pointers)) dev.free(p);
  }
}

async function cudaDeviceName(cache: ArtifactCache): Promise<string> {
  try {
    return (await compileCuda(copy.build(), { cache })).device.name;
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

/** Whether TSKC_BENCH_ONLY (strings separated by '|', any of which a case's name contains) selects the case. */
function selected(c: Case): boolean {
  const only = process.env['TSKC_BENCH_ONLY'];
  return !only || only.split('|').some((part) => c.name.includes(part));
}

/**
 * Child mode (`--precompile P/N DIR`): compiles the kernels of every Nth case from the Pth into the
 * cache at DIR, printing one JSON line per case with NVRTC's time for it.
 */
async function precompileSlice(slice: string, dir: string): Promise<void> {
  const [part, parts] = slice.split('/').map(Number) as [number, number];
  const cache = new ArtifactCache(dir);
  const cases = benchCases().filter(selected);
  for (const [i, c] of cases.entries()) {
    if (i % parts !== part) continue;
    try {
      let ms = 0;
      for (const kernel of c.graph ? c.graph.steps.map((s) => s.kernel) : [c.kernel]) ms += (await compileCuda(kernel, compileOptions(c, cache))).compileMs;
      console.log(JSON.stringify({ name: c.name, coldMs: ms }));
    } catch {
      // The measuring process meets the same error and reports it in the case's row.
    }
  }
}

/**
 * NVRTC's compiles of the whole bench, in `jobs` processes at once, into `cache`: serially they take
 * about as long as the measurements (session 8: 0.2 to 2 s a kernel, the register-path attention
 * about 15 s). Returns each case's cold compile time. Each process compiles on one core, so the times
 * are cold compiles as a user would meet them while jobs stays within the machine's cores.
 */
async function precompile(jobs: number, cache: ArtifactCache, limitS: number): Promise<Map<string, number>> {
  const cold = new Map<string, number>();
  const children = Array.from({ length: jobs }, (_, part) =>
    new Promise<void>((resolve) => {
      const child = spawnCompiler([`${part}/${jobs}`, cache.dir]);
      const timer = setTimeout(() => child.kill('SIGKILL'), limitS * 1000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const { name, coldMs } = JSON.parse(line) as { name: string; coldMs: number };
          cold.set(name, coldMs);
        } catch {
          // not a result line
        }
      });
      child.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    }),
  );
  await Promise.all(children);
  return cold;
}

async function main(): Promise<void> {
  const compiling = compilerArguments();
  if (compiling) return runAsCompiler(() => precompileSlice(compiling[0]!, compiling[1]!));
  const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-gpu-bench-')));
  const results: Record<string, unknown>[] = [];
  const r = rng(20261126);
  // Past this many seconds no new case starts (each would be killed by the step's limit anyway).
  const budgetS = Number(process.env['TSKC_BENCH_BUDGET_S'] ?? Infinity);
  const started = performance.now();
  const jobs = Number(process.env['TSKC_BENCH_COMPILE_JOBS'] ?? Math.max(1, Math.min(8, Math.floor(availableParallelism() / 2))));
  const cold = jobs > 1 ? await precompile(jobs, cache, Math.min(budgetS / 2, 120)) : new Map<string, number>();
  if (jobs > 1) console.error(JSON.stringify({ precompiled: cold.size, jobs, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
  for (const c of benchCases()) {
    if (!selected(c)) continue;
    const t0 = performance.now();
    if ((t0 - started) / 1000 > budgetS) {
      results.push({ name: c.name, error: `not run: the bench's budget of ${budgetS} s was spent` });
      continue;
    }
    let row: Record<string, unknown>;
    try {
      row = await measure(c, cache, r, cold.get(c.name));
    } catch (e) {
      row = { name: c.name, error: (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join(' | ') };
    }
    row['wallS'] = +((performance.now() - t0) / 1000).toFixed(1);
    results.push(row);
    console.error(JSON.stringify(row));
    // A fault poisons the CUDA context: every later case would fail the same way.
    if (/ILLEGAL_ADDRESS|LAUNCH_FAILED|MISALIGNED|ILLEGAL_INSTRUCTION/.test(String(row['error'] ?? ''))) break;
  }
  const out = { device: await cudaDeviceName(cache), results };
  console.log(JSON.stringify(out));
  if (process.env['OUT']) writeFileSync(join(process.env['OUT'], 'bench.json'), JSON.stringify(out, null, 2));
}

await main();
