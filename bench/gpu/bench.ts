/**
 * GPU benchmarks of tskc's CUDA backend, run by bench/gpu/run.sh next to PyTorch (torch_peer.py) in
 * the same call: a DSL copy kernel, bf16 row softmax / layer norm / RMS norm at 4096 x 8192, the
 * example f32 matmul, and the low-bit GEMV (kernels/lowbit/gemv.ts) at several code widths; and graphs
 * of the graph API (dsl/graph) as the fusion pass cuts them, every kernel of a graph in one timed run.
 * Times are CUDA-event medians of up to 20 samples of up to 10 back-to-back launches (runs of a graph)
 * on device-resident buffers, after warm-up; slow cases take fewer (see timing()), so that the whole
 * bench fits the GPU machine's short lease. Also the NVRTC cold compile and the cached module load.
 * Each result is printed to stderr as a JSON line as soon as it is measured (a case that fails gives a
 * row with its error); the end prints one JSON object and writes $OUT/bench.json.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel } from '../../compiler/ir/ir.js';
import { matmul } from '../../examples/matmul.js';
import { rng } from '../../examples/check.js';
import { ArtifactCache } from '../../runtime/cache.js';
import { compileCuda } from '../../runtime/cuda/cuda-kernel.js';
import { Tensor } from '../../runtime/tensor.js';
import { copy, rowCopy } from './kernels.js';
import { softmaxRows } from '../../kernels/rows/softmax.js';
import { layerNormRows, rmsNormRows } from '../../kernels/rows/norms.js';
import { type Dtype, bf16, dtype, f32 } from '../../compiler/ir/dtype.js';
import { flashAttention } from '../../kernels/attention.js';
import { linear } from '../../kernels/linear.js';
import { lowbitGemv } from '../../kernels/lowbit/gemv.js';
import { lowbitGemm } from '../../kernels/lowbit/gemm.js';
import { type Expr, compileGraph, graphInput } from '../../dsl/graph/index.js';
import type { GraphProgram } from '../../compiler/graph/program.js';
import type { CudaCompileOptions, CudaKernel } from '../../runtime/cuda/cuda-kernel.js';

interface Case {
  readonly name: string;
  readonly kernel: Kernel;
  readonly shapes: Record<string, number[]>;
  /** A graph: its kernels run one after the other (kernel and shapes are its first step's). */
  readonly graph?: GraphProgram;
  /** Bytes that must move (read + written), for GB/s; or flops, for TFLOP/s. */
  readonly bytes?: number;
  readonly flops?: number;
  /** Threads per block, when not the backend's choice (a sweep). */
  readonly threads?: number;
  /** Blocks per SM for __launch_bounds__ (caps registers), when not the backend's 1. */
  readonly minBlocksPerSm?: number;
  /** bf16 dots on tensor cores (mma.sync: CudaEmitOptions.tensorCores). */
  readonly tensorCores?: boolean;
  /** Tensor-core accumulators in registers (CudaEmitOptions.registerAccumulators). */
  readonly registerAccumulators?: boolean;
  /** With registerAccumulators, the stages of cp.async copies ahead (CudaEmitOptions.pipelineStages; 3 unless given). */
  readonly pipelineStages?: number;
  /** f32 dots on tf32 tensor cores (CudaEmitOptions.tf32). */
  readonly tf32?: boolean;
  /** More NVRTC options (CudaCompileOptions.nvrtcOptions). */
  readonly nvrtcOptions?: readonly string[];
}

const [M, N] = [4096, 8192];

function lowbitGemvCase(code: string, m: number, tiled = false, tile: { bn?: number; threads?: number; minBlocksPerSm?: number; tileAccumulator?: boolean } = {}): Case {
  const [n, k, group, bn, bk] = [8192, 8192, 128, tile.bn ?? 16, 128];
  const weight = dtype(code);
  const knobs = [
    `BN=${bn}`,
    ...(tile.threads ? [`${tile.threads} threads`] : []),
    ...(tile.minBlocksPerSm ? [`${tile.minBlocksPerSm} blocks/SM`] : []),
    ...(tile.tileAccumulator ? ['tile accumulator'] : []),
  ];
  const variant = tile.bn || tile.threads || tile.minBlocksPerSm || tile.tileAccumulator ? ` (${knobs.join(', ')})` : '';
  return {
    name: `${code} GEMV bf16 M=${m} N=K=8192 g128${tiled ? ' (W in 16x128 tiles)' : ''}${variant}`,
    kernel: lowbitGemv(bf16, weight, true, { ...(tiled ? { tile: [bn, bk] as const } : {}), ...(tile.tileAccumulator ? { accumulate: 'tile' as const } : {}) }).build({ BN: bn, BK: bk, GROUP: group }),
    shapes: { x: [m, k], w: tiled ? [n / bn, k / bk, bn, bk] : [n, k], scales: [n, k / group], zeros: [n, k / group], y: [m, n] },
    bytes: (n * k * weight.bits) / 8 + 2 * 4 * ((n * k) / group) + 2 * m * (k + n),
    ...(tile.threads ? { threads: tile.threads } : {}),
    ...(tile.minBlocksPerSm ? { minBlocksPerSm: tile.minBlocksPerSm } : {}),
  };
}

const cases: Case[] = [
  { name: 'copy f32 1 GiB', kernel: copy.build(), shapes: { x: [1 << 28], y: [1 << 28] }, bytes: 2 * 4 * (1 << 28) },
  { name: 'softmax bf16 4096x8192', kernel: softmaxRows(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: 'layer_norm bf16 4096x8192', kernel: layerNormRows(bf16).build(), shapes: { x: [M, N], w: [N], b: [N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: 'rms_norm bf16 4096x8192', kernel: rmsNormRows(bf16).build(), shapes: { x: [M, N], w: [N], y: [M, N] }, bytes: 2 * 2 * M * N },
  // The WebGPU bench's diagnostics, for the side-by-side table: rows copied without arithmetic, softmax on f32.
  { name: 'row copy bf16 4096x8192', kernel: rowCopy(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N },
  { name: 'row copy f32 4096x8192', kernel: rowCopy(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
  { name: 'softmax f32 4096x8192', kernel: softmaxRows(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
  { name: 'matmul f32 2048^3 (example, 64x64 tiles)', kernel: matmul.build(), shapes: { a: [2048, 2048], b: [2048, 2048], c: [2048, 2048] }, flops: 2 * 2048 ** 3 },
  // Weight-only low-bit GEMV, N = K = 8192, group 128, bf16 x with f32 scales and zero points: bytes are
  // the codes, scales, zero points, x and y. The issue's targets: u4 M=1 >= 2x PyTorch's
  // _weight_int4pack_mm and >= 85% of copy bandwidth; M=16 <= 1.3x the M=1 time; other widths within
  // 1.2x of (bits / 4) x the u4 time.
  ...(
    [
      ['u4', 1],
      ['u4', 16],
      ['u2', 1],
      ['u3', 1],
      ['u5', 1],
      ['u6', 1],
    ] as const
  ).map(([code, m]) => lowbitGemvCase(code, m)),
  lowbitGemvCase('u4', 1, true),
  // Session 7's H100 run found every width at the same ~0.45 ms and no sweep variant (64 or 128
  // threads, BN 8 or 64, registers capped for 3 to 8 blocks per SM, the tile accumulator) below 0.40
  // ms: bound by instructions, one 64-bit address and word read per code. Codes are now read a chunk of
  // 8 at a time (tskc_get_bit_run); the variants that came closest, again:
  ...[
    { threads: 64 },
    { bn: 64 },
    { tileAccumulator: true },
    { tileAccumulator: true, bn: 8, threads: 128 },
    // More codes in flight a thread: 2 and 4 words a step (256 and 128 programs for N = 8192).
    { tileAccumulator: true, bn: 32 },
    { tileAccumulator: true, bn: 64 },
  ].map((tile) => lowbitGemvCase('u4', 1, false, tile)),
  // M = 16 through the GEMM (one [16, BN] tile of y per program, W read once), against the GEMV's
  // one row of x per program (the first run: 14x its M = 1 time).
  {
    name: 'u4 GEMM bf16 M=16 N=K=8192 g128 (BM=16, BN=32, BK=128)',
    kernel: lowbitGemm(bf16, dtype('u4'), true).build({ BM: 16, BN: 32, BK: 128, GROUP: 128 }),
    shapes: { x: [16, 8192], w: [8192, 8192], scales: [8192, 64], zeros: [8192, 64], y: [16, 8192] },
    bytes: (8192 * 8192 * 4) / 8 + 2 * 4 * ((8192 * 8192) / 128) + 2 * 16 * (8192 + 8192),
  },
  // A linear layer with its epilogue fused (kernels/linear.ts), the issue's x(1024,8192)·W(8192,8192)ᵀ + bias → relu.
  ...[false, true].map((tensorCores) => ({
    name: `linear bf16 1024x8192x8192 + bias + relu${tensorCores ? ' (tensor cores)' : ''}`,
    kernel: linear(bf16, { bias: true, activation: 'relu' }).build(),
    shapes: { x: [1024, 8192], w: [8192, 8192], bias: [8192], y: [1024, 8192] },
    flops: 2 * 1024 * 8192 * 8192,
    tensorCores,
  })),
  // The same on tensor cores with the accumulator in registers (not staged through shared memory at
  // every K step), at the default 64x64x32 tiles (128 threads) and at 128x128x32 (256 threads), the
  // operands copied ahead by cp.async through 3 stages (the default), 4, or staged as they load (1).
  ...[{}, { BM: 128, BN: 128, BK: 32 }].flatMap((params) =>
    [3, 4, 1].map((pipelineStages) => ({
      name: `linear bf16 1024x8192x8192 + bias + relu (tensor cores, accumulators in registers${'BM' in params ? ', 128x128x32 tiles' : ''}, ${pipelineStages === 1 ? 'no cp.async' : `${pipelineStages} cp.async stages`})`,
      kernel: linear(bf16, { bias: true, activation: 'relu' }).build(params),
      shapes: { x: [1024, 8192], w: [8192, 8192], bias: [8192], y: [1024, 8192] },
      flops: 2 * 1024 * 8192 * 8192,
      tensorCores: true,
      registerAccumulators: true,
      pipelineStages,
    })),
  ),
  // Issue 5's target shape: bf16 matmul 8192^3 on mma.sync (x · Wᵀ, the linear layer without an
  // epilogue), at 128x128x32 tiles with the accumulators in registers and the operands copied ahead.
  {
    name: 'matmul bf16 8192^3 (linear, 128x128x32 tiles, accumulators in registers, 3 cp.async stages)',
    kernel: linear(bf16).build({ BM: 128, BN: 128, BK: 32 }),
    shapes: { x: [8192, 8192], w: [8192, 8192], y: [8192, 8192] },
    flops: 2 * 8192 ** 3,
    tensorCores: true,
    registerAccumulators: true,
  },
  // f32 on tensor cores with the tf32 option (operands rounded to tf32), accumulators in registers.
  {
    name: 'linear f32 1024x8192x8192 + bias + relu (tf32)',
    kernel: linear(f32, { bias: true, activation: 'relu' }).build(),
    shapes: { x: [1024, 8192], w: [8192, 8192], bias: [8192], y: [1024, 8192] },
    flops: 2 * 1024 * 8192 * 8192,
    tensorCores: true,
    registerAccumulators: true,
    tf32: true,
  },
  // The row kernels against occupancy. A program holds its whole row, so an SM overlaps one row's
  // loads with another's reductions only with several blocks resident: at 256 threads the default
  // build takes 89 (softmax), 127 (layer norm) and 104 (RMS norm) registers (ptxas, sm_90), two blocks
  // per SM; the graph's softmax, 80 registers and three blocks, ran 1.4x faster. ptxas at 3 and 4
  // blocks per SM: softmax 80 / 64 registers (20 bytes of spills at 4), layer norm 356 / 564 bytes of
  // spills, RMS norm 64 / 592; at 512 threads 56, 71 and 64 registers (2 blocks: 56, 64 with 32 bytes
  // of spills, 58); at 1024 threads 42, 40, 46. (Session 7: 128 threads was slower everywhere.)
  ...(
    [
      [256, 3],
      [256, 4],
      [512, 1],
      [512, 2],
      [1024, 1],
    ] as const
  ).flatMap(([threads, minBlocksPerSm]) => {
    const variant = ` @${threads} threads${minBlocksPerSm > 1 ? `, ${minBlocksPerSm} blocks/SM` : ''}`;
    return [
      { name: `softmax bf16 4096x8192${variant}`, kernel: softmaxRows(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N, threads, minBlocksPerSm },
      { name: `layer_norm bf16 4096x8192${variant}`, kernel: layerNormRows(bf16).build(), shapes: { x: [M, N], w: [N], b: [N], y: [M, N] }, bytes: 2 * 2 * M * N, threads, minBlocksPerSm },
      { name: `rms_norm bf16 4096x8192${variant}`, kernel: rmsNormRows(bf16).build(), shapes: { x: [M, N], w: [N], y: [M, N] }, bytes: 2 * 2 * M * N, threads, minBlocksPerSm },
    ];
  }),
];

/** A graph of the graph API, as compileGraph plans it, with the default tiles. */
function graphCase(name: string, outputs: Record<string, Expr>, size: { bytes?: number; flops?: number }, tensorCores = false): Case {
  const graph = compileGraph(outputs);
  const first = graph.steps[0]!;
  const kernels = `${graph.steps.length} kernel${graph.steps.length === 1 ? '' : 's'}`;
  return { name: `graph: ${name} (${kernels}${tensorCores ? ', tensor cores' : ''})`, kernel: first.kernel, shapes: {}, graph, ...size, tensorCores };
}

{
  const [x, r, g] = ['x', 'r', 'g'].map((k) => graphInput(k, bf16, [M, N]));
  const w = graphInput('w', bf16, [N]);
  const h = x!.add(r!);
  const [lx, lw, lb] = [graphInput('x', bf16, [1024, 8192]), graphInput('w', bf16, [8192, 8192]), graphInput('b', bf16, [8192])];
  const linearFlops = 2 * 1024 * 8192 * 8192;
  cases.push(
    graphCase('softmax bf16 4096x8192', { y: x!.softmax() }, { bytes: 2 * 2 * M * N }),
    graphCase('rms_norm + residual bf16 4096x8192', { h, y: h.rmsNorm(w) }, { bytes: 4 * 2 * M * N }),
    graphCase('swiglu bf16 4096x8192', { y: x!.silu().mul(g!) }, { bytes: 3 * 2 * M * N }),
    graphCase('linear bf16 1024x8192x8192 + bias + relu', { y: lx.matmul(lw.T).add(lb).relu() }, { flops: linearFlops }),
    graphCase('linear bf16 1024x8192x8192 + bias + gelu + softmax', { y: lx.matmul(lw.T).add(lb).gelu().softmax() }, { flops: linearFlops }),
    graphCase('linear bf16 1024x8192x8192 + bias + relu', { y: lx.matmul(lw.T).add(lb).relu() }, { flops: linearFlops }, true),
  );
}

// Tilus's benchmark shapes (issue 7's table): K = 4096, N = 12288, group 128, bf16 x, for f6e3m2, f4e2m1,
// i3, i6 (symmetric) and u4 (with zero points); M = 1 through the GEMV, M = 16 and 4097 (ragged against
// the 32-row tiles) through the GEMM. torch_peer.py times PyTorch's f16 matmul at the same shapes.
for (const code of ['f6e3m2', 'f4e2m1', 'i3', 'i6', 'u4']) {
  const [k, n, group] = [4096, 12288, 128];
  const weight = dtype(code);
  const zeros = code === 'u4';
  for (const m of [1, 16, 4097]) {
    const params = m === 1 ? { BN: 16, BK: 128, GROUP: group } : { BM: 32, BN: 32, BK: 32, GROUP: group };
    cases.push({
      name: `tilus: ${code} bf16 M=${m} K=4096 N=12288 g128 (${m === 1 ? 'GEMV' : 'GEMM'})`,
      kernel: (m === 1 ? lowbitGemv(bf16, weight, zeros) : lowbitGemm(bf16, weight, zeros)).build(params),
      shapes: { x: [m, k], w: [n, k], scales: [n, k / group], ...(zeros ? { zeros: [n, k / group] } : {}), y: [m, n] },
      bytes: (n * k * weight.bits) / 8 + (zeros ? 2 : 1) * 4 * ((n * k) / group) + 2 * m * (k + n),
      flops: 2 * m * n * k,
    });
  }
}

// NVRTC's cold compile against its --Ofast-compile levels (CUDA 12.8 on), and what each costs at run
// time: the issue's target is 150 ms; session 7 measured 170 ms (copy) to 3.8 s.
cases.push(
  ...['min', 'mid', 'max'].flatMap((level) => [
    { name: `softmax bf16 4096x8192 (--Ofast-compile=${level})`, kernel: softmaxRows(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 2 * M * N, nvrtcOptions: [`--Ofast-compile=${level}`] },
    { name: `layer_norm bf16 4096x8192 (--Ofast-compile=${level})`, kernel: layerNormRows(bf16).build(), shapes: { x: [M, N], w: [N], b: [N], y: [M, N] }, bytes: 2 * 2 * M * N, nvrtcOptions: [`--Ofast-compile=${level}`] },
    { ...lowbitGemvCase('u4', 1), name: `u4 GEMV bf16 M=1 N=K=8192 g128 (--Ofast-compile=${level})`, nvrtcOptions: [`--Ofast-compile=${level}`] },
  ]),
);

// Flash attention, last: the slowest, the issue's B=4, H=32, S=4096, D=128 (kernels/attention.ts), in
// 32 x 32 blocks: at 64 x 64 ptxas spills about 690 bytes a thread (255 registers), at 32 x 32 none.
// Both of its dots take mma.sync since session 17 (16-bit operands); session 8 ran them on FMA.
// Then the same with the accumulators in registers, k and v copied ahead by cp.async and q staged
// once, the row statistics in the fragments' rows and p's A fragments from registers (session 20,
// ptxas sm_90: 32 x 32 on 64 threads, 244 registers, no spills (causal 255 and 32 bytes); 64 x 32 on
// 128 threads, 240 and 220 registers, no spills; session 18 had 255 and 196 bytes at 32 x 32).
cases.push(
  ...[false, true].flatMap((causal) =>
    (['staged', 'registers', 'registers 64x32'] as const).map((variant) => {
      const [BM, BN] = variant === 'registers 64x32' ? [64, 32] : [32, 32];
      return {
        name: `attention bf16 B4 H32 S4096 D128${causal ? ' causal' : ''}${variant === 'staged' ? '' : ` (accumulators in registers, 3 cp.async stages, ${BM}x${BN} tiles)`}`,
        kernel: flashAttention(bf16, causal).build({ BM, BN, BLOCK_D: 128, SCALE: 1 / Math.sqrt(128) }),
        shapes: { q: [4, 32, 4096, 128], k: [4, 32, 4096, 128], v: [4, 32, 4096, 128], o: [4, 32, 4096, 128] },
        flops: (causal ? 2 : 4) * 4 * 32 * 4096 * 4096 * 128,
        ...(variant === 'staged' ? {} : { registerAccumulators: true }),
      };
    }),
  ),
);

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

/** One case's row: its time, rate and compile costs. */
async function measure(c: Case, cache: ArtifactCache, r: () => number): Promise<Record<string, unknown>> {
  const options = {
    cache,
    ...(c.threads === undefined ? {} : { threads: c.threads }),
    ...(c.minBlocksPerSm === undefined ? {} : { minBlocksPerSm: c.minBlocksPerSm }),
    ...(c.tensorCores === undefined ? {} : { tensorCores: c.tensorCores }),
    ...(c.registerAccumulators === undefined ? {} : { registerAccumulators: c.registerAccumulators }),
    ...(c.pipelineStages === undefined ? {} : { pipelineStages: c.pipelineStages }),
    ...(c.tf32 === undefined ? {} : { tf32: c.tf32 }),
    ...(c.nvrtcOptions ? { nvrtcOptions: c.nvrtcOptions } : {}),
  };
  if (c.graph) {
    const g = await graphRun(c.graph, options, r);
    try {
      const ms = timing(g.kernels[0]!.device, g.run);
      return { name: c.name, ms: +ms.toFixed(4), ...rate(c, ms), nvrtcColdMs: +g.kernels.reduce((t, k) => t + k.compileMs, 0).toFixed(1), cachedLoadMs: 0 };
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
      nvrtcColdMs: +compiled.compileMs.toFixed(1),
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

async function main(): Promise<void> {
  const cache = new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-gpu-bench-')));
  const results: Record<string, unknown>[] = [];
  const r = rng(20261126);
  const only = process.env['TSKC_BENCH_ONLY'];
  // Past this many seconds no new case starts (each would be killed by the step's limit anyway).
  const budgetS = Number(process.env['TSKC_BENCH_BUDGET_S'] ?? Infinity);
  const started = performance.now();
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const t0 = performance.now();
    if ((t0 - started) / 1000 > budgetS) {
      results.push({ name: c.name, error: `not run: the bench's budget of ${budgetS} s was spent` });
      continue;
    }
    let row: Record<string, unknown>;
    try {
      row = await measure(c, cache, r);
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
