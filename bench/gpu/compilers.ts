/**
 * Processes that compile kernels with NVRTC beside the GPU bench and check (bench.ts, check.ts): each
 * is the same script run again with `--precompile ARGS...`, filling the shared kernel cache. A child
 * ends with its parent however the parent ends (a crash or a kill included, which run no exit
 * handlers): its stdin is a pipe from the parent, and the pipe's end is the signal. Left running,
 * children would hold the step's output pipe open and take the CPUs of the steps after.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** This script again, as a compiling child, with `args` after `--precompile`; its stdout piped to the parent. */
export function spawnCompiler(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--precompile', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

/** In a child: `--precompile`'s arguments, or undefined in the parent. */
export function compilerArguments(): readonly string[] | undefined {
  return process.argv[2] === '--precompile' ? process.argv.slice(3) : undefined;
}

/** In a child: runs `work`, exiting as soon as the parent's end of stdin closes, and when the work is done. */
export async function runAsCompiler(work: () => Promise<void>): Promise<void> {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  await work();
  process.exit(0);
}
