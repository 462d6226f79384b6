import { runCli } from '../../bin/cli.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('tskc layout', () => {
  test('prints the layout, its sizes and its grid of offsets', async () => {
    const { code, out } = await run('layout', '(2,(2,2)):(4,(2,1))');
    expect(code).toBe(0);
    expect(out).toContain('layout    (2,(2,2)):(4,(2,1))\n');
    expect(out).toContain('size      8\ncosize    8\n');
    expect(out).toContain('\n0 2 1 3\n4 6 5 7\n');
  });

  test('swizzled layouts', async () => {
    const { code, out } = await run('layout', 'Sw<1,0,1> o (2,2):(2,1)', '--no-grid');
    expect(code).toBe(0);
    expect(out).toContain('layout    Sw<1,0,1> o 0 o (2,2):(2,1)\n');
    expect(out).not.toContain('\n\n');
  });

  test('a malformed layout is one line on stderr and exit code 2', async () => {
    const { code, out, err } = await run('layout', '(2,3):(1');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(/^tskc: parse: expected .* at column 9/);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  test('unknown commands and --version', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    const v = await run('--version');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
