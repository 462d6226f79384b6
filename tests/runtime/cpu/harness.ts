/**
 * What the CPU runtime tests share: whether a C compiler exists (decided before tests are collected,
 * so that without one they skip visibly instead of passing), and a scratch directory for build outputs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCompiler } from '../../../runtime/cpu/toolchain.js';

function missingCompiler(): string | undefined {
  try {
    findCompiler();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const missing = missingCompiler();

/** `test` when a C compiler exists, else `test.skip` after printing why. */
export function testWithCompiler(suite: string): jest.It {
  if (missing === undefined) return test;
  // Straight to stderr: jest hides console output of a file whose tests are all skipped.
  process.stderr.write(`tskc: skipping ${suite}: ${missing}\n`);
  return test.skip;
}

/** A scratch directory under os.tmpdir(), removed after the file's tests. */
export function scratchDir(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('scratchDir used outside a test');
    return dir;
  };
}

/**
 * The macros the C compiler defines for this machine (-march=native, then `extra` flags: -dM -E) after
 * `source`, for tests whose expectations depend on the CPU (FMA, AVX2) or on what a generated source
 * defines for it. Empty without a compiler or where the compiler refuses.
 */
export function nativeMacros(extra: readonly string[] = [], source = ''): Set<string> {
  try {
    const cc = findCompiler();
    const out = execFileSync(cc.path, [...cc.args, '-march=native', ...extra, '-dM', '-E', '-x', 'c', '-'], { input: source, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    return new Set(out.split('\n').flatMap((line) => /^#define (\w+)/.exec(line)?.[1] ?? []));
  } catch {
    return new Set();
  }
}
