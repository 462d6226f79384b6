/**
 * `tskc list`: the built-in kernels with their arguments, parameters and what their extents must
 * satisfy at the default parameters (Kernel.requires; building all of them takes about 60 ms).
 */
import { Command } from 'commander';
import { formatRequirement } from '../../compiler/ir/ir.js';
import type { Io } from '../cli.js';
import { builtinKernels } from '../kernel-source.js';

export function listCommand(io: Io): Command {
  return new Command('list').description('list the built-in kernels').action(() => {
    for (const [name, def] of builtinKernels()) {
      const args = Object.entries(def.args)
        .map(([argName, spec]) => {
          const s = spec as { kind: string; dtype: { name: string }; shape?: readonly (string | number)[]; access?: string };
          return s.kind === 'tensor' ? `${argName}: ${s.access} ${s.dtype.name}[${s.shape!.join(', ')}]` : `${argName}: ${s.dtype.name}`;
        })
        .join(', ');
      const params = Object.entries(def.params).map(([k, v]) => `${k}=${v}`).join(' ');
      const requires = (def.build().requires ?? []).map(formatRequirement).join(', ');
      io.out(`${name}(${args})${params ? `  ${params}` : ''}${requires ? `  requires ${requires}` : ''}\n`);
    }
  });
}
