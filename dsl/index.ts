/**
 * The TypeScript DSL: kernels are functions traced once into Tile IR.
 * Imports compiler/ only.
 */
export { kernel, KernelDef, type KernelOptions, type ArgsOf, type Params, cdiv, gridAdd, gridMul } from './kernel.js';
export { tensor, input, output, scalar, TensorArg, type ArgSpec, type TensorSpec, type ScalarSpec } from './tensor.js';
export { Tile, type TileLike, type TileLayout, type ReduceOptions } from './tile.js';
export {
  programId,
  numPrograms,
  arange,
  full,
  zeros,
  load,
  store,
  type LoadOptions,
  type StoreOptions,
  sharedTile,
  SharedTile,
  type SharedTileOptions,
  barrier,
  where,
  cast,
  maximum,
  minimum,
  exp,
  exp2,
  log,
  log2,
  sqrt,
  rsqrt,
  tanh,
  erf,
  sigmoid,
  abs,
  neg,
  dot,
  forRange,
  ifElse,
} from './ops.js';
export {
  type Dtype,
  dtype,
  f32,
  f16,
  bf16,
  i32,
  u32,
  i8,
  u8,
  bool,
} from '../compiler/ir/dtype.js';
