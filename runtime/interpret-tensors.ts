/**
 * The reference interpreter on runtime tensors: each tensor decoded to values, the kernel interpreted,
 * and what it may write encoded back (inputs keep their exact bits, NaN payloads included). Used by
 * device('interp') and by the browser example, which cannot load the other devices' Node modules.
 */
import { type HostTensor, interpret } from '../compiler/interpret/index.js';
import type { Kernel } from '../compiler/ir/ir.js';
import { bindLaunchArguments } from './launch-arguments.js';
import { Tensor } from './tensor.js';

export function interpretTensors(kernel: Kernel, args: Readonly<Record<string, Tensor | number>>, grid?: readonly number[]): void {
  bindLaunchArguments(kernel, args); // every argument checked before any is decoded
  const hosts: Record<string, HostTensor | number> = {};
  for (const [name, v] of Object.entries(args)) hosts[name] = typeof v === 'number' ? v : v.toHostTensor();
  interpret(kernel, hosts, grid ? { grid } : {});
  for (const a of kernel.args) {
    const v = args[a.name!];
    if (v instanceof Tensor && a.type.kind === 'tensor' && a.type.access !== 'in') v.setValues((hosts[a.name!] as HostTensor).data);
  }
}
