/**
 * `tskc run KERNEL|FILE --target cpu|interp|cuda|webgpu [--shape N=V ...] [--check]`: runs a kernel on random
 * inputs and, with --check, compares what it wrote with the reference interpreter on the same inputs.
 */
import { Command, Option } from 'commander';
import { freshSeed } from '../../examples/check.js';
import { device } from '../../runtime/device.js';
import type { Io } from '../cli.js';
import { compareOutputs, copyArguments, makeArguments, symbolValues } from '../launch-inputs.js';
import { UsageError, parseAssignments } from '../kernel-source.js';
import { buildChosen, kernelOption, optionNumber, paramOption, shapeOption } from './options.js';

export function runCommand(io: Io, setExitCode: (code: number) => void): Command {
  return new Command('run')
    .description('run a kernel on random inputs (built-in name or a .ts/.js file exporting kernels)')
    .argument('<kernel>', 'a built-in kernel (tskc list) or a file')
    .addOption(new Option('-t, --target <target>', 'where to run').choices(['cpu', 'interp', 'cuda', 'webgpu']).default('cpu'))
    .addOption(kernelOption())
    .addOption(shapeOption())
    .addOption(paramOption())
    .option('--seed <n>', 'seed of the random inputs (default: fresh each run)')
    .option('--check', 'compare the outputs with the reference interpreter')
    .action(async (target: string, o: { target: 'cpu' | 'interp' | 'cuda' | 'webgpu'; kernel?: string; shape: string[]; param: string[]; seed?: string; check?: boolean }) => {
      const { def, kernel } = await buildChosen(target, o);
      const symbols = symbolValues(kernel, def, parseAssignments('--shape', o.shape));
      const seed = o.seed !== undefined ? optionNumber(o.seed) : freshSeed();
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed ${o.seed}: expected a non-negative integer`);
      const args = makeArguments(kernel, symbols, seed);
      const reference = o.check ? copyArguments(args) : undefined;
      const shapes = Object.entries(symbols).map(([k, v]) => `${k}=${v}`).join(' ');
      io.out(`kernel ${kernel.name} on ${o.target}${shapes ? `: ${shapes}` : ''} (seed ${seed})\n`);
      let t0 = performance.now();
      const compiled = await device(o.target).compile(kernel);
      io.out(`compiled in ${(performance.now() - t0).toFixed(1)} ms\n`);
      t0 = performance.now();
      await compiled.run(args);
      io.out(`ran in ${(performance.now() - t0).toFixed(2)} ms\n`);
      if (!reference) return;
      await (await device('interp').compile(kernel)).run(reference);
      const results = compareOutputs(kernel, args, reference);
      for (const r of results) {
        io.out(`${r.name}: max abs error ${r.maxAbsError.toExponential(2)}, max rel error ${r.maxRelError.toExponential(2)}\n`);
      }
      const pass = results.every((r) => r.pass);
      io.out(`${pass ? 'PASS' : 'FAIL'} against the interpreter\n`);
      if (!pass) setExitCode(1);
    });
}
