/** fast-check generators of register layouts: random chains of the four primitives, some reduced. */
import fc from 'fast-check';
import {
  type RegisterLayout,
  columnLocal,
  columnSpatial,
  compose,
  local,
  reduce,
  spatial,
} from '../../../../compiler/layout/index.js';

const primitives = [local, spatial, columnLocal, columnSpatial];

/** compose(...) of 1-3 primitives of rank `rank`, extents 1-4, at most `maxSize` elements (tests enumerate them). */
export function chainOfRank(rank: number, maxSize = 512): fc.Arbitrary<RegisterLayout> {
  const link = fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
  );
  return fc
    .array(link, { minLength: 1, maxLength: 3 })
    .filter((links) => links.reduce((n, [, shape]) => n * shape.reduce((a, b) => a * b, 1), 1) <= maxSize)
    .map((links) => links.map(([p, shape]) => primitives[p]!(...shape)).reduce((acc, l) => compose(acc, l)));
}

/** A chain of rank `rank`, or a reduction of a chain one rank larger (so that it has replicas). */
export function layoutOfRank(rank: number, maxSize = 512): fc.Arbitrary<RegisterLayout> {
  return fc.oneof(chainOfRank(rank, maxSize), chainOfRank(rank + 1, maxSize).map((l) => reduce(l, [0])));
}

/** A register layout of rank 1-3. */
export const anyRegisterLayout: fc.Arbitrary<RegisterLayout> = fc.integer({ min: 1, max: 3 }).chain(layoutOfRank);

/** Three small layouts of one rank, for associativity and division (their product is enumerated). */
export const sameRankTriple = fc
  .integer({ min: 1, max: 3 })
  .chain((rank) => fc.tuple(layoutOfRank(rank, 16), layoutOfRank(rank, 16), layoutOfRank(rank, 16)));
