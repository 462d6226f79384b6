/**
 * Swizzles (bit permutations of offsets, used against shared-memory bank conflicts) and composed
 * layouts: a swizzle applied after an offset and a layout.
 */
import { LayoutError } from './errors.js';
import { type IntTuple, describeValue } from './int-tuple.js';
import { type Layout, checkLayout } from './layout.js';

/**
 * Swizzle(B, M, S): XORs the B bits starting at bit M + S into the B bits starting at bit M; with
 * S < 0, the B bits at M into the B bits at M + |S|. |S| >= B keeps the two ranges disjoint.
 * Offsets keep their low M bits ("units" of 2^M elements move together). Every swizzle is its own inverse:
 * the source bits are left unchanged, so applying it twice XORs the same value twice.
 * Swizzle(3,3,3) maps 64 -> 72 and 128 -> 144, and leaves 0..63 alone.
 */
export class Swizzle {
  readonly bits: number;
  readonly base: number;
  readonly shift: number;

  constructor(bits: number, base: number, shift: number) {
    for (const [name, v] of [['B', bits], ['M', base], ['S', shift]] as const) {
      if (!Number.isSafeInteger(v)) throw new LayoutError('invalid-swizzle', `${name} = ${v} is not an integer`);
    }
    if (bits < 0 || base < 0) throw new LayoutError('invalid-swizzle', `Swizzle(${bits},${base},${shift}) needs B >= 0 and M >= 0`);
    if (Math.abs(shift) < bits) {
      throw new LayoutError('invalid-swizzle', `Swizzle(${bits},${base},${shift}): |S| must be >= B or the bit ranges overlap`);
    }
    if (base + Math.abs(shift) + bits > 30) {
      throw new LayoutError('invalid-swizzle', `Swizzle(${bits},${base},${shift}) reaches past bit 30`);
    }
    this.bits = bits;
    this.base = base;
    this.shift = shift;
  }

  /** Offsets below this bound are permuted among themselves (the swizzle's period). */
  get period(): number {
    return 2 ** (this.base + Math.abs(this.shift) + this.bits);
  }

  apply(offset: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new LayoutError('out-of-range', `swizzle of ${offset}: offsets are non-negative integers`);
    }
    // The XOR touches only bits below `period`, so split there to stay exact past 2^31.
    const high = offset - (offset % this.period);
    const low = offset % this.period;
    const mask = ((1 << this.bits) - 1) << (this.base + Math.max(this.shift, 0));
    const moved = this.shift >= 0 ? (low & mask) >>> this.shift : (low & mask) << -this.shift;
    return high + (low ^ moved);
  }

  equals(other: Swizzle): boolean {
    return this.bits === other.bits && this.base === other.base && this.shift === other.shift;
  }

  toString(): string {
    return `Sw<${this.bits},${this.base},${this.shift}>`;
  }
}

/**
 * A swizzle applied after a layout (and an offset): L'(c) = swizzle(offset + layout(c)). The shape is
 * the inner layout's. Shared-memory tiles use this to spread rows across banks.
 */
export class ComposedLayout {
  readonly swizzle: Swizzle;
  readonly offset: number;
  readonly layout: Layout;

  constructor(swizzle: Swizzle, layout: Layout, offset = 0) {
    if (!(swizzle instanceof Swizzle)) throw new LayoutError('invalid-argument', `a composed layout needs a Swizzle, got ${describeValue(swizzle)}`);
    checkLayout(layout, 'a composed layout');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new LayoutError('out-of-range', `offset ${offset} must be a non-negative integer`);
    this.swizzle = swizzle;
    this.offset = offset;
    this.layout = layout;
  }

  get shape(): IntTuple {
    return this.layout.shape;
  }

  get size(): number {
    return this.layout.size;
  }

  at(coord: IntTuple): number {
    const offset = this.offset + this.layout.at(coord);
    if (!Number.isSafeInteger(offset)) throw new LayoutError('too-large', `offset ${this.offset} + ${this.layout.at(coord)} is past 2^53 - 1`);
    return this.swizzle.apply(offset);
  }

  equals(other: ComposedLayout): boolean {
    return this.swizzle.equals(other.swizzle) && this.offset === other.offset && this.layout.equals(other.layout);
  }

  /** CuTe notation: Sw<3,3,3> o 0 o (8,8):(8,1). */
  toString(): string {
    return `${this.swizzle} o ${this.offset} o ${this.layout}`;
  }
}
