/**
 * A GPU backend against the reference interpreter, on the GPU machine: the CUDA backend, or with
 * TSKC_CHECK_DEVICE=webgpu the WGSL backend through Dawn on the GPU's Vulkan driver. Every example and
 * library kernel at random shapes that are not multiples of its tiles, outputs poisoned before launch,
 * random tiled matmuls (tests/fuzz/random-matmul.ts: CUDA's tensor-core paths under random options,
 * cp.async pipelines included), and random programs of the fuzzer (fresh seeds each run). Run by bench/gpu/run.sh; prints one line per failure
 * and a summary, writes $OUT/check-<device>.json, and exits 1 if anything disagreed. On CUDA, processes
 * beside it compile its kernels ahead with NVRTC (precompileInBackground).
 *
 * How close is close enough: see disagreement(). The GPU reassociates float sums along the last axis
 * and uses f32 functions for transcendentals (see backends/cuda/emit.ts and backends/wgsl/emit.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyArguments, floatTolerance, makeArguments } from '../../bin/launch-inputs.js';
import { type Dtype, bf16, f32 } from '../../compiler/ir/dtype.js';
import { compileGraph, graphInput } from '../../dsl/graph/index.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { exampleKernels } from '../../examples/index.js';
import { libraryKernels } from '../../kernels/index.js';
import { linear } from '../../kernels/linear.js';
import { freshSeed, randInt, rng } from '../../examples/check.js';
import { ArtifactCache } from '../../runtime/cache.js';
import { device } from '../../runtime/device.js';
import { Tensor } from '../../runtime/tensor.js';
import type { Runner } from '../../tests/backends/differential.js';
import { randomMatmul, smallIntegerArguments } from '../../tests/fuzz/random-matmul.js';
import { randomProgram } from '../../tests/fuzz/random-program.js';
import { type CudaCompileOptions, compileCuda } from '../../runtime/cuda/cuda-kernel.js';
import { libraryArguments, libraryShapes, roundedToTf32, tf32DotUlps } from '../../tests/kernels/library-arguments.js';
import { compilerArguments, runAsCompiler, spawnCompiler } from './compilers.js';
import { copy } from './kernels.js';
import { emitCuda } from '../../backends/cuda/index.js';

class ContextLost extends Error {}

interface Failure {
  readonly what: string;
  readonly detail: string;
}

/** Random extents for each example's symbols, within what its tiles allow (BLOCK_N = 1024 rows). */
const EXAMPLE_SHAPES: Record<string, (r: () => number) => Record<string, number>> = {
  vector_add: (r) => ({ N: randInt(r, 1, 300_000) }),
  softmax: (r) => ({ M: randInt(r, 1, 300), N: randInt(r, 1, 1024) }),
  layer_norm: (r) => ({ M: randInt(r, 1, 300), N: randInt(r, 2, 1024) }),
  matmul: (r) => ({ M: randInt(r, 1, 200), K: randInt(r, 1, 200), N: randInt(r, 1, 200) }),
};

/**
 * Why `got` is not close enough to `want`, or undefined. Floats: within 4 units in the last place of
 * the dtype, measured against the largest magnitude in the tensor (a reassociated sum is off by a
 * fraction of what was summed, which can be much more than the result when terms cancel); NaN and
 * infinities exactly. Integers and bools exactly, except that an output derived from a transcendental
 * (a bitcast or cast of one) may be off by 4. `floatUlps` widens (or, at 0, closes) the float
 * tolerance; 0 also makes every value exact (a zero's sign aside).
 */
function disagreement(d: Dtype, got: Float64Array, want: Float64Array, approximate: boolean, floatUlps = 4): string | undefined {
  const allowed = floatUlps === 0 ? 0 : d.kind === 'float' ? floatTolerance(d, want, floatUlps) : approximate ? 4 : 0;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || (g === 0 && w === 0)) continue;
    const err = Number.isFinite(g) && Number.isFinite(w) ? Math.abs(g - w) : Infinity;
    if (err > allowed && err >= worst) [worst, at] = [err, i];
  }
  return at < 0 ? undefined : `element ${at} is ${got[at]} on the GPU but ${want[at]} on the interpreter (allowed difference ${allowed})`;
}


/** Kernels of graphs at ragged shapes (drawn from r): rows, a residual norm, matmul epilogues, broadcasting. */
function graphKernels(r: () => number): Kernel[] {
  // Few rows for the row graphs (rows up to 8192 wide cost the interpreter seconds each), more for the matmuls.
  const [m, n, mm, k] = [randInt(r, 1, 40), randInt(r, 1, 8192), randInt(r, 1, 100), randInt(r, 1, 200)];
  const nn = randInt(r, 1, 256);
  const x = graphInput('x', bf16, [m, n]), res = graphInput('r', bf16, [m, n]), w = graphInput('w', bf16, [n]);
  const a = graphInput('a', bf16, [mm, k]), wa = graphInput('wa', bf16, [nn, k]), wb = graphInput('wb', bf16, [nn, k]), b = graphInput('b', bf16, [nn]);
  const t = graphInput('t', f32, [randInt(r, 1, 9), randInt(r, 1, 9), randInt(r, 1, 500)]);
  const h = x.add(res);
  const graphs = [
    { s: x.softmax(), l: x.logsumexp() },
    { h, y: h.rmsNorm(w) },
    { y: x.layerNorm(w).silu().mul(res) },
    { y: a.matmul(wa.T).add(b).gelu().softmax() },
    { y: a.matmul(wa.T).silu().mul(a.matmul(wb.T)) },
    { y: t.sub(t.max(-1, { keepDim: true })).exp().mean(-1) },
  ];
  return graphs.flatMap((g) => compileGraph(g).steps.map((s) => s.kernel));
}

/** Whether any of the kernel's dots go to mma.sync (CUDA's tensorCores option, on by default). */
const takesTensorCores = (kernel: Kernel): boolean => emitCuda(kernel, { tensorCores: true }).source.includes('mma.sync');
/** Whether any of the kernel's tensor-core dots keep their accumulators in registers (registerAccumulators, on by default). */
const takesRegisterAccumulators = (kernel: Kernel): boolean => emitCuda(kernel, { registerAccumulators: true }).source.includes('mma.sync on the accumulator in registers');

/**
 * The copy and every library kernel, each with its random ragged shapes (rows up to their BLOCK_N of
 * 8192); then the bf16 row kernels the bench times with 3 rows a program, each read a row ahead
 * (kernels/rows/row.ts eachRow; the last program's rows past M where M is not a multiple of 3); and
 * the low-bit kernels in the CUDA bench's tiles: the u4 GEMV's tile accumulator in steps of 4 groups
 * (K of 1 to 4 groups: ragged steps), and the GEMM in 128x128x32 tiles (on CUDA tensor cores with
 * register accumulators; on WebGPU its dot is staged 16 steps of k at a time, in 16 KiB).
 */
function benchKernels(): [Kernel, (r: () => number) => Record<string, number>][] {
  const rowsAhead = ['softmax_bf16', 'layer_norm_bf16', 'rms_norm_bf16'].map((name) => libraryKernels[name]!);
  const inBenchTiles: [string, Record<string, number>][] = [
    ['gemv_bf16_u4_zp_tileacc', { BN: 8, BK: 512, GROUP: 128 }],
    ['gemm_bf16_u4_zp', { BM: 128, BN: 128, BK: 32, GROUP: 128 }],
  ];
  return [
    [copy.build(), (q) => ({ N: randInt(q, 1, 100_000) })],
    ...Object.values(libraryKernels).map((def): [Kernel, (q: () => number) => Record<string, number>] => [def.build(), libraryShapes(def.name, def.params)]),
    ...rowsAhead.map((def): [Kernel, (q: () => number) => Record<string, number>] => [def.build({ ROWS: 3 }), libraryShapes(def.name, def.params)]),
    ...inBenchTiles.map(([name, params]): [Kernel, (q: () => number) => Record<string, number>] => [libraryKernels[name]!.build(params), libraryShapes(name, params)]),
  ];
}

/** The params a kernel of benchKernels was built with where they are not its library definition's (' ROWS=3'), so that a failure names the build. */
function paramsNote(kernel: Kernel): string {
  const defaults = libraryKernels[kernel.name]?.params ?? {};
  return Object.entries(kernel.params)
    .filter(([name, value]) => (defaults as Record<string, number>)[name] !== value)
    .map(([name, value]) => ` ${name}=${value}`)
    .join('');
}

/**
 * Larger tiles than the library's for the register path: 256 threads, the 128x128x32 tiles bench.ts
 * times, and the same on 128 threads (bench.ts's taller warps).
 */
const REGISTER_TILES: readonly { readonly params: { BM: number; BN: number; BK: number }; readonly threads?: number }[] = [
  { params: { BM: 128, BN: 64, BK: 16 } },
  { params: { BM: 128, BN: 128, BK: 32 } },
  { params: { BM: 128, BN: 128, BK: 32 }, threads: 128 },
];
/**
 * The share of the time budget (TSKC_CHECK_BUDGET_S) at which each phase stops starting kernels: the
 * library kernels first and most, then the other CUDA options (FMA, register tiles, staged
 * accumulators, tf32), the random matmuls, the graph kernels, and the random programs with the rest
 * (at least 15%). A phase that ends early leaves its time to the next.
 */
const SHARES = { library: 0.6, options: 0.7, matmuls: 0.78, graph: 0.85 } as const;
const registerLinear = (params: (typeof REGISTER_TILES)[number]['params']) => linear(bf16, { bias: true, activation: 'gelu', residual: true }).build(params);
const registerOptions = (tile: (typeof REGISTER_TILES)[number]): CudaCompileOptions => ({ registerAccumulators: true, ...(tile.threads ? { threads: tile.threads } : {}) });

/** CUDA under compile options no device() takes (threads, stages): compileCuda itself. */
const cudaRunner = (cache: ArtifactCache, options: CudaCompileOptions): Runner => ({
  compile: async (k) => {
    const c = await compileCuda(k, { cache, ...options });
    return { run: async (args) => c.launch(args) };
  },
});
const tf32Linear = () => linear(f32, { bias: true, activation: 'relu' }).build();

/**
 * Every CUDA compile the check asks for whose kernel does not depend on its random draws, in the
 * order the check asks (the graph kernels' shapes are drawn as it goes: not here). The options are
 * those of its devices, so that the cache keys agree.
 */
function cudaCompiles(seed: number, matmuls: number, programs: number): { kernel: Kernel; options: CudaCompileOptions }[] {
  const library = benchKernels().map(([kernel]) => kernel);
  return [
    ...Object.values(exampleKernels).map((def) => ({ kernel: (def as { build(): Kernel }).build(), options: {} })),
    ...library.map((kernel) => ({ kernel, options: {} })),
    ...library.filter(takesTensorCores).map((kernel) => ({ kernel, options: { tensorCores: false } })),
    ...REGISTER_TILES.map((tile) => ({ kernel: registerLinear(tile.params), options: registerOptions(tile) })),
    ...library.filter(takesRegisterAccumulators).map((kernel) => ({ kernel, options: { registerAccumulators: false } })),
    { kernel: tf32Linear(), options: { tf32: true } },
    { kernel: tf32Linear(), options: { tf32: true, registerAccumulators: false } },
    ...Array.from({ length: matmuls }, (_, i) => randomMatmul((seed + i) >>> 0)).map((p) => ({ kernel: p.kernel, options: p.options })),
    ...Array.from({ length: programs }, (_, i) => ({ kernel: randomProgram((seed + i) >>> 0, 8, false, false).kernel, options: {} })),
  ];
}

/** Child mode (`--precompile P/N DIR SEED MATMULS PROGRAMS`): NVRTC on every Nth of cudaCompiles from the Pth, into the cache at DIR. */
async function precompileSlice(args: readonly string[]): Promise<void> {
  const [slice, dir, seed, matmuls, programs] = args as [string, string, string, string, string];
  const [part, parts] = slice.split('/').map(Number) as [number, number];
  const cache = new ArtifactCache(dir);
  for (const [i, { kernel, options }] of cudaCompiles(Number(seed), Number(matmuls), Number(programs)).entries()) {
    if (i % parts !== part) continue;
    try {
      await compileCuda(kernel, { cache, ...options });
    } catch {
      // The check meets the same error and reports it.
    }
  }
}

/**
 * NVRTC, at 0.2 to 15 s a kernel, took most of the check's time (the H200 run of session 22: the
 * library phase 65-88 s of a 95-125 s budget). Processes started here compile the check's kernels
 * into its cache in the order it asks for them, while it runs: it finds most of them compiled.
 * Half the cores up to 8 (TSKC_CHECK_COMPILE_JOBS); they end when the check does (compilers.ts).
 */
function precompileInBackground(cache: ArtifactCache, seed: number, matmuls: number, programs: number): ChildProcess[] {
  const jobs = Number(process.env['TSKC_CHECK_COMPILE_JOBS'] ?? Math.max(1, Math.min(8, Math.floor(availableParallelism() / 2))));
  if (jobs < 2) return [];
  const children = Array.from({ length: jobs }, (_, part) => spawnCompiler([`${part}/${jobs}`, cache.dir, String(seed), String(matmuls), String(programs)]));
  children.forEach((child) => child.stdout?.resume()); // nothing to read; a full pipe would stall the child
  return children;
}

async function main(): Promise<void> {
  const compiling = compilerArguments();
  if (compiling) return runAsCompiler(() => precompileSlice(compiling));
  const kind = process.env['TSKC_CHECK_DEVICE'] === 'webgpu' ? 'webgpu' : 'cuda';
  const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-gpu-check-')));
  const gpu = device(kind, kind === 'cuda' ? { cache } : {});
  // CUDA without its tensor-core path (mma.sync, on by default), for the kernels whose dot takes it.
  const fma = kind === 'cuda' ? device('cuda', { cache, tensorCores: false }) : undefined;
  // CUDA with tensor-core accumulators staged through shared memory at every dot (registerAccumulators
  // false; the default keeps them in registers since this check passed that on the H200, session 22).
  const staged = kind === 'cuda' ? device('cuda', { cache, registerAccumulators: false }) : undefined;
  // CUDA with f32 dots on tf32 tensor cores (an option), with the accumulators in registers and staged.
  const tf32 = kind === 'cuda' ? [device('cuda', { cache, tf32: true }), device('cuda', { cache, tf32: true, registerAccumulators: false })] : [];
  const interp = device('interp');
  const failures: Failure[] = [];
  let examplesRun = 0;
  let programsRun = 0;
  // Failures are printed as they happen (the run may be cut short by its timeout), the first 40 of them.
  const fail = (f: Failure) => {
    failures.push(f);
    if (failures.length <= 40) console.log(`FAIL ${f.what}: ${f.detail}`);
  };
  const started = performance.now();
  // Past TSKC_CHECK_BUDGET_S (from the start) no new kernel starts: the summary still prints, and says
  // how many ran, before the step's time limit would kill the check. Each phase stops at its share of
  // the budget (SHARES), so that the later ones run too: in session 22 the library and option phases
  // took the whole budget, and no random program ever ran on the GPU.
  const budgetS = Number(process.env['TSKC_CHECK_BUDGET_S'] ?? Infinity);
  const overBudget = (share = 1) => (performance.now() - started) / 1000 > budgetS * share;
  const phase = (what: string) => console.log(`${what} done after ${((performance.now() - started) / 1000).toFixed(1)} s (${examplesRun} kernel runs, ${failures.length} failures)`);
  const seed = Number(process.env['TSKC_CHECK_SEED'] ?? freshSeed());
  const r = rng(seed);
  const programs = Number(process.env['TSKC_FUZZ_RUNS'] ?? 300);
  const matmuls = Number(process.env['TSKC_FUZZ_MATMULS'] ?? (kind === 'cuda' ? 30 : 10));
  const compilers = kind === 'cuda' ? precompileInBackground(cache, seed, matmuls, programs) : [];

  // `roundForReference`: tensors the reference reads rounded to tf32 (the tf32 option's dot operands).
  const runBoth = async (kernel: Kernel, args: Record<string, Tensor | number>, what: string, approximate: (name: string) => boolean, on: Runner = gpu, roundForReference: readonly string[] = [], floatUlps = 4) => {
    const want = copyArguments(args);
    roundedToTf32(want, roundForReference);
    try {
      await (await on.compile(kernel)).run(args);
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n').slice(0, 12).join('\n') : String(e);
      fail({ what, detail: `${kind} failed: ${message}` });
      // A fault poisons the CUDA context (or loses the WebGPU device): every later launch would fail the same way.
      if (/ILLEGAL_ADDRESS|LAUNCH_FAILED|MISALIGNED|ILLEGAL_INSTRUCTION|device was lost/.test(message)) throw new ContextLost(what);
      return;
    }
    await (await interp.compile(kernel)).run(want);
    for (const a of kernel.args) {
      if (a.type.kind !== 'tensor' || a.type.access === 'in') continue;
      const error = disagreement(a.type.dtype, (args[a.name!] as Tensor).toValues(), (want[a.name!] as Tensor).toValues(), approximate(a.name!), floatUlps);
      if (error) fail({ what, detail: `output ${a.name}: ${error}` });
    }
  };

  try {
    for (const [name, def] of Object.entries(exampleKernels)) {
      const kernel = (def as { build(): Kernel }).build();
      for (let trial = 0; trial < 3; trial++) {
        const symbols = EXAMPLE_SHAPES[name]!(r);
        const argSeed = Math.floor(r() * 2 ** 31);
        await runBoth(kernel, makeArguments(kernel, symbols, argSeed), `${name} ${JSON.stringify(symbols)} seed ${argSeed}`, () => true);
        examplesRun++;
      }
    }

    phase('examples');

    // The copy, and the library's kernels at ragged shapes.
    const library = benchKernels();
    // Two trials of a library kernel at ragged shapes, on `on`.
    const runLibraryKernel = async (kernel: Kernel, shapes: (q: () => number) => Record<string, number>, on: Runner, label: string) => {
      for (let trial = 0; trial < 2; trial++) {
        const symbols = shapes(r);
        const argSeed = Math.floor(r() * 2 ** 31);
        const args = libraryArguments(kernel, symbols, argSeed);
        await runBoth(kernel, args, `${kernel.name}${label} ${JSON.stringify(symbols)} seed ${argSeed}`, () => true, on);
        examplesRun++;
      }
    };
    for (const [kernel, shapes] of library) {
      if (overBudget(SHARES.library)) break;
      await runLibraryKernel(kernel, shapes, gpu, paramsNote(kernel));
    }
    phase('library kernels');

    // The FMA dot of every library kernel whose dot the default puts on tensor cores.
    if (fma) {
      for (const [kernel, shapes] of library) {
        if (overBudget(SHARES.options)) break;
        if (takesTensorCores(kernel)) await runLibraryKernel(kernel, shapes, fma, `${paramsNote(kernel)} on FMA`);
      }
      phase('FMA-dot kernels');
    }

    // Larger tiles on the register path, then the library's register-path kernels staged instead.
    if (staged) {
      for (const tile of REGISTER_TILES) {
        if (overBudget(SHARES.options)) break;
        const { params, threads } = tile;
        const kernel = registerLinear(params);
        await runLibraryKernel(kernel, libraryShapes(kernel.name, params), cudaRunner(cache, registerOptions(tile)), ` ${params.BM}x${params.BN}x${params.BK}${threads ? ` on ${threads} threads` : ''} with accumulators in registers`);
      }
      for (const [kernel, shapes] of library) {
        if (overBudget(SHARES.options)) break;
        if (takesRegisterAccumulators(kernel)) await runLibraryKernel(kernel, shapes, staged, `${paramsNote(kernel)} with the accumulator staged`);
      }
      phase('register tiles and staged accumulators');
    }

    // f32 linear layers on tf32 tensor cores, against the interpreter's dot of x and w rounded to tf32:
    // the fragments of mma.m16n8k8 and the rounding (cvt.rna) on the hardware, within tf32DotUlps.
    for (const [i, on] of tf32.entries()) {
      const kernel = tf32Linear();
      for (let trial = 0; trial < 2 && !overBudget(SHARES.options); trial++) {
        const symbols = libraryShapes(kernel.name, kernel.params)(r);
        const argSeed = Math.floor(r() * 2 ** 31);
        const ulps = tf32DotUlps(symbols['K']!);
        await runBoth(kernel, libraryArguments(kernel, symbols, argSeed), `${kernel.name} on tf32${i ? ' with the accumulator staged' : ''} ${JSON.stringify(symbols)} seed ${argSeed}`, () => true, on, ['x', 'w'], ulps);
        examplesRun++;
      }
    }
    if (tf32.length) phase('tf32 kernels');

    // Random tiled matmuls, each under its own drawn options on CUDA (threads, stages, registers, tf32,
    // FMA), on small integers: every sum is exact in any order, so the GPU must agree exactly.
    for (let i = 0; i < matmuls && !overBudget(SHARES.matmuls); i++) {
      const p = randomMatmul((seed + i) >>> 0);
      const on: Runner = kind === 'cuda' ? cudaRunner(cache, p.options) : gpu;
      await runBoth(p.kernel, smallIntegerArguments(p), `random matmul ${p.seed} (${p.description}) at ${JSON.stringify({ ...p.symbols, ...p.scalars })}`, () => false, on, [], 0);
      examplesRun++;
    }
    phase('random matmuls');

    // The kernels the graph API makes (dsl/graph), each against the interpreter on random inputs.
    for (const kernel of graphKernels(r)) {
      if (overBudget(SHARES.graph)) break;
      const argSeed = Math.floor(r() * 2 ** 31);
      await runBoth(kernel, makeArguments(kernel, {}, argSeed), `graph kernel ${kernel.name} seed ${argSeed}`, () => true);
      examplesRun++;
      if (fma && takesTensorCores(kernel)) {
        await runBoth(kernel, makeArguments(kernel, {}, argSeed), `graph kernel ${kernel.name} on FMA seed ${argSeed}`, () => true, fma);
        examplesRun++;
      }
      if (staged && takesRegisterAccumulators(kernel)) {
        await runBoth(kernel, makeArguments(kernel, {}, argSeed), `graph kernel ${kernel.name} with the accumulator staged seed ${argSeed}`, () => true, staged);
        examplesRun++;
      }
    }

    phase('graph kernels');

    // Random programs until TSKC_FUZZ_RUNS or the time budget runs out.
    for (let i = 0; i < programs && !overBudget(); i++) {
      programsRun++;
      const p = randomProgram((seed + i) >>> 0, 8, false, false);
      const args: Record<string, Tensor | number> = {};
      for (const [k, v] of Object.entries(p.makeArgs())) args[k] = Tensor.fromHostTensor(v);
      await runBoth(p.kernel, args, `random program ${p.seed}`, (n) => p.approximate.has(n));
    }
    phase('random programs');

  } catch (e) {
    if (!(e instanceof ContextLost)) throw e;
    console.log(`stopped: the ${kind} context was lost after ${e.message}`);
  }
  compilers.forEach((child) => child.kill('SIGKILL'));
  const summary = { device: kind, seed, examplesRun, programs: programsRun, programsAsked: programs, budgetSpent: overBudget(), failures: failures.length, pass: failures.length === 0 };
  console.log(JSON.stringify(summary));
  if (process.env['OUT']) writeFileSync(join(process.env['OUT'], `check-${kind}.json`), JSON.stringify({ ...summary, failures }, null, 2));
  process.exitCode = failures.length === 0 ? 0 : 1;
}

await main();
