/** CUDA code generation cases that need no compiler: found in review. */
import { emitCuda } from '../../../backends/cuda/index.js';
import { arange, f32, i32, input, kernel, load, output, programId, scalar, store, tensor } from '../../../dsl/index.js';

describe('CUDA emitter', () => {
  test('an affine index too long to inline (held in registers) takes the per-lane path', () => {
    const k = kernel('long_index', { x: input(f32, ['N']), y: output(f32, ['N']), s: scalar(i32) }, ({ x, y, s }) => {
      let idx = arange(64).add(programId(0).mul(64));
      for (let q = 0; q < 30; q++) idx = idx.add(s).sub(s);
      store(y, [idx], load(x, [idx]));
    }, { grid: () => [1] });
    expect(() => emitCuda(k.build())).not.toThrow();
  });

  test('a store to an inout tensor is followed by a barrier before later loads', () => {
    const k = kernel('rw', { x: tensor(f32, [64]) }, ({ x }) => {
      const i = arange(64);
      store(x, [i], load(x, [i]).mul(2));
      store(x, [i], load(x, [arange(64).mul(-1).add(63)]));
    }, { grid: () => [1] });
    const source = emitCuda(k.build()).source;
    const body = source.slice(source.indexOf('tskc_kernel('));
    expect(body.match(/__syncthreads\(\);/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test('minBlocksPerSm becomes the second __launch_bounds__ argument (1 by default); out of range it is refused', () => {
    const k = kernel('copy', { x: input(f32, ['N']), y: output(f32, ['N']) }, ({ x, y }) => {
      const i = programId(0).mul(256).add(arange(256));
      store(y, [i], load(x, [i], { mask: i.lt(x.dim(0)) }), { mask: i.lt(x.dim(0)) });
    }, { grid: () => [1] }).build();
    expect(emitCuda(k, { threads: 128 }).source).toContain('__launch_bounds__(128, 1)');
    expect(emitCuda(k, { threads: 128, minBlocksPerSm: 4 }).source).toContain('__launch_bounds__(128, 4)');
    expect(() => emitCuda(k, { minBlocksPerSm: 0 })).toThrow(/minBlocksPerSm must be an integer from 1 to 32, got 0/);
  });
});
