/**
 * The autotuner (runtime/tune.ts): raceCandidates picks the fastest candidate on a machine whose speed
 * drifts while it times them, where timing each once picks another; tuneProgram keeps a graph's results,
 * stores its choice, and names the step when no candidate runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32 } from '../../compiler/ir/dtype.js';
import { compileGraph, graphInput } from '../../dsl/graph/index.js';
import { ArtifactCache } from '../../runtime/cache.js';
import { device } from '../../runtime/device.js';
import { runGraph } from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';
import { TuningStore, raceCandidates, tuneProgram } from '../../runtime/tune.js';

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
    // The finalists (within 1.5x of the fastest first time, the fastest first) raced in rotated rounds,
    // 5 of them, each its median; the slow one did not race and kept its first time.
    expect(order.slice(4, 7)).toEqual([1, 0, 2]);
    expect(order.slice(7, 10)).toEqual([0, 2, 1]);
    expect(order.length).toBe(4 + 5 * 3);
    expect(ms).toEqual([15, 14.25, 13.5, 30]);
  });

  it('chooses a finalist, never a candidate whose one time was taken at a faster moment', async () => {
    // Candidate 2 is left out of the race (16 > 1.5 x 10); the race runs at half speed, 20 ms each.
    const { time } = driftingMachine([10, 10, 16], 3, 2);
    const { best, ms } = await raceCandidates(3, time);
    expect(ms).toEqual([20, 20, 16]);
    expect([0, 1]).toContain(best);
  });

  it('keeps the error of a candidate that cannot run, and races the others', async () => {
    const { ms, errors } = await raceCandidates(3, async (i) => {
      if (i === 1) throw new Error('needs 100 KiB of shared memory');
      return [5, 0, 4][i]!;
    });
    expect(ms).toEqual([5, Infinity, 4]);
    expect(errors).toEqual([undefined, 'needs 100 KiB of shared memory', undefined]);
    const none = await raceCandidates(2, async () => {
      throw new Error('too many threads');
    });
    expect(none).toEqual({ best: -1, ms: [Infinity, Infinity], errors: ['too many threads', 'too many threads'] });
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

  it('chooses among the candidates, stores the choice, and gives the same results', async () => {
    const interp = device('interp');
    const store = new TuningStore('test machine', new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-tune-test-'))));
    const { program: tuned, steps } = await tuneProgram(interp, program, feeds, { store, minMs: 0 });
    const [step] = steps;
    expect(step!.timings.length).toBe(program.steps[0]!.candidates.length);
    expect(step!.timings.every((t) => Number.isFinite(t.ms) && t.error === undefined)).toBe(true);
    const chosen = step!.timings[step!.best]!;
    expect(tuned.steps[0]!.params).toEqual(chosen.params);
    expect(store.get(program.steps[0]!.signature)).toEqual(chosen.params);
    const [want, got] = [await runGraph(interp, program, feeds), await runGraph(interp, tuned, feeds)];
    expect(got['y']!.toValues()).toEqual(want['y']!.toValues());
  });
});
