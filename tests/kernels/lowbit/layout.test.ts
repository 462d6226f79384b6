/**
 * The tile-by-tile weight layout (kernels/lowbit/layout.ts): the layout of the algebra is the row-major
 * order of the [NB, KB, BN, BK] tensor the kernels index, and the GEMV over tiled codes computes what
 * it computes over row-major codes, bit for bit, on the interpreter, C and WebGPU.
 */
import { jest } from '@jest/globals';
import { type Dtype, bf16, dtype, f32 } from '../../../compiler/ir/dtype.js';
import { hostTensor } from '../../../compiler/interpret/index.js';
import { device } from '../../../runtime/device.js';
import { freshSeed } from '../../../examples/check.js';
import { lowbitGemm } from '../../../kernels/lowbit/gemm.js';
import { lowbitGemv } from '../../../kernels/lowbit/gemv.js';
import { QuantizeError } from '../../../kernels/lowbit/quantize.js';
import { dotTileOrder, groupMajorScales, tileCodes, tiledWeightLayout } from '../../../kernels/lowbit/layout.js';
import { expectSame, runBoth } from '../../backends/differential.js';
import { testWithCompiler } from '../../runtime/cpu/harness.js';
import { webgpuOr } from '../../backends/wgsl/harness.js';
import { GEMV_SHAPE, makeCase } from './cases.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('the tiled low-bit GEMV on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the tiled low-bit GEMV on WebGPU');

describe('tile-by-tile weight layout', () => {
  it.each([
    [8, 32, 4, 16],
    [13, 96, 4, 32], // the last tile row is partly past N
    [1, 8, 16, 8],
  ])('N=%i K=%i in %ix%i tiles is the row-major order of [NB, KB, BN, BK]', (n, k, bn, bk) => {
    const layout = tiledWeightLayout(n, k, [bn, bk]);
    const [nb, kb] = [Math.ceil(n / bn), k / bk];
    expect(layout.cosize).toBe(nb * kb * bn * bk);
    const seen = new Set<number>();
    for (let r = 0; r < nb * bn; r++) {
      for (let c = 0; c < k; c++) {
        const offset = layout.at([r, c]);
        expect(offset).toBe(((Math.floor(r / bn) * kb + Math.floor(c / bk)) * bn + (r % bn)) * bk + (c % bk));
        seen.add(offset);
      }
    }
    expect(seen.size).toBe(nb * bn * k); // one element per offset
  });

  it.each([
    [8, 32, 4, 16],
    [13, 96, 4, 32],
  ])('N=%i K=%i in %ix%i column-major tiles is the row-major order of [NB, KB, BK, BN]', (n, k, bn, bk) => {
    const layout = tiledWeightLayout(n, k, [bn, bk], 'columns');
    const kb = k / bk;
    for (let r = 0; r < Math.ceil(n / bn) * bn; r++) {
      for (let c = 0; c < k; c++) expect(layout.at([r, c])).toBe(((Math.floor(r / bn) * kb + Math.floor(c / bk)) * bk + (c % bk)) * bn + (r % bn));
    }
  });

  it.each([
    ['u4', 8, 32, 4, 16],
    ['u2', 13, 96, 4, 32],
    ['f4e2m1', 5, 64, 16, 64],
  ])('%s: N=%i K=%i in %ix%i interleaved tiles is the row-major order of [NB, KB, BK / P, BN, P]', (name, n, k, bn, bk) => {
    const d = dtype(name);
    const p = 32 / d.bits;
    expect(dotTileOrder(d)).toBe('interleaved');
    const layout = tiledWeightLayout(n, k, [bn, bk], 'interleaved', d);
    const kb = k / bk;
    for (let r = 0; r < Math.ceil(n / bn) * bn; r++) {
      for (let c = 0; c < k; c++) {
        const [t, q] = [Math.floor(r / bn) * kb + Math.floor(c / bk), c % bk];
        expect(layout.at([r, c])).toBe(((t * (bk / p) + Math.floor(q / p)) * bn + (r % bn)) * p + (q % p));
      }
    }
  });

  it('interleaves only widths that divide 32, in whole words', () => {
    expect(dotTileOrder(dtype('u3'))).toBe('columns');
    expect(dotTileOrder(dtype('u8'))).toBe('columns');
    expect(() => tiledWeightLayout(8, 96, [4, 32], 'interleaved', dtype('u6'))).toThrow('width divides 32');
    expect(() => tiledWeightLayout(8, 96, [4, 12], 'interleaved', dtype('u4'))).toThrow('whole words of 8 u4 codes');
    expect(() => tiledWeightLayout(8, 96, [4, 32], 'interleaved')).toThrow('give the dtype');
  });

  it('places scales and zero points group-major, [G, N]', () => {
    const c = makeCase(freshSeed(), f32, dtype('u4'), 32, GEMV_SHAPE);
    const g = c.k / 32;
    const placed = groupMajorScales(c.q);
    expect(placed.shape).toEqual([g, c.n]);
    for (let r = 0; r < c.n; r++) {
      for (let j = 0; j < g; j++) {
        expect(placed.scales[j * c.n + r]).toBe(c.q.scales[r * g + j]);
        expect(placed.zeros![j * c.n + r]).toBe(c.q.zeros![r * g + j]);
      }
    }
  });

  it('refuses tiles that do not divide K', () => {
    expect(() => tiledWeightLayout(8, 100, [4, 32])).toThrow(QuantizeError);
    expect(() => tiledWeightLayout(8, 96, [0, 32])).toThrow('two positive integers');
    // An unknown order was taken for 'interleaved' (review).
    expect(() => tiledWeightLayout(8, 96, [4, 32], 'diagonal' as never, dtype('u4'))).toThrow(new QuantizeError(`tile order "diagonal": choose 'rows', 'columns' or 'interleaved'`));
  });

  it('refuses a GEMV or GEMM with a group that is no positive integer, or an unknown accumulation (review)', () => {
    expect(() => lowbitGemv(f32, dtype('u4'), false).build({ BN: 16, BK: 32, GROUP: 0 })).toThrow('lowbit gemv: GROUP (K elements per scale) must be a positive integer, got 0');
    expect(() => lowbitGemm(f32, dtype('u4'), false).build({ BM: 16, BN: 16, BK: 32, GROUP: 0 })).toThrow('lowbit gemm: GROUP (K elements per scale) must be a positive integer, got 0');
    expect(() => lowbitGemv(f32, dtype('u4'), false, { accumulate: 'bogus' as never })).toThrow(`lowbit gemv: accumulate must be 'step', 'tile' or 'dot', got "bogus"`);
  });

  it('refuses a GEMV whose BN x BK is not the tile', () => {
    expect(() => lowbitGemv(f32, dtype('u4'), false, { tile: [16, 64] }).build({ BN: 16, BK: 32, GROUP: 64 })).toThrow('stored in 16 x 64 tiles, but BN x BK = 16 x 32');
  });

  /** A case with row-major and tiled arguments for the same weights. */
  const bothLayouts = (seed: number, act: Dtype, weight: Dtype, group: number) => {
    const c = makeCase(seed, act, weight, group, GEMV_SHAPE);
    const tile = [16, Math.min(group, 64)] as const;
    const tiled = tileCodes(c.q, tile);
    const params = { BN: tile[0], BK: tile[1], GROUP: group };
    return {
      rowMajor: { kernel: lowbitGemv(act, weight, c.withZeros).build(params), args: c.args },
      tiled: { kernel: lowbitGemv(act, weight, c.withZeros, { tile }).build(params), args: { ...c.args, w: hostTensor(weight, [...tiled.shape], tiled.values) } },
      what: `${weight.name} x ${act.name} group ${group} (seed ${seed}) M=${c.m} N=${c.n} K=${c.k}`,
      act,
    };
  };
  const WEIGHTS = ['u4', 'u3', 'i6', 'f4e2m1'].map(dtype);

  it('the interpreter computes the same y from tiled codes as from row-major ones', async () => {
    const interp = device('interp');
    for (const weight of WEIGHTS) {
      const c = bothLayouts(freshSeed(), bf16, weight, 64);
      const { want: rowMajor } = await runBoth(interp, c.rowMajor.kernel, c.rowMajor.args);
      const { want: tiled } = await runBoth(interp, c.tiled.kernel, c.tiled.args);
      expectSame(tiled['y']!, rowMajor['y']!, false, c.what, c.act);
    }
  });

  for (const [backend, test] of [['cpu', testC], ['webgpu', testWebgpu]] as const) {
    test(`the ${backend} backend matches the interpreter on tiled codes`, async () => {
      const dev = device(backend);
      for (const weight of WEIGHTS) {
        const c = bothLayouts(freshSeed(), f32, weight, 32);
        const { got, want } = await runBoth(dev, c.tiled.kernel, c.tiled.args);
        expectSame(got['y']!, want['y']!, false, c.what, c.act);
      }
    });
  }
});
