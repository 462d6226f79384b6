/**
 * CPU benchmarks against peers measured in the same run: numpy (OpenBLAS) for sgemm, softmax, layer
 * norm, the library's fused kernels (numpy composes the same computation from its operations) and the
 * low-bit kernels, each timed right after the kernel it is compared with (numpy-peer.ts), and a plain C
 * copy loop for the memory bandwidth. Writes bench/RESULTS.md (and prints
 * it) and bench/RESULTS-cpu.svg (each rate beside the peer's, the bandwidths against the copy).
 *   npm run bench:cpu
 * Needs python3 with numpy, and a C compiler.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { emitC } from '../../backends/c/index.js';
import { type Dtype, f32, f4e2m1, f6e3m2, i32, u3, u4, u6 } from '../../compiler/ir/dtype.js';
import { linear } from '../../kernels/linear.js';
import { lowbitGemm } from '../../kernels/lowbit/gemm.js';
import { crossEntropyRows } from '../../kernels/rows/cross-entropy.js';
import { flashAttention } from '../../kernels/attention.js';
import { gegluRows, swigluRows } from '../../kernels/rows/glu.js';
import { rotaryRows } from '../../kernels/rows/rotary.js';
import { layerNormRows, rmsNormResidualRows, rmsNormRows } from '../../kernels/rows/norms.js';
import { logSoftmaxRows, softmaxRows } from '../../kernels/rows/softmax.js';
import { lowbitGemv } from '../../kernels/lowbit/gemv.js';
import { dotTileOrder, tileDims } from '../../kernels/lowbit/layout.js';
import { device } from '../../runtime/device.js';
import { Tensor } from '../../runtime/tensor.js';
import { DEFAULT_CFLAGS, compileSharedObject, detectToolchain } from '../../runtime/cpu/toolchain.js';
import { NumpyPeer } from './numpy-peer.js';
import { PRELUDE } from '../../backends/clike/prelude.js';
import { type Bar, type Panel, barChartSvg } from '../plot.js';
import { type Expr, compileGraph, graphInput } from '../../dsl/graph/index.js';
import { runGraph } from '../../runtime/graph.js';
import { tuneProgram } from '../../runtime/tune.js';
import { layerNorm } from '../../examples/layer-norm.js';
import { matmul } from '../../examples/matmul.js';
import { softmax } from '../../examples/softmax.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Milliseconds of calls made before timing: on these VMs a kernel timed right after an idle pause ran
 * up to 3x slower for its first few calls (the u4 GEMV: 7.97 ms median after 50 ms idle, 2.66 back to
 * back), which one warm-up call did not cover. numpy_peer.py warms its peers the same way.
 */
const WARM_MS = 200;
/** Milliseconds of timed calls at least (and `repeats` calls at least): a median of many short calls. */
const MEASURE_MS = 500;

/** The middle of the sorted times. */
const median = (times: readonly number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

function medianMs(fn: () => void, repeats: number): number {
  for (let start = performance.now(), calls = 0; calls < 2 || performance.now() - start < WARM_MS; calls++) fn();
  const times: number[] = [];
  for (const start = performance.now(); times.length < repeats || performance.now() - start < MEASURE_MS; ) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * A memory-bound kernel (`fn`, which may return a promise) timed with a copy after each of its calls
 * (`copy`, the one that was faster at the start, so that every call of the kernel follows the same
 * kind of copy): the kernel's median, and the copy's median rate over the same stretch of time. The
 * bandwidth these VMs give drifts by a third within minutes, more than most differences between
 * kernels; side by side, the kernel and its yardstick see the same machine.
 */
async function besideCopy(fn: () => unknown, copy: () => void, repeats: number): Promise<{ ms: number; copyGBs: number }> {
  for (let start = performance.now(), calls = 0; calls < 2 || performance.now() - start < WARM_MS; calls++) await fn();
  const times: number[] = [];
  const copyTimes: number[] = [];
  // A copy (512 MiB moved) takes 2-4 times a kernel's call here: twice the usual window still gives
  // the kernel's median some 50 calls.
  for (const start = performance.now(); times.length < repeats || performance.now() - start < 2 * MEASURE_MS; ) {
    const t0 = performance.now();
    await fn();
    const t1 = performance.now();
    copy();
    times.push(t1 - t0);
    copyTimes.push(performance.now() - t1);
  }
  return { ms: median(times), copyGBs: copyRate(median(copyTimes)) };
}

async function medianAsyncMs(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  for (let start = performance.now(), calls = 0; calls < 2 || performance.now() - start < WARM_MS; calls++) await fn();
  const times: number[] = [];
  for (const start = performance.now(); times.length < repeats || performance.now() - start < MEASURE_MS; ) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function random(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues(f32, shape, Float64Array.from({ length: n }, () => Math.random() * 2 - 1));
}

/**
 * Weights of `code` for the low-bit kernels, [n, k], or in `tile`s of BN x BK: [n / BN, k / BK, BN, BK];
 * for the GEMV's 'dot' form (`dot`) in its tiles (kernels/lowbit/layout.ts: dotTileOrder), with the
 * scales and zero points group-major. Group scales and middle zero points; the codes are random words
 * (any word holds valid codes): the tests check the values, the benchmarks the speed.
 */
function lowbitWeights(code: Dtype, n: number, k: number, group: number, tile?: readonly [number, number], dot = false) {
  const w = Tensor.empty(code, tile ? [n / tile[0], k / tile[1], ...tileDims(tile, dot ? dotTileOrder(code) : 'rows', code)] : [n, k]);
  const words = new Uint32Array(w.storage.buffer, w.storage.byteOffset, w.storage.byteLength / 4);
  for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 2 ** 32) >>> 0;
  const groups = (n * k) / group;
  const shape = dot ? [k / group, n] : [n, k / group];
  const scales = Tensor.fromValues(f32, shape, Float64Array.from({ length: groups }, () => Math.random() / 8));
  const zeros = Tensor.fromValues(f32, shape, new Float64Array(groups).fill(2 ** (code.bits - 1)));
  return { w, scales, zeros };
}

/**
 * The widest vector instructions the CPU has, from /proc/cpuinfo: "AMD EPYC" has named machines with
 * AVX-512 and machines with AVX2 only here, and -march=native code differs between them.
 */
function vectorIsa(): string {
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1]?.trim().split(/\s+/) ?? []);
  return flags.has('avx512f') ? 'AVX-512' : flags.has('avx2') ? 'AVX2' : flags.size ? 'no AVX2' : 'vector ISA unknown';
}

/** The plain and the streaming copy (copy.c) of 256 MiB: each as a call, and both timed now. */
interface Copier {
  readonly calls: readonly (() => void)[];
  /** Medians of each copy's calls, in milliseconds. */
  time(): { plain: number; streaming: number };
}

async function copier(): Promise<Copier> {
  const dir = mkdtempSync(join(tmpdir(), 'tskc-bench-'));
  const so = join(dir, 'copy.so');
  await compileSharedObject(join(here, 'copy.c'), so);
  const lib = koffi.load(so);
  const copies = ['copy_floats', 'copy_floats_streaming'].map((name) => lib.func(`void ${name}(float *dst, const float *src, int64_t n)`));
  // 256 MiB each way: larger than the last-level cache, so this is memory bandwidth. Tensors' storage,
  // as the kernels' arguments are: on huge pages once a cpu device exists (runtime/tensor.ts), which
  // copy 1.36x faster than an ArrayBuffer's 4 KiB pages here.
  const n = 64 * 1024 * 1024;
  const [src, dst] = [Tensor.empty(f32, [n]), Tensor.empty(f32, [n])];
  (src.storage as Float32Array).fill(1);
  const calls = copies.map((copy) => () => copy(dst.storage, src.storage, n));
  return {
    calls,
    time: () => {
      const [plain, streaming] = calls.map((call) => medianMs(call, 10)) as [number, number];
      return { plain, streaming };
    },
  };
}

/** GB/s of a copy of 256 MiB that took `ms` milliseconds (256 MiB read, 256 MiB written). */
const copyRate = (ms: number) => (2 * 256 * 2 ** 20) / (ms * 1e6);

/**
 * The hand-written fused C softmax (softmax_hand.c), compiled with tskc's flags (and `extra`):
 * milliseconds; where `want` (the kernel's y) is given, after checking that its y agrees to 1e-6.
 */
async function handSoftmaxMs(x: Tensor, y: Tensor, m: number, n: number, extra: string[] = [], want?: Float64Array): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tskc-bench-'));
  const so = join(dir, 'softmax_hand.so');
  writeFileSync(join(dir, 'tskc_prelude.h'), PRELUDE);
  await compileSharedObject(join(here, 'softmax_hand.c'), so, [...DEFAULT_CFLAGS, `-I${dir}`, ...extra]);
  const run = koffi.load(so).func('void softmax_rows(float *y, const float *x, int64_t m, int64_t n)');
  if (want) {
    y.fill(NaN);
    run(y.storage, x.storage, m, n);
    y.toValues().forEach((v, i) => {
      if (!(Math.abs(v - want[i]!) <= 1e-6 * Math.max(Math.abs(want[i]!), 1e-30))) throw new Error(`softmax_hand.c: y[${i}] = ${v}, the kernel's ${want[i]}`);
    });
  }
  return medianMs(() => run(y.storage, x.storage, m, n), 5);
}

/**
 * The hand-written u4 GEMV (gemv_hand.c) on the 'dot' form's arguments: milliseconds, after checking
 * that its y agrees with the kernel's (`want`) to 1e-4 of the largest value.
 */
async function handGemvMs(args: { x: Tensor; w: Tensor; scales: Tensor; zeros: Tensor }, want: Float64Array, n: number, k: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tskc-bench-'));
  const so = join(dir, 'gemv_hand.so');
  await compileSharedObject(join(here, 'gemv_hand.c'), so, [...DEFAULT_CFLAGS, '-ffp-contract=fast']);
  const run = koffi.load(so).func('void gemv_u4_hand(float *y, const float *x, const uint32_t *w, const float *scales, const float *zeros, int64_t n, int64_t k)');
  const y = Tensor.empty(f32, [1, n]);
  const call = () => run(y.storage, args.x.storage, args.w.storage, args.scales.storage, args.zeros.storage, n, k);
  call();
  const got = y.toValues();
  const largest = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  got.forEach((v, i) => {
    if (!(Math.abs(v - want[i]!) <= 1e-4 * largest)) throw new Error(`gemv_hand.c: y[${i}] = ${v}, the kernel's ${want[i]}`);
  });
  return medianMs(call, 5);
}

async function main(): Promise<void> {
  const toolchain = await detectToolchain();
  // Each peer is timed right after the kernel it is compared with (the row's arguments are evaluated
  // in order: ours, then the peer's).
  const peer = await NumpyPeer.start(here);
  // Before any tensor is made: a cpu device places large storage (runtime/cpu/loader.ts placeStorage).
  const cpu = device('cpu');
  // The yardstick: the faster of the two copies, as the kernels stream their large outputs too.
  const copy = await copier();
  const copies = copy.time();
  const numpyCopyMs = await peer.ms('copy_256MiB');
  const [plainGBs, streamingGBs] = [copyRate(copies.plain), copyRate(copies.streaming)];
  const copyGBs = copyRate(Math.min(copies.plain, copies.streaming));
  // The copy each memory-bound row is timed beside (besideCopy): the faster one.
  const fasterCopy = copy.calls[copies.plain <= copies.streaming ? 0 : 1]!;
  const rows: string[] = [];
  const bandwidthBars: Bar[] = [];
  const computeBars: Bar[] = [];
  const push = (work: string, ms: number, rate: string, peerMs: number, peerRate: string) =>
    rows.push(Number.isNaN(peerMs) ? `| ${work} | ${ms.toFixed(2)} ms | ${rate} | no peer | | |` : `| ${work} | ${ms.toFixed(2)} ms | ${rate} | ${peerMs.toFixed(2)} ms | ${peerRate} | ${(peerMs / ms).toFixed(2)}x |`);
  // A memory-bound row, against the faster copy timed beside its kernel (besideCopy). `peerBytes`: what
  // the peer moves, when it is not the same work (numpy's fp32 GEMV for a low-bit one).
  const memoryRow = (work: string, { ms, copyGBs: beside }: { ms: number; copyGBs: number }, peerMs: number, bytes: number, peerBytes = bytes) => {
    const [ours, theirs] = [bytes / (ms * 1e6), peerBytes / (peerMs * 1e6)];
    bandwidthBars.push({ label: work, ours, peer: theirs });
    push(work, ms, `${ours.toFixed(1)} GB/s (${((100 * ours) / beside).toFixed(0)}% of ${beside.toFixed(1)})`, peerMs, `${theirs.toFixed(1)} GB/s`);
  };
  const computeRow = (work: string, ms: number, peerMs: number, flops: number) => {
    const [ours, theirs] = [flops / (ms * 1e6), flops / (peerMs * 1e6)];
    computeBars.push({ label: work, ours, peer: theirs });
    push(work, ms, `${ours.toFixed(1)} GFLOP/s`, peerMs, `${theirs.toFixed(1)} GFLOP/s`);
  };

  const [m, n] = [4096, 4096];
  const x = random([m, n]);
  const sm = await cpu.compile(softmax.build({ BLOCK_N: 4096 }));
  const y = Tensor.empty(f32, [m, n]);
  memoryRow('softmax fp32 4096x4096', await besideCopy(() => sm.launch({ x, y }), fasterCopy, 5), await peer.ms('softmax_4096'), 2 * m * n * 4);
  const handMs = await handSoftmaxMs(x, y, m, n, [], y.toValues());
  const boundMs = await handSoftmaxMs(x, y, m, n, ['-DWITHOUT_EXP']);

  const ln = await cpu.compile(layerNorm.build({ BLOCK_N: 4096 }));
  const [w, b] = [random([n]), random([n])];
  memoryRow('layer norm fp32 4096x4096', await besideCopy(() => ln.launch({ x, w, b, y }), fasterCopy, 5), await peer.ms('layer_norm_4096'), 2 * m * n * 4);

  // Library kernels against the same computation composed from numpy operations (kernels/rows/).
  {
    const [r, h, g] = [random([m, n]), Tensor.empty(f32, [m, n]), random([m, n])];
    const smLib = await cpu.compile(softmaxRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('softmax fp32 4096x4096 (library: a product by the reciprocal of the sum)', await besideCopy(() => smLib.launch({ x, y }), fasterCopy, 5), await peer.ms('softmax_4096'), 2 * m * n * 4);
    const lnLib = await cpu.compile(layerNormRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('layer norm fp32 4096x4096 (library)', await besideCopy(() => lnLib.launch({ x, w, b, y }), fasterCopy, 5), await peer.ms('layer_norm_4096'), 2 * m * n * 4);
    const rms = await cpu.compile(rmsNormRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('RMS norm fp32 4096x4096 (library)', await besideCopy(() => rms.launch({ x, w, y }), fasterCopy, 5), await peer.ms('rms_norm_4096'), 2 * m * n * 4);
    const fused = await cpu.compile(rmsNormResidualRows(f32).build({ BLOCK_N: 4096 }));
    // Reads x, r and w, writes h and y.
    memoryRow('RMS norm + residual fp32 4096x4096 (library)', await besideCopy(() => fused.launch({ x, r, w, h, y }), fasterCopy, 5), await peer.ms('rms_norm_residual_4096'), 4 * m * n * 4);
    const swiglu = await cpu.compile(swigluRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('SwiGLU fp32 4096x4096 (library)', await besideCopy(() => swiglu.launch({ a: x, g, y }), fasterCopy, 5), await peer.ms('swiglu_4096'), 3 * m * n * 4);
    const logSm = await cpu.compile(logSoftmaxRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('log-softmax fp32 4096x4096 (library)', await besideCopy(() => logSm.launch({ x, y }), fasterCopy, 5), await peer.ms('log_softmax_4096'), 2 * m * n * 4);
    const geglu = await cpu.compile(gegluRows(f32).build({ BLOCK_N: 4096 }));
    memoryRow('GeGLU fp32 4096x4096 (library; exact gelu, numpy: scipy erf)', await besideCopy(() => geglu.launch({ a: x, g, y }), fasterCopy, 5), await peer.ms('geglu_4096'), 3 * m * n * 4);
    {
      // x [S, H, D] as the kernel takes it, [S, H, 2, D/2]; cos and sin [S, D/2].
      const [rs, rh, rd] = [4096, 32, 128];
      const [rx, ry, rcos, rsin] = [random([rs, rh, 2, rd / 2]), Tensor.empty(f32, [rs, rh, 2, rd / 2]), random([rs, rd / 2]), random([rs, rd / 2])];
      const rotary = await cpu.compile(rotaryRows(f32).build({ BLOCK: rd / 2 }));
      memoryRow('rotary embedding fp32 S=4096 H=32 D=128 (library)', await besideCopy(() => rotary.launch({ x: rx, cos: rcos, sin: rsin, y: ry }), fasterCopy, 5), await peer.ms('rotary_4096x32x128'), 4 * (2 * rs * rh * rd + rs * rd));
    }
    const [tokens, vocab] = [1024, 32000];
    const logits = random([tokens, vocab]);
    const targets = Tensor.fromValues(i32, [tokens], Float64Array.from({ length: tokens }, () => Math.floor(Math.random() * vocab)));
    const loss = Tensor.empty(f32, [tokens]);
    const ce = await cpu.compile(crossEntropyRows(f32).build());
    const [lm, lk, lnOut] = [1024, 2048, 2048];
    const [lx, lw, lb, ly] = [random([lm, lk]), random([lnOut, lk]), random([lnOut]), Tensor.empty(f32, [lm, lnOut])];
    const lin = await cpu.compile(linear(f32, { bias: true, activation: 'relu' }).build({ BM: 128, BN: 128, BK: 64 }));
    computeRow('linear + bias + relu fp32 1024x2048x2048 (library)', medianMs(() => lin.launch({ x: lx, w: lw, bias: lb, y: ly }), 3), await peer.ms('linear_bias_relu_1024x2048x2048'), 2 * lm * lk * lnOut);
    memoryRow('cross-entropy fp32 1024x32000 (library)', await besideCopy(() => ce.launch({ logits, targets, loss }), fasterCopy, 5), await peer.ms('cross_entropy_1024x32000'), 4 * tokens * vocab);
    // Flash attention, B=1 H=8 S=1024 D=64; numpy materializes the scores (batched matmul, softmax, matmul).
    // 64x64 tiles: in a C driver on the AVX2 VM, 25 ms against 33 for the library's default 32x32
    // (causal 20 against 24); 64x128 and 128x64 were within noise of 64x64.
    const shape = [1, 8, 1024, 64];
    const [q, k, v, o] = [random(shape), random(shape), random(shape), Tensor.empty(f32, shape)];
    for (const causal of [false, true]) {
      const attention = await cpu.compile(flashAttention(f32, causal).build({ BM: 64, BN: 64, BLOCK_D: 64, SCALE: 0.125 }));
      const flops = (causal ? 2 : 4) * 8 * 1024 * 1024 * 64;
      computeRow(`flash attention${causal ? ' causal' : ''} fp32 B=1 H=8 S=1024 D=64 (library)`, medianMs(() => attention.launch({ q, k, v, o }), 3), await peer.ms(`attention${causal ? '_causal' : ''}_1x8x1024x64`), flops);
    }
  }

  // The graph API (dsl/graph): each graph planned by the fusion pass, its tile sizes tuned here
  // (runtime/tune.ts), run with runGraph into output tensors allocated once; numpy composes the same.
  const graphNotes: string[] = [];
  {
    const graphRow = async (work: string, outputs: Record<string, Expr>, feeds: Record<string, Tensor>, peerKey: string, bytes: number | undefined, flops?: number) => {
      let program = compileGraph(outputs);
      const defaultMs = await medianAsyncMs(() => runGraph(cpu, program, feeds), 3);
      program = (await tuneProgram(cpu, program, feeds, { minMs: 200 })).program;
      const out = await runGraph(cpu, program, feeds);
      const run = () => runGraph(cpu, program, feeds, { outputs: out });
      const label = `${work} (graph: ${program.steps.length} kernel${program.steps.length === 1 ? '' : 's'})`;
      let ms: number;
      if (bytes !== undefined) {
        const timed = await besideCopy(run, fasterCopy, 5);
        memoryRow(label, timed, await peer.ms(peerKey), bytes);
        ms = timed.ms;
      } else {
        ms = await medianAsyncMs(run, 5);
        computeRow(label, ms, await peer.ms(peerKey), flops!);
      }
      graphNotes.push(`- ${work}: ${program.steps.map((st) => `${st.kernel.name} ${Object.entries(st.params).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('; ')}; ${ms.toFixed(2)} ms tuned, ${defaultMs.toFixed(2)} ms with the default tiles and fresh outputs`);
    };
    const [gx, gr, gg] = [graphInput('x', f32, [m, n]), graphInput('r', f32, [m, n]), graphInput('g', f32, [m, n])];
    const [gw, gb] = [graphInput('w', f32, [n]), graphInput('b', f32, [n])];
    const gh = gx.add(gr);
    const r = random([m, n]);
    await graphRow('softmax fp32 4096x4096', { y: gx.softmax() }, { x }, 'softmax_4096', 2 * m * n * 4);
    await graphRow('layer norm fp32 4096x4096', { y: gx.layerNorm(gw, gb) }, { x, w, b }, 'layer_norm_4096', 2 * m * n * 4);
    await graphRow('RMS norm + residual fp32 4096x4096', { h: gh, y: gh.rmsNorm(gw) }, { x, r, w }, 'rms_norm_residual_4096', 4 * m * n * 4);
    await graphRow('SwiGLU fp32 4096x4096', { y: gx.silu().mul(gg) }, { x, g: r }, 'swiglu_4096', 3 * m * n * 4);
    const [lm, lk, ln_] = [1024, 2048, 2048];
    const [lx, lw, lu, lb] = [graphInput('x', f32, [lm, lk]), graphInput('w', f32, [ln_, lk]), graphInput('u', f32, [ln_, lk]), graphInput('b', f32, [ln_])];
    const lfeeds = { x: random([lm, lk]), w: random([ln_, lk]), u: random([ln_, lk]), b: random([ln_]) };
    await graphRow('linear + bias + relu fp32 1024x2048x2048', { y: lx.matmul(lw.T).add(lb).relu() }, { x: lfeeds.x, w: lfeeds.w, b: lfeeds.b }, 'linear_bias_relu_1024x2048x2048', undefined, 2 * lm * lk * ln_);
    await graphRow('linear + bias + relu -> softmax fp32 1024x2048x2048', { y: lx.matmul(lw.T).add(lb).relu().softmax() }, { x: lfeeds.x, w: lfeeds.w, b: lfeeds.b }, 'linear_relu_softmax_1024x2048x2048', undefined, 2 * lm * lk * ln_);
    await graphRow('SwiGLU MLP silu(x Wg^T) * (x Wu^T) fp32 1024x2048x2048', { y: lx.matmul(lw.T).silu().mul(lx.matmul(lu.T)) }, { x: lfeeds.x, w: lfeeds.w, u: lfeeds.u }, 'swiglu_mlp_1024x2048x2048', undefined, 4 * lm * lk * ln_);
  }

  const s = 2048;
  const [a, bb, c] = [random([s, s]), random([s, s]), Tensor.empty(f32, [s, s])];
  // The example's kernel with larger tiles than its defaults (chosen by hand on this 2-core VM: 64x64x32
  // 147, 128x128x32 174, 128x128x64 208 GFLOP/s in a plain C driver), until the autotuner exists.
  const mm = await cpu.compile(matmul.build({ BM: 128, BN: 128, BK: 64 }));
  computeRow('sgemm fp32 2048^3 (128x128x64 tiles)', medianMs(() => mm.launch({ a, b: bb, c }), 3), await peer.ms('sgemm_2048'), 2 * s ** 3);

  // Weight-only GEMV, N = K = 8192, group 128, with zero points (kernels/lowbit/gemv.ts): u4 with W
  // row-major and in 64x128 tiles, each step's products summed (the default form); then u4, u3 and u6
  // (whose codes straddle words), f4e2m1 and f6e3m2 (small floats, looked up in registers) with each step a
  // dot from 128x128 tiles (kernels/lowbit/layout.ts: interleaved for u4 and f4e2m1, column-major for
  // u3, u6 and f6e3m2) and group-major scales, the CPU's form.
  let [handGemv, handGemvPeer] = [NaN, NaN];
  const gemvRows = [[u4, undefined, 'step'], [u4, [64, 128], 'step'], [u4, [128, 128], 'dot'], [u3, [128, 128], 'dot'], [u6, [128, 128], 'dot'], [f4e2m1, [128, 128], 'dot'], [f6e3m2, [128, 128], 'dot']] as const;
  for (const [code, tile, accumulate] of gemvRows) {
    const [gn, gk, group] = [8192, 8192, 128];
    const { w, scales, zeros } = lowbitWeights(code, gn, gk, group, tile, accumulate === 'dot');
    const [gx, gy] = [random([1, gk]), Tensor.empty(f32, [1, gn])];
    const gemv = await cpu.compile(lowbitGemv(f32, code, true, { ...(tile ? { tile } : {}), accumulate }).build({ BN: tile?.[0] ?? 64, BK: 128, GROUP: group }));
    // Bytes moved: the codes, the scales and zero points, x and y.
    const bytes = (gn * gk * code.bits) / 8 + 2 * 4 * ((gn * gk) / group) + 4 * (gk + gn);
    const form = accumulate === 'dot' ? `dot steps, W in ${dotTileOrder(code) === 'interleaved' ? 'interleaved' : 'column-major'} 128x128 tiles` : `step sums, W ${tile ? 'in 64x128 tiles' : 'row-major'}`;
    memoryRow(`${code.name} GEMV 8192x8192, group 128, ${form} (numpy: fp32 GEMV)`, await besideCopy(() => gemv.launch({ x: gx, w, scales, zeros, y: gy }), fasterCopy, 5), await peer.ms('gemv_8192'), bytes, 4 * (gn * gk + gk + gn));
    if (code === u4 && accumulate === 'dot') {
      handGemv = await handGemvMs({ x: gx, w, scales, zeros }, gy.toValues(), gn, gk);
      handGemvPeer = await peer.ms('gemv_8192');
    }
  }
  // u4 weight-only GEMM, x [256, 4096], W [4096, 4096], group 128 (kernels/lowbit/gemm.ts), 128x128x128
  // tiles. When each step's dot took the dequantized weights (before session 24): 64x64x32 130,
  // 128x128x32 172, 128x128x64 195 GFLOP/s. Since each step's dot takes the centred codes and its sums
  // are scaled after, a step adds a pass over the [128, 128] accumulator. Side by side with the
  // dequantizing form at its best tiles (128x128x64) in one process: the new form at 128x128x64 136
  // against 162 GFLOP/s; at 128x128x128 (half the passes) 157 against 157 in a second run (the VM's
  // speed moves by a few percent between runs).
  {
    const [gm, gn, gk, group] = [256, 4096, 4096, 128];
    const { w, scales, zeros } = lowbitWeights(u4, gn, gk, group);
    const [gx, gy] = [random([gm, gk]), Tensor.empty(f32, [gm, gn])];
    const gemm = await cpu.compile(lowbitGemm(f32, u4, true).build({ BM: 128, BN: 128, BK: 128, GROUP: group }));
    computeRow('u4 GEMM 256x4096x4096, group 128 (numpy: fp32 matmul)', medianMs(() => gemm.launch({ x: gx, w, scales, zeros, y: gy }), 3), await peer.ms('gemm_256x4096'), 2 * gm * gn * gk);
  }
  // Compile latency: DSL -> C source in a warm process, and a cached compile (load from disk).
  const emitMs = medianMs(() => emitC(softmax.build({ BLOCK_N: 512 + Math.floor(Math.random() * 1000) })), 20);
  const cached: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    await cpu.compile(softmax.build({ BLOCK_N: 4096 }));
    cached.push(performance.now() - t0);
  }
  const cachedMs = median(cached);

  const report = [
    '# CPU benchmark results',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown'} (${vectorIsa()}), ${cpus().length} cores; Node ${process.version}; ${toolchain.version}; numpy ${peer.version}.`,
    `Command: \`npm run bench:cpu\` (bench/cpu/run.ts), ${new Date().toISOString().slice(0, 10)}. Each time is the median of calls over at least 0.5 s (1 s for a memory-bound row, whose calls alternate with copies), after 0.2 s of calls to warm up; each numpy time is taken right after the tskc kernel of its row.`,
    '',
    `Copy bandwidth (C float copy, OpenMP, 256 MiB read + 256 MiB written, tensors' storage on transparent huge pages as the kernels' is; numpy's arrays are too): ${copyGBs.toFixed(1)} GB/s, the faster of a plain copy (${plainGBs.toFixed(1)} GB/s) and one with streaming stores (${streamingGBs.toFixed(1)} GB/s); numpy copyto ${copyRate(numpyCopyMs).toFixed(1)} GB/s. In the table, "x% of C" is a memory-bound row's rate over C GB/s, the median rate of the faster copy (as timed at the start) over calls that alternated with the row's kernel calls (each kernel call followed by a copy): the bandwidth these VMs give drifts by as much as a third within minutes.`,
    '',
    `Hand-written fused C softmax (bench/cpu/softmax_hand.c, same exp and sum, same flags), 4096x4096: ${handMs.toFixed(2)} ms = ${((2 * m * n * 4) / (handMs * 1e6)).toFixed(1)} GB/s (${((100 * (2 * m * n * 4)) / (handMs * 1e6) / copyGBs).toFixed(0)}% of copy).`,
    `The same with the exp left out (-DWITHOUT_EXP; not a softmax, a bound for one): ${boundMs.toFixed(2)} ms = ${((2 * m * n * 4) / (boundMs * 1e6)).toFixed(1)} GB/s (${((100 * (2 * m * n * 4)) / (boundMs * 1e6) / copyGBs).toFixed(0)}% of copy).`,
    '',
    `Hand-written u4 GEMV (bench/cpu/gemv_hand.c, the 'dot' form's arithmetic with vector extensions), 8192x8192, group 128: ${handGemv.toFixed(2)} ms (${(handGemvPeer / handGemv).toFixed(2)}x numpy's fp32 GEMV).`,
    '',
    '| work | tskc cpu | tskc rate | numpy | numpy rate | tskc speed / numpy |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Compile latency: DSL trace + C emission ${emitMs.toFixed(2)} ms (median, warm process); compile() of a cached kernel ${cachedMs.toFixed(2)} ms.`,
    '',
    'Graph rows (dsl/graph): the kernels the fusion pass chose, the tiles tuneProgram chose, and the time with the default tiles and outputs allocated per run (a fresh tensor pays its page faults on first touch, one per 2 MiB where it is on huge pages):',
    '',
    ...graphNotes,
    '',
  ].join('\n');
  peer.close();
  process.stdout.write(report);
  // The measurements replace the top of the file; its history section (earlier runs, by hand) stays.
  const path = join(here, '..', 'RESULTS.md');
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const history = previous.indexOf('\n## History');
  writeFileSync(path, history < 0 ? report : `${report.trimEnd()}\n${previous.slice(history)}`);
  const panels: Panel[] = [
    { title: 'Memory-bound work: bytes it must move / time', unit: 'GB/s', bars: bandwidthBars, limit: { label: 'copy', value: copyGBs } },
    { title: 'Compute-bound work', unit: 'GFLOP/s', bars: computeBars },
  ];
  writeFileSync(join(here, '..', 'RESULTS-cpu.svg'), barChartSvg(panels, 'numpy, same run', `npm run bench:cpu, ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown'} (${vectorIsa()}, ${cpus().length} cores)`));
}

await main();
