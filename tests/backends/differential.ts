/**
 * What the differential tests of every backend share: running a kernel on a device and on the
 * interpreter from the same inputs, the comparison of their outputs, and the example kernels with
 * random shapes (not multiples of their tiles) and poisoned outputs.
 */
import type { Dtype } from '../../compiler/ir/dtype.js';
import { type Kernel, walkOps } from '../../compiler/ir/ir.js';
import { type HostTensor, hostTensor } from '../../compiler/interpret/index.js';
import { device } from '../../runtime/device.js';
import { Tensor } from '../../runtime/tensor.js';
import { randInt, randomTensor } from '../../examples/check.js';
import { copyArguments } from '../../bin/launch-inputs.js';
import { type RandomMatmul, smallIntegerArguments } from '../fuzz/random-matmul.js';
import { layerNorm } from '../../examples/layer-norm.js';
import { matmul } from '../../examples/matmul.js';
import { softmax } from '../../examples/softmax.js';
import { vectorAdd } from '../../examples/vector-add.js';

export type Outputs = Record<string, Float64Array>;

const interp = device('interp');

/** What runBoth needs of a device: a compile whose kernel runs. */
export interface Runner {
  compile(kernel: Kernel): Promise<{ run(args: Readonly<Record<string, Tensor | number>>): Promise<void> }>;
}

/** Runs `kernel` on `dev` and on the interpreter from the same inputs; the tensors' values after, by name. */

export async function runBoth(dev: Runner, kernel: Kernel, args: Record<string, HostTensor | number>): Promise<{ got: Outputs; want: Outputs }> {
  const results = { got: {} as Outputs, want: {} as Outputs };
  for (const [d, out] of [[dev, results.got], [interp, results.want]] as const) {
    const tensors: Record<string, Tensor | number> = {};
    for (const [name, v] of Object.entries(args)) tensors[name] = typeof v === 'number' ? v : Tensor.fromHostTensor(v);
    await (await d.compile(kernel)).run(tensors);
    for (const [name, v] of Object.entries(tensors)) if (v instanceof Tensor) out[name] = v.toValues();
  }
  return results;
}

/**
 * Equal, NaN equal to NaN and -0 distinct from +0; when approximate (downstream of a transcendental,
 * which may be 2 units in the last place off, and whose error the following ops carry), within 4 units
 * in the last place of the output dtype, of the element itself or, with `ofTensor`, of the tensor's
 * largest magnitude (for backends whose transcendentals are f32 functions: a later subtraction can
 * cancel most of an element while its error stays). There, approximate outputs of integer or bool
 * dtypes (bits or comparisons of approximate floats) are not compared: no tolerance means anything.
 */
export function expectSame(got: Float64Array, want: Float64Array, approximate: boolean, what: string, d: Dtype, ofTensor = false): void {
  if (ofTensor && approximate && d.kind !== 'float') return;
  const ulp = 2 ** -(d.mantissaBits ?? 52);
  const largest = ofTensor ? want.reduce((m, w) => (Number.isFinite(w) ? Math.max(m, Math.abs(w)) : m), 0) : 0;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (Object.is(g, w)) continue;
    if (approximate && Math.abs(g - w) <= 4 * ulp * Math.max(Math.abs(w), largest, d.minNormal ?? 0)) continue;
    throw new Error(`${what}: element ${i} is ${g} on the device but ${w} on the interpreter`);
  }
}

/**
 * Whether the kernel computes an f32 exp, sigmoid or erf, which the C backend evaluates as f32
 * functions (1, 2 and 2 units in the last place) where its other transcendentals round a double once: its
 * comparisons then take `ofTensor`, as WebGPU's always do.
 */
export function hasF32Transcendentals(kernel: Kernel): boolean {
  let found = false;
  walkOps(kernel.body, (op) => {
    if (['exp', 'sigmoid', 'erf'].includes(op.opcode) && op.results[0]!.type.dtype.name === 'f32') found = true;
  });
  return found;
}

export function dtypeOf(kernel: Kernel, arg: string): Dtype {
  return kernel.args.find((a) => a.name === arg)!.type.dtype;
}

export function poisoned(d: HostTensor['dtype'], shape: number[]): HostTensor {
  const t = hostTensor(d, shape);
  t.data.fill(d.hasNaN ? NaN : d.maxValue);
  return t;
}

/** [name, kernel, random arguments, approximate] for each example. */
export const EXAMPLE_CASES = [
  ['vector_add', vectorAdd.build(), (r: () => number) => { const n = randInt(r, 1, 5000); return { x: randomTensor(r, [n]), y: randomTensor(r, [n]), z: poisoned(vectorAdd.args.z.dtype, [n]) }; }, false],
  ['softmax', softmax.build(), (r: () => number) => { const [m, n] = [randInt(r, 1, 30), randInt(r, 1, 1024)]; return { x: randomTensor(r, [m, n], -8, 8), y: poisoned(softmax.args.y.dtype, [m, n]) }; }, true],
  ['layer_norm', layerNorm.build(), (r: () => number) => { const [m, n] = [randInt(r, 1, 30), randInt(r, 2, 1024)]; return { x: randomTensor(r, [m, n], -3, 5), w: randomTensor(r, [n]), b: randomTensor(r, [n]), y: poisoned(layerNorm.args.y.dtype, [m, n]) }; }, true],
  ['matmul', matmul.build(), (r: () => number) => { const [m, k, n] = [randInt(r, 1, 70), randInt(r, 1, 70), randInt(r, 1, 70)]; return { a: randomTensor(r, [m, k]), b: randomTensor(r, [k, n]), c: poisoned(matmul.args.c.dtype, [m, n]) }; }, false],
] as const;

/**
 * A random tiled matmul (tests/fuzz/random-matmul.ts) on `dev` and on the interpreter, from the same
 * inputs, small integers (a's are halves where the kernel truncates them), outputs poisoned: every sum
 * is exact in any order, so every output element must equal the interpreter's (a zero's sign aside:
 * the hardware's adder may give -0 where an ordered sum gives +0), and poison stay where nothing is stored.
 */
export async function expectMatmulExact(dev: Runner, p: RandomMatmul): Promise<void> {
  const args = smallIntegerArguments(p);
  const want = copyArguments(args);
  await (await dev.compile(p.kernel)).run(args);
  await (await interp.compile(p.kernel)).run(want);
  for (const a of p.kernel.args) {
    if (a.type.kind !== 'tensor' || a.type.access === 'in') continue;
    const [got, expected] = [(args[a.name!] as Tensor).toValues(), (want[a.name!] as Tensor).toValues()];
    const i = expected.findIndex((w, j) => !(got[j] === w || (Number.isNaN(got[j]) && Number.isNaN(w))));
    if (i >= 0) throw new Error(`random matmul ${p.seed} (${p.description}) at ${JSON.stringify({ ...p.symbols, ...p.scalars })}: ${a.name}[${i}] is ${got[i]} on the device but ${expected[i]} on the interpreter`);
  }
}
