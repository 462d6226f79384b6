/**
 * The type rule of every op that is not control flow: the result types of an op given its operand
 * types and attributes, or an IrError that names the op, its operands and what was expected. The
 * builder uses these rules to type new ops; the verifier re-runs them on whole kernels.
 *
 * The IR is explicit: elementwise operands already have one shape and one dtype (the DSL inserts the
 * broadcasts and refuses mixed dtypes); load/store indices, masks and fill values all have the shape
 * of the tile being moved.
 */
import { IrError, MAX_TILE_ELEMENTS, describeValue } from './errors.js';
import { type Dtype, dtype as dtypeNamed } from './dtype.js';
import type { Attrs } from './ir.js';
import { type Opcode, REDUCE_KINDS, isBinary, isCompare, isUnary } from './opcodes.js';
import { type TensorType, type TileType, type Type, formatType, sameShape, scalarType, tileType } from './types.js';

const FLOAT_ONLY = new Set(['exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sigmoid']);

/** Result types of `opcode` applied to operands of `types` (not for, if, yield: see verifier.ts). */
export function inferResultTypes(opcode: Opcode, types: readonly Type[], attrs: Attrs): Type[] {
  const fail = (expected: string): never => {
    throw new IrError('type', `${opcode}(${types.map(formatType).join(', ')}): ${expected}`);
  };
  const reg = (i: number): TileType => {
    const t = types[i];
    if (t === undefined) return fail(`operand ${i} is missing`);
    if (t.kind !== 'tile' || t.space !== 'register') return fail(`operand ${i} must be a register tile, got ${formatType(t)}`);
    return t;
  };
  const count = (n: number) => types.length === n || fail(`takes ${n} operand${n === 1 ? '' : 's'}, got ${types.length}`);
  const intAttr = (name: string): number => {
    const v = attrs[name];
    return typeof v === 'number' && Number.isInteger(v) ? v : fail(`attribute ${name} must be an integer, got ${describeValue(v)}`);
  };
  const tileSize = (shape: readonly number[]): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n > MAX_TILE_ELEMENTS) fail(`a tile holds at most ${MAX_TILE_ELEMENTS} elements (2^24), [${shape.join(', ')}] would hold ${n}`);
  };
  const shapeAttr = (name: string): number[] => {
    const v = attrs[name];
    if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && x >= 1)) return fail(`attribute ${name} must be a list of positive integer extents, got ${describeValue(v)}`);
    tileSize(v as number[]);
    return [...(v as number[])];
  };
  const dtypeAttr = (): Dtype => {
    const v = attrs['dtype'];
    if (typeof v !== 'string') return fail('attribute dtype is missing');
    return dtypeNamed(v);
  };

  if (isUnary(opcode)) {
    count(1);
    const t = reg(0);
    if (FLOAT_ONLY.has(opcode) && t.dtype.kind !== 'float') fail(`needs a float operand, got ${t.dtype.name}`);
    if ((opcode === 'neg' || opcode === 'abs') && (t.dtype.kind === 'unsigned' || t.dtype.kind === 'bool')) fail(`needs a float or signed operand`);
    if (opcode === 'not' && t.dtype.kind === 'float') fail('needs an integer or bool operand');
    return [tileType(t.dtype, t.shape)];
  }
  if (isBinary(opcode) || isCompare(opcode)) {
    count(2);
    const [a, b] = [reg(0), reg(1)];
    if (a.dtype !== b.dtype) fail('operands must have the same dtype (cast one of them)');
    if (!sameShape(a.shape, b.shape)) fail('operands must have the same shape (broadcast one of them)');
    const logical = opcode === 'and' || opcode === 'or' || opcode === 'xor';
    if (logical && a.dtype.kind === 'float') fail('needs integer or bool operands');
    if (!logical && !isCompare(opcode) && a.dtype.kind === 'bool') fail('needs numeric operands, not bool');
    return [tileType(isCompare(opcode) ? dtypeNamed('bool') : a.dtype, a.shape)];
  }
  switch (opcode) {
    case 'program_id':
    case 'num_programs': {
      count(0);
      const axis = intAttr('axis');
      if (axis < 0 || axis > 2) fail(`axis ${axis} must be 0, 1 or 2`);
      return [scalarType(dtypeNamed('i32'))];
    }
    case 'dim': {
      count(1);
      const t = tensorOperand(types[0]!, fail);
      const axis = intAttr('axis');
      if (axis < 0 || axis >= t.shape.length) fail(`axis ${axis} is out of range for a rank-${t.shape.length} tensor`);
      return [scalarType(dtypeNamed('i32'))];
    }
    case 'const': {
      count(0);
      const d = dtypeAttr();
      checkConstant(d, attrs['value'], fail);
      return [scalarType(d)];
    }
    case 'arange': {
      count(0);
      const [start, end] = [intAttr('start'), intAttr('end')];
      if (end <= start) fail(`end ${end} must be greater than start ${start}`);
      if (start < -(2 ** 31) || end > 2 ** 31) fail(`the range [${start}, ${end}) must fit in i32`);
      tileSize([end - start]);
      return [tileType(dtypeNamed('i32'), [end - start])];
    }
    case 'load':
      return [loadType(types, fail)];
    case 'store':
      storeCheck(types, fail);
      return [];
    case 'alloc_shared':
      count(0);
      return [tileType(dtypeAttr(), shapeAttr('shape'), 'shared')];
    case 'load_shared': {
      count(1);
      const s = types[0]!;
      if (s.kind !== 'tile' || s.space !== 'shared') fail('operand must be a shared tile');
      return [tileType(s.dtype, s.shape as number[])];
    }
    case 'store_shared': {
      count(2);
      const [s, v] = [types[0]!, reg(1)];
      if (s.kind !== 'tile' || s.space !== 'shared') fail('operand 0 must be a shared tile');
      if (s.dtype !== v.dtype || !sameShape(s.shape, v.shape)) fail('the value must have the shared tile\'s dtype and shape');
      return [];
    }
    case 'where': {
      count(3);
      const [c, a, b] = [reg(0), reg(1), reg(2)];
      if (c.dtype.name !== 'bool') fail('the condition must be bool');
      if (a.dtype !== b.dtype) fail('both branches must have the same dtype');
      if (!sameShape(c.shape, a.shape) || !sameShape(a.shape, b.shape)) fail('condition and branches must have the same shape');
      return [tileType(a.dtype, a.shape)];
    }
    case 'cast': {
      count(1);
      return [tileType(dtypeAttr(), reg(0).shape)];
    }
    case 'bitcast': {
      count(1);
      const [t, d] = [reg(0), dtypeAttr()];
      if (t.dtype.bits !== d.bits) fail(`cannot reinterpret ${t.dtype.bits}-bit ${t.dtype.name} as ${d.bits}-bit ${d.name}`);
      return [tileType(d, t.shape)];
    }
    case 'reduce': {
      count(1);
      const t = reg(0);
      const kind = attrs['kind'];
      if (!(REDUCE_KINDS as readonly unknown[]).includes(kind)) fail(`kind must be one of ${REDUCE_KINDS.join(', ')}`);
      const axis = intAttr('axis');
      if (axis < 0 || axis >= t.shape.length) fail(`axis ${axis} is out of range for a rank-${t.shape.length} tile`);
      if (t.dtype.kind === 'bool') fail('cannot reduce bool tiles (cast them first)');
      const keep = attrs['keepDims'] === true;
      const shape = keep ? t.shape.map((s, i) => (i === axis ? 1 : s)) : t.shape.filter((_, i) => i !== axis);
      const out = kind === 'argmax' || kind === 'argmin' ? dtypeNamed('i32') : t.dtype;
      return [tileType(out, shape)];
    }
    case 'broadcast': {
      count(1);
      const [t, shape] = [reg(0), shapeAttr('shape')];
      const lead = shape.length - t.shape.length;
      if (lead < 0 || t.shape.some((s, i) => s !== 1 && s !== shape[lead + i])) {
        fail(`cannot broadcast [${t.shape}] to [${shape}]: each extent must match or be 1`);
      }
      return [tileType(t.dtype, shape)];
    }
    case 'view': {
      count(1);
      const [t, shape] = [reg(0), shapeAttr('shape')];
      const squeezed = (s: readonly number[]) => s.filter((x) => x !== 1);
      if (!sameShape(squeezed(t.shape), squeezed(shape))) fail(`view may only add or remove extent-1 dims: [${t.shape}] -> [${shape}]`);
      return [tileType(t.dtype, shape)];
    }
    case 'reshape': {
      count(1);
      const [t, shape] = [reg(0), shapeAttr('shape')];
      const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
      if (size(t.shape) !== size(shape)) fail(`reshape must keep the number of elements: [${t.shape}] -> [${shape}]`);
      return [tileType(t.dtype, shape)];
    }
    case 'permute': {
      count(1);
      const t = reg(0);
      const perm = attrs['perm'];
      if (!Array.isArray(perm) || perm.length !== t.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        fail(`perm must be a permutation of 0..${t.shape.length - 1}`);
      }
      return [tileType(t.dtype, (perm as number[]).map((p) => t.shape[p]!))];
    }
    case 'dot':
      count(3);
      return [dotType(reg(0), reg(1), reg(2), fail)];
    case 'barrier':
      count(0);
      return [];
    case 'for':
    case 'if':
    case 'yield':
      throw new IrError('structure', `${opcode} is typed by its regions, not by inferResultTypes`);
  }
  return fail('is not an op with a type rule');
}

function isRegister(t: Type): t is TileType {
  return t.kind === 'tile' && t.space === 'register';
}

/** Loads from outputs and stores into inputs are access errors, not type errors. */
function failAccess(opcode: string, types: readonly Type[], message: string): never {
  throw new IrError('access', `${opcode}(${types.map(formatType).join(', ')}): ${message}`);
}

function tensorOperand(t: Type, fail: (e: string) => never): TensorType {
  return t.kind === 'tensor' ? t : fail(`operand 0 must be a global tensor, got ${formatType(t)}`);
}

function checkConstant(d: Dtype, value: unknown, fail: (e: string) => never): void {
  if (typeof value !== 'number') fail('attribute value must be a number');
  const v = value as number;
  if (d.kind === 'bool' && v !== 0 && v !== 1) fail(`bool constant must be 0 or 1, got ${v}`);
  if ((d.kind === 'signed' || d.kind === 'unsigned') && !Number.isInteger(v)) fail(`${d.name} constant must be an integer, got ${v}`);
  if (d.kind === 'signed' && (v < -(2 ** (d.bits - 1)) || v >= 2 ** (d.bits - 1))) fail(`${v} does not fit in ${d.name}`);
  if (d.kind === 'unsigned' && (v < 0 || v >= 2 ** d.bits)) fail(`${v} does not fit in ${d.name}`);
}

/** load(tensor, i_0..i_{r-1}, [mask, other]): every index, the mask and the fill have the result's shape. */
function loadType(types: readonly Type[], fail: (e: string) => never): TileType {
  const t = tensorOperand(types[0] ?? fail('operand 0 is missing'), fail);
  if (t.access === 'out') failAccess('load', types, 'cannot load from an output tensor (declare it inout)');
  const r = t.shape.length;
  if (types.length !== 1 + r && types.length !== 3 + r) fail(`takes the tensor, ${r} indices and optionally a mask and a fill value`);
  const shape = indexShape(types.slice(1, 1 + r), fail);
  if (types.length === 3 + r) {
    const [mask, other] = [types[1 + r]!, types[2 + r]!];
    if (!isRegister(mask) || mask.dtype.name !== 'bool' || !sameShape(mask.shape, shape)) fail(`the mask must be tile<bool>[${shape}]`);
    if (!isRegister(other) || other.dtype !== t.dtype || !sameShape(other.shape, shape)) fail(`the fill value must be tile<${t.dtype.name}>[${shape}]`);
  }
  return tileType(t.dtype, shape);
}

/** store(tensor, i_0..i_{r-1}, value, [mask]). */
function storeCheck(types: readonly Type[], fail: (e: string) => never): void {
  const t = tensorOperand(types[0] ?? fail('operand 0 is missing'), fail);
  if (t.access === 'in') failAccess('store', types, 'cannot store into an input tensor (declare it out or inout)');
  const r = t.shape.length;
  if (types.length !== 2 + r && types.length !== 3 + r) fail(`takes the tensor, ${r} indices, the value and optionally a mask`);
  const shape = indexShape(types.slice(1, 1 + r), fail);
  const v = types[1 + r]!;
  if (v.kind !== 'tile' || v.space !== 'register' || v.dtype !== t.dtype || !sameShape(v.shape, shape)) {
    fail(`the value must be tile<${t.dtype.name}>[${shape}]`);
  }
  const mask = types[2 + r];
  if (mask !== undefined && (!isRegister(mask) || mask.dtype.name !== 'bool' || !sameShape(mask.shape, shape))) {
    fail(`the mask must be tile<bool>[${shape}]`);
  }
}

/** The common shape of a load's or store's index operands, which must be integer register tiles. */
function indexShape(indices: readonly Type[], fail: (e: string) => never): readonly number[] {
  const tiles = indices.map((ix) =>
    ix.kind === 'tile' && ix.space === 'register' && (ix.dtype.kind === 'signed' || ix.dtype.kind === 'unsigned')
      ? ix
      : fail(`indices must be integer register tiles, got ${formatType(ix)}`),
  );
  const shape = tiles[0]?.shape ?? [];
  if (tiles.some((t) => !sameShape(t.shape, shape))) fail('all indices must have the same shape (broadcast them)');
  return shape;
}

/** dot(a[M,K], b[K,N], acc[M,N]): float inputs accumulate in a float, integer inputs in i32. */
function dotType(a: TileType, b: TileType, acc: TileType, fail: (e: string) => never): TileType {
  if (a.shape.length !== 2 || b.shape.length !== 2 || acc.shape.length !== 2) fail('a, b and acc must be rank-2 tiles');
  const [m, k] = a.shape as [number, number];
  const [k2, n] = b.shape as [number, number];
  if (k !== k2) fail(`a is [${m}, ${k}] and b is [${k2}, ${n}]: the inner extents differ`);
  if (acc.shape[0] !== m || acc.shape[1] !== n) fail(`acc must be [${m}, ${n}], got [${acc.shape}]`);
  if (a.dtype !== b.dtype) fail('a and b must have the same dtype');
  const float = a.dtype.kind === 'float';
  if (a.dtype.kind === 'bool') fail('cannot multiply bool tiles');
  if (float && acc.dtype.kind !== 'float') fail(`acc of a float dot must be a float, got ${acc.dtype.name}`);
  if (!float && acc.dtype.name !== 'i32') fail(`acc of an integer dot must be i32, got ${acc.dtype.name}`);
  return tileType(acc.dtype, acc.shape);
}
