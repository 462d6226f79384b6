/**
 * The one error type of the layout algebra. `condition` names the precondition that failed, so callers
 * (and tests) can tell "not injective" from "breaks stride divisibility" without parsing messages.
 */
export type LayoutCondition =
  | 'invalid-int-tuple' //   a shape or stride that is not a (nested) tuple of integers of the allowed range
  | 'not-congruent' //       shape and stride (or two tuples) do not have the same nesting profile
  | 'rank-mismatch' //       an operation needs ranks that agree (or one no larger than the other)
  | 'stride-divisibility' // composition: a stride of B neither divides nor is divided by a shape of A
  | 'shape-divisibility' //  composition: a shape of B does not divide into the modes of A it spans
  | 'mode-overlap' //        composition: modes of B whose offsets carry from one mode of A into the next
  | 'not-injective' //       complement / left inverse of a layout that maps two coordinates to one offset
  | 'not-complementable' //  complement / left inverse: strides that no layout can complete (e.g. (2,2):(1,3))
  | 'out-of-range' //        a negative or non-integer index, a component of a tuple coordinate outside its mode,
  //                         or a mode, thread or register that does not exist (a single integer index may run
  //                         past the size along the last mode, as in CuTe)
  | 'too-large' //           a size, cosize, offset or count past Number.MAX_SAFE_INTEGER, where numbers lose precision
  | 'invalid-argument' //    an argument of the wrong kind: not a layout, tiler, register layout or text where one is needed
  | 'invalid-swizzle' //     Swizzle(B, M, S) with negative fields or overlapping bit ranges
  | 'not-divisible' //       register layouts: the divisor is not a factor of the dividend
  | 'invalid-register-layout' // register layouts: modes that do not tile the shape, or are used twice
  | 'parse'; //              text that is not CuTe layout notation

export class LayoutError extends Error {
  readonly condition: LayoutCondition;

  constructor(condition: LayoutCondition, message: string) {
    super(`${condition}: ${message}`);
    this.name = 'LayoutError';
    this.condition = condition;
  }
}
