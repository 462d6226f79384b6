/**
 * The GPU benchmark's cases (bench/gpu/bench.ts runs them; offline-compile.ts compiles them with nvcc
 * here, without a GPU). The list is in the order the bench runs it, which is the order of what a short
 * lease most needs measured: the copy and the issues' target rows first, then the paths no GPU run has
 * timed yet, then the rest, and last the sweeps whose question an earlier run already answered
 * (bench/RESULTS-GPU.md). The bench's budget cuts the list from the end.
 */
import type { Kernel } from '../../compiler/ir/ir.js';
import { bf16, dtype, f32 } from '../../compiler/ir/dtype.js';
import type { GraphProgram } from '../../compiler/graph/program.js';
import { type Expr, compileGraph, graphInput } from '../../dsl/graph/index.js';
import { matmul } from '../../examples/matmul.js';
import { flashAttention } from '../../kernels/attention.js';
import { linear } from '../../kernels/linear.js';
import { lowbitGemm } from '../../kernels/lowbit/gemm.js';
import { lowbitGemv } from '../../kernels/lowbit/gemv.js';
import { layerNormRows, rmsNormRows } from '../../kernels/rows/norms.js';
import { softmaxRows } from '../../kernels/rows/softmax.js';
import type { CudaCompileOptions } from '../../runtime/cuda/cuda-kernel.js';
import { copy, rowCopy } from './kernels.js';

export interface Case {
  readonly name: string;
  readonly kernel: Kernel;
  readonly shapes: Record<string, number[]>;
  /** A graph: its kernels run one after the other (kernel and shapes are its first step's). */
  readonly graph?: GraphProgram;
  /** Bytes that must move (read + written), for GB/s; or flops, for TFLOP/s. */
  readonly bytes?: number;
  readonly flops?: number;
  /** How it compiles, where not as by default (threads, tensor-core paths, NVRTC options: CudaCompileOptions). */
  readonly options?: CaseOptions;
}

/** CudaCompileOptions but the cache, which the bench gives. */
export type CaseOptions = Omit<CudaCompileOptions, 'cache'>;

const [M, N] = [4096, 8192];
const rowBytes = 2 * 2 * M * N;

const softmaxCase = (variant = '', extra: Partial<Case> = {}, rows = 1): Case => ({ name: `softmax bf16 4096x8192${variant}`, kernel: softmaxRows(bf16).build({ ROWS: rows }), shapes: { x: [M, N], y: [M, N] }, bytes: rowBytes, ...extra });
const layerNormCase = (variant = '', extra: Partial<Case> = {}, rows = 1): Case => ({ name: `layer_norm bf16 4096x8192${variant}`, kernel: layerNormRows(bf16).build({ ROWS: rows }), shapes: { x: [M, N], w: [N], b: [N], y: [M, N] }, bytes: rowBytes, ...extra });
const rmsNormCase = (variant = '', extra: Partial<Case> = {}, rows = 1): Case => ({ name: `rms_norm bf16 4096x8192${variant}`, kernel: rmsNormRows(bf16).build({ ROWS: rows }), shapes: { x: [M, N], w: [N], y: [M, N] }, bytes: rowBytes, ...extra });

/**
 * The row kernels with several rows to a program, each row read a row ahead (kernels/rows/row.ts
 * eachRow; session 23, not yet timed): in session 22 the H200 ran them at 0.34-0.42 of the copy's
 * bandwidth and their row copies, without the reductions, at 0.76, so the time between a block's loads
 * is the suspect. The next row's tile roughly doubles the registers a thread needs (ptxas, sm_90,
 * softmax at 256 threads: 84 -> 192), so the blocks are larger: 512 threads (softmax 93 registers,
 * layer norm 109, RMS norm 118, no spills) or 1024 (60-64 registers; layer norm spills 24 bytes, RMS
 * norm 16), one block per SM.
 */
function pipelinedRowCases(): Case[] {
  const variants = [[2, 512], [4, 512], [4, 1024]] as const;
  return variants.flatMap(([rows, threads]) => {
    const variant = ` (ROWS=${rows}, each row read a row ahead, ${threads} threads)`;
    const extra = { options: { threads } };
    return [softmaxCase(variant, extra, rows), layerNormCase(variant, extra, rows), rmsNormCase(variant, extra, rows)];
  });
}

interface GemvTile {
  readonly bn?: number;
  /** K a step (128, one group, unless given; with the tile accumulator, a multiple of the group may be). */
  readonly bk?: number;
  readonly threads?: number;
  readonly minBlocksPerSm?: number;
  readonly tileAccumulator?: boolean;
}

/**
 * Weight-only low-bit GEMV, N = K = 8192, group 128, bf16 x with f32 scales and zero points: bytes are
 * the codes, scales, zero points, x and y. The issue's targets: u4 M=1 >= 2x PyTorch's
 * _weight_int4pack_mm and >= 85% of copy bandwidth; M=16 <= 1.3x the M=1 time; other widths within
 * 1.2x of (bits / 4) x the u4 time.
 */
function lowbitGemvCase(code: string, m: number, tiled = false, tile: GemvTile = {}): Case {
  const [n, k, group, bn, bk] = [8192, 8192, 128, tile.bn ?? 16, tile.bk ?? 128];
  const weight = dtype(code);
  const knobs = [
    `BN=${bn}`,
    ...(tile.bk ? [`BK=${bk}`] : []),
    ...(tile.threads ? [`${tile.threads} threads`] : []),
    ...(tile.minBlocksPerSm ? [`${tile.minBlocksPerSm} blocks/SM`] : []),
    ...(tile.tileAccumulator ? ['tile accumulator'] : []),
  ];
  const variant = tile.bn || tile.bk || tile.threads || tile.minBlocksPerSm || tile.tileAccumulator ? ` (${knobs.join(', ')})` : '';
  return {
    name: `${code} GEMV bf16 M=${m} N=K=8192 g128${tiled ? ' (W in 16x128 tiles)' : ''}${variant}`,
    kernel: lowbitGemv(bf16, weight, true, { ...(tiled ? { tile: [bn, bk] as const } : {}), ...(tile.tileAccumulator ? { accumulate: 'tile' as const } : {}) }).build({ BN: bn, BK: bk, GROUP: group }),
    shapes: { x: [m, k], w: tiled ? [n / bn, k / bk, bn, bk] : [n, k], scales: [n, k / group], zeros: [n, k / group], y: [m, n] },
    bytes: (n * k * weight.bits) / 8 + 2 * 4 * ((n * k) / group) + 2 * m * (k + n),
    options: { ...(tile.threads ? { threads: tile.threads } : {}), ...(tile.minBlocksPerSm ? { minBlocksPerSm: tile.minBlocksPerSm } : {}) },
  };
}

/**
 * The u4 GEMV's tile accumulator with steps of several groups. At BK = 128, BN 8 on 128 threads
 * (0.111 ms on the H200, 9 us at copy bandwidth), a thread loads 4 bytes of codes a step and waits on
 * them: about 4 KiB of W in flight an SM, where a memory latency near 1 us at 4.1 TB/s needs some 30.
 * Longer steps put more in flight a thread, but each element of the [BN, BK] tile holds its own x,
 * scale, zero point, code and sum: at 16 elements a thread ptxas (sm_90) takes 232 registers (114 at
 * 8), so fewer threads fit an SM; at 32 it spills 744 bytes. Which way the balance falls is for the GPU.
 */
function longStepGemvCases(): Case[] {
  const tiles = [
    { bn: 8, bk: 256, threads: 128 },
    { bn: 8, bk: 512, threads: 256 },
    { bn: 4, bk: 1024, threads: 256 },
  ];
  return tiles.map((tile) => lowbitGemvCase('u4', 1, false, { ...tile, tileAccumulator: true }));
}

/**
 * M = 16 through the GEMM (one [16, BN] tile of y per program, W read once). Its dot of bf16 x with
 * the centred codes goes to tensor cores (session 24; FMA on f32 before: 0.962 ms on the H200). With
 * the accumulator in registers a 16-row tile is one warp's, which holds all the unpacking (255
 * registers and 780 bytes of spills under ptxas), so the staged mma path (256 threads, 184 registers)
 * is the one timed, beside FMA on the same kernel.
 */
const u4GemmM16 = (options: CaseOptions, what: string): Case => ({
  name: `u4 GEMM bf16 M=16 N=K=8192 g128 (BM=16, BN=32, BK=128, ${what})`,
  kernel: lowbitGemm(bf16, dtype('u4'), true).build({ BM: 16, BN: 32, BK: 128, GROUP: 128 }),
  shapes: { x: [16, 8192], w: [8192, 8192], scales: [8192, 64], zeros: [8192, 64], y: [16, 8192] },
  bytes: (8192 * 8192 * 4) / 8 + 2 * 4 * ((8192 * 8192) / 128) + 2 * 16 * (8192 + 8192),
  options,
});

// A linear layer with its epilogue fused (kernels/linear.ts), the issue's x(1024,8192)·W(8192,8192)ᵀ + bias → relu.
const linearShapes = { x: [1024, 8192], w: [8192, 8192], bias: [8192], y: [1024, 8192] };
const linearFlops = 2 * 1024 * 8192 * 8192;
/** The linear layer with its dot on FMA, or on tensor cores with the accumulator staged through shared memory at every dot (the default until session 23). */
const linearCase = (tensorCores: boolean): Case => ({
  name: `linear bf16 1024x8192x8192 + bias + relu${tensorCores ? ' (tensor cores, accumulator staged)' : ''}`,
  kernel: linear(bf16, { bias: true, activation: 'relu' }).build(),
  shapes: linearShapes,
  flops: linearFlops,
  options: { tensorCores, registerAccumulators: false },
});

/**
 * The same on tensor cores with the accumulator in registers (not staged through shared memory at
 * every K step), at the default 64x64x32 tiles (128 threads) or 128x128x32 (256 threads), the operands
 * copied ahead by cp.async through 3 stages (the default), 4, or staged as they load (1).
 */
function linearRegistersCase(large: boolean, pipelineStages: number): Case {
  return {
    name: `linear bf16 1024x8192x8192 + bias + relu (tensor cores, accumulators in registers${large ? ', 128x128x32 tiles' : ''}, ${pipelineStages === 1 ? 'no cp.async' : `${pipelineStages} cp.async stages`})`,
    kernel: linear(bf16, { bias: true, activation: 'relu' }).build(large ? { BM: 128, BN: 128, BK: 32 } : {}),
    shapes: linearShapes,
    flops: linearFlops,
    options: { tensorCores: true, registerAccumulators: true, pipelineStages },
  };
}

/** Issue 5's target shape: bf16 matmul 8192^3 on mma.sync (x · Wᵀ, the linear layer without an epilogue). */
const matmul8192: Case = {
  name: 'matmul bf16 8192^3 (linear, 128x128x32 tiles, accumulators in registers, 3 cp.async stages)',
  kernel: linear(bf16).build({ BM: 128, BN: 128, BK: 32 }),
  shapes: { x: [8192, 8192], w: [8192, 8192], y: [8192, 8192] },
  flops: 2 * 8192 ** 3,
  options: { tensorCores: true, registerAccumulators: true },
};

/**
 * The same with fewer warps per tile (session 22, not yet timed). The C-fragment layout stacks warps
 * by rows, each warp across the tile's whole width, so each reads all of B from shared memory every k
 * step: at 128x128 on 256 threads, 9 ldmatrix per 16 mma. Warps twice as tall read B half as often
 * (10 per 32): 128x128 on 128 threads (248 registers) or 256x128 on 256 (242), no spills (ptxas, sm_90).
 */
function matmul8192Taller(bm: number, bn: number, bk: number, threads: number): Case {
  return {
    name: `matmul bf16 8192^3 (linear, ${bm}x${bn}x${bk} tiles on ${threads} threads, accumulators in registers, 3 cp.async stages)`,
    kernel: linear(bf16).build({ BM: bm, BN: bn, BK: bk }),
    shapes: { x: [8192, 8192], w: [8192, 8192], y: [8192, 8192] },
    flops: 2 * 8192 ** 3,
    options: { tensorCores: true, registerAccumulators: true, threads },
  };
}

/** f32 on tensor cores with the tf32 option (operands rounded to tf32), accumulators in registers. */
const linearTf32: Case = {
  name: 'linear f32 1024x8192x8192 + bias + relu (tf32)',
  kernel: linear(f32, { bias: true, activation: 'relu' }).build(),
  shapes: linearShapes,
  flops: linearFlops,
  options: { tensorCores: true, registerAccumulators: true, tf32: true },
};

/**
 * Flash attention at the issue's B=4, H=32, S=4096, D=128 (kernels/attention.ts). 'staged': both dots
 * on mma.sync (16-bit operands, session 17) through shared memory, 32 x 32 blocks (at 64 x 64 ptxas
 * spills about 690 bytes a thread). 'registers': the accumulators in registers, k and v copied ahead by
 * cp.async, q staged once, the row statistics in the fragments' rows and p's A fragments from
 * registers (session 20; ptxas sm_90: 32 x 32 on 64 threads, 244 registers, no spills; 64 x 32 on 128
 * threads, 240 registers, no spills).
 */
function attentionCase(causal: boolean, variant: 'staged' | 'registers' | 'registers 64x32'): Case {
  const [BM, BN] = variant === 'registers 64x32' ? [64, 32] : [32, 32];
  return {
    name: `attention bf16 B4 H32 S4096 D128${causal ? ' causal' : ''} (${variant === 'staged' ? 'accumulators staged' : 'accumulators in registers, 3 cp.async stages'}, ${BM}x${BN} tiles)`,
    kernel: flashAttention(bf16, causal).build({ BM, BN, BLOCK_D: 128, SCALE: 1 / Math.sqrt(128) }),
    shapes: { q: [4, 32, 4096, 128], k: [4, 32, 4096, 128], v: [4, 32, 4096, 128], o: [4, 32, 4096, 128] },
    flops: (causal ? 2 : 4) * 4 * 32 * 4096 * 4096 * 128,
    options: { registerAccumulators: variant !== 'staged' },
  };
}

/** A graph of the graph API, as compileGraph plans it, with the default tiles. */
function graphCase(name: string, outputs: Record<string, Expr>, size: { bytes?: number; flops?: number }, tensorCores = false): Case {
  const graph = compileGraph(outputs);
  const first = graph.steps[0]!;
  const kernels = `${graph.steps.length} kernel${graph.steps.length === 1 ? '' : 's'}`;
  return { name: `graph: ${name} (${kernels}${tensorCores ? ', tensor cores' : ''})`, kernel: first.kernel, shapes: {}, graph, ...size, options: { tensorCores } };
}

function graphCases(): Case[] {
  const [x, r, g] = ['x', 'r', 'g'].map((k) => graphInput(k, bf16, [M, N]));
  const w = graphInput('w', bf16, [N]);
  const h = x!.add(r!);
  const [lx, lw, lb] = [graphInput('x', bf16, [1024, 8192]), graphInput('w', bf16, [8192, 8192]), graphInput('b', bf16, [8192])];
  return [
    graphCase('softmax bf16 4096x8192', { y: x!.softmax() }, { bytes: rowBytes }),
    graphCase('rms_norm + residual bf16 4096x8192', { h, y: h.rmsNorm(w) }, { bytes: 4 * 2 * M * N }),
    graphCase('swiglu bf16 4096x8192', { y: x!.silu().mul(g!) }, { bytes: 3 * 2 * M * N }),
    graphCase('linear bf16 1024x8192x8192 + bias + relu', { y: lx.matmul(lw.T).add(lb).relu() }, { flops: linearFlops }, true),
    graphCase('linear bf16 1024x8192x8192 + bias + gelu + softmax', { y: lx.matmul(lw.T).add(lb).gelu().softmax() }, { flops: linearFlops }),
    graphCase('linear bf16 1024x8192x8192 + bias + relu', { y: lx.matmul(lw.T).add(lb).relu() }, { flops: linearFlops }),
  ];
}

/**
 * Tilus's benchmark shapes (issue 7's table): K = 4096, N = 12288, group 128, bf16 x, for f6e3m2,
 * f4e2m1, i3, i6 (symmetric) and u4 (with zero points); M = 1 through the GEMV, M = 16 and 4097
 * (ragged against the tiles) through the GEMM: M = 16 on the staged mma path in 32-row tiles (see
 * u4GemmM16), M = 4097 with the accumulator in registers in the matmul's 128x128x32 tiles on 256
 * threads (ptxas, sm_90: 246-255 registers, no spills). torch_peer.py times PyTorch's f16 matmul at
 * the same shapes.
 */
function tilusCases(): Case[] {
  const cases: Case[] = [];
  for (const code of ['f6e3m2', 'f4e2m1', 'i3', 'i6', 'u4']) {
    const [k, n, group] = [4096, 12288, 128];
    const weight = dtype(code);
    const zeros = code === 'u4';
    for (const m of [1, 16, 4097]) {
      const params = m === 1 ? { BN: 16, BK: 128, GROUP: group } : m === 16 ? { BM: 32, BN: 32, BK: 32, GROUP: group } : { BM: 128, BN: 128, BK: 32, GROUP: group };
      cases.push({
        ...(m === 16 ? { options: { registerAccumulators: false } } : {}),
        name: `tilus: ${code} bf16 M=${m} K=4096 N=12288 g128 (${m === 1 ? 'GEMV' : 'GEMM'})`,
        kernel: (m === 1 ? lowbitGemv(bf16, weight, zeros) : lowbitGemm(bf16, weight, zeros)).build(params),
        shapes: { x: [m, k], w: [n, k], scales: [n, k / group], ...(zeros ? { zeros: [n, k / group] } : {}), y: [m, n] },
        bytes: (n * k * weight.bits) / 8 + (zeros ? 2 : 1) * 4 * ((n * k) / group) + 2 * m * (k + n),
        flops: 2 * m * n * k,
      });
    }
  }
  return cases;
}

/**
 * The row kernels against occupancy. A program holds its whole row, so an SM overlaps one row's loads
 * with another's reductions only with several blocks resident. Session 8 (H100) took the defaults from
 * this sweep (the kernels' launch hints), session 25 layer norm's on sm_90 (3 blocks of 256, from
 * session 22's sweep); it stays to see them hold (@256 threads: one block's bound, as without a hint).
 */
function occupancyCases(): Case[] {
  return ([[256, 1], [256, 3], [256, 4], [512, 1], [512, 2], [1024, 1]] as const).flatMap(([threads, minBlocksPerSm]) => {
    const variant = ` @${threads} threads${minBlocksPerSm > 1 ? `, ${minBlocksPerSm} blocks/SM` : ''}`;
    const options = { threads, minBlocksPerSm };
    return [softmaxCase(variant, { options }), layerNormCase(variant, { options }), rmsNormCase(variant, { options })];
  });
}

/** NVRTC's cold compile against its --Ofast-compile levels, and what each costs at run time (session 8: only by spilling). */
function nvrtcLevelCases(): Case[] {
  return ['min', 'mid', 'max'].flatMap((level) => {
    const options = { nvrtcOptions: [`--Ofast-compile=${level}`] };
    return [
      softmaxCase(` (--Ofast-compile=${level})`, { options }),
      layerNormCase(` (--Ofast-compile=${level})`, { options }),
      { ...lowbitGemvCase('u4', 1), name: `u4 GEMV bf16 M=1 N=K=8192 g128 (--Ofast-compile=${level})`, options },
    ];
  });
}

export function benchCases(): Case[] {
  return [
    // The copy every memory-bound row is judged against, and the issues' headline rows.
    { name: 'copy f32 1 GiB', kernel: copy.build(), shapes: { x: [1 << 28], y: [1 << 28] }, bytes: 2 * 4 * (1 << 28) },
    // Before session 22 every kernel's threads held 8 consecutive elements, 32 bytes of f32 made as two
    // 16-byte accesses 32 bytes apart; now 16 bytes of the narrowest tensor (CudaEmitOptions.maxVec).
    { name: 'copy f32 1 GiB (8-element chunks)', kernel: copy.build(), shapes: { x: [1 << 28], y: [1 << 28] }, bytes: 2 * 4 * (1 << 28), options: { maxVec: 8 } },
    softmaxCase(),
    layerNormCase(),
    rmsNormCase(),
    ...pipelinedRowCases(),
    lowbitGemvCase('u4', 1),
    lowbitGemvCase('u4', 1, false, { tileAccumulator: true }),
    ...longStepGemvCases(),
    u4GemmM16({ registerAccumulators: false }, 'tensor cores, accumulator staged'),
    u4GemmM16({ tensorCores: false }, 'FMA'),
    // The tensor-core kernels: accumulators in registers (the default since session 23), cp.async,
    // tf32, attention; then the graphs, and the staged paths they replaced.
    linearRegistersCase(false, 3),
    linearRegistersCase(true, 3),
    matmul8192,
    matmul8192Taller(128, 128, 32, 128),
    matmul8192Taller(256, 128, 32, 256),
    matmul8192Taller(128, 128, 64, 128),
    linearTf32,
    attentionCase(false, 'registers'),
    attentionCase(true, 'registers'),
    attentionCase(false, 'registers 64x32'),
    attentionCase(true, 'registers 64x32'),
    ...graphCases(),
    linearCase(true),
    attentionCase(false, 'staged'),
    attentionCase(true, 'staged'),
    ...tilusCases(),
    // The code widths (the target: time in proportion to bits), and the rest of session 8's rows.
    ...(['u2', 'u3', 'u5', 'u6'] as const).map((code) => lowbitGemvCase(code, 1)),
    lowbitGemvCase('u4', 16),
    lowbitGemvCase('u4', 1, true),
    linearRegistersCase(false, 4),
    linearRegistersCase(false, 1),
    linearRegistersCase(true, 4),
    linearRegistersCase(true, 1),
    linearCase(false),
    // Rows copied without arithmetic and softmax on f32: the WebGPU bench's diagnostics, side by side.
    { name: 'row copy bf16 4096x8192', kernel: rowCopy(bf16).build(), shapes: { x: [M, N], y: [M, N] }, bytes: rowBytes },
    { name: 'row copy f32 4096x8192', kernel: rowCopy(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
    { name: 'row copy f32 4096x8192 (8-element chunks)', kernel: rowCopy(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N, options: { maxVec: 8 } },
    { name: 'softmax f32 4096x8192', kernel: softmaxRows(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N },
    { name: 'softmax f32 4096x8192 (8-element chunks)', kernel: softmaxRows(f32).build(), shapes: { x: [M, N], y: [M, N] }, bytes: 2 * 4 * M * N, options: { maxVec: 8 } },
    { name: 'matmul f32 2048^3 (example, 64x64 tiles)', kernel: matmul.build(), shapes: { a: [2048, 2048], b: [2048, 2048], c: [2048, 2048] }, flops: 2 * 2048 ** 3 },
    // Sweeps an earlier run answered. The GEMV's (session 8, H100): the tile accumulator at BN 8 to 64,
    // 64 threads; none below 0.19 ms.
    ...([{ threads: 64 }, { bn: 64 }, { tileAccumulator: true, bn: 8, threads: 128 }, { tileAccumulator: true, bn: 32 }, { tileAccumulator: true, bn: 64 }] as const).map((tile) => lowbitGemvCase('u4', 1, false, tile)),
    ...occupancyCases(),
    ...nvrtcLevelCases(),
  ];
}

