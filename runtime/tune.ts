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

const FORMAT = 'tskc-tune-1';

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
  /** The median time of a launch; Infinity when these tiles do not fit the device (see `error`). */
  readonly ms: number;
  readonly error?: string;
}

export interface TunedStep {
  readonly step: GraphStep;
  readonly timings: readonly StepTiming[];
}

export interface TuneOptions {
  readonly store?: TuningStore;
  /** Called before each timing: step index, candidate index, and the counts of both. */
  readonly progress?: (step: number, steps: number, candidate: number, candidates: number) => void;
  /** Time each candidate for at least this long (default 100 ms, at least 3 runs). */
  readonly minMs?: number;
}

/** Tunes every step on `dev` with these inputs; the program with the fastest tile sizes, and the timings. */
export async function tuneProgram(dev: Device, program: GraphProgram, feeds: Readonly<Record<string, Tensor>>, options: TuneOptions = {}): Promise<{ program: GraphProgram; steps: TunedStep[] }> {
  // Each step runs on what the steps before it wrote (every candidate writes the same values).
  const buffers = await runSteps(dev, { ...program, steps: [] }, feeds);
  const tuned: TunedStep[] = [];
  for (const [i, step] of program.steps.entries()) {
    const timings: StepTiming[] = [];
    for (const [j, params] of step.candidates.entries()) {
      options.progress?.(i, program.steps.length, j, step.candidates.length);
      try {
        const candidate = j === 0 ? step : step.rebuild(params);
        timings.push({ params: candidate.params, ms: await timeStep(dev, candidate, buffers, options.minMs ?? 100) });
      } catch (e) {
        // Tiles the device cannot hold (shared memory, threads) are not a choice; the others still are.
        timings.push({ params, ms: Infinity, error: e instanceof Error ? e.message : String(e) });
      }
    }
    const best = timings.reduce((a, b) => (b.ms < a.ms ? b : a));
    if (best.ms === Infinity) throw new Error(`no tile sizes of ${step.kernel.name} run on this device: ${timings[0]!.error}`);
    const chosen = best.params === step.params ? step : step.rebuild(best.params);
    await options.store?.set(step.signature, chosen.params, best.ms);
    tuned.push({ step: chosen, timings });
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
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
