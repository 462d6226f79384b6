/** `tskc ir FILE [--after PASS]`: prints a kernel's Tile IR, as built or after a pass of the pipeline. */
import { Command } from 'commander';
import { printKernel } from '../../compiler/ir/printer.js';
import { PassManager, dce } from '../../compiler/passes/index.js';
import type { Io } from '../cli.js';
import { buildChosen, kernelOption, paramOption } from './options.js';

/** The pipeline `--after` names passes of. */
const PIPELINE = [dce];

export function irCommand(io: Io): Command {
  return new Command('ir')
    .description(`print a kernel's Tile IR (passes: ${PIPELINE.map((p) => p.name).join(', ')})`)
    .argument('<kernel>', 'a built-in kernel (tskc list) or a file')
    .addOption(kernelOption())
    .addOption(paramOption())
    .option('-a, --after <pass>', 'print the IR after this pass instead of as built')
    .action(async (target: string, o: { kernel?: string; param: string[]; after?: string }) => {
      const { kernel } = await buildChosen(target, o);
      if (o.after === undefined) {
        io.out(printKernel(kernel));
        return;
      }
      new PassManager(PIPELINE, { verifyEach: true, dumpAfter: [o.after], dump: (_name, text) => io.out(text) }).run(kernel);
    });
}
