/**
 * `tskc bench KERNEL|FILE --target cpu [--shape ...] [--json]`: the median time of repeated launches
 * after warm-up, with the bandwidth (bytes the kernel's tensors hold, read and written) and, where the
 * kernel declares its flops, GFLOP/s. A progress line on a terminal's standard error while it runs.
 */
import { Command, Option } from 'commander';
import { freshSeed } from '../../examples/check.js';
import { device } from '../../runtime/device.js';
import { Tensor } from '../../runtime/tensor.js';
import type { Io } from '../cli.js';
import { makeArguments, symbolValues } from '../launch-inputs.js';
import { UsageError, parseAssignments } from '../kernel-source.js';
import { buildChosen, kernelOption, optionNumber, paramOption, shapeOption } from './options.js';

export function benchCommand(io: Io): Command {
  return new Command('bench')
    .description('time a kernel: median of repeated launches after warm-up')
    .argument('<kernel>', 'a built-in kernel (tskc list) or a file')
    .addOption(new Option('-t, --target <target>', 'where to run').choices(['cpu', 'interp']).default('cpu'))
    .addOption(kernelOption())
    .addOption(shapeOption())
    .addOption(paramOption())
    .option('-r, --runs <n>', 'timed launches', '20')
    .option('--warmup <n>', 'untimed launches first', '3')
    .option('--json', 'print one JSON object instead of text')
    .action(async (target: string, o: { target: 'cpu' | 'interp'; kernel?: string; shape: string[]; param: string[]; runs: string; warmup: string; json?: boolean }) => {
      const [runs, warmup] = [optionNumber(o.runs), optionNumber(o.warmup)];
      if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) throw new UsageError('--runs must be >= 1 and --warmup >= 0');
      const { def, kernel } = await buildChosen(target, o);
      const symbols = symbolValues(kernel, def, parseAssignments('--shape', o.shape));
      const args = makeArguments(kernel, symbols, freshSeed());
      const compiled = await device(o.target).compile(kernel);
      const times: number[] = [];
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        compiled.launch(args);
        if (i >= warmup) times.push(performance.now() - t0);
        io.progress?.(`\rbench ${kernel.name}: ${i + 1}/${warmup + runs}`);
      }
      io.progress?.('\n');
      times.sort((a, b) => a - b);
      const medianMs = times[Math.floor(times.length / 2)]!;
      // Inputs are read once, outputs written once, inout tensors both.
      const bytes = kernel.args.reduce((sum, a) => {
        const t = args[a.name!];
        if (!(t instanceof Tensor) || a.type.kind !== 'tensor') return sum;
        return sum + t.byteLength * (a.type.access === 'inout' ? 2 : 1);
      }, 0);
      const flops = def.options.flops?.(symbols as never, kernel.params as never);
      const result = {
        kernel: kernel.name,
        target: o.target,
        shapes: symbols,
        params: kernel.params,
        runs,
        medianMs,
        minMs: times[0]!,
        gbPerS: bytes / (medianMs * 1e6),
        ...(flops !== undefined ? { gflopPerS: flops / (medianMs * 1e6) } : {}),
      };
      if (o.json) {
        io.out(`${JSON.stringify(result)}\n`);
        return;
      }
      const shapes = Object.entries(symbols).map(([k, v]) => `${k}=${v}`).join(' ');
      io.out(`${kernel.name} on ${o.target} (${shapes}): median ${medianMs.toFixed(3)} ms over ${runs} runs (min ${result.minMs.toFixed(3)} ms)\n`);
      io.out(`${result.gbPerS.toFixed(2)} GB/s${flops !== undefined ? `, ${(flops / (medianMs * 1e6)).toFixed(2)} GFLOP/s` : ''}\n`);
    });
}
