/**
 * Every op of the Tile IR, grouped by how its type is computed. The groups are what the type rules,
 * the verifier, the interpreter and the backends switch on.
 */

/** Elementwise, one operand, same type out (floats only for the transcendental ones). */
export const UNARY_OPS = ['neg', 'abs', 'exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sigmoid', 'not'] as const;
/** Elementwise, two operands of one type, same type out. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'rem', 'max', 'min', 'and', 'or', 'xor'] as const;
/** Elementwise comparisons: two operands of one type, bool out. */
export const COMPARE_OPS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
export const REDUCE_KINDS = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];
export type ReduceKind = (typeof REDUCE_KINDS)[number];

export const OTHER_OPS = [
  'program_id', //   () {axis} -> i32: this block's index along a grid axis
  'num_programs', // () {axis} -> i32: the grid's extent along an axis
  'dim', //          (tensor) {axis} -> i32: a tensor's extent (a symbol's value at launch)
  'const', //        () {value, dtype} -> scalar
  'arange', //       () {start, end} -> tile<i32>[end - start]
  'load', //         (tensor, index per dim..., [mask, other]) -> tile: gather from global memory
  'store', //        (tensor, index per dim..., value, [mask]) -> (): scatter to global memory
  'alloc_shared', // () {dtype, shape} -> shared tile
  'load_shared', //  (shared) -> register tile with the same dtype and shape
  'store_shared', // (shared, value) -> ()
  'where', //        (cond, a, b) -> a's type
  'cast', //         (x) {dtype} -> x converted value by value
  'bitcast', //      (x) {dtype} -> x's bits reinterpreted (same width)
  'reduce', //       (x) {kind, axis, keepDims} -> x without (or with extent 1 along) axis
  'broadcast', //    (x) {shape} -> x repeated along its extent-1 (or missing leading) dims
  'view', //         (x) {shape} -> x with extent-1 dims inserted or removed (never moves data)
  'reshape', //      (x) {shape} -> x's elements, row-major, in a new shape
  'permute', //      (x) {perm} -> x with its dims reordered
  'dot', //          (a[M,K], b[K,N], acc[M,N]) -> acc + a @ b
  'for', //          (lower, upper, step, init...) region(i, carried...) -> carried...
  'if', //           (cond, ) regions(then, else) -> yielded values
  'yield', //        (values...): ends a region
  'barrier', //      (): all threads of the block wait here
] as const;

export type Opcode = UnaryOp | BinaryOp | CompareOp | (typeof OTHER_OPS)[number];

export const ALL_OPCODES: readonly Opcode[] = [...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, ...OTHER_OPS];

export function isUnary(op: Opcode): op is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(op);
}
export function isBinary(op: Opcode): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}
export function isCompare(op: Opcode): op is CompareOp {
  return (COMPARE_OPS as readonly string[]).includes(op);
}
export function isOpcode(s: string): s is Opcode {
  return (ALL_OPCODES as readonly string[]).includes(s);
}
