/** Cases the review found where the C backend and the interpreter disagreed. */
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { ArtifactCache } from '../../../runtime/cache.js';
import { device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { arange, f32, i32, input, kernel, load, output, scalar, sharedTile, store, u32 } from '../../../dsl/index.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';

const testC = testWithCompiler('the C backend regression tests');
jest.setTimeout(120_000);
const cpu = device('cpu', { cache: new ArtifactCache(mkdtempSync(join(tmpdir(), 'tskc-regress-'))) });
const interp = device('interp');

async function both(def: { build(): Parameters<typeof cpu.compile>[0] }, make: () => Record<string, Tensor | number>): Promise<[Float64Array[], Float64Array[]]> {
  const out: Float64Array[][] = [];
  for (const d of [cpu, interp]) {
    const args = make();
    (await d.compile(def.build())).launch(args);
    out.push(Object.values(args).filter((v): v is Tensor => v instanceof Tensor).map((t) => t.toValues()));
  }
  return [out[0]!, out[1]!];
}

describe('C backend regressions', () => {
  testC('float sums add in index order (2^60 + 1 - 2^60 is 0, not 1)', async () => {
    const sum = kernel('cancel', { x: input(f32, [64]), y: output(f32, [1]) }, ({ x, y }) => {
      store(y, [arange(1)], load(x, [arange(64)]).sum(0).broadcastTo([1]));
    }, { grid: () => [1] });
    const values = new Float64Array(64);
    [values[0], values[1], values[16]] = [2 ** 60, 1, -(2 ** 60)];
    const [c, i] = await both(sum, () => ({ x: Tensor.fromValues(f32, [64], values), y: Tensor.empty(f32, [1]) }));
    expect(c).toEqual(i);
    expect(i[1]![0]).toBe(0);
  });

  testC('scalar arguments convert like the interpreter: saturated, NaN to 0', async () => {
    const k = kernel('scalar_arg', { s: scalar(i32), y: output(i32, [1]) }, ({ s, y }) => store(y, [arange(1)], s.broadcastTo([1])), { grid: () => [1] });
    for (const v of [3e9, -3e9, Infinity, -Infinity, NaN, 7.9, -7.9]) {
      const [c, i] = await both(k, () => ({ s: v, y: Tensor.empty(i32, [1]) }));
      expect(c).toEqual(i);
    }
  });

  testC('shared tiles start zeroed', async () => {
    const k = kernel('fresh_shared', { y: output(f32, [16]) }, ({ y }) => store(y, [arange(16)], sharedTile([16], f32).load()), { grid: () => [1] });
    const [c, i] = await both(k, () => ({ y: Tensor.fromHostTensor(hostTensor(f32, [16], new Array(16).fill(5))) }));
    expect(c).toEqual(i);
    expect(Array.from(c[0]!)).toEqual(new Array(16).fill(0));
  });

  testC('unsigned products wrap without overflowing (reduce prod on u32)', async () => {
    const k = kernel('u32_prod', { x: input(u32, [8]), y: output(u32, [1]) }, ({ x, y }) => {
      store(y, [arange(1)], load(x, [arange(8)]).prod(0).broadcastTo([1]));
    }, { grid: () => [1] });
    const [c, i] = await both(k, () => ({ x: Tensor.fromValues(u32, [8], new Array(8).fill(4294967295)), y: Tensor.empty(u32, [1]) }));
    expect(c).toEqual(i);
  });

  testC('tiles too large for a thread stack run (the block frame is on the heap)', async () => {
    const big = kernel('big_tile', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = arange(1 << 20);
      const ok = i.lt(x.dim(0));
      store(y, [i], load(x, [i], { mask: ok }).mul(2), { mask: ok });
    }, { grid: () => [1] });
    const [c, i] = await both(big, () => ({ x: Tensor.fromValues(f32, [1000], Array.from({ length: 1000 }, (_, k) => k)), y: Tensor.empty(f32, [1000]) }));
    expect(c).toEqual(i);
  });
});
