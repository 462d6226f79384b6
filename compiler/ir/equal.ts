/**
 * Structural equality of kernels, as the round-trip tests and pass tests need it: two kernels are
 * equal when they have the same name, params, grid, requirements and arguments, and op by op the same opcode,
 * attributes, result types (layouts included) and regions, with operands that correspond. Values are
 * matched by where they are defined (argument i, result j of the n-th op, region argument k), so their
 * ids and the names of non-argument values do not matter.
 */
import type { AttrValue, Attrs, Block, GridExpr, Kernel, Op, Value } from './ir.js';
import { formatGridExpr, formatRequirement } from './ir.js';
import { formatNumber } from './printer.js';
import { type Type, formatType, typeEquals } from './types.js';

export function kernelsEqual(a: Kernel, b: Kernel): boolean {
  return kernelDifference(a, b) === undefined;
}

/** The first difference between two kernels, in words (for test messages), or undefined when they are equal. */
export function kernelDifference(a: Kernel, b: Kernel): string | undefined {
  if (a.name !== b.name) return `kernel names differ: ${a.name} vs ${b.name}`;
  const params = paramsDifference(a.params, b.params);
  if (params !== undefined) return params;
  if (a.grid.length !== b.grid.length || a.grid.some((g, i) => !gridEqual(g, b.grid[i]!))) {
    return `grids differ: (${a.grid.map(formatGridExpr).join(', ')}) vs (${b.grid.map(formatGridExpr).join(', ')})`;
  }
  const [ra, rb] = [(a.requires ?? []).map(formatRequirement), (b.requires ?? []).map(formatRequirement)];
  if (ra.join(', ') !== rb.join(', ')) return `requirements differ: (${ra.join(', ')}) vs (${rb.join(', ')})`;
  if (a.args.length !== b.args.length) return `argument counts differ: ${a.args.length} vs ${b.args.length}`;
  const values = new Correspondence();
  for (const [i, x] of a.args.entries()) {
    const y = b.args[i]!;
    if (x.name !== y.name) return `argument ${i}: names differ: ${x.name} vs ${y.name}`;
    const d = typeDifference(`argument ${x.name}`, x.type, y.type) ?? values.pair(x, y, `argument ${x.name}`);
    if (d !== undefined) return d;
  }
  return blockDifference('body', a.body, b.body, values);
}

/** The values of one kernel matched with those of the other, both ways. */
class Correspondence {
  private readonly forward = new Map<Value, Value>();
  private readonly backward = new Map<Value, Value>();

  pair(x: Value, y: Value, where: string): string | undefined {
    if (this.forward.has(x) || this.backward.has(y)) return `${where}: a value is defined twice`;
    this.forward.set(x, y);
    this.backward.set(y, x);
    return undefined;
  }

  matches(x: Value, y: Value): boolean {
    return this.forward.get(x) === y && this.backward.get(y) === x;
  }
}

function blockDifference(where: string, a: Block, b: Block, values: Correspondence): string | undefined {
  if (a.args.length !== b.args.length) return `${where}: region argument counts differ: ${a.args.length} vs ${b.args.length}`;
  for (const [i, x] of a.args.entries()) {
    const d = typeDifference(`${where}, region argument ${i}`, x.type, b.args[i]!.type) ?? values.pair(x, b.args[i]!, `${where}, region argument ${i}`);
    if (d !== undefined) return d;
  }
  for (const [i, x] of a.ops.entries()) {
    const y = b.ops[i];
    if (y === undefined) return `${where}: the second has ${b.ops.length} ops, the first more (next: ${x.opcode})`;
    const d = opDifference(`${where}, op ${i} (${x.opcode})`, x, y, values);
    if (d !== undefined) return d;
  }
  if (b.ops.length > a.ops.length) return `${where}: the first has ${a.ops.length} ops, the second more (next: ${b.ops[a.ops.length]!.opcode})`;
  return undefined;
}

function opDifference(where: string, a: Op, b: Op, values: Correspondence): string | undefined {
  if (a.opcode !== b.opcode) return `${where}: opcodes differ: ${a.opcode} vs ${b.opcode}`;
  const attrs = attrsDifference(a.attrs, b.attrs);
  if (attrs !== undefined) return `${where}: ${attrs}`;
  if (a.operands.length !== b.operands.length) return `${where}: operand counts differ: ${a.operands.length} vs ${b.operands.length}`;
  const operand = a.operands.findIndex((x, i) => !values.matches(x, b.operands[i]!));
  if (operand >= 0) return `${where}: operand ${operand} is not the corresponding value`;
  if (a.regions.length !== b.regions.length) return `${where}: region counts differ: ${a.regions.length} vs ${b.regions.length}`;
  for (const [i, r] of a.regions.entries()) {
    const d = blockDifference(`${where}, region ${i}`, r, b.regions[i]!, values);
    if (d !== undefined) return d;
  }
  if (a.results.length !== b.results.length) return `${where}: result counts differ: ${a.results.length} vs ${b.results.length}`;
  for (const [i, x] of a.results.entries()) {
    const d = typeDifference(`${where}, result ${i}`, x.type, b.results[i]!.type) ?? values.pair(x, b.results[i]!, `${where}, result ${i}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function typeDifference(where: string, a: Type, b: Type): string | undefined {
  return typeEquals(a, b) ? undefined : `${where}: types differ: ${formatType(a)} vs ${formatType(b)}`;
}

/** Attributes compare as sets of keys (their order does not matter); numbers with Object.is, so NaN equals NaN and -0 differs from 0. */
function attrsDifference(a: Attrs, b: Attrs): string | undefined {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const [x, y] = [Object.hasOwn(a, k) ? a[k] : undefined, Object.hasOwn(b, k) ? b[k] : undefined];
    if (x === undefined || y === undefined || !attrEqual(x, y)) return `attribute ${k} differs: ${show(x)} vs ${show(y)}`;
  }
  return undefined;
}

function attrEqual(a: AttrValue, b: AttrValue): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return (a as readonly number[]).every((x, i) => Object.is(x, (b as readonly number[])[i]));
  }
  return Object.is(a, b);
}

/** A value as the text form writes it (inf, nan, -0.0, "quoted"). */
function show(v: AttrValue | undefined): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number') return formatNumber(v);
  return Array.isArray(v) ? `[${v.map(formatNumber).join(', ')}]` : JSON.stringify(v);
}

function paramsDifference(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): string | undefined {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const [x, y] = [Object.hasOwn(a, k) ? a[k] : undefined, Object.hasOwn(b, k) ? b[k] : undefined];
    if (x === undefined || y === undefined || !Object.is(x, y)) return `param ${k} differs: ${show(x)} vs ${show(y)}`;
  }
  return undefined;
}

function gridEqual(a: GridExpr, b: GridExpr): boolean {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  return a.op === b.op && gridEqual(a.args[0], b.args[0]) && gridEqual(a.args[1], b.args[1]);
}
