/**
 * The launch arguments of every runtime device, checked before anything reads them: an object of
 * arguments, and for each tensor argument a tensor whose storage is the storage format of its dtype
 * and shape, of exactly that length (a kernel indexes storage by the shape, so a shorter array would
 * be read and written past its end). Then compiler/ir/arguments.ts's bindArguments checks them
 * against the kernel's signature.
 */
import { bindArguments } from '../compiler/ir/arguments.js';
import { describeValue } from '../compiler/ir/errors.js';
import type { Kernel } from '../compiler/ir/ir.js';
import { type Tensor, TensorError, storageProblem } from './tensor.js';

export function bindLaunchArguments(kernel: Kernel, args: unknown): Record<string, number> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new TensorError(`kernel ${kernel.name}: the arguments must be an object of tensors and numbers by name, got ${describeValue(args)}`);
  }
  const given = args as Readonly<Record<string, unknown>>;
  for (const a of kernel.args) {
    const v = Object.hasOwn(given, a.name!) ? given[a.name!] : undefined;
    if (a.type.kind !== 'tensor' || v === undefined || typeof v === 'number') continue; // bindArguments names those
    const problem = storageProblem(v);
    if (problem !== undefined) throw new TensorError(`kernel ${kernel.name}: argument ${a.name} is no tensor: ${problem}`);
  }
  return bindArguments(kernel, given as Readonly<Record<string, Tensor | number>>);
}
