/**
 * The graph API end to end: each case (the fusions the design names — softmax and norms, a residual
 * add with its norm, SwiGLU's two matmuls, a matmul epilogue, a softmax in or after a matmul, general
 * broadcasting, per-row values, transposed inputs, horizontal fusion) is compiled, run and checked:
 * - on the interpreter, against the float64 reference of the graph (compiler/graph/reference.ts), and
 *   bit for bit against the unfused plan (one kernel per op): fusing changes no value;
 * - on the C and WebGPU backends, against the interpreter;
 * in f32 and bf16, at random shapes that are not multiples of the tiles (also with small tiles, so a
 * program's tile is ragged at the edge and several programs share each axis), outputs poisoned.
 */
import { jest } from '@jest/globals';
import { evaluateReference } from '../../compiler/graph/reference.js';
import type { FusionGroup } from '../../compiler/graph/fusion.js';
import { type HostTensor } from '../../compiler/interpret/index.js';
import { type Dtype, bf16, f32 } from '../../compiler/ir/dtype.js';
import { type CompileGraphOptions, type Expr, compileGraph, graphInput } from '../../dsl/graph/index.js';
import { freshSeed, randInt, randomTensor, rng } from '../../examples/check.js';
import { device } from '../../runtime/device.js';
import { runGraph } from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';
import { expectSame } from '../backends/differential.js';
import { webgpuOr } from '../backends/wgsl/harness.js';
import { testWithCompiler } from '../runtime/cpu/harness.js';

// Each case compiles a dozen kernels on a CPU-emulated GPU (lavapipe) or with the C compiler: a few
// minutes on a quiet 2-core machine, several times that when other work shares the cores.
jest.setTimeout(900_000);
const testC = testWithCompiler('the graph API on the C backend');
const { it: testWebgpu } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the graph API on WebGPU');

interface GraphCase {
  readonly outputs: Record<string, Expr>;
  readonly inputs: Record<string, HostTensor>;
  /** Whether a transcendental (exp, erf, rsqrt...) is involved: backends then differ in the last places. */
  readonly approximate: boolean;
  readonly options?: CompileGraphOptions;
  /** The kernels the fused plan must have. */
  readonly kernels: number;
}

/** A random case; `wide` bounds the longest row (WebGPU takes narrow ones: lavapipe compiles big tiles slowly). */
type Make = (r: () => number, d: Dtype, wide: number) => GraphCase;

/** Graph inputs with random values in [lo, hi), rounded to d. */
function inputs(r: () => number, d: Dtype, shapes: Record<string, number[]>, lo = -1, hi = 1) {
  const values: Record<string, HostTensor> = {};
  const exprs: Record<string, Expr> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    values[name] = randomTensor(r, shape, lo, hi, d);
    exprs[name] = graphInput(name, d, shape);
  }
  return { values, exprs };
}

const CASES: Record<string, Make> = {
  softmax_family: (r, d, wide) => {
    const [m, n] = [randInt(r, 1, 9), randInt(r, 1, wide)];
    const { values, exprs: { x } } = inputs(r, d, { x: [m, n] }, -4, 4);
    return { outputs: { s: x!.softmax(), l: x!.logSoftmax(), a: x!.logsumexp(), b: x!.logsumexp({ keepDim: true }) }, inputs: values, approximate: true, kernels: 1 };
  },
  layer_norm: (r, d, wide) => {
    const [m, n] = [randInt(r, 1, 9), randInt(r, 2, wide)];
    const { values, exprs: { x, w, b } } = inputs(r, d, { x: [m, n], w: [n], b: [n] });
    return { outputs: { y: x!.mul(3).layerNorm(w, b) }, inputs: values, approximate: true, kernels: 1 };
  },
  rms_norm_residual: (r, d, wide) => {
    const [m, n] = [randInt(r, 1, 9), randInt(r, 1, wide)];
    const { values, exprs: { x, res, w } } = inputs(r, d, { x: [m, n], res: [m, n], w: [n] });
    const h = x!.add(res!);
    return { outputs: { h, y: h.rmsNorm(w) }, inputs: values, approximate: true, kernels: 1 };
  },
  swiglu_matmuls: (r, d) => {
    const [m, k, n] = [randInt(r, 1, 40), randInt(r, 1, 70), randInt(r, 1, 40)];
    const { values, exprs: { x, wg, wu } } = inputs(r, d, { x: [m, k], wg: [n, k], wu: [n, k] });
    return { outputs: { y: x!.matmul(wg!.T).silu().mul(x!.matmul(wu!.T)) }, inputs: values, approximate: true, kernels: 1 };
  },
  linear_epilogue: (r, d) => {
    const [m, k, n] = [randInt(r, 1, 40), randInt(r, 1, 70), randInt(r, 1, 40)];
    const { values, exprs: { x, w, bias, res } } = inputs(r, d, { x: [m, k], w: [k, n], bias: [n], res: [m, n] });
    return { outputs: { y: x!.matmul(w!).mul(0.5).add(bias!).relu().add(res!) }, inputs: values, approximate: false, kernels: 1 };
  },
  matmul_softmax: (r, d) => {
    const [m, k, n] = [randInt(r, 1, 40), randInt(r, 1, 70), randInt(r, 1, 40)];
    const { values, exprs: { x, w } } = inputs(r, d, { x: [m, k], w: [n, k] });
    return { outputs: { y: x!.matmul(w!.T).softmax() }, inputs: values, approximate: true, kernels: 1 };
  },
  matmul_then_softmax: (r, d) => {
    // A row wider than maxMatmulRow: the softmax is a kernel of its own, its cast to f32 moved into it.
    const [m, k, n] = [randInt(r, 1, 40), randInt(r, 1, 70), randInt(r, 9, 40)];
    const { values, exprs: { x, w, bias } } = inputs(r, d, { x: [m, k], w: [n, k], bias: [n] });
    return { outputs: { y: x!.matmul(w!.T).add(bias!).gelu().softmax() }, inputs: values, approximate: true, options: { maxMatmulRow: 8 }, kernels: 2 };
  },
  broadcast_rank3: (r, d, wide) => {
    const [a, b, c] = [randInt(r, 1, 5), randInt(r, 1, 6), randInt(r, 1, Math.min(50, wide))];
    const { values, exprs: { x, y, z } } = inputs(r, d, { x: [a, b, c], y: [a, 1, c], z: [b, c] });
    const t = x!.add(y!.mul(z!));
    return { outputs: { t, m: t.mean(-1, { keepDim: true }), s: t.sub(t.max(-1, { keepDim: true })).exp() }, inputs: values, approximate: true, kernels: 1 };
  },
  per_row_values: (r, d, wide) => {
    const [m, n] = [randInt(r, 1, 9), randInt(r, 1, wide)];
    const { values, exprs: { x, v } } = inputs(r, d, { x: [m, n], v: [m] });
    // s has no column axis: v [m] multiplies it row by row (the row frame), and so does min(x).
    const s = x!.sum(-1).mul(v!).add(x!.min(-1));
    return { outputs: { s, u: x!.sub(x!.max(-1, { keepDim: true })) }, inputs: values, approximate: false, kernels: 1 };
  },
  transposed_and_horizontal: (r, d) => {
    const m = randInt(r, 1, 30);
    const n = m + randInt(r, 1, 9); // [n, m] and [m, n] differ: two spaces
    const { values, exprs: { a, b, s } } = inputs(r, d, { a: [n, m], b: [m, n], s: [1] });
    return { outputs: { t: a!.T.add(b!), u: b!.mul(s!).neg(), w: a!.mul(2).abs() }, inputs: values, approximate: false, kernels: 2 };
  },
};

/** Small tiles, so that several programs share each axis and the last one is ragged. */
const SMALL_TILES = (_: string, g: FusionGroup) => {
  const columns = 2 ** Math.ceil(Math.log2(g.shape[g.shape.length - 1] ?? 1));
  if (g.kind === 'matmul') return { BM: 16, BN: g.wholeRows ? Math.max(16, columns) : 16, BK: 16 };
  return g.kind === 'rows' ? { BR: 2, BC: columns } : { BR: 2, BC: 16 };
};

function makeCase(name: string, seed: number, d: Dtype, wide = 300): GraphCase & { what: string } {
  return { ...CASES[name]!(rng(seed), d, wide), what: `${name} in ${d.name} (seed ${seed})` };
}

async function run(dev: ReturnType<typeof device>, c: GraphCase, options: CompileGraphOptions = {}): Promise<Record<string, Float64Array>> {
  const program = compileGraph(c.outputs, { ...c.options, ...options });
  const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, Tensor.fromHostTensor(v)]));
  const out = await runGraph(dev, program, feeds, { poison: true });
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.toValues()]));
}

const interp = device('interp');

describe.each(Object.keys(CASES))('graph %s', (name) => {
  test('the interpreter matches the float64 reference, fused as unfused, and the plan fuses as expected', async () => {
    for (const d of [f32, bf16]) {
      const c = makeCase(name, freshSeed(), d);
      const program = compileGraph(c.outputs, c.options);
      expect(program.steps.length).toBe(c.kernels);
      // Nothing but a group's outputs goes to memory: one store each, and no other.
      for (const step of program.steps) expect(step.kernel.body.ops.filter((op) => op.opcode === 'store')).toHaveLength(step.group.outputs.length);
      const fused = await run(interp, c);
      const unfused = await run(interp, c, { fuse: false });
      const small = await run(interp, c, { params: SMALL_TILES });
      const names = Object.keys(c.outputs);
      const reference = evaluateReference(names.map((k) => c.outputs[k]!.node), Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, v.data])));
      names.forEach((k, i) => {
        const what = `${c.what}, output ${k}`;
        expectSame(unfused[k]!, fused[k]!, false, `${what}: unfused against fused`, d);
        const want = reference[i]!;
        const largest = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        // f32 arithmetic against float64: a few units of f32 (more through sums over K terms); bf16 nodes
        // round each intermediate, and a flipped rounding carries: a few bf16 units of the largest value.
        const bound = (c.outputs[k]!.dtype === bf16 || d === bf16 ? 2 ** -5 : 2 ** -17) * Math.max(largest, 1);
        for (const out of [fused[k]!, small[k]!]) {
          for (let j = 0; j < want.length; j++) {
            if (!(Math.abs(out[j]! - want[j]!) <= bound)) throw new Error(`${what}: element ${j} is ${out[j]}, the reference ${want[j]}`);
          }
        }
      });
    }
  });

  for (const [backend, it, wide] of [['cpu', testC, 300], ['webgpu', testWebgpu, 40]] as const) {
    it(`the ${backend} backend matches the interpreter`, async () => {
      const dev = device(backend);
      for (const d of [f32, bf16]) {
        for (const options of [{}, { params: SMALL_TILES }]) {
          const c = makeCase(name, freshSeed(), d, wide);
          const [got, want] = [await run(dev, c, options), await run(interp, c, options)];
          for (const k of Object.keys(want)) {
            // Both were poisoned with NaN, and NaN matches NaN: the interpreter must have written every element.
            expect(want[k]!.some(Number.isNaN)).toBe(false);
            expectSame(got[k]!, want[k]!, c.approximate, `${c.what}, output ${k}`, c.outputs[k]!.dtype, true);
          }
        }
      }
    });
  }
});
