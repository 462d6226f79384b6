/**
 * `tskc tune FILE --target cpu`: times the tile sizes worth trying for each kernel of the graph FILE
 * exports, on random inputs, and stores the fastest next to the compiled kernels (runtime/tune.ts);
 * `tskc explain --tuned` and compileGraph({ params: store.lookup }) reuse them.
 */
import { Command, Option } from 'commander';
import { compileGraph } from '../../dsl/graph/compile.js';
import { freshSeed } from '../../examples/check.js';
import { device } from '../../runtime/device.js';
import { TuningStore, tuneProgram } from '../../runtime/tune.js';
import type { Io } from '../cli.js';
import { loadGraph, randomFeeds } from '../graph-source.js';
import { UsageError } from '../kernel-source.js';
import { optionNumber } from './options.js';

const formatParams = (p: Readonly<Record<string, number>>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');

export function tuneCommand(io: Io): Command {
  return new Command('tune')
    .description('choose the tile sizes of a graph file\'s kernels by timing them, and store the choices')
    .argument('<file>', 'a file exporting graph expressions (dsl/graph)')
    .addOption(new Option('-t, --target <target>', 'where to time').choices(['cpu', 'cuda', 'webgpu']).default('cpu'))
    .option('--seed <n>', 'seed of the random inputs (default: fresh)')
    .option('--min-ms <ms>', 'time each choice for at least this long', '100')
    .action(async (file: string, o: { target: 'cpu' | 'cuda' | 'webgpu'; seed?: string; minMs: string }) => {
      const minMs = optionNumber(o.minMs);
      if (!Number.isFinite(minMs) || minMs < 0) throw new UsageError(`--min-ms ${o.minMs}: expected a non-negative number`);
      const seed = o.seed !== undefined ? optionNumber(o.seed) : freshSeed();
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed ${o.seed}: expected a non-negative integer`);
      const program = compileGraph(await loadGraph(file));
      const store = await TuningStore.of(o.target);
      io.out(`tuning ${program.steps.length} kernel${program.steps.length === 1 ? '' : 's'} on ${store.device} (inputs from seed ${seed})\n`);
      const { steps } = await tuneProgram(device(o.target), program, randomFeeds(program, seed), {
        store,
        minMs,
        progress: (i, n, j, m, race) => io.progress?.(`\r  kernel ${i + 1}/${n}: ${race ? `race ${race.round}/${race.rounds}` : `tile ${j + 1}/${m}`}   `),
      });
      io.progress?.('\r\x1b[K');
      for (const { step, best: chosen, timings } of steps) {
        const first = timings[0]!;
        const best = timings[chosen]!;
        const misfits = timings.filter((t) => t.error !== undefined).length;
        const firstMs = first.error === undefined ? `${first.ms.toFixed(3)} ms` : 'does not fit the device';
        io.out(`${step.kernel.name}: ${formatParams(best.params)}  ${best.ms.toFixed(3)} ms (default ${formatParams(first.params)}: ${firstMs}; ${timings.length} tried${misfits ? `, ${misfits} did not fit` : ''})\n`);
      }
      io.out(`stored in ${store.cache.dir}\n`);
    });
}
