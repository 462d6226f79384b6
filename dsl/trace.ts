/**
 * The kernel being traced. DSL functions append ops to it; outside a kernel body they refuse to run.
 */
import type { KernelBuilder } from '../compiler/ir/builder.js';
import { IrError } from '../compiler/ir/errors.js';

let current: KernelBuilder | undefined;

export function builder(): KernelBuilder {
  if (current === undefined) throw new IrError('structure', 'tile operations can only be used inside a kernel body while it is traced');
  return current;
}

/** Runs `trace` with `b` as the kernel being built (kernels are traced one at a time, never nested). */
export function tracing<T>(b: KernelBuilder, trace: () => T): T {
  if (current !== undefined) throw new IrError('structure', `kernel ${b.name} is traced inside kernel ${current.name}`);
  current = b;
  try {
    return trace();
  } finally {
    current = undefined;
  }
}
