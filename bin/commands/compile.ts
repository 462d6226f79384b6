/**
 * `tskc compile FILE --target c|cuda|wgsl [--emit source|ir] [--no-tensor-cores]
 * [--no-register-accumulators] [--pipeline-stages N] [--tf32] [--arch sm_XY] [-o PATH]`: prints or writes what a kernel
 * compiles to. CUDA's bf16/f16 dots go to mma.sync (sm_80 on) unless --no-tensor-cores keeps them on
 * FMA, for older GPUs, and with --tf32 f32 dots too, their operands rounded to tf32
 * (CudaEmitOptions.tf32); their accumulators stay in registers (CudaEmitOptions.registerAccumulators)
 * unless --no-register-accumulators stages them through shared memory at every dot, and their operands
 * are copied ahead by cp.async through N stages (3; 1 for none: pipelineStages). With --arch, the
 * kernel's launch hints for that architecture apply, as when the runtime compiles for such a device.
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { emitC } from '../../backends/c/index.js';
import { emitCuda } from '../../backends/cuda/index.js';
import { emitWgsl } from '../../backends/wgsl/index.js';
import { printKernel } from '../../compiler/ir/printer.js';
import type { Io } from '../cli.js';
import { buildChosen, kernelOption, paramOption, registerAccumulators } from './options.js';

export function compileCommand(io: Io): Command {
  return new Command('compile')
    .description('compile a kernel to source for a target')
    .argument('<kernel>', 'a built-in kernel (tskc list) or a file')
    .addOption(new Option('-t, --target <target>', 'the backend').choices(['c', 'cuda', 'wgsl']).default('c'))
    .addOption(new Option('-e, --emit <what>', 'what to print').choices(['source', 'ir']).default('source'))
    .addOption(kernelOption())
    .addOption(paramOption())
    .option('--no-tensor-cores', 'cuda: keep bf16/f16 dots on FMA (mma.sync needs sm_80 or later)')
    .option('--register-accumulators', 'cuda: tensor-core dots keep their accumulators in registers (the default)')
    .option('--no-register-accumulators', 'cuda: tensor-core dots stage their accumulators through shared memory at every dot')
    .option('--pipeline-stages <n>', 'cuda, accumulators in registers: stages of cp.async copies ahead (1 for none)', (v) => Number(v), 3)
    .option('--tf32', 'cuda: f32 dots on tensor cores too, operands rounded to tf32 (not the interpreter\'s f32 dot)')
    .option('--arch <sm_XY>', 'cuda: the architecture to compile for, whose launch hints apply (the runtime uses the device\'s)')
    .option('-o, --output <path>', 'write to a file instead of standard output')
    .action(async (target: string, o: { target: string; emit: string; kernel?: string; param: string[]; output?: string; tensorCores: boolean; registerAccumulators?: boolean; pipelineStages: number; tf32?: boolean; arch?: string }) => {
      const { kernel } = await buildChosen(target, o);
      const cuda = () => emitCuda(kernel, { tensorCores: o.tensorCores, ...registerAccumulators(o), pipelineStages: o.pipelineStages, tf32: o.tf32 ?? false, ...(o.arch === undefined ? {} : { arch: o.arch }) }).source;
      const text = o.emit === 'ir' ? printKernel(kernel) : o.target === 'cuda' ? cuda() : o.target === 'wgsl' ? emitWgsl(kernel).source : emitC(kernel).source;
      if (o.output !== undefined) writeFileSync(o.output, text);
      else io.out(text);
    });
}
