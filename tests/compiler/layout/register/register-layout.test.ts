import fc from 'fast-check';
import {
  LayoutError,
  RegisterLayout,
  columnLocal,
  columnSpatial,
  compose,
  divide,
  leftDivide,
  local,
  reduce,
  registerLayout,
  spatial,
  threadValueLayout,
} from '../../../../compiler/layout/index.js';
import { anyRegisterLayout, sameRankTriple } from './arbitraries.js';

/** Every coordinate of a shape, row-major. */
function coords(shape: readonly number[]): number[][] {
  return shape.reduce<number[][]>((acc, n) => acc.flatMap((c) => Array.from({ length: n }, (_, i) => [...c, i])), [[]]);
}

/**
 * The same mapping as `l`, built with the constructor and not canonical: every mode with a prime factor
 * split in two (neighbours in the same list), a 1-replica in front, and a size-1 mode at the end.
 */
function nonCanonical(l: RegisterLayout): RegisterLayout {
  const modeShape: number[] = [];
  const pieces = l.modeShape.map((s) => {
    const p = [2, 3, 5, 7].find((q) => s % q === 0 && q < s);
    return p === undefined ? [modeShape.push(s) - 1] : [modeShape.push(p) - 1, modeShape.push(s / p) - 1];
  });
  const spatialModes = [-1, ...l.spatialModes.flatMap((m) => (m < 0 ? [m] : pieces[m]!))];
  const localModes = l.localModes.flatMap((m) => pieces[m]!);
  if (l.rank > 0) localModes.push(modeShape.push(1) - 1);
  return new RegisterLayout(l.shape, modeShape, spatialModes, localModes);
}

/** The whole mapping, element by element: the definition of equality the canonical form must match. */
function table(l: RegisterLayout): string {
  return JSON.stringify([l.shape, l.numThreads, l.localSize, coords(l.shape).map((c) => l.owners(c))]);
}

describe('register layout primitives', () => {
  test('local, spatial and their column forms', () => {
    expect(local(2, 3).owners([1, 2])).toEqual([{ thread: 0, local: 5 }]);
    expect(columnLocal(2, 3).owners([1, 2])).toEqual([{ thread: 0, local: 5 }]);
    expect(columnLocal(2, 3).owners([1, 0])).toEqual([{ thread: 0, local: 1 }]);
    expect(spatial(2, 3).owners([1, 0])).toEqual([{ thread: 3, local: 0 }]);
    expect(columnSpatial(2, 3).owners([1, 0])).toEqual([{ thread: 1, local: 0 }]);
    expect([spatial(2, 3).numThreads, spatial(2, 3).localSize, local(2, 3).numThreads, local(2, 3).localSize]).toEqual([6, 1, 1, 6]);
  });

  test('local(3,4).spatial(2,3) has shape [6,12]', () => {
    const l = local(3, 4).spatial(2, 3);
    expect(l.shape).toEqual([6, 12]);
    expect([l.numThreads, l.localSize]).toEqual([6, 12]);
    // Element (i, j) = (iA*2 + iB, jA*3 + jB): thread iB*3 + jB, register iA*4 + jA.
    expect(l.owners([5, 7])).toEqual([{ thread: 1 * 3 + 1, local: 2 * 4 + 2 }]);
  });

  test('a warp holding a 16x16 tile, two 4-wide vectors per thread', () => {
    const l = local(2, 1).spatial(8, 4).local(1, 4);
    expect(l.shape).toEqual([16, 16]);
    expect([l.numThreads, l.localSize]).toEqual([32, 8]);
    expect(l.owners([9, 6])).toEqual([{ thread: 1 * 4 + 1, local: 1 * 4 + 2 }]);
    expect(l.elementAt(5, 6)).toEqual([9, 6]);
  });

  test('canonical forms: the same mapping built two ways compares equal', () => {
    expect(spatial(4).equals(spatial(2).spatial(2))).toBe(true);
    expect(local(2, 4).equals(local(2, 1).local(1, 4))).toBe(true);
    expect(spatial(1, 8).equals(columnSpatial(1, 8))).toBe(true);
    expect(spatial(2, 3).equals(columnSpatial(2, 3))).toBe(false);
    expect(local(1, 1).spatial(1, 1).equals(local(1, 1))).toBe(true);
  });

  test('structural equality of canonical forms is equality of mappings', () => {
    fc.assert(
      fc.property(anyRegisterLayout, anyRegisterLayout, (a, b) => {
        expect(a.equals(b)).toBe(table(a) === table(b));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(anyRegisterLayout, (a) => {
        const rebuilt = registerLayout(a.shape, a.modeShape, a.spatialModes, a.localModes);
        expect(rebuilt.equals(a)).toBe(true);
      }),
    );
  });

  test('layouts built with the constructor compare and divide by their mapping (the repro of the review)', () => {
    const raw = new RegisterLayout([4], [2, 2], [0, 1], []);
    expect(raw.equals(spatial(4))).toBe(true);
    expect(spatial(4).equals(raw)).toBe(true);
    expect(raw.canonical().modeShape).toEqual([4]);
    expect(divide(raw, spatial(2)).equals(spatial(2))).toBe(true);
    expect(leftDivide(raw, spatial(2)).equals(spatial(2))).toBe(true);
    expect(divide(spatial(4), new RegisterLayout([2], [1, 2], [-1, 1], [0])).equals(spatial(2))).toBe(true);
    expect(registerLayout([4], [2, 2], [0, 1], []).modeShape).toEqual([4]);
  });

  test('equality, division and composition of non-canonical layouts follow their mapping', () => {
    fc.assert(
      fc.property(sameRankTriple, ([a, b]) => {
        const ab = compose(a, b);
        const raw = nonCanonical(ab);
        expect(table(raw)).toBe(table(ab));
        expect(raw.equals(ab) && ab.equals(raw)).toBe(true);
        expect(raw.canonical().equals(ab)).toBe(true);
        expect(divide(raw, nonCanonical(b)).equals(a)).toBe(true);
        expect(leftDivide(raw, nonCanonical(a)).equals(b)).toBe(true);
        expect(compose(nonCanonical(a), nonCanonical(b)).equals(ab)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  test('counts past 2^53 - 1 are refused (too-large)', () => {
    expect(() => spatial(2 ** 40, 2 ** 40)).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => local(2 ** 27, 2 ** 27)).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => new RegisterLayout([2], [2], [0, -(2 ** 52)], [])).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => new RegisterLayout([2], [2], [0, -(2 ** 53)], [])).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(() => new RegisterLayout([2], [2], [0, -1.5], [])).toThrow(expect.objectContaining({ condition: 'invalid-register-layout' }));
    expect(() => spatial(2 ** 30).local(2 ** 30)).toThrow(expect.objectContaining({ condition: 'too-large' }));
    expect(spatial(2 ** 26, 2 ** 26).numThreads).toBe(2 ** 52);
  });

  test('owners and elementAt are inverse maps', () => {
    fc.assert(
      fc.property(anyRegisterLayout, (l) => {
        let slots = 0;
        for (const c of coords(l.shape)) {
          const owners = l.owners(c);
          slots += owners.length;
          for (const { thread, local: r } of owners) expect(l.elementAt(thread, r)).toEqual(c);
        }
        expect(slots).toBe(l.numThreads * l.localSize); // every (thread, register) holds exactly one element
      }),
    );
  });

  test.each([
    ['modes that do not multiply to the extent', () => new RegisterLayout([4], [3], [0], []), 'invalid-register-layout'],
    ['a mode both spatial and local', () => new RegisterLayout([4], [4], [0], [0]), 'invalid-register-layout'],
    ['an unused mode', () => new RegisterLayout([4], [2, 2], [0], []), 'invalid-register-layout'],
    ['a mode index out of range', () => new RegisterLayout([4], [4], [1], []), 'invalid-register-layout'],
    ['a zero extent', () => spatial(0, 2), 'invalid-register-layout'],
    ['no extents', () => local(), 'invalid-register-layout'],
    ['a coordinate outside the shape', () => spatial(2, 2).owners([2, 0]), 'out-of-range'],
    ['a thread outside the layout', () => spatial(2, 2).elementAt(4, 0), 'out-of-range'],
    ['composing different ranks', () => compose(spatial(2), local(2, 2)), 'rank-mismatch'],
    ['a shape that is not an array', () => registerLayout(4 as unknown as number[], [4], [0], []), 'invalid-register-layout'],
    ['mode lists that are not arrays', () => new RegisterLayout([4], [4], 0 as unknown as number[], []), 'invalid-register-layout'],
    ['a non-numeric extent', () => spatial('2' as unknown as number), 'invalid-register-layout'],
    ['composing with a non-layout', () => compose(spatial(2), 2 as unknown as RegisterLayout), 'invalid-argument'],
    ['dividing a non-layout', () => divide('x' as unknown as RegisterLayout, spatial(2)), 'invalid-argument'],
    ['left-dividing by a non-layout', () => leftDivide(spatial(2), {} as RegisterLayout), 'invalid-argument'],
    ['reducing a non-layout', () => reduce(null as unknown as RegisterLayout, [0]), 'invalid-argument'],
    ['reducing dimensions that are not an array', () => reduce(spatial(2), 0 as unknown as number[]), 'invalid-argument'],
    ['comparing with a non-layout', () => spatial(2).equals(undefined as unknown as RegisterLayout), 'invalid-argument'],
    ['the TV layout of a non-layout', () => threadValueLayout([] as unknown as RegisterLayout), 'invalid-argument'],
    ['a coordinate that is not an array', () => spatial(2, 2).owners('ab' as unknown as number[]), 'out-of-range'],
  ])('%s is refused (%s)', (_what, make, condition) => {
    expect(make).toThrow(LayoutError);
    expect(make).toThrow(expect.objectContaining({ condition }));
  });
});

describe('register layout algebra', () => {
  test('spatial(2,4) / spatial(1,2) = spatial(2,2)', () => {
    expect(divide(spatial(2, 4), spatial(1, 2)).equals(spatial(2, 2))).toBe(true);
  });

  test('division lines up modes of different sizes', () => {
    expect(divide(local(2, 1).spatial(8, 4).local(1, 4), spatial(4, 4).local(1, 4)).equals(local(2, 1).spatial(2, 1))).toBe(true);
    expect(leftDivide(spatial(2, 4).spatial(4, 1).local(2, 2), spatial(2, 4)).equals(spatial(4, 1).local(2, 2))).toBe(true);
    expect(divide(reduce(spatial(4, 8), [0]), spatial(4)).equals(reduce(spatial(4, 2), [0]))).toBe(true);
  });

  test('division that does not exist is refused', () => {
    expect(() => divide(spatial(2, 4), local(1, 2))).toThrow(expect.objectContaining({ condition: 'not-divisible' }));
    expect(() => divide(spatial(2, 4), spatial(1, 3))).toThrow(expect.objectContaining({ condition: 'not-divisible' }));
    expect(() => divide(local(2).spatial(2), spatial(4))).toThrow(expect.objectContaining({ condition: 'not-divisible' }));
    expect(() => leftDivide(spatial(2, 4), columnSpatial(2, 2))).toThrow(expect.objectContaining({ condition: 'not-divisible' }));
    // The dimensions line up, but A's thread index is (row, column) and spatial(2,4)'s would come first.
    expect(() => leftDivide(spatial(8, 4).local(2, 2), spatial(2, 4))).toThrow(expect.objectContaining({ condition: 'not-divisible' }));
  });

  test('(A*B)/B == A, A\\(A*B) == B, and composition is associative', () => {
    fc.assert(
      fc.property(sameRankTriple, ([a, b, c]) => {
        const ab = compose(a, b);
        expect(divide(ab, b).equals(a)).toBe(true);
        expect(leftDivide(ab, a).equals(b)).toBe(true);
        expect(compose(ab, c).equals(compose(a, compose(b, c)))).toBe(true);
        expect(table(compose(ab, c))).toBe(table(compose(a, compose(b, c))));
      }),
      { numRuns: 300 },
    );
  });

  test('reduce(spatial(3,4), [0]) holds element 0 on threads 0, 4 and 8', () => {
    const r = reduce(spatial(3, 4), [0]);
    expect(r.shape).toEqual([4]);
    expect(r.numThreads).toBe(12);
    expect(r.owners([0]).map((o) => o.thread)).toEqual([0, 4, 8]);
    expect(reduce(spatial(3, 4), [0], { keepDims: true }).shape).toEqual([1, 4]);
  });

  test('reduce drops register digits and turns thread digits into replicas', () => {
    const l = local(2, 1).spatial(8, 4).local(1, 4);
    const rows = reduce(l, [1]);
    expect(rows.shape).toEqual([16]);
    expect([rows.numThreads, rows.localSize]).toEqual([32, 2]);
    expect(rows.owners([9]).map((o) => o.thread)).toEqual([4, 5, 6, 7]);
    expect(reduce(l, [0, 1]).shape).toEqual([]);
    expect(reduce(l, [0, 1]).owners([])).toHaveLength(32);
    expect(() => reduce(l, [2])).toThrow(expect.objectContaining({ condition: 'out-of-range' }));
  });

  test('a reduced layout keeps, per remaining element, the threads that held its row', () => {
    fc.assert(
      fc.property(anyRegisterLayout.filter((l) => l.rank >= 2), (l) => {
        const r = reduce(l, [0]);
        for (const c of coords(r.shape)) {
          const before = new Set(coords([l.shape[0]!]).flatMap(([i]) => l.owners([i!, ...c]).map((o) => o.thread)));
          const after = r.owners(c).map((o) => o.thread);
          // Every thread that held part of the row holds the total (more may, by replication).
          before.forEach((t) => expect(after).toContain(t));
          expect(after.length * l.shape[0]!).toBeGreaterThanOrEqual(before.size);
        }
      }),
    );
  });
});
