/**
 * The four primitive register layouts. Each dimension of `shape` becomes one mode.
 *   local(2,3):        one thread holds all 6 elements, register index row-major (i*3 + j).
 *   columnLocal(2,3):  the same, register index column-major (i + j*2).
 *   spatial(2,3):      6 threads hold one element each, thread index row-major.
 *   columnSpatial(2,3): the same, thread index column-major.
 * Larger layouts are built by composing these (see compose.ts).
 */
import { LayoutError } from '../errors.js';
import { type RegisterLayout, registerLayout } from './register-layout.js';

function primitive(name: string, shape: readonly number[], spatialKind: boolean, columnMajor: boolean): RegisterLayout {
  if (shape.length === 0 || !shape.every((s) => Number.isSafeInteger(s) && s >= 1)) {
    throw new LayoutError('invalid-register-layout', `${name}(${shape.join(',')}) needs one or more positive integer extents`);
  }
  const modes = shape.map((_, i) => i);
  const order = columnMajor ? [...modes].reverse() : modes;
  return registerLayout(shape, shape, spatialKind ? order : [], spatialKind ? [] : order);
}

export function local(...shape: number[]): RegisterLayout {
  return primitive('local', shape, false, false);
}

export function columnLocal(...shape: number[]): RegisterLayout {
  return primitive('columnLocal', shape, false, true);
}

export function spatial(...shape: number[]): RegisterLayout {
  return primitive('spatial', shape, true, false);
}

export function columnSpatial(...shape: number[]): RegisterLayout {
  return primitive('columnSpatial', shape, true, true);
}
