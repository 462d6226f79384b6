/**
 * Which operands of a loop's tensor-core dots can be copied from global to shared memory ahead of
 * time with cp.async (the CUDA emitter's multi-stage pipeline), read from the IR alone.
 *
 * An operand qualifies when it is a tile loaded from an input tensor in the loop's own body, widened
 * from the mma operand format to f32 (or not; for tf32, an f32 tensor's), a as loaded ([m, k]), b
 * transposed ([n, k]) or, for 16-bit formats, as loaded ([k, n]): exactly the values the register path
 * stages, in one of its staging layouts (b n-major, or k-major for ldmatrix.trans), so the loaded
 * tile's rows can land in the staging as they are, 16 bytes at a time. The load and the ops between it and the dot must have no
 * other use (they are not emitted where they stand: the copies replace them), and the load's indices,
 * mask and fill must be computable for a later iteration: functions of the loop variable and of values
 * from outside the loop through pure index ops, never of a carried value. The emitter confirms the
 * last point on the values as it represents them (index expressions, not registers).
 */
import type { Block, Op, Value } from '../../compiler/ir/ir.js';
import { isBinary, isCompare, isUnary } from '../../compiler/ir/opcodes.js';
import type { TensorType, TileType } from '../../compiler/ir/types.js';

/** A dot operand copied ahead: the load, and the ops from it to the dot (casts and transposes) that the copies stand for. */
export interface AsyncOperand {
  readonly load: Op;
  readonly chain: readonly Op[];
  /** Whether the loaded tile is the operand's transpose (b loaded as [n, k], from W's rows). */
  readonly transposed: boolean;
}

/** A dot of the loop's body with the operands (at least one) that are copied ahead. */
export interface PipelinedDot {
  readonly dot: Op;
  /** Its operands' format on the tensor cores. */
  readonly format: 'bf16' | 'f16' | 'tf32';
  readonly a?: AsyncOperand;
  readonly b?: AsyncOperand;
}

/** Ops that compute values without touching memory or threads' shared state: safe to evaluate for another iteration. */
const INDEX_OPS = new Set(['const', 'arange', 'program_id', 'num_programs', 'dim', 'broadcast', 'view', 'reshape', 'permute', 'cast', 'bitcast', 'where']);
const pure = (op: Op) => INDEX_OPS.has(op.opcode) || isUnary(op.opcode) || isBinary(op.opcode) || isCompare(op.opcode);

/** Every use of each value in a block, nested regions included. */
export function usesIn(body: Block): Map<Value, Op[]> {
  const uses = new Map<Value, Op[]>();
  const visit = (b: Block) => {
    for (const op of b.ops) {
      for (const v of op.operands) uses.set(v, [...(uses.get(v) ?? []), op]);
      op.regions.forEach(visit);
    }
  };
  visit(body);
  return uses;
}

/**
 * The dots of `loop` (a `for` op) whose operands can be copied ahead, each with those operands;
 * `format` gives the operand format (bf16, f16 or tf32) of each dot the emitter runs on the register
 * path (the only one that pipelines), undefined for the others.
 */
export function pipelinedDots(loop: Op, defs: ReadonlyMap<Value, Op>, uses: ReadonlyMap<Value, readonly Op[]>, format: (dot: Op) => 'bf16' | 'f16' | 'tf32' | undefined): PipelinedDot[] {
  const body = loop.regions[0]!;
  const [iv, ...carried] = body.args;
  const inBody = new Set(body.ops);
  const onlyUse = (v: Value, user: Op) => (uses.get(v) ?? []).every((u) => u === user);
  /** Whether v is computable for another iteration: from iv and outside values through index ops. */
  const indexOf = (v: Value, seen = new Set<Value>()): boolean => {
    if (v === iv || seen.has(v)) return true;
    if (carried.includes(v)) return false;
    const def = defs.get(v);
    // Not the body's own: from before the loop (the verifier's scoping keeps nested regions' values out).
    if (def === undefined || !inBody.has(def)) return true;
    seen.add(v);
    return pure(def) && def.operands.every((o) => indexOf(o, seen));
  };
  /** The load behind operand v of `dot`, through widening casts and transposes, when it qualifies, loaded as `layouts` allows. */
  const asyncOperand = (v: Value, dot: Op, codes: string, layouts: 'as is' | 'transposed' | 'either'): AsyncOperand | undefined => {
    const chain: Op[] = [];
    let user = dot;
    let flips = 0;
    for (;;) {
      const def = defs.get(v);
      if (def === undefined || !inBody.has(def) || !onlyUse(v, user)) return undefined;
      if (def.opcode === 'load') {
        const tensor = def.operands[0]!.type as TensorType;
        const transposed = flips % 2 === 1;
        if (tensor.access !== 'in' || tensor.dtype.name !== codes || layouts === (transposed ? 'as is' : 'transposed')) return undefined;
        if (!def.operands.slice(1).every((o) => indexOf(o))) return undefined;
        return { load: def, chain: chain.reverse(), transposed };
      }
      // Only ops that leave every value as it is: the copies stand for them. A transpose swaps the two
      // dims (an identity permute does not); a cast may only widen the loaded format to f32.
      const perm = def.opcode === 'permute' ? (def.attrs['perm'] as readonly number[]).join() : undefined;
      const widens = def.opcode === 'cast' && (def.operands[0]!.type as TileType).dtype.name === codes && (v.type as TileType).dtype.name === 'f32';
      if (perm === '1,0' || perm === '0,1') flips += perm === '1,0' ? 1 : 0;
      else if (!widens) return undefined;
      chain.push(def);
      user = def;
      v = def.operands[0]!;
    }
  };
  const found: PipelinedDot[] = [];
  for (const op of body.ops) {
    const operands = op.opcode === 'dot' ? format(op) : undefined;
    if (operands === undefined) continue;
    // The staging holds the loaded tensor's own elements: 16-bit codes, or f32 rounded when read.
    const codes = operands === 'tf32' ? 'f32' : operands;
    const a = asyncOperand(op.operands[0]!, op, codes, 'as is');
    // ldmatrix.trans, which reads b k-major, moves 16-bit elements only.
    const b = asyncOperand(op.operands[1]!, op, codes, operands === 'tf32' ? 'transposed' : 'either');
    if (a || b) found.push({ dot: op, format: operands, ...(a ? { a } : {}), ...(b ? { b } : {}) });
  }
  return found;
}
