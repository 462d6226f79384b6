/** The real `tskc` command, run as a subprocess (dist/ is built by npm test first). */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testWithCompiler } from '../runtime/cpu/harness.js';
import { exampleKernels } from '../../examples/index.js';
import { libraryKernels } from '../../kernels/index.js';
import { parseKernel } from '../../compiler/ir/parser.js';
import { printKernel } from '../../compiler/ir/printer.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Some tests start several tskc processes in a row (about 1.2 s each on CI's 2 cores).
jest.setTimeout(30_000);
const bin = join(root, 'dist/bin/tskc.js');
const cacheDir = mkdtempSync(join(tmpdir(), 'tskc-cli-'));

function tskc(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, TSKC_CACHE_DIR: cacheDir, ...env }, timeout: 120_000 }, (error, out, err) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

const withC = testWithCompiler('the CLI tests that compile C');

describe('tskc', () => {
  test('list names the built-in kernels with their signatures and what their extents must satisfy', async () => {
    const { code, out } = await tskc(['list']);
    expect(code).toBe(0);
    expect(out).toContain('softmax(x: in f32[M, N], y: out f32[M, N])  BLOCK_N=1024  requires N <= 1024\n');
    expect(out).toContain('gemv_bf16_u4_zp(x: in bf16[M, K], w: in u4[N, K], scales: in f32[N, G], zeros: in f32[N, G], y: out bf16[M, N])  BN=16 BK=128 GROUP=128  requires K == mul(G, 128)\n');
    expect(out).toContain('linear_f32_bias_relu(');
    expect(out).not.toMatch(/linear_f32_bias_relu\(.*requires/);
    expect(out.trim().split('\n')).toHaveLength(Object.keys(exampleKernels).length + Object.keys(libraryKernels).length);
  });

  test("run takes the extents a kernel's requirements fix from the ones given, and refuses ones that break them", async () => {
    const tiled = await tskc(['run', 'gemv_f32_u4_zp_tiled128x128_dot', '--target', 'interp', '--shape', 'K=256', '--shape', 'N=300']);
    expect(tiled.code).toBe(0);
    expect(tiled.out).toMatch(/^kernel gemv_f32_u4_zp_tiled128x128_dot on interp: M=1 K=256 NB=3 KB=2 G=2 N=300 \(seed \d+\)\n/);
    // With no K given, the default K fixes the group count for the GROUP given.
    const grouped = await tskc(['run', 'gemv_f32_u4_zp', '--target', 'interp', '--param', 'GROUP=64', '--param', 'BK=64', '--shape', 'N=40']);
    expect(grouped.code).toBe(0);
    expect(grouped.out).toMatch(/^kernel gemv_f32_u4_zp on interp: M=1 K=8192 N=40 G=128 \(seed \d+\)\n/);
    const huge = await tskc(['run', 'gemv_f32_u4_zp', '--shape', 'G=20000000']);
    expect(huge.code).toBe(2);
    expect(huge.err).toContain("K = 2560000000 (from the kernel's requirements): extents are integers from 1 to 2^31 - 1");
    const ragged = await tskc(['run', 'gemv_f32_u4_zp', '--shape', 'K=100']);
    expect(ragged.code).toBe(1);
    expect(ragged.out).toBe(''); // refused before anything was allocated or compiled
    expect(ragged.err).toBe('tskc: kernel gemv_f32_u4_zp: its extents must satisfy K == mul(G, 128), but K = 100 (from x) and G = 64 (from scales): 100 != 8192\n');
  }, 120_000);

  withC('run --check compares the CPU with the interpreter and says PASS', async () => {
    const { code, out } = await tskc(['run', 'softmax', '--check', '--shape', 'M=7', '--shape', 'N=300']);
    expect(code).toBe(0);
    expect(out).toMatch(/^kernel softmax on cpu: M=7 N=300 \(seed \d+\)\n/);
    expect(out).toMatch(/y: max abs error \S+, max rel error \S+\nPASS against the interpreter\n$/);
  }, 120_000);

  withC('run loads a TypeScript file without a build step', async () => {
    const { code, out } = await tskc(['run', 'examples/matmul.ts', '--check', '--shape', 'M=33', '--shape', 'K=17', '--shape', 'N=45', '--param', 'BK=8']);
    expect(code).toBe(0);
    expect(out).toContain('PASS');
  }, 120_000);

  test('run on the interpreter needs no compiler', async () => {
    const { code, out } = await tskc(['run', 'vector_add', '--target', 'interp', '--shape', 'N=3000'], { CC: '/nonexistent/cc' });
    expect(code).toBe(0);
    expect(out).toContain('kernel vector_add on interp: N=3000');
  });

  test('a missing C compiler is named, with how to set CC', async () => {
    const { code, err } = await tskc(['run', 'vector_add', '--shape', 'N=10'], { CC: '/nonexistent/cc' });
    expect(code).toBe(1);
    expect(err).toMatch(/^tskc: .*\/nonexistent\/cc/);
    expect(err).toContain('CC');
  });

  test('compile prints C, CUDA, WGSL or IR', async () => {
    const c = await tskc(['compile', 'vector_add']);
    expect(c.code).toBe(0);
    expect(c.out).toContain('void tskc_kernel(void *const *args, const int64_t *symbols, const int64_t *grid, int64_t *status)');
    const ir = await tskc(['compile', 'examples/vector-add.ts', '--emit', 'ir', '--param', 'BLOCK=256']);
    expect(ir.out).toMatch(/^kernel @vector_add\(.*\) grid\(cdiv\(N, 256\)\) params\(BLOCK = 256\) \{\n/);
    const cuda = await tskc(['compile', 'vector_add', '--target', 'cuda']);
    expect(cuda.code).toBe(0);
    expect(cuda.out).toContain('extern "C" __global__ void __launch_bounds__(128, 1) tskc_kernel(');
    // bf16 dots on mma.sync by default; --no-tensor-cores keeps them on FMA.
    expect((await tskc(['compile', 'linear_bf16_silu', '--target', 'cuda'])).out).toContain('mma.sync');
    expect((await tskc(['compile', 'linear_bf16_silu', '--target', 'cuda', '--no-tensor-cores'])).out).not.toContain('mma.sync');
    // By default (and with --register-accumulators) the accumulator stays in registers, on the block
    // size that allows it; --no-register-accumulators stages it through shared memory at every dot.
    const registers = (await tskc(['compile', 'linear_bf16_silu', '--target', 'cuda'])).out;
    expect(registers).toContain('mma.sync on the accumulator in registers');
    expect(registers).toContain('__launch_bounds__(128, 1)');
    expect((await tskc(['compile', 'linear_bf16_silu', '--target', 'cuda', '--register-accumulators'])).out).toBe(registers);
    const staged = await tskc(['compile', 'linear_bf16_silu', '--target', 'cuda', '--no-register-accumulators']);
    expect(staged.code).toBe(0);
    expect(staged.out).toContain('mma.sync');
    expect(staged.out).not.toContain('mma.sync on the accumulator in registers');
    // --arch applies the kernel's launch hints for that architecture (layer norm's three blocks per SM on sm_90).
    expect((await tskc(['compile', 'layer_norm_bf16', '--target', 'cuda'])).out).toContain('__launch_bounds__(256, 1)');
    expect((await tskc(['compile', 'layer_norm_bf16', '--target', 'cuda', '--arch', 'sm_90'])).out).toContain('__launch_bounds__(256, 3)');
    const badArch = await tskc(['compile', 'layer_norm_bf16', '--target', 'cuda', '--arch', 'hopper']);
    expect(badArch.code).toBe(1);
    expect(badArch.err).toContain("arch must name an architecture such as sm_90, got 'hopper'");
    const wgsl = await tskc(['compile', 'vector_add', '--target', 'wgsl']);
    expect(wgsl.code).toBe(0);
    expect(wgsl.out).toContain('@compute @workgroup_size(');
    expect(wgsl.out).toContain('fn tskc_kernel(');
  });

  test('compile -o writes the file', async () => {
    const out = join(cacheDir, 'vadd.c');
    expect((await tskc(['compile', 'vector_add', '-o', out])).code).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8')).toContain('tskc_kernel');
  });

  test('ir --layouts notes what the CUDA backend chose for each op; the text still parses', async () => {
    const noted = await tskc(['ir', 'attention_bf16', '--layouts']);
    expect(noted.code).toBe(0);
    expect(noted.out).toMatch(/for\(.*\/\/ cp\.async pipeline: 3 stages, 2 dot operand\(s\) copied ahead/);
    expect(noted.out).toMatch(/dot\(.*\/\/ mma\.sync\.m16n8k16 bf16, accumulator in registers, a staged once before the loop, b copied ahead \(n-major\)/);
    expect(noted.out).toContain('registers: local(2, 8).spatial(16, 4).local(1, 2), the mma C fragments');
    expect(noted.out).toMatch(/reduce\(.*kind = max.*\/\/ registers: local\(2\)\.spatial\(16\), each value held by the 4 lanes of its row \(the row slice of the mma C fragments\)/);
    expect(printKernel(parseKernel(noted.out))).toBe((await tskc(['ir', 'attention_bf16'])).out);
    const staged = (await tskc(['ir', 'attention_bf16', '--layouts', '--no-register-accumulators'])).out;
    expect(staged).toMatch(/dot\(.*\/\/ mma\.sync\.m16n8k16 bf16/);
    expect(staged).not.toContain('accumulator in registers');
  });

  test('ir prints the IR, after a pass when asked', async () => {
    const after = await tskc(['ir', 'softmax', '--after', 'dce']);
    expect(after.code).toBe(0);
    expect(after.out).toMatch(/^kernel @softmax/);
    const bad = await tskc(['ir', 'softmax', '--after', 'fusion']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('no pass named fusion (passes: dce)');
  });

  withC('bench --json reports the median time and the rates', async () => {
    const { code, out } = await tskc(['bench', 'matmul', '--runs', '3', '--warmup', '1', '--shape', 'M=64', '--shape', 'K=64', '--shape', 'N=64', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as Record<string, unknown>;
    expect(r).toMatchObject({ kernel: 'matmul', target: 'cpu', shapes: { M: 64, K: 64, N: 64 }, runs: 3 });
    expect(r['medianMs']).toBeGreaterThan(0);
    expect(r['gflopPerS']).toBeGreaterThan(0);
  }, 120_000);

  test('wrong usage prints the usage and exits 2', async () => {
    const missing = await tskc(['run']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("error: missing required argument 'kernel'");
    expect(missing.err).toContain('Usage: tskc run [options] <kernel>');
    expect((await tskc(['run', 'softmax', '--target', 'gpu'])).code).toBe(2);
    expect((await tskc(['frobnicate'])).code).toBe(2);
    const unknown = await tskc(['run', 'no_such_kernel']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no_such_kernel is neither a file nor a built-in kernel');
    const extent = await tskc(['run', 'softmax', '--shape', 'Q=3', '--target', 'interp']);
    expect(extent.code).toBe(2);
    expect(extent.err).toContain('kernel softmax has no extent Q');
    // Names every JavaScript object has are no extents or parameters either (they were found as inherited properties).
    const inherited = await tskc(['run', 'softmax', '--shape', 'constructor=3', '--target', 'interp']);
    expect([inherited.code, inherited.err]).toEqual([2, expect.stringContaining('kernel softmax has no extent constructor')]);
    const param = await tskc(['ir', 'examples/softmax.tk', '--param', 'toString=5']);
    expect([param.code, param.err]).toEqual([1, expect.stringContaining('kernel softmax has no parameter toString')]);
    // __proto__ assigned to a plain object vanished, and the run went on with the default extents.
    const proto = await tskc(['run', 'softmax', '--shape', '__proto__=3', '--target', 'interp']);
    expect([proto.code, proto.err]).toEqual([2, expect.stringContaining('kernel softmax has no extent __proto__')]);
    // A blank number is no 0; a directory is no kernel file; extents whose product no tensor can hold.
    expect((await tskc(['run', 'vector_add', '--target', 'interp', '--shape', 'N=4', '--seed', ' '])).err).toContain('--seed  : expected a non-negative integer');
    expect((await tskc(['run', 'vector_add', '--target', 'interp', '--shape', 'N='])).err).toContain('--shape N=: expected NAME=NUMBER');
    const directory = await tskc(['run', 'examples', '--target', 'interp']);
    expect([directory.code, directory.err]).toEqual([2, expect.stringContaining('examples is a directory, not a kernel file')]);
    const huge = await tskc(['run', 'softmax', '--target', 'interp', '--shape', 'M=2147483647', '--shape', 'N=10']);
    expect([huge.code, huge.err]).toEqual([2, expect.stringContaining('argument x would be [2147483647, 10], 21474836470 elements: the command line makes tensors of at most 2^31 - 1')]);
  });

  test('a file with a kernel that does not build reports the error', async () => {
    const file = join(cacheDir, 'broken.ts');
    writeFileSync(file, `import { arange, kernel } from '${join(root, 'dsl/index.ts')}';\nexport const k = kernel('broken', {}, () => void arange(4).add(arange(8)), { grid: () => [1] });\n`);
    const { code, err } = await tskc(['run', file, '--target', 'interp']);
    expect(code).toBe(1);
    expect(err).toContain('add: shapes [4] and [8] do not broadcast');
  });

  test('--help and --version', async () => {
    const help = await tskc(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'compile', 'bench', 'ir', 'list', 'layout']) expect(help.out).toContain(c);
    expect((await tskc(['run', '--help'])).out).toContain('--check');
    expect((await tskc(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('tskc with .tk files', () => {
  withC('run --check on the .tk softmax', async () => {
    const { code, out } = await tskc(['run', 'examples/softmax.tk', '--check', '--shape', 'M=9', '--shape', 'N=500']);
    expect(code).toBe(0);
    expect(out).toContain('PASS against the interpreter');
  }, 120_000);

  test('compile and ir read .tk files; errors are file:line:col and exit 1', async () => {
    const ir = await tskc(['ir', 'examples/vector-add.tk']);
    expect(ir.code).toBe(0);
    expect(ir.out).toMatch(/^kernel @vector_add\(/);
    const bad = join(cacheDir, 'bad.tk');
    writeFileSync(bad, 'kernel k(x: in f32[N]) grid(1) {\n  let t = load(x[arange(4)]) + arange(4);\n}\n');
    const r = await tskc(['compile', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.tk:2:\d+: /);
    const empty = join(cacheDir, 'empty.tk');
    writeFileSync(empty, '// nothing here\n');
    const e = await tskc(['run', empty]);
    expect(e.code).toBe(2);
    expect(e.err).toContain('defines no kernels');
  });
});

describe('tskc explain and tune (graph files)', () => {
  test('explain prints the plan of examples/graph.ts: the kernels, what each fuses, the bytes', async () => {
    const { code, out } = await tskc(['explain', 'examples/graph.ts']);
    expect(code).toBe(0);
    expect(out).toMatch(/^3 outputs \(h, out, scores\) from 8 inputs: 4 kernels \(one per op: 22\)\n/);
    expect(out).toContain('  fuses 4 ops: matmul, silu, matmul, mul -> t');
    expect(out).toContain('  reads  x f32[64, 256], residual f32[64, 256], w f32[256] = 129.0 KiB\n');
    expect(out).toMatch(/\ntotal: 2\.2 MiB moved; one kernel per op would move 3\.7 MiB \(1\.68x\)\n/);
    const unfused = await tskc(['explain', 'examples/graph.ts', '--no-fuse']);
    expect(unfused.out.match(/^kernel \d+:/gm)).toHaveLength(22);
  });

  test('explain names what is wrong with a graph file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tskc-graph-'));
    const empty = join(dir, 'empty.ts');
    writeFileSync(empty, 'export const n = 1;\n');
    expect(await tskc(['explain', empty])).toMatchObject({ code: 2, err: expect.stringContaining('exports no graph expressions') });
    const long = join(dir, 'long.ts');
    writeFileSync(long, `import { f32 } from '${root}dsl/index.js';\nimport { graphInput } from '${root}dsl/graph/index.js';\nexport const s = graphInput('x', f32, [2, 20000]).softmax();\n`);
    expect(await tskc(['explain', long])).toMatchObject({ code: 1, err: expect.stringMatching(/rows of 20000 elements: .* at most 16384/) });
    expect(await tskc(['explain', join(dir, 'none.ts')])).toMatchObject({ code: 2, err: expect.stringContaining('no such file') });
  });

  withC('tune times each kernel, stores the fastest tiles, and explain --tuned uses them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tskc-tune-'));
    const tuned = await tskc(['tune', 'examples/graph.ts', '--min-ms', '0', '--seed', '7'], { TSKC_CACHE_DIR: dir });
    expect(tuned.code).toBe(0);
    const chosen = [...tuned.out.matchAll(/^(g\d\w+): ((?:\w+=\d+ ?)+) +[\d.]+ ms \(default/gm)].map((m) => m[2]!.trim());
    expect(chosen).toHaveLength(4);
    const explained = await tskc(['explain', 'examples/graph.ts', '--tuned', 'cpu'], { TSKC_CACHE_DIR: dir });
    expect([...explained.out.matchAll(/; tile (.*)$/gm)].map((m) => m[1])).toEqual(chosen);
  }, 300_000);
});
