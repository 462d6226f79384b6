/**
 * The Tile IR: types, dtypes, ops, the builder, the verifier, and the text form (printer and parser).
 * One block per module, in alphabetical order of the modules.
 */
export { KernelBuilder } from './builder.js';
export { forResultTypes, ifResultTypes, yieldedValues } from './control-flow.js';
export {
  type Dtype,
  type DtypeKind,
  type FloatDtype,
  dtype,
  isBool,
  isFloat,
  isInt,
  isLowBit,
  namedDtypes,
  f32,
  f16,
  bf16,
  i32,
  u32,
  bool,
  u1,
  u2,
  u3,
  u4,
  u5,
  u6,
  u7,
  u8,
  i1,
  i2,
  i3,
  i4,
  i5,
  i6,
  i7,
  i8,
  f8e4m3,
  f8e5m2,
  f6e3m2,
  f6e2m3,
  f5e2m2,
  f4e2m1,
  f3e1m1,
} from './dtype.js';
export { convert, convertNumber, floatToInt, wrapInt } from './dtype-convert.js';
export { kernelDifference, kernelsEqual } from './equal.js';
export { IrError, type IrErrorCode, MAX_NESTING, MAX_TILE_ELEMENTS } from './errors.js';
export {
  type FloatFormat,
  type FloatSpecials,
  decodeFloat,
  encodeFloat,
  floatSpecials,
  maxFiniteCode,
  nanCode,
  roundToFormat,
} from './float-format.js';
export {
  type AttrValue,
  type Attrs,
  type GridExpr,
  type GridOp,
  type Kernel,
  type KernelHints,
  type Op,
  type RequirementRel,
  type ShapeRequirement,
  Block,
  REQUIREMENT_RELS,
  Value,
  evalGridExpr,
  formatGridExpr,
  formatRequirement,
  gridSymbols,
  holds,
  walkOps,
} from './ir.js';
export {
  type BinaryOp,
  type CompareOp,
  type Opcode,
  type ReduceKind,
  type UnaryOp,
  ALL_OPCODES,
  BINARY_OPS,
  COMPARE_OPS,
  OTHER_OPS,
  REDUCE_KINDS,
  UNARY_OPS,
  isBinary,
  isCompare,
  isOpcode,
  isUnary,
} from './opcodes.js';
export { type DefOf, atLeast, neverPositive } from './order.js';
export { fromBits, pack, packBits, packedWords, toBits, unpack, unpackBits } from './pack.js';
export { IrParseError, type ParseDiagnostic, parseKernel } from './parser.js';
export { formatNumber, printKernel } from './printer.js';
export { inferResultTypes } from './type-rules.js';
export {
  type Access,
  type Dim,
  type Space,
  type TensorType,
  type TileType,
  type Type,
  formatLayoutAttr,
  formatType,
  isScalar,
  sameShape,
  scalarType,
  tensorType,
  tileType,
  typeEquals,
} from './types.js';
export { verify } from './verifier.js';
