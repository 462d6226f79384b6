/**
 * Building kernels op by op, as the DSL tracer and the text parser do. Every op is typed by its rule
 * when it is added, and every operand must be visible where it is used (defined earlier in the current
 * region or in a region around it), so a finished kernel is well-formed by construction.
 */
import { IrError, MAX_NESTING, reservedName, reservedNameMessage } from './errors.js';
import { forResultTypes, ifResultTypes } from './control-flow.js';
import { type Attrs, Block, type GridExpr, type Kernel, type Op, REQUIREMENT_RELS, type ShapeRequirement, Value, formatGridExpr, formatRequirement, gridSymbols, holds } from './ir.js';
import type { Opcode } from './opcodes.js';
import { inferResultTypes } from './type-rules.js';
import { type TileType, type Type, formatLayoutAttr, formatType, sameShape, scalarType, tileType } from './types.js';
import { ComposedLayout, RegisterLayout } from '../layout/index.js';
import { dtype } from './dtype.js';

export class KernelBuilder {
  private nextId = 0;
  private readonly args: Value[] = [];
  private readonly body = new Block();
  /** The regions being built, outermost first; values defined in them are the visible ones. */
  private readonly open: Block[] = [this.body];
  private readonly definedIn = new Map<Value, Block>();
  private requires: readonly ShapeRequirement[] = [];

  constructor(
    readonly name: string,
    private readonly params: Readonly<Record<string, number>> = {},
    private grid: readonly GridExpr[] = [],
  ) {
    checkIdentifier('kernel name', name);
    for (const [k, v] of Object.entries(params)) {
      checkName('parameter name', k);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new IrError('structure', `parameter ${k} must be a finite number, got ${v}`);
    }
    this.setGrid(grid);
  }

  /** The grid: extents made of non-negative integers, symbol names and grid operators. */
  setGrid(grid: readonly GridExpr[]): void {
    if (grid.length > 3) throw new IrError('structure', `a grid has at most 3 axes, got ${grid.length}`);
    grid.forEach((e) => checkGridExpr('grid', e));
    this.grid = grid;
  }

  /**
   * Adds what the launch extents must satisfy (Kernel.requires): a relation of grid expressions, each
   * symbol an extent of a tensor argument (checked when the kernel is finished). One on numbers alone
   * (the params already substituted) is decided here: it fails the build, or it is always true and
   * left out.
   */
  require(r: ShapeRequirement): void {
    if (!REQUIREMENT_RELS.includes(r.rel)) throw new IrError('structure', `requirement: unknown relation '${r.rel}' (expected ${REQUIREMENT_RELS.join(' or ')})`);
    checkGridExpr('requirement', r.left);
    checkGridExpr('requirement', r.right);
    if (gridSymbols(r.left).length + gridSymbols(r.right).length > 0) this.requires = [...this.requires, r];
    else if (!holds(r, {})) throw new IrError('type', `kernel ${this.name}: requirement ${formatRequirement(r)} never holds`);
  }

  /** Adds a kernel argument (a tensor, or a scalar passed at launch). */
  arg(name: string, type: Type): Value {
    checkName('argument name', name);
    if (this.args.some((a) => a.name === name)) throw new IrError('structure', `argument ${name} is declared twice`);
    if (type.kind === 'tile' && (type.space !== 'register' || type.shape.length > 0)) {
      throw new IrError('type', `argument ${name}: kernel arguments are global tensors or scalars, got ${formatType(type)}`);
    }
    if (type.kind === 'tensor') {
      for (const d of type.shape) {
        if (typeof d === 'string') checkName(`extent of argument ${name}`, d);
        else if (!Number.isSafeInteger(d) || d < 1) throw new IrError('type', `argument ${name}: extent ${d} must be a positive integer or a symbol`);
      }
    }
    const v = this.define(type, this.body, name);
    this.args.push(v);
    return v;
  }

  /**
   * Appends a typed op to the current region and returns its results. The type rules give types
   * without layouts; `layouts[i]`, where given, is attached to result i's type (the text parser and
   * layout passes use this). A layout must fit its tile: a register layout has the tile's shape, a
   * CuTe layout (swizzled or not) as many elements as the tile.
   */
  emit(opcode: Opcode, operands: readonly Value[], attrs: Attrs = {}, name?: string, layouts?: readonly (TileLayout | undefined)[]): Value[] {
    if (opcode === 'for' || opcode === 'if' || opcode === 'yield') {
      throw new IrError('structure', `${opcode} is built with forLoop / ifElse`);
    }
    this.checkVisible(opcode, operands);
    for (const key of Object.keys(attrs)) checkIdentifier(`${opcode}: attribute name`, key);
    const types = inferResultTypes(opcode, operands.map((v) => v.type), attrs);
    return this.append(opcode, operands, attrs, layouts === undefined ? types : withLayouts(opcode, types, layouts), [], name);
  }

  /** Shorthand for ops with exactly one result. */
  emit1(opcode: Opcode, operands: readonly Value[], attrs: Attrs = {}, name?: string): Value {
    const [r] = this.emit(opcode, operands, attrs, name);
    if (r === undefined) throw new IrError('structure', `${opcode} has no result`);
    return r;
  }

  /**
   * for i in [lower, upper) step `step`, carrying `inits`: `body(i, carried)` builds the region and
   * returns the next carried values. Returns the final carried values.
   */
  forLoop(lower: Value, upper: Value, step: Value, inits: readonly Value[], body: (i: Value, carried: Value[]) => readonly Value[]): Value[] {
    this.checkVisible('for', [lower, upper, step, ...inits]);
    const region = new Block([scalarType(dtype('i32')), ...inits.map((v) => v.type)].map((t) => this.newValue(t)));
    region.args.forEach((a) => this.definedIn.set(a, region));
    const [iv, ...carried] = region.args as [Value, ...Value[]];
    this.inRegion(region, () => this.yield(body(iv, carried)));
    const types = forResultTypes([lower, upper, step, ...inits].map((v) => v.type), region);
    return this.append('for', [lower, upper, step, ...inits], {}, types, [region]);
  }

  /** if cond then `then()` else `otherwise()`, each returning the values the if yields. */
  ifElse(cond: Value, then: () => readonly Value[], otherwise: () => readonly Value[]): Value[] {
    this.checkVisible('if', [cond]);
    const regions = [new Block(), new Block()] as const;
    this.inRegion(regions[0], () => this.yield(then()));
    this.inRegion(regions[1], () => this.yield(otherwise()));
    return this.append('if', [cond], {}, ifResultTypes([cond.type], regions), [...regions]);
  }

  /** The finished kernel. */
  finish(): Kernel {
    if (this.open.length !== 1) throw new IrError('structure', 'a region is still open');
    const extents = new Set(this.args.flatMap((a) => (a.type.kind === 'tensor' ? a.type.shape.filter((d) => typeof d === 'string') : [])));
    // The DSL refuses such names as it builds the grid; the text form is checked here.
    const unknownInGrid = this.grid.flatMap((e) => gridSymbols(e)).find((s) => !extents.has(s));
    if (unknownInGrid !== undefined) throw new IrError('structure', `kernel ${this.name}: the grid names ${unknownInGrid}, which is no tensor's extent`);
    for (const r of this.requires) {
      const unknown = [...gridSymbols(r.left), ...gridSymbols(r.right)].find((s) => !extents.has(s));
      if (unknown !== undefined) throw new IrError('structure', `kernel ${this.name}: requirement ${formatRequirement(r)} names ${unknown}, which is no tensor's extent`);
    }
    const kernel: Kernel = { name: this.name, args: [...this.args], params: { ...this.params }, grid: [...this.grid], body: this.body };
    return this.requires.length > 0 ? { ...kernel, requires: [...this.requires] } : kernel;
  }

  private yield(values: readonly Value[]): void {
    this.checkVisible('yield', values);
    this.append('yield', values, {}, [], []);
  }

  private inRegion(region: Block, build: () => void): void {
    // Deeper nesting than any kernel needs would overflow the stacks of the passes that recurse into regions.
    if (this.open.length > MAX_NESTING) throw new IrError('structure', `loop and branch bodies nest more than ${MAX_NESTING} deep`);
    this.open.push(region);
    try {
      build();
    } finally {
      this.open.pop();
    }
  }

  private append(opcode: Opcode, operands: readonly Value[], attrs: Attrs, types: readonly Type[], regions: Block[], name?: string): Value[] {
    const block = this.open[this.open.length - 1]!;
    const results = types.map((t) => this.define(t, block, name));
    const op: Op = { opcode, operands: [...operands], results, attrs: { ...attrs }, regions };
    block.ops.push(op);
    return results;
  }

  private newValue(type: Type, name?: string): Value {
    return new Value(this.nextId++, type, name);
  }

  private define(type: Type, block: Block, name?: string): Value {
    const v = this.newValue(type, name);
    this.definedIn.set(v, block);
    return v;
  }

  private checkVisible(opcode: string, operands: readonly Value[]): void {
    for (const v of operands) {
      const home = this.definedIn.get(v);
      if (home === undefined) throw new IrError('structure', `${opcode}: operand ${describe(v)} does not belong to kernel ${this.name}`);
      if (!this.open.includes(home)) {
        throw new IrError('structure', `${opcode}: operand ${describe(v)} is used outside the loop or branch that defines it`);
      }
    }
  }
}

type TileLayout = NonNullable<TileType['layout']>;

/** `types` with `layouts[i]` attached to type i, each checked to fit its tile. */
function withLayouts(opcode: Opcode, types: readonly Type[], layouts: readonly (TileLayout | undefined)[]): Type[] {
  if (layouts.length > types.length) throw new IrError('layout', `${opcode} has ${types.length} result(s), got ${layouts.length} layouts`);
  return types.map((t, i) => {
    const layout = layouts[i];
    if (layout === undefined) return t;
    if (t.kind !== 'tile') throw new IrError('layout', `${opcode}: result ${formatType(t)} cannot carry a layout`);
    // A register layout must have the tile's shape; a memory layout one mode per dim, of the dim's extent.
    const memory = layout instanceof RegisterLayout ? undefined : layout instanceof ComposedLayout ? layout.layout : layout;
    const fits =
      memory === undefined
        ? sameShape((layout as RegisterLayout).shape, t.shape)
        : t.shape.length === 0
          ? memory.size === 1
          : memory.rank === t.shape.length && memory.modes().every((m, d) => m.size === t.shape[d]);
    if (!fits) throw new IrError('layout', `${opcode}: layout ${formatLayoutAttr(layout)} does not fit ${formatType(t)}`);
    return tileType(t.dtype, t.shape, t.space, layout);
  });
}

/** A grid expression (of the grid, or of a requirement): non-negative integers, symbols and grid operators. */
function checkGridExpr(what: string, e: GridExpr, depth = 0): void {
  if (typeof e === 'number') {
    if (!Number.isSafeInteger(e) || e < 0) throw new IrError('structure', `${what} extent ${e} must be a non-negative integer`);
  } else if (typeof e === 'string') checkName(`${what} symbol`, e);
  else if (depth >= MAX_NESTING) throw new IrError('structure', `${what} extent nests more than ${MAX_NESTING} operations deep`);
  else if (e.op === 'cdiv' && e.args[1] === 0) throw new IrError('structure', `${what} extent ${formatGridExpr(e)} divides by 0`);
  else e.args.forEach((a) => checkGridExpr(what, a, depth + 1));
}

/** Names that reach the text form (and, through it, generated code) must be plain identifiers. */
function checkIdentifier(what: string, name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new IrError('structure', `${what} "${name}" must be an identifier`);
}

/**
 * The name of an argument, a parameter or an extent: an identifier, and none of the names every
 * JavaScript object has (launches, the CLI and user code look these names up in plain objects).
 */
function checkName(what: string, name: string): void {
  checkIdentifier(what, name);
  if (reservedName(name)) throw new IrError('structure', reservedNameMessage(what, `"${name}"`));
}

function describe(v: Value): string {
  return `${v.name ?? `%${v.id}`} : ${formatType(v.type)}`;
}
