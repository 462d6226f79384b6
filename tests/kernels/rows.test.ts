/**
 * The library's row kernels (kernels/rows/): the interpreter against each kernel's float64 reference,
 * then the C and WebGPU backends against the interpreter, in f32 and bf16 (cross-entropy: bf16 logits,
 * an f32 loss), at random ragged shapes
 * (rows shorter than the block, a block longer than the rows), outputs poisoned beforehand.
 */
import { jest } from '@jest/globals';
import { type HostTensor, hostTensor } from '../../compiler/interpret/index.js';
import { type Dtype, bf16, f32, i32 } from '../../compiler/ir/dtype.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { device } from '../../runtime/device.js';
import { Tensor } from '../../runtime/tensor.js';
import { freshSeed, randInt, randomTensor, rng } from '../../examples/check.js';
import { crossEntropyReference, crossEntropyRows } from '../../kernels/rows/cross-entropy.js';
import { gegluRows, gluReference, swigluRows } from '../../kernels/rows/glu.js';
import { ACTIVATION_REFERENCES } from '../../kernels/activations.js';
import { layerNormReference, layerNormRows, rmsNormReference, rmsNormResidualRows, rmsNormRows } from '../../kernels/rows/norms.js';
import { rotaryReference, rotaryRows } from '../../kernels/rows/rotary.js';
import { logSoftmaxRows, softmaxReference, softmaxRows } from '../../kernels/rows/softmax.js';
import { expectSame, hasF32Transcendentals, poisoned, runBoth } from '../backends/differential.js';
import { testWithCompiler } from '../runtime/cpu/harness.js';
import { webgpuOr } from '../backends/wgsl/harness.js';

jest.setTimeout(300_000);
const testC = testWithCompiler('the row kernels on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the row kernels on WebGPU');

interface RowCase {
  readonly kernel: Kernel;
  readonly args: Record<string, HostTensor>;
  /** The float64 result of each output, from the inputs as stored (rounded to d). */
  readonly reference: () => Record<string, Float64Array>;
  /** Whether the kernel computes a transcendental (exp, erf): backends may differ in the last places. */
  readonly transcendental: boolean;
  /** The outputs' dtype when it is not the storage dtype. */
  readonly outputDtype?: Dtype;
  /** Whether the reference is exact up to the outputs' one rounding: then within half a unit of d. */
  readonly roundedOnce?: boolean;
  readonly what: string;
}

const BLOCK_N = 512;

/** A random case of each row kernel in dtype d. */
const CASES: Record<string, (seed: number, d: Dtype) => RowCase> = {
  softmax: (seed, d) => softmaxCase(seed, d, false),
  log_softmax: (seed, d) => softmaxCase(seed, d, true),
  layer_norm: (seed, d) => {
    const r = rng(seed);
    const [m, n] = [randInt(r, 1, 12), randInt(r, 2, BLOCK_N)];
    const [x, w, b] = [randomTensor(r, [m, n], -3, 5, d), randomTensor(r, [n], -2, 2, d), randomTensor(r, [n], -1, 1, d)];
    const rows = rowsPerProgram(r);
    return { kernel: layerNormRows(d).build({ BLOCK_N, ROWS: rows }), args: { x, w, b, y: poisoned(d, [m, n]) }, reference: () => ({ y: layerNormReference(x.data, w.data, b.data, m, n) }), transcendental: false, what: `layer_norm_${d.name} M=${m} N=${n} ROWS=${rows} (seed ${seed})` };
  },
  rms_norm: (seed, d) => {
    const r = rng(seed);
    const [m, n] = [randInt(r, 1, 12), randInt(r, 1, BLOCK_N)];
    const [x, w] = [randomTensor(r, [m, n], -3, 3, d), randomTensor(r, [n], -2, 2, d)];
    const rows = rowsPerProgram(r);
    return { kernel: rmsNormRows(d).build({ BLOCK_N, ROWS: rows }), args: { x, w, y: poisoned(d, [m, n]) }, reference: () => ({ y: rmsNormReference(x.data, w.data, m, n) }), transcendental: false, what: `rms_norm_${d.name} M=${m} N=${n} ROWS=${rows} (seed ${seed})` };
  },
  rms_norm_residual: (seed, d) => {
    const r = rng(seed);
    const [m, n] = [randInt(r, 1, 12), randInt(r, 1, BLOCK_N)];
    const [x, res, w] = [randomTensor(r, [m, n], -3, 3, d), randomTensor(r, [m, n], -3, 3, d), randomTensor(r, [n], -2, 2, d)];
    // h is x + r rounded to d, as an unfused add would store it; y is the norm of that h, to within half
    // a unit of d (a y computed from the unrounded sum is a unit off in places, and fails).
    const reference = () => {
      const h = hostTensor(d, [m, n], Float64Array.from(x.data, (v, i) => v + res.data[i]!)).data;
      return { h, y: rmsNormReference(h, w.data, m, n) };
    };
    return { kernel: rmsNormResidualRows(d).build({ BLOCK_N }), args: { x, r: res, w, h: poisoned(d, [m, n]), y: poisoned(d, [m, n]) }, reference, transcendental: false, roundedOnce: true, what: `rms_norm_residual_${d.name} M=${m} N=${n} (seed ${seed})` };
  },
  swiglu: (seed, d) => gluCase(seed, d, 'swiglu'),
  geglu: (seed, d) => gluCase(seed, d, 'geglu'),
  cross_entropy: (seed, d) => {
    const r = rng(seed);
    // V past several chunks of BLOCK_V = 128, ragged; some rows ignored.
    const [m, v] = [randInt(r, 1, 12), randInt(r, 1, 700)];
    const logits = randomTensor(r, [m, v], -6, 6, d);
    const targets = hostTensor(i32, [m], Array.from({ length: m }, () => (r() < 0.2 ? -100 : randInt(r, 0, v - 1))));
    return {
      kernel: crossEntropyRows(d).build({ BLOCK_V: 128 }),
      args: { logits, targets, loss: poisoned(f32, [m]) },
      reference: () => ({ loss: crossEntropyReference(logits.data, targets.data, m, v) }),
      transcendental: true,
      outputDtype: f32,
      what: `cross_entropy_${d.name} M=${m} V=${v} (seed ${seed})`,
    };
  },
  rotary: (seed, d) => {
    const r = rng(seed);
    const [s, h, half] = [randInt(r, 1, 6), randInt(r, 1, 4), randInt(r, 1, 64)];
    const angles = Float64Array.from({ length: s * half }, (_, i) => Math.floor(i / half) / 10000 ** ((i % half) / half));
    const cos = randomTensor(r, [s, half]);
    const sin = randomTensor(r, [s, half]);
    cos.data.set(angles.map(Math.cos).map(Math.fround));
    sin.data.set(angles.map(Math.sin).map(Math.fround));
    const x = randomTensor(r, [s, h, 2, half], -2, 2, d);
    // Heads per program: 1 (the default), or blocks of 2 or 3 whose last one may be part past H.
    const heads = randInt(r, 1, 3);
    return {
      kernel: rotaryRows(d).build({ HEADS: heads }),
      args: { x, cos, sin, y: poisoned(d, [s, h, 2, half]) },
      reference: () => ({ y: rotaryReference(x.data, cos.data, sin.data, s, h, 2 * half) }),
      transcendental: false,
      what: `rotary_${d.name} S=${s} H=${h} D=${2 * half} HEADS=${heads} (seed ${seed})`,
    };
  },
};

function softmaxCase(seed: number, d: Dtype, logOfIt: boolean): RowCase {
  const r = rng(seed);
  const [m, n] = [randInt(r, 1, 12), randInt(r, 1, BLOCK_N)];
  const x = randomTensor(r, [m, n], -8, 8, d);
  const make = logOfIt ? logSoftmaxRows : softmaxRows;
  const rows = rowsPerProgram(r);
  return { kernel: make(d).build({ BLOCK_N, ROWS: rows }), args: { x, y: poisoned(d, [m, n]) }, reference: () => ({ y: softmaxReference(x.data, m, n, logOfIt) }), transcendental: true, what: `${logOfIt ? 'log_' : ''}softmax_${d.name} M=${m} N=${n} ROWS=${rows} (seed ${seed})` };
}

/** Rows per program (the kernels' ROWS): 1, the default, or 2 or 3, each row read a row ahead, the last program's rows often past M. */
const rowsPerProgram = (r: () => number) => randInt(r, 1, 3);

function gluCase(seed: number, d: Dtype, which: 'swiglu' | 'geglu'): RowCase {
  const r = rng(seed);
  const [m, n] = [randInt(r, 1, 12), randInt(r, 1, BLOCK_N)];
  const [a, g] = [randomTensor(r, [m, n], -6, 6, d), randomTensor(r, [m, n], -2, 2, d)];
  const make = which === 'swiglu' ? swigluRows : gegluRows;
  return { kernel: make(d).build({ BLOCK_N }), args: { a, g, y: poisoned(d, [m, n]) }, reference: () => ({ y: gluReference(a.data, g.data, ACTIVATION_REFERENCES[which === 'swiglu' ? 'silu' : 'gelu']) }), transcendental: true, what: `${which}_${d.name} M=${m} N=${n} (seed ${seed})` };
}

/**
 * Within the f32 work's error (a few units of f32 against the tensor's largest value) plus, for bf16,
 * the rounding of the result and of an intermediate stored in bf16 (rms_norm_residual's h): 2^-7 of
 * the element.
 */
function expectNearReference(got: Float64Array, want: Float64Array, d: Dtype, what: string, roundedOnce = false): void {
  const largest = want.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
  const relative = d === bf16 ? 2 ** -7 : 2 ** -20;
  // Half a unit in the last place of d at want[i], plus the f32 work's error.
  const halfUnit = (v: number) => (v === 0 ? 0 : 2 ** (Math.floor(Math.log2(Math.abs(v))) - d.mantissaBits! - 1));
  for (let i = 0; i < want.length; i++) {
    const bound = roundedOnce ? halfUnit(want[i]!) + 2 ** -20 * (Math.abs(want[i]!) + largest) : Math.abs(want[i]!) * relative + 2 ** -20 * largest;
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) throw new Error(`${what}: element ${i} is ${got[i]}, the reference ${want[i]} (bound ${bound})`);
  }
}

const DTYPES = [f32, bf16] as const;

describe('row kernels', () => {
  const interp = device('interp');
  it.each(Object.keys(CASES))('%s: the interpreter matches the float64 reference', async (name) => {
    for (const d of DTYPES) {
      const c = CASES[name]!(freshSeed(), d);
      const { want } = await runBoth(interp, c.kernel, c.args);
      for (const [out, reference] of Object.entries(c.reference())) expectNearReference(want[out]!, reference, c.outputDtype ?? d, `${c.what} output ${out}`, c.roundedOnce);
    }
  });

  it('ROWS = 3: every row, those of the last program (past M) too, against the float64 reference', async () => {
    const r = rng(freshSeed());
    const [m, n] = [3 * randInt(r, 1, 3) + randInt(r, 1, 2), randInt(r, 1, BLOCK_N)];
    const [x, w, b] = [randomTensor(r, [m, n], -3, 3, f32), randomTensor(r, [n], -2, 2, f32), randomTensor(r, [n], -1, 1, f32)];
    const runs: [Kernel, Record<string, HostTensor>, Float64Array][] = [
      [softmaxRows(f32).build({ BLOCK_N, ROWS: 3 }), { x, y: poisoned(f32, [m, n]) }, softmaxReference(x.data, m, n)],
      [logSoftmaxRows(f32).build({ BLOCK_N, ROWS: 3 }), { x, y: poisoned(f32, [m, n]) }, softmaxReference(x.data, m, n, true)],
      [layerNormRows(f32).build({ BLOCK_N, ROWS: 3 }), { x, w, b, y: poisoned(f32, [m, n]) }, layerNormReference(x.data, w.data, b.data, m, n)],
      [rmsNormRows(f32).build({ BLOCK_N, ROWS: 3 }), { x, w, y: poisoned(f32, [m, n]) }, rmsNormReference(x.data, w.data, m, n)],
    ];
    for (const [kernel, args, reference] of runs) {
      const { want } = await runBoth(interp, kernel, args);
      expectNearReference(want['y']!, reference, f32, `${kernel.name} ROWS=3 M=${m} N=${n}`);
    }
  });

  testC('a row longer than the tile fails the launch (on the interpreter and C), rather than leaving its end unwritten', async () => {
    const r = rng(freshSeed());
    const cpu = device('cpu');
    for (const dev of [interp, cpu]) {
      for (const ROWS of [1, 2]) {
        const softmax = (await dev.compile(softmaxRows(f32).build({ BLOCK_N: 16, ROWS }))).run({ x: Tensor.fromHostTensor(randomTensor(r, [3, 17])), y: Tensor.empty(f32, [3, 17]) });
        await expect(softmax).rejects.toThrow('kernel softmax_f32: its extents must satisfy N <= 16, but N = 17 (from x): 17 > 16');
      }
      const x = Tensor.fromHostTensor(randomTensor(r, [1, 1, 2, 65]));
      const rotary = (await dev.compile(rotaryRows(f32).build())).run({ x, cos: Tensor.empty(f32, [1, 65]), sin: Tensor.empty(f32, [1, 65]), y: Tensor.empty(f32, [1, 1, 2, 65]) });
      await expect(rotary).rejects.toThrow('kernel rotary_f32: its extents must satisfy D2 <= 64, but D2 = 65 (from x): 65 > 64');
    }
  });

  it('cross-entropy refuses a target outside the vocabulary (other than the ignored -100)', async () => {
    const logits = randomTensor(rng(freshSeed()), [2, 10]);
    for (const bad of [10, -1]) {
      const targets = hostTensor(i32, [2], [3, bad]);
      await expect(runBoth(interp, crossEntropyRows(f32).build({ BLOCK_V: 8 }), { logits, targets, loss: poisoned(f32, [2]) })).rejects.toThrow(/logits/);
    }
  });

  for (const [backend, test] of [['cpu', testC], ['webgpu', testWebgpu]] as const) {
    test(`the ${backend} backend matches the interpreter`, async () => {
      const dev = device(backend);
      for (const name of Object.keys(CASES)) {
        for (const d of DTYPES) {
          const c = CASES[name]!(freshSeed(), d);
          const { got, want } = await runBoth(dev, c.kernel, c.args);
          const ofTensor = backend === 'webgpu' || hasF32Transcendentals(c.kernel);
          for (const out of Object.keys(c.reference())) expectSame(got[out]!, want[out]!, c.transcendental || backend === 'webgpu', `${c.what} output ${out}`, c.outputDtype ?? d, ofTensor);
        }
      }
    });
  }
});
