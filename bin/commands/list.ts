/** `tskc list`: the built-in kernels with their arguments and parameters. */
import { Command } from 'commander';
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
      io.out(`${name}(${args})${params ? `  ${params}` : ''}\n`);
    }
  });
}
