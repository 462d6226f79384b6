/**
 * Random arguments for the library's kernels (kernels/index.ts) within their tiles, shared by the GPU
 * check (bench/gpu/check.ts) and the emulated CUDA tests: extents that are not multiples of the tiles,
 * and inputs a kernel accepts (cross-entropy's labels in range).
 */
import { makeArguments } from '../../bin/launch-inputs.js';
import { i32 } from '../../compiler/ir/dtype.js';
import type { Kernel } from '../../compiler/ir/ir.js';
import { randInt, rng } from '../../examples/check.js';
import { Tensor } from '../../runtime/tensor.js';

/** Random extents for a library kernel (kernels/index.ts), within its tiles. */
export function libraryShapes(name: string, params: Readonly<Record<string, number>>): (q: () => number) => Record<string, number> {
  if (name.startsWith('rotary')) return (q) => ({ S: randInt(q, 1, 20), H: randInt(q, 1, 8), D2: randInt(q, 1, params['BLOCK']!) });
  if (name.startsWith('attention')) return (q) => ({ B: randInt(q, 1, 2), H: randInt(q, 1, 4), S: randInt(q, 1, 150), D: randInt(q, 1, params['BLOCK_D']!) });
  if (name.startsWith('linear')) return (q) => ({ M: randInt(q, 1, 200), K: randInt(q, 1, 200), N: randInt(q, 1, 200) });
  if (name.startsWith('cross_entropy')) return (q) => ({ M: randInt(q, 1, 40), V: randInt(q, 1, 20_000) });
  if (name.startsWith('gemv') || name.startsWith('gemm')) {
    // K whole groups of 128 (G = K / 128 scales per row), M and N ragged; NB and KB: the tiles of a
    // kernel whose W is stored tile by tile.
    return (q) => {
      const [groups, n] = [randInt(q, 1, 4), randInt(q, 1, 300)];
      const k = 128 * groups;
      return { M: name.startsWith('gemv') ? randInt(q, 1, 4) : randInt(q, 1, 100), N: n, K: k, G: groups, NB: Math.ceil(n / params['BN']!), KB: k / params['BK']! };
    };
  }
  return (q) => ({ M: randInt(q, 1, 40), N: randInt(q, 1, params['BLOCK_N']!) });
}

/**
 * makeArguments for a library kernel, outputs included; cross-entropy's labels in [0, V), or -100
 * (ignored), drawn from seed + 1: random integers would fail the launch.
 */
export function libraryArguments(kernel: Kernel, symbols: Readonly<Record<string, number>>, seed: number): Record<string, Tensor | number> {
  const args = makeArguments(kernel, symbols, seed);
  if ('targets' in args) {
    const labels = rng(seed + 1);
    args['targets'] = Tensor.fromValues(i32, [symbols['M']!], Float64Array.from({ length: symbols['M']! }, () => (labels() < 0.1 ? -100 : randInt(labels, 0, symbols['V']! - 1))));
  }
  return args;
}

/**
 * How many units in the last place of the largest f32 output a dot of depth K on tf32 tensor cores may
 * be from the interpreter's dot of the same tf32-rounded operands. The products are exact, but the sums
 * are not in the interpreter's order, and the hardware adds each mma's products to the accumulator with
 * its own rounding: the H200 run of session 22 was 7 and 9 ulps off at K = 102 and 173, the emulator up
 * to 5 at K = 88 to 240. Allowed: 2 a k8 step beside the usual 4. An operand left unrounded is about
 * 2000 ulps off, a wrong fragment by whole products.
 */
export function tf32DotUlps(K: number): number {
  return 4 + 2 * Math.ceil(K / 8);
}

/**
 * The tensors `names` of `args` with every value rounded to tf32 as cvt.rna.tf32.f32 rounds (to
 * nearest, ties away from zero, the 13 low bits of the f32 cleared): the interpreter's reference for a
 * dot that the CUDA backend's tf32 option puts on tensor cores, whose operands are rounded so.
 */
export function roundedToTf32(args: Readonly<Record<string, Tensor | number>>, names: readonly string[]): void {
  const bits = new Uint32Array(1);
  const value = new Float32Array(bits.buffer);
  const tf32 = (x: number) => {
    value[0] = x;
    if ((bits[0]! & 0x7f800000) !== 0x7f800000) bits[0] = (bits[0]! + 0x1000) & ~0x1fff;
    return value[0]!;
  };
  for (const name of names) {
    const t = args[name] as Tensor;
    t.setValues(t.toValues().map(tf32));
  }
}
