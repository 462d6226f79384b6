/**
 * The fusion pass: partitions a graph into as few tile kernels ("groups") as legality allows.
 *
 * A group computes its nodes over one iteration space S (a shape), viewed as rows × columns: the last
 * extent of S is the columns, the others the rows. Its nodes are computed in registers; a node leaves
 * the group (is stored) only when a graph output or another group needs it. Values inside a group have
 * S's shape ("full") or one value per row ("row": S without its last extent, or with it as 1).
 *
 * Kinds:
 * - elementwise: nodes of shape S; any tiling of S works.
 * - rows: also reductions over S's last axis; a program holds whole rows (columns ≤ maxRow).
 * - matmul: one or more matmuls [M, K]·[K, N] with the same M, N, K (S = [M, N]) and their epilogue;
 *   the epilogue may reduce rows only when N ≤ maxMatmulRow, so that one tile covers the row.
 *
 * Rules, applied to the nodes in topological order:
 * - an elementwise node joins the group of one of its operands when its shape is that group's S (or,
 *   for a group that holds whole rows, the row shape): vertical fusion, into the producer's epilogue,
 *   which for a reduction is its consumer's prologue (x·y, then sum: one kernel). A value per row
 *   without the last axis is computed from such values only, and a full value from none (numpy would
 *   broadcast an [R] operand along the columns), counting the groups about to merge in;
 * - a reduction joins the group of its operand when the operand is full there and the group can hold
 *   whole rows; an elementwise group becomes a rows group;
 * - the operands of a joining node from other groups must not depend on the joined group (no cycles);
 *   a group with the same space and no path to or from the joined one is merged into it instead;
 * - an elementwise operand from another group moves into the consumer's group (its prologue) when
 *   that saves memory traffic: nothing else there uses it (no matmul: it reads its operands from
 *   memory), and what it is computed from is written anyway or is narrower (a cast to f32 moves to
 *   its consumer; the bf16 value crosses memory);
 * - at the end, groups over the same space with no path between them merge: horizontal fusion.
 * A matmul always starts a group (its operands are read from memory, transposed inputs included).
 */
import { describeValue } from '../ir/errors.js';
import { GraphError, type GraphNode, describeNode, reachable, sameShape } from './nodes.js';

export type GroupKind = 'elementwise' | 'rows' | 'matmul';

export interface FusionGroup {
  /** Its position in the plan, which is an order to run the groups in. */
  readonly id: number;
  readonly kind: GroupKind;
  /** The iteration space S. */
  readonly shape: readonly number[];
  /** The inner extent of the group's matmuls. */
  readonly k?: number;
  /** Whether one program must hold whole rows (a reduction is fused). */
  readonly wholeRows: boolean;
  /** The nodes computed here, operands first. */
  readonly nodes: readonly GraphNode[];
  /** What the group reads from memory: graph inputs, transposed inputs, other groups' outputs (by id). */
  readonly inputs: readonly GraphNode[];
  /** What it writes: its graph outputs and the nodes other groups read (by id). */
  readonly outputs: readonly GraphNode[];
  /**
   * The nodes holding one value per row shaped as S without its last axis (a reduction without
   * keepDim, and what is computed from it): their operands broadcast against S's rows, not its columns.
   */
  readonly rowValued: readonly GraphNode[];
}

export interface FusionPlan {
  readonly groups: readonly FusionGroup[];
  readonly outputs: readonly GraphNode[];
}

export interface FusionOptions {
  /** false: one kernel per op (the unfused plan, for comparison). Default true. */
  readonly fuse?: boolean;
  /** The longest row a rows group holds in one program. Default 16384. */
  readonly maxRow?: number;
  /** The longest row a matmul epilogue may reduce (one tile covers it). Default 256. */
  readonly maxMatmulRow?: number;
}

interface Draft {
  readonly serial: number;
  kind: GroupKind;
  readonly shape: readonly number[];
  k?: number;
  wholeRows: boolean;
  nodes: GraphNode[];
  /** Ids of the nodes in the row frame (FusionGroup.rowValued). */
  readonly rowValued: Set<number>;
  /** Set when merged into another group. */
  into?: Draft;
}

const isComputed = (n: GraphNode) => n.op.kind !== 'input' && n.op.kind !== 'const' && n.op.kind !== 'transpose';
const last = (s: readonly number[]) => s[s.length - 1] ?? 1;

export function planFusion(outputs: readonly GraphNode[], options: FusionOptions = {}): FusionPlan {
  const { fuse = true, maxRow = 16384, maxMatmulRow = 256 } = options;
  for (const [name, v] of [['maxRow', maxRow], ['maxMatmulRow', maxMatmulRow]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new GraphError(`fusion option ${name}: expected a positive integer, got ${describeValue(v)}`);
  }
  const nodes = reachable(outputs);
  for (const o of outputs) {
    if (o.op.kind === 'const') throw new GraphError('a constant cannot be a graph output');
  }
  const drafts: Draft[] = [];
  const home = new Map<number, Draft>();

  const find = (d: Draft): Draft => (d.into ? find(d.into) : d);
  const groupOf = (n: GraphNode): Draft | undefined => {
    const d = home.get(n.id);
    return d && find(d);
  };
  const alive = () => drafts.filter((d) => !d.into);
  const depsOf = (d: Draft): Set<Draft> => {
    const deps = new Set<Draft>();
    for (const n of d.nodes) for (const o of n.inputs) {
      const g = groupOf(o);
      if (g && g !== d) deps.add(g);
    }
    return deps;
  };
  /** Whether `a` depends on `b`, directly or through other groups. */
  const dependsOn = (a: Draft, b: Draft): boolean => {
    const seen = new Set<Draft>();
    const stack = [a];
    while (stack.length > 0) {
      for (const d of depsOf(stack.pop()!)) {
        if (d === b) return true;
        if (!seen.has(d)) seen.add(d), stack.push(d);
      }
    }
    return false;
  };
  const create = (kind: GroupKind, shape: readonly number[], wholeRows: boolean, k?: number): Draft => {
    const d: Draft = { serial: drafts.length, kind, shape, wholeRows, nodes: [], rowValued: new Set(), ...(k === undefined ? {} : { k }) };
    drafts.push(d);
    return d;
  };
  const isOutput = new Set(outputs.map((o) => o.id));
  const consumers = new Map<number, GraphNode[]>();
  for (const n of nodes) for (const o of n.inputs) consumers.set(o.id, [...(consumers.get(o.id) ?? []), n]);

  /** Adds n to d; `rowValued` when its value is one per row without the last axis. */
  const join = (n: GraphNode, d: Draft, rowValued = false) => {
    d.nodes.push(n);
    home.set(n.id, d);
    if (rowValued) d.rowValued.add(n.id);
    if (fuse) for (const o of n.inputs) pull(o, n, d);
  };
  const holdsRows = (d: Draft) => (d.kind === 'matmul' ? last(d.shape) <= maxMatmulRow : last(d.shape) <= maxRow);
  /** How a node of `shape` lives in d: over the whole space, one value per row (row frame), or not at all. */
  const fits = (d: Draft, shape: readonly number[]): 'full' | 'row' | undefined => {
    if (sameShape(shape, d.shape)) return 'full';
    if (!d.wholeRows) return undefined;
    const rows = d.shape.slice(0, -1);
    return sameShape(shape, [...rows, 1]) ? 'full' : sameShape(shape, rows) ? 'row' : undefined;
  };
  /** Whether tensor p is written by its group whatever else happens: an output, or read by another group. */
  const writtenAnyway = (p: GraphNode) => isOutput.has(p.id) || (consumers.get(p.id) ?? []).some((c) => home.has(c.id) && groupOf(c) !== groupOf(p));
  /**
   * Moves operand o of n (joining d) from its group into d, when o is elementwise, only n and nodes
   * not yet placed use it, and writing what o is computed from costs fewer bytes than writing o. Then
   * the same for o's operands. o takes n's frame (its operands broadcast as n's do); a value d could not
   * write (another shape: a weight's cast, say) moves only when n is its one user.
   */
  const pull = (o: GraphNode, n: GraphNode, d: Draft) => {
    const from = groupOf(o);
    // A matmul reads its operands from memory, tile by tile: nothing moves into it.
    if (!from || from === d || isOutput.has(o.id) || n.op.kind === 'matmul') return;
    if (o.op.kind !== 'unary' && o.op.kind !== 'binary' && o.op.kind !== 'cast') return;
    const users = consumers.get(o.id) ?? [];
    // Every other placed user must compute in d, and none may be a matmul (it reads o from memory).
    if (users.some((c) => c !== n && home.has(c.id) && (groupOf(c) !== d || c.op.kind === 'matmul'))) return;
    const rowFrame = d.rowValued.has(n.id) && n.op.kind !== 'reduce';
    const storable = rowFrame ? sameShape(o.shape, d.shape.slice(0, -1)) : fits(d, o.shape) === 'full';
    if (!storable && users.some((c) => c !== n)) return;
    const needed = o.inputs.filter((p) => groupOf(p) === from && !writtenAnyway(p));
    if (needed.reduce((bytes, p) => bytes + p.dtype.bits, 0) >= o.dtype.bits) return;
    from.nodes = from.nodes.filter((x) => x !== o);
    from.rowValued.delete(o.id);
    join(o, d, rowFrame);
    d.nodes.sort((x, y) => x.id - y.id);
  };
  /**
   * Same space and compatible kinds. Merging only adds to a group's nodes and dependencies, so a pair
   * that is not compatible, or where one depends on the other, stays so after any merge.
   */
  const compatible = (a: Draft, b: Draft): boolean => {
    if (a === b || !sameShape(a.shape, b.shape)) return false;
    if (a.kind === 'matmul' && b.kind === 'matmul' && a.k !== b.k) return false;
    const wholeRows = a.wholeRows || b.wholeRows;
    return !(wholeRows && (a.kind === 'matmul' || b.kind === 'matmul') && last(a.shape) > maxMatmulRow);
  };
  /** Compatible, and neither depends on the other. */
  const mergeable = (a: Draft, b: Draft): boolean => compatible(a, b) && !dependsOn(a, b) && !dependsOn(b, a);
  const merge = (into: Draft, other: Draft) => {
    into.nodes = [...into.nodes, ...other.nodes].sort((x, y) => x.id - y.id);
    for (const id of other.rowValued) into.rowValued.add(id);
    into.kind = into.kind === 'matmul' || other.kind === 'matmul' ? 'matmul' : into.kind === 'rows' || other.kind === 'rows' ? 'rows' : 'elementwise';
    if (other.k !== undefined) into.k = other.k;
    into.wholeRows ||= other.wholeRows;
    other.into = into;
  };
  const rowsGroupFor = (n: GraphNode) => {
    const operand = n.inputs[0]!;
    if (last(operand.shape) > maxRow) {
      throw new GraphError(
        `${describeNode(n)} over rows of ${last(operand.shape)} elements: a fused reduction holds its row in one program, at most ${maxRow} elements`,
      );
    }
    return create('rows', operand.shape, true);
  };
  const rowValuedReduce = (n: GraphNode) => n.op.kind === 'reduce' && !n.op.keepDim;

  for (const n of nodes) {
    if (!isComputed(n)) continue;
    if (n.op.kind === 'matmul') {
      join(n, create('matmul', n.shape, false, n.inputs[0]!.shape[1]));
      continue;
    }
    if (!fuse) {
      join(n, n.op.kind === 'reduce' ? rowsGroupFor(n) : create('elementwise', n.shape, false), rowValuedReduce(n));
      continue;
    }
    if (n.op.kind === 'reduce') {
      const operand = n.inputs[0]!;
      const g = groupOf(operand);
      if (g && sameShape(operand.shape, g.shape) && holdsRows(g)) {
        if (g.kind === 'elementwise') g.kind = 'rows';
        g.wholeRows = true;
        join(n, g, rowValuedReduce(n));
      } else {
        join(n, rowsGroupFor(n), rowValuedReduce(n));
      }
      continue;
    }
    const candidates = [...new Set(n.inputs.map(groupOf).filter((g): g is Draft => g !== undefined))].sort((a, b) => b.serial - a.serial);
    let placed = false;
    for (const g of candidates) {
      const form = fits(g, n.shape);
      if (form === undefined) continue;
      // A value per row is computed from values per row only (its operands broadcast against the rows),
      // and a full value from none (numpy broadcasts an [M] operand along the columns): among the
      // operands held in g, or in a group about to merge into it, which would be read from registers.
      const held = n.inputs.filter((o) => {
        const h = groupOf(o);
        return h !== undefined && (h === g || mergeable(g, h));
      });
      const perRow = (o: GraphNode) => groupOf(o)!.rowValued.has(o.id);
      if (form === 'row' ? held.some((o) => !perRow(o)) : held.some(perRow)) continue;
      const others = candidates.filter((h) => h !== g && !h.into);
      if (others.some((h) => !mergeable(g, h) && dependsOn(h, g))) continue;
      for (const h of others) if (mergeable(g, h)) merge(g, h);
      join(n, g, form === 'row');
      placed = true;
      break;
    }
    if (!placed) join(n, create('elementwise', n.shape, false));
  }

  if (fuse) horizontal(alive(), compatible, merge, depsOf);
  return finish(alive().filter((d) => d.nodes.length > 0), nodes, outputs, groupOf, depsOf);
}

/**
 * Merges groups over the same space that do not depend on each other. One pass over the pairs is enough,
 * since a pair that cannot merge never can after other merges (`compatible`). Which groups depend on
 * which is worked out once and again after each merge, not searched for each pair: a chain of G
 * dependent groups took time in G^3 (a chain of 300 matmuls 2.2 s to plan).
 */
function horizontal(groups: readonly Draft[], compatible: (a: Draft, b: Draft) => boolean, merge: (into: Draft, other: Draft) => void, depsOf: (d: Draft) => Set<Draft>): void {
  let above = ancestry(groups, depsOf);
  for (const [i, a] of groups.entries()) {
    if (a.into) continue;
    for (const b of groups.slice(i + 1)) {
      if (b.into || !compatible(a, b) || above.get(a)!.has(b) || above.get(b)!.has(a)) continue;
      merge(a, b);
      above = ancestry(groups.filter((d) => !d.into), depsOf);
    }
  }
}

/** For each group, every group it depends on, directly or through others (a DAG; walked without recursion). */
function ancestry(groups: readonly Draft[], depsOf: (d: Draft) => Set<Draft>): Map<Draft, Set<Draft>> {
  const above = new Map<Draft, Set<Draft>>();
  for (const root of groups) {
    const stack = [root];
    while (stack.length > 0) {
      const d = stack[stack.length - 1]!;
      if (above.has(d)) {
        stack.pop();
        continue;
      }
      const deps = [...depsOf(d)];
      const pending = deps.filter((p) => !above.has(p));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      const all = new Set<Draft>(deps);
      for (const p of deps) for (const q of above.get(p)!) all.add(q);
      above.set(d, all);
      stack.pop();
    }
  }
  return above;
}

/** Orders the groups (dependencies first) and works out what each reads and writes. */
function finish(
  drafts: Draft[],
  nodes: readonly GraphNode[],
  outputs: readonly GraphNode[],
  groupOf: (n: GraphNode) => Draft | undefined,
  depsOf: (d: Draft) => Set<Draft>,
): FusionPlan {
  const ordered: Draft[] = [];
  const done = new Set<Draft>();
  // Depth first, dependencies in serial order before each group, without recursion (chains may be long).
  const bySerial = (a: Draft, b: Draft) => a.serial - b.serial;
  for (const root of [...drafts].sort(bySerial)) {
    if (done.has(root)) continue;
    done.add(root);
    const stack = [{ d: root, deps: [...depsOf(root)].sort(bySerial), next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const dep = top.deps[top.next++];
      if (dep === undefined) {
        ordered.push(top.d);
        stack.pop();
      } else if (!done.has(dep)) {
        done.add(dep);
        stack.push({ d: dep, deps: [...depsOf(dep)].sort(bySerial), next: 0 });
      }
    }
  }

  const readers = new Map<number, Set<Draft>>();
  for (const n of nodes) {
    const g = groupOf(n);
    if (!g) continue;
    for (const o of n.inputs) {
      const base = o.op.kind === 'transpose' ? o.inputs[0]! : o;
      if (!readers.has(base.id)) readers.set(base.id, new Set());
      readers.get(base.id)!.add(g);
    }
  }
  const isOutput = new Set(outputs.map((o) => o.id));
  const groups = ordered.map((d, id): FusionGroup => {
    const own = new Set(d.nodes.map((n) => n.id));
    const inputs = new Map<number, GraphNode>();
    for (const n of d.nodes) for (const o of n.inputs) if (!own.has(o.id) && o.op.kind !== 'const') inputs.set(o.id, o);
    const written = d.nodes.filter((n) => isOutput.has(n.id) || [...(readers.get(n.id) ?? [])].some((g) => g !== d));
    return Object.freeze({
      id,
      kind: d.kind,
      shape: d.shape,
      ...(d.k === undefined ? {} : { k: d.k }),
      wholeRows: d.wholeRows,
      nodes: Object.freeze([...d.nodes]),
      inputs: Object.freeze([...inputs.values()].sort((a, b) => a.id - b.id)),
      outputs: Object.freeze(written),
      rowValued: Object.freeze(d.nodes.filter((n) => d.rowValued.has(n.id))),
    });
  });
  return Object.freeze({ groups: Object.freeze(groups), outputs: Object.freeze([...outputs]) });
}
