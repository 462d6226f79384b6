/** Options several commands share, and the one way they turn into a built kernel. */
import { Option } from 'commander';
import type { Kernel } from '../../compiler/ir/ir.js';
import { type KernelDefLike, loadKernels, parseAssignments, pickKernel } from '../kernel-source.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** An option's number; NaN for a blank one (Number('') is 0), so that the caller's range check refuses it. */
export const optionNumber = (text: string): number => (text.trim() === '' ? NaN : Number(text));

export const kernelOption = () => new Option('-k, --kernel <name>', 'which kernel, when the file has several');
export const paramOption = () => new Option('-p, --param <NAME=VALUE>', 'a compile-time parameter (repeatable)').argParser(collect).default([]);
export const shapeOption = () => new Option('-s, --shape <NAME=VALUE>', 'the value of a symbolic extent (repeatable)').argParser(collect).default([]);

/**
 * --register-accumulators / --no-register-accumulators as CUDA emit options: only when given, so the
 * backend's default (accumulators in registers) is stated once, in CudaEmitOptions.
 */
export const registerAccumulators = (o: { readonly registerAccumulators?: boolean }): { registerAccumulators?: boolean } =>
  o.registerAccumulators === undefined ? {} : { registerAccumulators: o.registerAccumulators };

export interface KernelChoice {
  readonly kernel?: string;
  readonly param: string[];
}

/** Loads `target`, picks the kernel and builds it with the --param values. */
export async function buildChosen(target: string, options: KernelChoice): Promise<{ def: KernelDefLike; kernel: Kernel }> {
  const def = pickKernel(await loadKernels(target), options.kernel, target);
  return { def, kernel: def.build(parseAssignments('--param', options.param)) };
}
