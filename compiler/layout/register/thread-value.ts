/**
 * Register layouts as CuTe thread-value layouts: a Layout TV with shape (threads, values) such that
 * TV(t, v) is the colexicographic index, in the tile's shape, of the element that thread t holds in
 * register v (idx2crd(TV(t, v), shape) is its coordinate, CuTe's convention for TV layouts).
 * Replicas become stride-0 thread modes. The thread and value modes are listed least significant
 * first, so that CuTe's colexicographic thread and value indices equal ours.
 */
import { Layout, makeLayout } from '../layout.js';
import { type RegisterLayout, checkRegisterLayout } from './register-layout.js';

export function threadValueLayout(l: RegisterLayout): Layout {
  checkRegisterLayout(l, 'threadValueLayout');
  // Weight of one step of each mode in the colexicographic index of the tile.
  const weight = new Array<number>(l.modeShape.length);
  let dimWeight = 1;
  l.dimModes.forEach((modes, d) => {
    let w = dimWeight;
    for (let i = modes.length - 1; i >= 0; i--) {
      weight[modes[i]!] = w;
      w *= l.modeShape[modes[i]!]!;
    }
    dimWeight *= l.shape[d]!;
  });
  const part = (entries: readonly number[]): Layout => {
    const modes = [...entries].reverse();
    if (modes.length === 0) return new Layout(1, 0);
    return new Layout(
      modes.map((m) => (m >= 0 ? l.modeShape[m]! : -m)),
      modes.map((m) => (m >= 0 ? weight[m]! : 0)),
    );
  };
  return makeLayout(part(l.spatialModes), part(l.localModes));
}
