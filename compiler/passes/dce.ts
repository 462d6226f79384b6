/**
 * Dead code elimination: removes ops whose results are never used and that have no effect besides
 * their results. Stores, barriers and ops with regions that contain effects are kept; an op whose
 * results are unused inside a loop body or branch is removed there too. The DSL leaves such ops
 * behind (an extent read twice, a constant broadcast for nothing), and later passes make more.
 */
import { Block, type Kernel, type Op, type Value } from '../ir/ir.js';
import type { Pass } from './pass-manager.js';

const EFFECTS = new Set(['store', 'store_shared', 'barrier', 'yield']);

function hasEffects(op: Op): boolean {
  return EFFECTS.has(op.opcode) || op.regions.some((r) => r.ops.some((o) => o.opcode !== 'yield' && hasEffects(o)));
}

/** Removes dead ops from `block` (and its regions), walking backwards so uses are seen before definitions. */
function sweep(block: Block, used: Set<Value>): Block {
  const kept: Op[] = [];
  for (let i = block.ops.length - 1; i >= 0; i--) {
    const op = block.ops[i]!;
    if (!hasEffects(op) && !op.results.some((r) => used.has(r))) continue;
    const regions = op.regions.map((r) => sweep(r, used));
    op.operands.forEach((v) => used.add(v));
    kept.push(regions.length > 0 ? { ...op, regions } : op);
  }
  const out = new Block(block.args);
  out.ops.push(...kept.reverse());
  return out;
}

export const dce: Pass = {
  name: 'dce',
  run: (kernel: Kernel): Kernel => ({ ...kernel, body: sweep(kernel.body, new Set()) }),
};
