/**
 * The layout algebra of tskc: CuTe's shape:stride layouts with their operations, swizzles, and the
 * Tilus-style register layouts built on top. Everything that indexes a tile (memory accesses,
 * vectorization, bit packing, swizzles, tensor-core fragments) derives from these values.
 *
 * This package imports nothing from the rest of tskc.
 */
export { LayoutError, type LayoutCondition } from './errors.js';
export {
  type IntTuple,
  isInt,
  isTuple,
  rank,
  depth,
  product,
  flatten,
  unflatten,
  prefixProduct,
  congruent,
  intTupleEqual,
  ceilDiv,
  shapeDiv,
  innerProduct,
  idx2crd,
  crd2idx,
  formatIntTuple,
} from './int-tuple.js';
export { Layout, makeLayout, flattenLayout, functionallyEqual } from './layout.js';
export { parseIntTuple, parseLayout, parseComposedLayout } from './parse.js';
export { coalesce, filter } from './coalesce.js';
export { type Tiler } from './tiler.js';
export { composition } from './composition.js';
export { complement } from './complement.js';
export { logicalDivide, zippedDivide, tiledDivide, flatDivide } from './divide.js';
export { logicalProduct, zippedProduct, tiledProduct, blockedProduct, rakedProduct } from './product.js';
export { rightInverse, leftInverse } from './inverse.js';
export { Swizzle, ComposedLayout } from './swizzle.js';

export { RegisterLayout, registerLayout, type Owner } from './register/register-layout.js';
export { local, columnLocal, spatial, columnSpatial } from './register/primitives.js';
export { compose } from './register/compose.js';
export { divide, leftDivide } from './register/divide.js';
export { reduce, type ReduceOptions } from './register/reduce.js';
export { threadValueLayout } from './register/thread-value.js';
