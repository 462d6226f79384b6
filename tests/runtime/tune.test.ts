/**
 * The autotuner (runtime/tune.ts): raceCandidates picks the fastest candidate on a machine whose speed
 * drifts while it times them, where timing each once picks another, and takes each finalist's median
 * over the race; tuneProgram chooses and stores tiles by their times on the device, keeps a graph's
 * results, and names the step when no candidate runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel } from '../../compiler/ir/index.js';
import { f32 } from '../../compiler/ir/dtype.js';
import { compileGraph, graphInput } from '../../dsl/graph/index.js';
import { ArtifactCache } from '../../runtime/cache.js';
import { type Device, device } from '../../runtime/device.js';
import { runGraph } from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';
import { ROUNDS, TuningStore, raceCandidates, tuneProgram } from '../../runtime/tune.js';

/**
 * A machine that runs candidate i in cost[i] ms, `slowdown` times slower from its `slowFrom`-th
 * measurement on (a VM entering a slow phase): each call of the returned function is one measurement.
 */
function driftingMachine(cost: readonly number[], slowFrom: number, slowdown: number) {
  let calls = 0;
  const order: number[] = [];
  const time = async (i: number) => {
    order.push(i);
    return cost[i]! * (calls++ >= slowFrom ? slowdown : 1);
  };
  return { time, order };
}

describe('raceCandidates', () => {
  it('picks the fastest candidate though the machine slows down while it times them', async () => {
    // Timed once each, in order, candidate 2 (the fastest) falls in the slow phase: 10, 9.5, 13.5, 30.
    const cost = [10, 9.5, 9, 20];
    const once = [0, 1, 2, 3].map((i) => cost[i]! * (i >= 2 ? 1.5 : 1));
    expect(once.indexOf(Math.min(...once))).toBe(1);
    const { time, order } = driftingMachine(cost, 2, 1.5);
    const { best, ms, errors } = await raceCandidates(cost.length, time);
    expect(errors).toEqual([undefined, undefined, undefined, undefined]);
    expect(best).toBe(2);
    // The finalists (within 1.5x of the fastest first time, the fastest first) raced in rotated rounds;
    // the slow one did not race and kept its first time.
    expect(order.slice(4, 7)).toEqual([1, 0, 2]);
    expect(order.slice(7, 10)).toEqual([0, 2, 1]);
    expect(order.length).toBe(4 + ROUNDS * 3);
    expect(ms).toEqual([15, 14.25, 13.5, 30]);
  });

  it('chooses a finalist, never a candidate whose one time was taken at a faster moment', async () => {
    // Candidate 2 is left out of the race (16 > 1.5 x 10); the race runs at half speed, 20 ms each.
    const { time } = driftingMachine([10, 10, 16], 3, 2);
    const { best, ms } = await raceCandidates(3, time);
    expect(ms).toEqual([20, 20, 16]);
    expect([0, 1]).toContain(best);
  });

  it('races the 4 fastest and the default, each on the median of its rounds', async () => {
    // Candidate 0 (the default) is slow; 1-5 are close, 5 the slowest of them; 6 is far.
    const cost = [20, 9, 9.6, 9.3, 9.8, 9.9, 30];
    // In the race, candidate 1 (the fastest) has a spike in round 1, and candidate 3 a dip in round 4:
    // the first round or the fastest round would choose 3.
    const noise = (i: number, round?: number) => (i === 1 && round === 1 ? 2 : i === 3 && round === 4 ? 0.5 : 1);
    const raced: number[] = [];
    const { best, ms } = await raceCandidates(cost.length, async (i, round) => {
      if (round !== undefined) raced.push(i);
      return cost[i]! * noise(i, round);
    });
    expect(best).toBe(1);
    expect([...new Set(raced)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(raced.length).toBe(5 * ROUNDS);
    expect(ms).toEqual([20, 9, 9.6, 9.3, 9.8, 9.9, 30]);
  });

  it('keeps the error of a candidate that cannot run, and races the others', async () => {
    const { best, ms, errors } = await raceCandidates(3, async (i) => {
      if (i === 1) throw new Error('needs 100 KiB of shared memory');
      return [5, 0, 4][i]!;
    });
    expect([best, ms, errors]).toEqual([2, [5, Infinity, 4], [undefined, 'needs 100 KiB of shared memory', undefined]]);
    const none = await raceCandidates(2, async () => {
      throw new Error('too many threads');
    });
    expect(none).toEqual({ best: -1, ms: [Infinity, Infinity], errors: ['too many threads', 'too many threads'] });
  });

  it('drops a finalist that fails in the race, with its error', async () => {
    const { best, ms, errors } = await raceCandidates(2, async (i, round) => {
      if (i === 1 && round === 2) throw new Error('device lost');
      return [5, 4][i]!;
    });
    expect([best, ms, errors]).toEqual([0, [5, Infinity], [undefined, 'device lost']]);
  });

  it('times a lone candidate once', async () => {
    const { time, order } = driftingMachine([3], 0, 1);
    expect(await raceCandidates(1, time)).toEqual({ best: 0, ms: [3], errors: [undefined] });
    expect(order).toEqual([0]);
  });
});

describe('tuneProgram', () => {
  const x = graphInput('x', f32, [6, 40]);
  const program = compileGraph({ y: x.softmax() });
  const feeds = { x: Tensor.fromValues(f32, [6, 40], Array.from({ length: 240 }, (_, i) => Math.sin(i))) };
  const interp = device('interp');
  const store = () => new TuningStore('test machine', new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-tune-test-'))));

  /** The interpreter, each launch made to take ms(kernel) milliseconds more, or failing to compile where it says so. */
  function fakeDevice(ms: (k: Kernel) => number, refuse?: string): Device {
    return {
      kind: 'interp',
      compile: async (kernel) => {
        if (refuse) throw new Error(refuse);
        const real = await interp.compile(kernel);
        const wait = () => {
          for (const end = performance.now() + ms(kernel); performance.now() < end; );
        };
        return { kernel, launch: (args, o) => (wait(), real.launch(args, o)), run: async (args, o) => (wait(), real.run(args, o)) };
      },
    };
  }

  it('chooses the tiles that run fastest on the device, stores them, and gives the same results', async () => {
    const step = program.steps[0]!;
    expect(step.params['BR']).toBe(4);
    expect(step.candidates.map((c) => c['BR'])).toEqual([4, 1, 2, 8]);
    // Programs of 2 rows are the fast ones on this device, by 10 ms or more a launch: margins of 2 ms
    // were lost once to the busy CI machine's scheduling (session 22).
    const dev = fakeDevice((k) => ({ 1: 30, 2: 10, 4: 20, 8: 40 })[k.params['BR']!]!);
    const tuning = store();
    const { program: tuned, steps } = await tuneProgram(dev, program, feeds, { store: tuning, minMs: 0 });
    expect(steps[0]!.timings.every((t) => Number.isFinite(t.ms) && t.error === undefined)).toBe(true);
    expect(tuned.steps[0]!.params).toEqual({ BR: 2, BC: 64 });
    expect(steps[0]!.timings[steps[0]!.best]!.params).toEqual({ BR: 2, BC: 64 });
    expect(tuning.get(step.signature)).toEqual({ BR: 2, BC: 64 });
    const [want, got] = [await runGraph(interp, program, feeds), await runGraph(interp, tuned, feeds)];
    expect(got['y']!.toValues()).toEqual(want['y']!.toValues());
  });

  it('names the kernel and the cause when none of its tiles runs', async () => {
    const name = program.steps[0]!.kernel.name;
    await expect(tuneProgram(fakeDevice(() => 0, 'needs 300 KiB of shared memory'), program, feeds, { minMs: 0 })).rejects.toThrow(
      `no tile sizes of ${name} run on this device: needs 300 KiB of shared memory`,
    );
  });
});
