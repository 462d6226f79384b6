/**
 * Composition of register layouts (the Kronecker product of Tilus): compose(A, B), written A * B,
 * tiles B inside each element of A. For a coordinate c = cA * shape(B) + cB:
 *   thread(c) = threadA(cA) * numThreads(B) + threadB(cB)
 *   local(c)  = localA(cA) * localSize(B) + localB(cB)
 * so A's modes are the more significant ones, in every dimension and in both lists.
 * Post: shape(A*B) = shape(A) .* shape(B); compose is associative.
 */
import { LayoutError } from '../errors.js';
import { type RegisterLayout, checkRegisterLayout, registerLayout } from './register-layout.js';

export function compose(a: RegisterLayout, b: RegisterLayout): RegisterLayout {
  checkRegisterLayout(a, 'compose');
  checkRegisterLayout(b, 'compose');
  if (a.rank !== b.rank) {
    throw new LayoutError('rank-mismatch', `compose of rank-${a.rank} ${a} with rank-${b.rank} ${b}`);
  }
  // New mode numbering: per dimension, A's modes then B's.
  const aIndex = new Map<number, number>();
  const bIndex = new Map<number, number>();
  const modeShape: number[] = [];
  for (let d = 0; d < a.rank; d++) {
    for (const m of a.dimModes[d]!) aIndex.set(m, modeShape.push(a.modeShape[m]!) - 1);
    for (const m of b.dimModes[d]!) bIndex.set(m, modeShape.push(b.modeShape[m]!) - 1);
  }
  const remap = (index: Map<number, number>) => (m: number) => (m < 0 ? m : index.get(m)!);
  return registerLayout(
    a.shape.map((s, d) => s * b.shape[d]!),
    modeShape,
    [...a.spatialModes.map(remap(aIndex)), ...b.spatialModes.map(remap(bIndex))],
    [...a.localModes.map(remap(aIndex)), ...b.localModes.map(remap(bIndex))],
  );
}
