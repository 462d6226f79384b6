/**
 * The four examples written in .tk build to exactly the Tile IR of their TypeScript versions, with
 * default and with other params, and carry the same metadata (params, shapes).
 */
import { readFileSync } from 'node:fs';
import { kernelDifference } from '../../../compiler/ir/equal.js';
import { f32 } from '../../../compiler/ir/dtype.js';
import { hostTensor, interpret } from '../../../compiler/interpret/index.js';
import type { KernelDef, Params } from '../../../dsl/kernel.js';
import type { ArgSpec } from '../../../dsl/tensor.js';
import { compileTk } from '../../../dsl/text/index.js';
import { layerNorm } from '../../../examples/layer-norm.js';
import { matmul } from '../../../examples/matmul.js';
import { softmax } from '../../../examples/softmax.js';
import { vectorAdd } from '../../../examples/vector-add.js';

type AnyKernel = KernelDef<Record<string, ArgSpec>, Params>;

const cases: [string, AnyKernel, Params[]][] = [
  ['vector-add', vectorAdd as unknown as AnyKernel, [{ BLOCK: 256 }, { BLOCK: 32 }]],
  ['softmax', softmax as unknown as AnyKernel, [{ BLOCK_N: 128 }, { BLOCK_N: 2048 }]],
  ['layer-norm', layerNorm as unknown as AnyKernel, [{ BLOCK_N: 512, EPS: 1e-6 }, { EPS: 0.5 }]],
  ['matmul', matmul as unknown as AnyKernel, [{ BM: 32, BN: 16, BK: 8 }, { BK: 64 }]],
];

describe.each(cases)('examples/%s.tk', (file, ts, overrides) => {
  const path = new URL(`../../../examples/${file}.tk`, import.meta.url);
  const [tk, ...rest] = compileTk(readFileSync(path, 'utf8'), `examples/${file}.tk`);

  test('defines one kernel with the metadata of the TypeScript version', () => {
    expect(rest).toHaveLength(0);
    expect(tk!.name).toBe(ts.name);
    expect(tk!.params).toEqual(ts.params);
    expect(tk!.options.shapes).toEqual(ts.options.shapes);
    expect(Object.keys(tk!.args)).toEqual(Object.keys(ts.args));
  });

  test('builds to the same IR with the default params', () => {
    expect(kernelDifference(tk!.build(), ts.build())).toBeUndefined();
  });

  test.each(overrides)('builds to the same IR with params %j', (p) => {
    expect(kernelDifference(tk!.build(p), ts.build(p))).toBeUndefined();
  });
});

test('examples/softmax.tk refuses a row longer than its block, naming the requirement', () => {
  const [softmaxTk] = compileTk(readFileSync(new URL('../../../examples/softmax.tk', import.meta.url), 'utf8'), 'examples/softmax.tk');
  const k = softmaxTk!.build({ BLOCK_N: 8 });
  const args = (n: number) => ({ x: hostTensor(f32, [2, n], new Float64Array(2 * n)), y: hostTensor(f32, [2, n], new Float64Array(2 * n)) });
  expect(() => interpret(k, args(8))).not.toThrow();
  expect(() => interpret(k, args(9))).toThrow('kernel softmax: its extents must satisfy N <= 8, but N = 9 (from x): 9 > 8');
});
