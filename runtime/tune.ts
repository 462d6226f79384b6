/**
 * The autotuner of graph programs: for each step, times the tile sizes its lowering proposes
 * (step.candidates) on the device, keeps the fastest, and stores the choice in the cache directory next
 * to the compiled kernels, keyed by the device and the step's signature (its computation and shapes), so
 * a later compileGraph({ params: store.lookup }) reuses it for the same work in any graph.
 */
import * as os from 'node:os';
import type { GraphProgram, GraphStep, StepParams } from '../compiler/graph/program.js';
import { ArtifactCache } from './cache.js';
import type { Device, DeviceKind } from './device.js';
import { openCudaDevice } from './cuda/driver.js';
import { runStep, runSteps } from './graph.js';
import { openWebgpu } from './webgpu/gpu.js';
import type { Tensor } from './tensor.js';
import * as fs from 'node:fs';

// 2: CUDA's tensor-core dots keep their accumulators in registers by default (session 23), which
// changes which tiles are fastest; choices timed before are not reused.
const FORMAT = 'tskc-tune-2';

/** What identifies the hardware a choice was timed on: the CPU model and cores, the GPU, the adapter. */
export async function deviceIdentity(kind: DeviceKind): Promise<string> {
  switch (kind) {
    case 'cpu':
      return `cpu ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`;
    case 'cuda':
      return `cuda ${openCudaDevice().name}`;
    case 'webgpu': {
      const gpu = await openWebgpu();
      return `webgpu ${gpu.backend} ${gpu.adapterName}`;
    }
    case 'interp':
      return 'interp';
  }
}

interface StoredChoice {
  readonly format: string;
  readonly device: string;
  readonly signature: string;
  readonly params: StepParams;
  readonly ms: number;
}

/** Tuned tile sizes on disk: one small JSON entry per (device, step signature), written atomically. */
export class TuningStore {
  /** `device` names the hardware (deviceIdentity); choices made on other hardware are not seen. */
  constructor(
    readonly device: string,
    readonly cache: ArtifactCache = new ArtifactCache(),
  ) {}

  /** The store of the hardware behind device kind `kind`. */
  static async of(kind: DeviceKind, cache?: ArtifactCache): Promise<TuningStore> {
    return new TuningStore(await deviceIdentity(kind), cache);
  }

  private key(signature: string): string {
    return this.cache.key([FORMAT, this.device, signature]);
  }

  /** The stored choice for a step signature, if one was tuned on this device. A damaged entry is a miss. */
  get(signature: string): StepParams | undefined {
    const file = this.cache.get(this.key(signature), 'tune');
    if (file === undefined) return undefined;
    try {
      const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<StoredChoice>;
      return c.format === FORMAT && c.device === this.device && c.signature === signature ? c.params : undefined;
    } catch {
      return undefined;
    }
  }

  /** For compileGraph's `params` option. */
  readonly lookup = (signature: string): StepParams | undefined => this.get(signature);

  async set(signature: string, params: StepParams, ms: number): Promise<void> {
    const entry: StoredChoice = { format: FORMAT, device: this.device, signature, params, ms };
    await this.cache.put(this.key(signature), 'tune', (tmp) => fs.writeFileSync(tmp, `${JSON.stringify(entry)}\n`));
  }
}

export interface StepTiming {
  readonly params: StepParams;
  /**
   * The median time of a launch (for the finalists, raceCandidates' median over its rounds); Infinity
   * when these tiles do not fit the device (see `error`).
   */
  readonly ms: number;
  readonly error?: string;
}

export interface TunedStep {
  /** The step with the chosen tiles, and which of its candidates (and of `timings`) they are. */
  readonly step: GraphStep;
  readonly best: number;
  readonly timings: readonly StepTiming[];
}

export interface TuneOptions {
  readonly store?: TuningStore;
  /**
   * Called before each timing: step index, candidate index, and the counts of both; in the finalists'
   * race (raceCandidates), also the round, from 1 to its count.
   */
  readonly progress?: (step: number, steps: number, candidate: number, candidates: number, round?: { readonly round: number; readonly rounds: number }) => void;
  /** Time each candidate for at least this long (default 100 ms, at least 3 runs), and each finalist again in every round. */
  readonly minMs?: number;
}

/**
 * Candidates timed again after the first pass: those within this factor of the fastest, at most
 * FINALISTS of them (the fastest first), and the first candidate (the default tiles, so that the two are
 * compared at the same moments). Wider than the drift a first pass can see (a third).
 */
const FINALIST_SPREAD = 1.5;
const FINALISTS = 4;
/** Rounds of the finalists' race: each round times each finalist once, starting from a different one. */
export const ROUNDS = 5;

/**
 * The fastest of `count` candidates, and the time of each; `time(i, round)` measures candidate i (and
 * throws where the candidate cannot run: its time is then Infinity and its error kept), `round` from 1
 * in the race. A first pass times each once; then the finalists (FINALIST_SPREAD) race in ROUNDS
 * interleaved rounds, each taking the median of its rounds, and the fastest finalist wins (the others
 * keep their first times, taken at another moment, so they are not compared with the race's). Timed one
 * after another only, a drift of the machine's speed (these VMs' drifts by a third within minutes) falls
 * on some candidates and not others: a tuner that timed each once chose 128x64x32 tiles for bench:cpu's
 * SwiGLU MLP, 165 ms, against 152 ms for the defaults. Interleaved, each finalist is timed as often
 * early as late. `best` is -1 where no candidate runs.
 */
export async function raceCandidates(count: number, time: (i: number, round?: number) => Promise<number>): Promise<{ best: number; ms: number[]; errors: (string | undefined)[] }> {
  const ms = new Array<number>(count).fill(Infinity);
  const errors = new Array<string | undefined>(count).fill(undefined);
  const attempt = async (i: number, round?: number): Promise<number | undefined> => {
    try {
      return await time(i, round);
    } catch (e) {
      [ms[i], errors[i]] = [Infinity, e instanceof Error ? e.message : String(e)];
      return undefined;
    }
  };
  for (let i = 0; i < count; i++) ms[i] = (await attempt(i)) ?? Infinity;
  const fastest = Math.min(...ms);
  if (fastest === Infinity) return { best: -1, ms, errors };
  const close = ms.map((m, i) => ({ m, i })).filter(({ m }) => m <= fastest * FINALIST_SPREAD).sort((a, b) => a.m - b.m).slice(0, FINALISTS).map(({ i }) => i);
  const finalists = ms[0]! < Infinity && !close.includes(0) ? [...close, 0] : close;
  if (finalists.length > 1) {
    const rounds = finalists.map((): number[] => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < finalists.length; k++) {
        const at = (r + k) % finalists.length;
        // A finalist that fails in the race (it ran the first time) is out of it, with its error.
        if (errors[finalists[at]!] !== undefined) continue;
        const t = await attempt(finalists[at]!, r + 1);
        if (t !== undefined) rounds[at]!.push(t);
      }
    }
    finalists.forEach((i, at) => errors[i] === undefined && (ms[i] = median(rounds[at]!)));
  }
  const runs = finalists.filter((i) => errors[i] === undefined);
  if (runs.length === 0) return { best: -1, ms, errors };
  const best = runs.reduce((a, b) => (ms[b]! < ms[a]! ? b : a));
  return { best, ms, errors };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Tunes every step on `dev` with these inputs; the program with the fastest tile sizes, and the timings. */
export async function tuneProgram(dev: Device, program: GraphProgram, feeds: Readonly<Record<string, Tensor>>, options: TuneOptions = {}): Promise<{ program: GraphProgram; steps: TunedStep[] }> {
  // Each step runs on what the steps before it wrote (every candidate writes the same values).
  const buffers = await runSteps(dev, { ...program, steps: [] }, feeds);
  const tuned: TunedStep[] = [];
  for (const [i, step] of program.steps.entries()) {
    // Tiles the device cannot hold (shared memory, threads) are not a choice; the others still are.
    const built = new Map<number, GraphStep>();
    const candidate = (j: number) => built.get(j) ?? built.set(j, j === 0 ? step : step.rebuild(step.candidates[j]!)).get(j)!;
    const { best, ms, errors } = await raceCandidates(step.candidates.length, async (j, round) => {
      options.progress?.(i, program.steps.length, j, step.candidates.length, round === undefined ? undefined : { round, rounds: ROUNDS });
      return timeStep(dev, candidate(j), buffers, options.minMs ?? 100);
    });
    if (best < 0) throw new Error(`no tile sizes of ${step.kernel.name} run on this device: ${errors[0]}`);
    const timings: StepTiming[] = step.candidates.map((params, j) => {
      const error = errors[j];
      return error === undefined ? { params: candidate(j).params, ms: ms[j]! } : { params, ms: Infinity, error };
    });
    const chosen = candidate(best);
    await options.store?.set(step.signature, chosen.params, ms[best]!);
    tuned.push({ step: chosen, best, timings });
  }
  return { program: { ...program, steps: tuned.map((t) => t.step) }, steps: tuned };
}

/** The median time of one launch, after a first (compiling, warming) one. */
async function timeStep(dev: Device, step: GraphStep, buffers: Map<number, Tensor>, minMs: number): Promise<number> {
  await runStep(dev, step, buffers);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < minMs) {
    const t0 = performance.now();
    await runStep(dev, step, buffers);
    times.push(performance.now() - t0);
    if (times.length >= 1000) break;
  }
  return median(times);
}
