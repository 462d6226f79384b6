/**
 * The `tskc` command line: one commander program, built by a function so tests can run it in-process
 * with their own output streams. Each subcommand lives in its own file under bin/commands/.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { layoutCommand } from './commands/layout.js';

/** Where a command writes; the real streams by default. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
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

export function createProgram(io: Io = processIo): Command {
  const program = new Command('tskc')
    .description('tskc: a tile-level kernel compiler (CUDA C, WGSL, portable C)')
    .version(packageVersion())
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError();
  program.addCommand(layoutCommand(io));
  return program;
}

/**
 * Runs the program on `argv` (without node and script) and returns the exit code instead of exiting.
 * Errors that are the user's (bad arguments, bad layouts) print one line and give 2; nothing throws.
 */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.err(`tskc: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}
