/**
 * The activations the library's kernels apply to f32 tiles, and their float64 references.
 * gelu is the exact form, a/2 · (1 + erf(a/√2)); silu is a · sigmoid(a).
 */
import { type Tile, gelu, relu, silu } from '../dsl/index.js';
import { erf } from '../compiler/interpret/scalar-math.js';

export type Activation = 'none' | 'relu' | 'gelu' | 'silu';

export const ACTIVATIONS: Readonly<Record<Activation, (t: Tile) => Tile>> = {
  none: (t) => t,
  relu,
  gelu,
  silu,
};

/** The float64 references (erf is the interpreter's, accurate to about 1e-16). */
export const ACTIVATION_REFERENCES: Readonly<Record<Activation, (v: number) => number>> = {
  none: (v) => v,
  relu: (v) => Math.max(v, 0),
  gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  silu: (v) => v / (1 + Math.exp(-v)),
};
