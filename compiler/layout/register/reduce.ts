/**
 * The layout of a reduction's result. Reducing a register tile over some dimensions leaves, in each
 * thread, one value per remaining element: the reduced dimensions' register digits disappear (each
 * thread first combines its own registers) and their thread digits become replicas (the threads that
 * shared a row exchange partial results, after which all of them hold the total).
 * reduce(spatial(3,4), [0]) holds element 0 on threads 0, 4 and 8.
 */
import { LayoutError } from '../errors.js';
import { type RegisterLayout, checkRegisterLayout, registerLayout } from './register-layout.js';

export interface ReduceOptions {
  /** Keep the reduced dimensions with extent 1 (default: remove them, as a reduction op does). */
  readonly keepDims?: boolean;
}

export function reduce(layout: RegisterLayout, dims: readonly number[], options: ReduceOptions = {}): RegisterLayout {
  checkRegisterLayout(layout, 'reduce');
  if (!Array.isArray(dims)) throw new LayoutError('invalid-argument', 'reduce needs an array of dimensions');
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d >= layout.rank) {
      throw new LayoutError('out-of-range', `cannot reduce dimension ${d} of rank-${layout.rank} ${layout}`);
    }
  }
  const reduced = new Set(dims.flatMap((d) => layout.dimModes[d]!));
  const kept = layout.modeShape.map((_, m) => m).filter((m) => !reduced.has(m));
  const renumber = new Map(kept.map((m, i) => [m, i]));
  const shape = layout.shape.flatMap((s, d) => (!dims.includes(d) ? [s] : options?.keepDims ? [1] : []));
  return registerLayout(
    shape,
    kept.map((m) => layout.modeShape[m]!),
    layout.spatialModes.map((m) => (m < 0 ? m : reduced.has(m) ? -layout.modeShape[m]! : renumber.get(m)!)),
    layout.localModes.filter((m) => !reduced.has(m)).map((m) => renumber.get(m)!),
  );
}
