/**
 * The `tskc` command line: one commander program, built by a function so tests can run it in-process
 * with their own output streams. Each subcommand lives in its own file under bin/commands/.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { benchCommand } from './commands/bench.js';
import { compileCommand } from './commands/compile.js';
import { explainCommand } from './commands/explain.js';
import { irCommand } from './commands/ir.js';
import { layoutCommand } from './commands/layout.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { tuneCommand } from './commands/tune.js';
import { UsageError } from './kernel-source.js';
import { LayoutError } from '../compiler/layout/index.js';

/** Where a command writes; the real streams by default. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Progress lines (rewritten in place); only where someone watches a terminal. */
  progress?(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  progress: (text) => {
    if (process.stderr.isTTY) process.stderr.write(text);
  },
};

/** tskc's version, from the package.json above this file (bin/ in the sources, dist/bin/ when built). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'tskc') return pkg.version;
    } catch {
      // no package.json here: keep going up
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

export function createProgram(io: Io = processIo, setExitCode: (code: number) => void = () => undefined): Command {
  const program = new Command('tskc')
    .description('tskc: a tile-level kernel compiler (CUDA C, WGSL, portable C)')
    .version(packageVersion())
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();
  for (const command of [runCommand(io, setExitCode), compileCommand(io), benchCommand(io), irCommand(io), listCommand(io), layoutCommand(io), explainCommand(io), tuneCommand(io)]) {
    program.addCommand(command.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride().showHelpAfterError());
  }
  return program;
}

/**
 * Runs the program on `argv` (without node and script) and returns the exit code instead of exiting:
 * 0 on success, 1 when a check fails or a kernel cannot be built or run, 2 for wrong usage (which
 * prints the usage). Errors print one line; nothing throws.
 */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code = 0;
  try {
    await createProgram(io, (c) => (code = c)).parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.err(`tskc: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError || e instanceof LayoutError ? 2 : 1;
  }
}
