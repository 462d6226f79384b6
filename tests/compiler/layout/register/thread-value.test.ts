import fc from 'fast-check';
import { idx2crd, local, reduce, spatial, threadValueLayout } from '../../../../compiler/layout/index.js';
import { anyRegisterLayout } from './arbitraries.js';

describe('threadValueLayout', () => {
  test('a 16x16 warp tile as a CuTe TV layout', () => {
    const l = local(2, 1).spatial(8, 4).local(1, 4);
    expect(String(threadValueLayout(l))).toBe('((4,8),(4,2)):((64,1),(16,8))');
  });

  test('replicas are stride-0 thread modes', () => {
    expect(String(threadValueLayout(reduce(spatial(3, 4), [0])))).toBe('((4,3),1):((1,0),0)');
  });

  test('TV(t, v) is the colexicographic index of elementAt(t, v)', () => {
    fc.assert(
      fc.property(anyRegisterLayout, (l) => {
        const tv = threadValueLayout(l);
        expect(tv.size).toBe(l.numThreads * l.localSize);
        for (let t = 0; t < l.numThreads; t++) {
          for (let v = 0; v < l.localSize; v++) {
            const crd = l.shape.length === 0 ? [] : idx2crd(tv.at([t, v]), l.shape.length === 1 ? l.shape[0]! : l.shape);
            expect([crd].flat()).toEqual(l.elementAt(t, v));
          }
        }
      }),
    );
  });
});
