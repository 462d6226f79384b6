/**
 * The text form of Tile IR (parser.ts reads it back). One op per line, in generic form:
 *
 *   kernel @vadd(%x: in global<f32>[N], %y: in global<f32>[N], %z: out global<f32>[N]) grid(cdiv(N, 1024)) params(BLOCK = 1024) {
 *   kernel @rows(...) grid(M) requires(N <= 8192) params(BLOCK_N = 8192) {
 *     %0 = program_id() {axis = 0} : i32
 *     %1 = arange() {start = 0, end = 1024} : tile<i32>[1024]
 *     ...
 *     store(%z, %5, %8, %6)
 *   }
 *
 * Ops with regions print them in braces after the operands: `for(...) { ^(%i: i32, %acc: ...): ... }`
 * and `if(%c) { ... } else { ... }`, followed by ` : result types`. Values are numbered in order of
 * definition, so the text does not depend on how the kernel was built; arguments keep their names.
 * Attribute values: integers and floats (inf, -inf, nan), true/false, identifiers (kind = sum),
 * quoted strings otherwise, and integer lists [1, 2]. `note` may add a `// comment` to an op's line
 * (what a backend chose for it: tskc ir --layouts), which the parser skips.
 */
import { type AttrValue, type Block, type Kernel, type Op, type Value, formatGridExpr, formatRequirement } from './ir.js';
import { formatType } from './types.js';

export function printKernel(kernel: Kernel, note?: (op: Op) => string | undefined): string {
  const names = new Map<Value, string>();
  kernel.args.forEach((a) => names.set(a, `%${a.name}`));
  let next = 0;
  const name = (v: Value): string => {
    let n = names.get(v);
    if (n === undefined) names.set(v, (n = `%${next++}`));
    return n;
  };
  const lines: string[] = [];
  const args = kernel.args.map((a) => `${name(a)}: ${a.type.kind === 'tensor' ? `${a.type.access} ` : ''}${formatType(a.type)}`);
  const grid = kernel.grid.length > 0 ? ` grid(${kernel.grid.map(formatGridExpr).join(', ')})` : '';
  const requires = kernel.requires?.length ? ` requires(${kernel.requires.map(formatRequirement).join(', ')})` : '';
  const paramList = Object.entries(kernel.params);
  const params = paramList.length > 0 ? ` params(${paramList.map(([k, v]) => `${k} = ${formatNumber(v)}`).join(', ')})` : '';
  lines.push(`kernel @${kernel.name}(${args.join(', ')})${grid}${requires}${params} {`);
  printBlock(kernel.body, '  ', lines, name, note);
  lines.push('}');
  return lines.join('\n') + '\n';
}

type Note = ((op: Op) => string | undefined) | undefined;

function printBlock(block: Block, indent: string, lines: string[], name: (v: Value) => string, note: Note): void {
  for (const op of block.ops) printOp(op, indent, lines, name, note);
}

function printOp(op: Op, indent: string, lines: string[], name: (v: Value) => string, note: Note): void {
  const comment = note?.(op);
  const noted = comment === undefined ? '' : `  // ${comment}`;
  const results = op.results.length > 0 ? `${op.results.map(name).join(', ')} = ` : '';
  const operands = `${op.opcode}(${op.operands.map(name).join(', ')})`;
  const attrEntries = Object.entries(op.attrs);
  const attrs = attrEntries.length > 0 ? ` {${attrEntries.map(([k, v]) => `${k} = ${formatAttr(v)}`).join(', ')}}` : '';
  const types = op.results.length > 0 ? ` : ${op.results.map((r) => formatType(r.type)).join(', ')}` : '';
  if (op.regions.length === 0) {
    lines.push(`${indent}${results}${operands}${attrs}${types}${noted}`);
    return;
  }
  lines.push(`${indent}${results}${operands}${attrs} {${noted}`);
  op.regions.forEach((region, i) => {
    if (i > 0) lines.push(`${indent}} else {`);
    if (region.args.length > 0) lines.push(`${indent}^(${region.args.map((a) => `${name(a)}: ${formatType(a.type)}`).join(', ')}):`);
    printBlock(region, indent + '  ', lines, name, note);
  });
  lines.push(`${indent}}${types}`);
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0.0';
  return String(v);
}

function formatAttr(v: AttrValue): string {
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && v !== 'true' && v !== 'false' && v !== 'inf' && v !== 'nan' ? v : JSON.stringify(v);
  return `[${v.map(formatNumber).join(', ')}]`;
}
