/**
 * The system C compiler: finding it, its version (part of every cache key), whether it builds OpenMP,
 * and compiling generated C into a shared object. Compilers run through execFile, never a shell, so no
 * path or flag is ever re-parsed.
 *
 * The default flags hold two semantic choices, not only speed: `-std=c11` (ISO C, no GNU extensions
 * that change meaning) and `-ffp-contract=off` (no fused multiply-add contraction), so every float
 * operation rounds once, as the reference interpreter does. `-march=native` makes the object specific
 * to this machine's CPU: compile where the code runs.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * -std=c11 and -ffp-contract=off keep every float operation rounded as written (no fused multiply-add),
 * which is what makes results match the interpreter. -fno-trapping-math only lets gcc vectorize loops
 * with float conversions and selects: nothing in tskc reads floating-point exception flags, and no
 * result changes.
 */
export const DEFAULT_CFLAGS: readonly string[] = Object.freeze(['-O3', '-march=native', '-fopenmp', '-fPIC', '-shared', '-std=c11', '-ffp-contract=off', '-fno-trapping-math']);

/** Libraries linked after the source: libm for the math the generated code may call. */
export const DEFAULT_LIBS: readonly string[] = Object.freeze(['-lm']);

/** The names searched on PATH, in order, when $CC is not set. */
export const COMPILER_NAMES: readonly string[] = Object.freeze(['cc', 'gcc', 'clang']);

export type ToolchainErrorCode = 'not-found' | 'not-runnable' | 'compile';

export class ToolchainError extends Error {
  readonly code: ToolchainErrorCode;
  /** For 'compile': the source that failed and what the compiler printed. */
  readonly sourcePath: string | undefined;
  readonly stderr: string | undefined;

  constructor(code: ToolchainErrorCode, message: string, details: { sourcePath?: string; stderr?: string } = {}) {
    super(message);
    this.name = 'ToolchainError';
    this.code = code;
    this.sourcePath = details.sourcePath;
    this.stderr = details.stderr;
  }
}

/** A compiler to run: the resolved executable and any arguments $CC put before the flags. */
export interface Compiler {
  /** As named: $CC's first word, or the PATH name that matched. */
  readonly name: string;
  /** The absolute path of the executable. */
  readonly path: string;
  /** Words of $CC after the program (CC="gcc -m64" gives ['-m64']). */
  readonly args: readonly string[];
  readonly fromEnv: boolean;
}

export interface Toolchain {
  readonly compiler: Compiler;
  /** The first line of `cc --version`, e.g. "gcc (Debian 12.2.0-14) 12.2.0". */
  readonly version: string;
  /** Whether -fopenmp compiles and links with this compiler. */
  readonly openmp: boolean;
  /** Flags added to every compile: NO_GATHER where the compiler takes it (GCC on x86). */
  readonly workarounds: readonly string[];
}

/**
 * Keeps GCC from vectorizing indexed loads as AVX2 gathers. GCC 12.2 at -O3 on an AVX2-only CPU (Zen 3)
 * returned zeros for a vector of four packed elements loaded through tskc_get_bits in two of 400 random
 * programs (tests/backends/c/regressions.test.ts); without gathers both are right. Clang and GCC on
 * other targets refuse the flag, and the probe then leaves it out.
 */
export const NO_GATHER = '-mtune-ctrl=^use_gather';

/**
 * findCompiler(env): $CC if set (split at whitespace; a name without '/' is looked up on PATH), else
 * the first of cc, gcc, clang on PATH. Throws ToolchainError('not-found') saying what was tried.
 */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): Compiler {
  const searchPath = env['PATH'] ?? '';
  const cc = env['CC']?.trim();
  if (cc !== undefined && cc !== '') {
    const [program, ...args] = cc.split(/\s+/) as [string, ...string[]];
    const found = resolveExecutable(program, searchPath);
    if (found === undefined) {
      const where = program.includes('/') ? '' : ' on PATH';
      throw new ToolchainError(
        'not-found',
        `C compiler '${program}' (from $CC) not found${where}. Set CC to an installed C compiler (e.g. CC=gcc or CC=/usr/bin/clang), or unset CC to search for ${COMPILER_NAMES.join(', ')} on PATH.`,
      );
    }
    return { name: program, path: found, args, fromEnv: true };
  }
  for (const name of COMPILER_NAMES) {
    const found = resolveExecutable(name, searchPath);
    if (found !== undefined) return { name, path: found, args: [], fromEnv: false };
  }
  throw new ToolchainError(
    'not-found',
    `no C compiler found: tried ${COMPILER_NAMES.join(', ')} on PATH (${searchPath || 'empty'}). Install gcc or clang, or set CC to the compiler's path (e.g. CC=/usr/bin/gcc).`,
  );
}

function resolveExecutable(program: string, searchPath: string): string | undefined {
  if (program.includes('/')) return isExecutable(path.resolve(program)) ? path.resolve(program) : undefined;
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.resolve(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first line of `<compiler> --version`. ToolchainError('not-runnable') if it cannot be run. */
export async function compilerVersion(compiler: Compiler): Promise<string> {
  const res = await run(compiler, ['--version'], 30_000);
  const first = res.stdout.split('\n')[0]?.trim() ?? '';
  if (res.failure !== undefined || first === '') {
    throw new ToolchainError('not-runnable', `${compiler.path} --version failed: ${res.failure ?? 'it printed nothing'}${tail(res.stderr)}`);
  }
  return first;
}

const toolchains = new Map<string, Promise<Toolchain>>();

/**
 * The toolchain for `env` ($CC and PATH): compiler, version, OpenMP support. Probed once per process
 * and compiler; when -fopenmp does not work it warns once (process.emitWarning) and kernels build
 * without it (their `#pragma omp` lines are then ignored and blocks run on one thread).
 */
export function detectToolchain(env: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  let compiler: Compiler;
  try {
    compiler = findCompiler(env);
  } catch (e) {
    return Promise.reject(e);
  }
  const id = [compiler.path, ...compiler.args].join('\0');
  let t = toolchains.get(id);
  if (t === undefined) {
    t = probe(compiler);
    toolchains.set(id, t);
    t.catch(() => toolchains.delete(id)); // a failed probe is retried next time
  }
  return t;
}

async function probe(compiler: Compiler): Promise<Toolchain> {
  const version = await compilerVersion(compiler);
  const failure = await openmpFailure(compiler);
  if (failure !== undefined) {
    process.emitWarning(`${compiler.path} cannot build OpenMP code (${failure}); CPU kernels will run on one thread`, 'TskcWarning');
  }
  const workarounds = (await accepts(compiler, NO_GATHER)) ? [NO_GATHER] : [];
  return { compiler, version, openmp: failure === undefined, workarounds };
}

/** Whether the compiler builds an empty translation unit with `flag`. */
async function accepts(compiler: Compiler, flag: string): Promise<boolean> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tskc-flag-'));
  try {
    const src = path.join(dir, 'probe.c');
    fs.writeFileSync(src, 'int tskc_flag_probe;\n');
    return (await run(compiler, [flag, '-c', '-o', path.join(dir, 'probe.o'), src], 60_000)).failure === undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const OPENMP_PROBE = `#include <omp.h>
int tskc_openmp_probe(void) {
  int n = 0;
#pragma omp parallel reduction(+ : n)
  n += 1;
  return n + omp_get_max_threads();
}
`;

/** Why `-fopenmp` fails to build a small shared object, or undefined if it works. */
async function openmpFailure(compiler: Compiler): Promise<string | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tskc-openmp-'));
  try {
    const src = path.join(dir, 'probe.c');
    fs.writeFileSync(src, OPENMP_PROBE);
    const res = await run(compiler, ['-fopenmp', '-fPIC', '-shared', '-o', path.join(dir, 'probe.so'), src], 60_000);
    if (res.failure === undefined) return undefined;
    const firstError = res.stderr.split('\n').find((l) => l.trim() !== '');
    return firstError?.trim() ?? res.failure;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The flags a compile with `toolchain` really uses: without -fopenmp where OpenMP does not work, and
 * with the toolchain's workarounds.
 */
export function effectiveFlags(toolchain: Toolchain, flags: readonly string[] = DEFAULT_CFLAGS): string[] {
  return [...(toolchain.openmp ? flags : flags.filter((f) => f !== '-fopenmp')), ...toolchain.workarounds.filter((f) => !flags.includes(f))];
}

export interface CompileOptions {
  /** Default: detectToolchain() for process.env. */
  readonly toolchain?: Toolchain;
  /** Linked after the source. Default DEFAULT_LIBS. */
  readonly libs?: readonly string[];
  /** Default 300 s. */
  readonly timeoutMs?: number;
}

export interface CompileResult {
  /** The command that ran, program first. */
  readonly command: readonly string[];
  /** What the compiler printed (warnings); empty when it was quiet. */
  readonly stderr: string;
}

/**
 * Compiles `sourcePath` into the shared object `outPath` with `flags` (default DEFAULT_CFLAGS, less
 * -fopenmp where OpenMP does not work). A failure throws ToolchainError('compile') whose message holds
 * the source path, the compiler's stderr and the command.
 */
export async function compileSharedObject(
  sourcePath: string,
  outPath: string,
  flags: readonly string[] = DEFAULT_CFLAGS,
  options: CompileOptions = {},
): Promise<CompileResult> {
  const toolchain = options.toolchain ?? (await detectToolchain());
  const args = [...effectiveFlags(toolchain, flags), '-o', outPath, sourcePath, ...(options.libs ?? DEFAULT_LIBS)];
  const res = await run(toolchain.compiler, args, options.timeoutMs ?? 300_000);
  const command = [toolchain.compiler.path, ...toolchain.compiler.args, ...args];
  if (res.failure !== undefined) {
    throw new ToolchainError(
      'compile',
      `${toolchain.compiler.name} failed to compile ${sourcePath} (${res.failure}):\n${res.stderr.trimEnd()}\ncommand: ${command.join(' ')}`,
      { sourcePath, stderr: res.stderr },
    );
  }
  // A "compiler" that exits 0 without writing (CC=/bin/true) must not leave an empty file to be cached.
  if (!fs.existsSync(outPath) || fs.statSync(outPath).size === 0) {
    throw new ToolchainError('compile', `${toolchain.compiler.name} exited 0 but wrote no shared object for ${sourcePath}\ncommand: ${command.join(' ')}`, { sourcePath, stderr: res.stderr });
  }
  return { command, stderr: res.stderr };
}

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Why the run failed (exit code, signal, timeout, could not start), or undefined when it exited 0. */
  readonly failure: string | undefined;
}

/** Runs the compiler; LC_ALL=C keeps its messages in plain ASCII English, the same on every machine. */
function run(compiler: Compiler, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      compiler.path,
      [...compiler.args, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        resolve({ stdout, stderr, failure: error === null ? undefined : describeFailure(error, timeoutMs) });
      },
    );
  });
}

function describeFailure(error: Error & { code?: unknown; signal?: unknown; killed?: boolean }, timeoutMs: number): string {
  if (error.killed === true && error.signal === 'SIGTERM') return `timed out after ${timeoutMs / 1000} s`;
  if (typeof error.code === 'number') return `exit code ${error.code}`;
  if (typeof error.signal === 'string') return `killed by ${error.signal}`;
  return error.message; // e.g. spawn ENOENT / EACCES
}

function tail(stderr: string): string {
  const s = stderr.trim();
  return s === '' ? '' : `\n${s}`;
}
