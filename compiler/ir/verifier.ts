/**
 * The verifier: checks a whole kernel, independently of how it was built. Run after every pass in
 * tests. A kernel is valid when
 *   - every value is defined once (a kernel argument, a region argument or an op result),
 *   - every operand is defined before its use, in the same region or one around it,
 *   - every op's result types are what its type rule gives (regions included), and
 *   - `yield` appears exactly as the last op of each region, and nowhere else.
 */
import { IrError } from './errors.js';
import { forResultTypes, ifResultTypes } from './control-flow.js';
import type { Block, Kernel, Op, Value } from './ir.js';
import { inferResultTypes } from './type-rules.js';
import { formatType, typeEquals } from './types.js';

export function verify(kernel: Kernel): void {
  const defined = new Set<Value>();
  const define = (v: Value, where: string) => {
    if (defined.has(v)) throw new IrError('structure', `${where}: %${v.id} is defined twice`);
    defined.add(v);
  };
  kernel.args.forEach((a) => {
    if (a.type.kind !== 'tensor' && !(a.type.kind === 'tile' && a.type.shape.length === 0)) {
      throw new IrError('type', `argument ${a.name}: kernel arguments are tensors or scalars, got ${formatType(a.type)}`);
    }
    define(a, `argument ${a.name}`);
  });
  verifyBlock(kernel.body, [new Set(kernel.args)], define, false);
}

function verifyBlock(block: Block, scopes: Set<Value>[], define: (v: Value, where: string) => void, isRegion: boolean): void {
  const scope = new Set<Value>(block.args);
  block.args.forEach((a) => define(a, 'region argument'));
  const visible = [...scopes, scope];
  block.ops.forEach((op, i) => {
    const isLast = i === block.ops.length - 1;
    if (op.opcode === 'yield' && !(isRegion && isLast)) throw new IrError('structure', 'yield must be the last op of a region');
    for (const v of op.operands) {
      if (!visible.some((s) => s.has(v))) {
        throw new IrError('structure', `${op.opcode}: operand %${v.id} is used before its definition or outside its region`);
      }
    }
    op.regions.forEach((r) => verifyBlock(r, visible, define, true));
    checkTypes(op);
    op.results.forEach((r) => {
      define(r, op.opcode);
      scope.add(r);
    });
  });
  if (isRegion && block.ops[block.ops.length - 1]?.opcode !== 'yield') throw new IrError('structure', 'a region must end with yield');
}

function checkTypes(op: Op): void {
  const operandTypes = op.operands.map((v) => v.type);
  if (op.opcode === 'yield') return;
  const expected =
    op.opcode === 'for'
      ? forResultTypes(operandTypes, op.regions[0] ?? failNoRegion(op))
      : op.opcode === 'if'
        ? ifResultTypes(operandTypes, op.regions)
        : inferResultTypes(op.opcode, operandTypes, op.attrs);
  if (op.opcode !== 'for' && op.opcode !== 'if' && op.regions.length > 0) throw new IrError('structure', `${op.opcode} takes no regions`);
  const got = op.results.map((r) => r.type);
  if (got.length !== expected.length || got.some((t, i) => !typeEquals(stripLayout(t), stripLayout(expected[i]!)))) {
    throw new IrError(
      'type',
      `${op.opcode}: results (${got.map(formatType).join(', ')}) do not match the type rule (${expected.map(formatType).join(', ')})`,
    );
  }
}

/** Layouts are assigned by passes after typing, so the type rule's layout-free type is compared. */
function stripLayout<T extends { kind: string }>(t: T): T {
  return 'layout' in t ? { ...t, layout: undefined } : t;
}

function failNoRegion(op: Op): never {
  throw new IrError('structure', `${op.opcode} needs a region`);
}
