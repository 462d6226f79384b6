/**
 * `tskc explain FILE [--no-fuse] [--tuned TARGET]`: the fusion plan of the graph expressions FILE
 * exports: the kernels, what each fuses, and the bytes each moves (compiler/graph/explain.ts).
 */
import { Command, Option } from 'commander';
import { explainProgram } from '../../compiler/graph/explain.js';
import { compileGraph } from '../../dsl/graph/compile.js';
import { TuningStore } from '../../runtime/tune.js';
import type { Io } from '../cli.js';
import { loadGraph } from '../graph-source.js';

export function explainCommand(io: Io): Command {
  return new Command('explain')
    .description('print the fusion plan of the graph expressions a .ts/.js file exports')
    .argument('<file>', 'a file exporting graph expressions (dsl/graph)')
    .option('--no-fuse', 'plan one kernel per op instead')
    .addOption(new Option('--tuned <target>', 'use the tile sizes `tskc tune` stored for this target').choices(['cpu', 'cuda', 'webgpu']))
    .action(async (file: string, o: { fuse: boolean; tuned?: 'cpu' | 'cuda' | 'webgpu' }) => {
      const store = o.tuned ? await TuningStore.of(o.tuned) : undefined;
      const program = compileGraph(await loadGraph(file), { fuse: o.fuse, ...(store ? { params: store.lookup } : {}) });
      io.out(explainProgram(program));
    });
}
