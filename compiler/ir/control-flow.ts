/**
 * Type rules of the ops with regions, shared by the builder and the verifier.
 *   for (lower, upper, step, init...) { ^(i: i32, carried...): ... yield carried' } -> carried
 *     i runs lower, lower+step, ... while i < upper (step > 0); the region yields the next carried values.
 *   if (cond) { then: ... yield v } { else: ... yield v } -> v
 */
import { IrError } from './errors.js';
import type { Block, Value } from './ir.js';
import { type Type, formatType, isScalar, typeEquals } from './types.js';

function fail(op: string, message: string, code: 'structure' | 'type' = 'structure'): never {
  throw new IrError(code, `${op}: ${message}`);
}

/** The values a region yields; its last op must be `yield`. */
export function yieldedValues(op: string, region: Block): readonly Value[] {
  const last = region.ops[region.ops.length - 1];
  if (last?.opcode !== 'yield') fail(op, 'its region must end with yield');
  return last.operands;
}

function sameTypes(op: string, what: string, got: readonly Type[], expected: readonly Type[]): void {
  if (got.length !== expected.length || got.some((t, i) => !typeEquals(t, expected[i]!))) {
    fail(op, `${what} (${got.map(formatType).join(', ')}) must match (${expected.map(formatType).join(', ')})`, 'type');
  }
}

/** Checks a `for`'s operands, region arguments and yield; returns the result types. */
export function forResultTypes(operands: readonly Type[], region: Block): Type[] {
  if (operands.length < 3) fail('for', 'takes lower, upper and step bounds, then the initial carried values');
  operands.slice(0, 3).forEach((t, i) => {
    if (!isScalar(t) || t.dtype.name !== 'i32') fail('for', `bound ${i} must be an i32 scalar, got ${formatType(t)}`, 'type');
  });
  const carried = operands.slice(3);
  const [iv, ...args] = region.args.map((a) => a.type);
  if (iv === undefined || !isScalar(iv) || iv.dtype.name !== 'i32') fail('for', 'the region\'s first argument must be the i32 loop index');
  sameTypes('for', 'the region\'s carried arguments', args, carried);
  sameTypes('for', 'the yielded values', yieldedValues('for', region).map((v) => v.type), carried);
  return [...carried];
}

/** Checks an `if`'s condition and both regions; returns the result types. */
export function ifResultTypes(operands: readonly Type[], regions: readonly Block[]): Type[] {
  const cond = operands[0];
  if (operands.length !== 1 || cond === undefined || !isScalar(cond) || cond.dtype.name !== 'bool') fail('if', 'takes one bool scalar condition', 'type');
  if (regions.length !== 2) fail('if', 'has a then and an else region');
  const [then, otherwise] = regions as [Block, Block];
  if (then.args.length > 0 || otherwise.args.length > 0) fail('if', 'its regions take no arguments');
  const types = yieldedValues('if', then).map((v) => v.type);
  sameTypes('if', 'the else region\'s yielded values', yieldedValues('if', otherwise).map((v) => v.type), types);
  return types;
}
