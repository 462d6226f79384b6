/**
 * `tskc ir FILE [--after PASS] [--layouts [--no-register-accumulators] [--tf32]]`: prints a kernel's Tile
 * IR, as built or after a pass of the pipeline; with --layouts, each op's line ends in a comment saying
 * what the CUDA backend chose for it (explainCuda): where its tile lives (an index expression,
 * registers in a local/spatial layout, shared memory), how a dot runs, which loops copy ahead.
 */
import { Command } from 'commander';
import { explainCuda } from '../../backends/cuda/index.js';
import { printKernel } from '../../compiler/ir/printer.js';
import { PassManager, dce } from '../../compiler/passes/index.js';
import type { Io } from '../cli.js';
import { buildChosen, kernelOption, paramOption, registerAccumulators } from './options.js';

/** The pipeline `--after` names passes of. */
const PIPELINE = [dce];

export function irCommand(io: Io): Command {
  return new Command('ir')
    .description(`print a kernel's Tile IR (passes: ${PIPELINE.map((p) => p.name).join(', ')})`)
    .argument('<kernel>', 'a built-in kernel (tskc list) or a file')
    .addOption(kernelOption())
    .addOption(paramOption())
    .option('-a, --after <pass>', 'print the IR after this pass instead of as built')
    .option('--layouts', "add what the CUDA backend chose for each op: its tile's layout, a dot's path, a loop's pipeline")
    .option('--register-accumulators', 'with --layouts: tensor-core dots keep their accumulators in registers (the default)')
    .option('--no-register-accumulators', 'with --layouts: tensor-core dots stage their accumulators through shared memory')
    .option('--tf32', 'with --layouts: f32 dots on tf32 tensor cores')
    .action(async (target: string, o: { kernel?: string; param: string[]; after?: string; layouts?: boolean; registerAccumulators?: boolean; tf32?: boolean }) => {
      const { kernel } = await buildChosen(target, o);
      if (o.after === undefined) {
        io.out(printKernel(kernel, o.layouts ? explainCuda(kernel, { ...registerAccumulators(o), tf32: o.tf32 ?? false }) : undefined));
        return;
      }
      new PassManager(PIPELINE, { verifyEach: true, dumpAfter: [o.after], dump: (_name, text) => io.out(text) }).run(kernel);
    });
}
