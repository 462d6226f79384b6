/**
 * The browser example end to end: the page bundled with esbuild, served on localhost, opened in
 * Debian's Chromium (headless, through playwright-core) with WebGPU on its software adapter
 * (SwiftShader), the Run button clicked, and PASS read from the page. Skips, saying why, where there is
 * no Chromium or no WebGPU adapter in it.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type Browser, chromium } from 'playwright-core';
import { buildWeb } from '../../examples/web/build.js';
import { serveWeb } from '../../examples/web/serve.js';

const CHROMIUM = process.env['TSKC_CHROMIUM'] ?? '/usr/bin/chromium';
// As env's machine notes say: without the background-networking flags Chromium keeps dialing out.
const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];

jest.setTimeout(180_000);

/** The page served from a scratch folder (bundle built fresh) and Chromium opened on it, or why not. */
async function openPage(): Promise<{ browser: Browser; url: string; close: () => void } | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt install chromium, or set TSKC_CHROMIUM)`;
  const root = mkdtempSync(join(tmpdir(), 'tskc-web-'));
  cpSync(join(process.cwd(), 'examples/web/index.html'), join(root, 'index.html'));
  await buildWeb(join(root, 'dist/main.js'));
  const { server, url } = await serveWeb(0, root);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...WEBGPU_FLAGS] });
  const close = () => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  };
  const page = await browser.newPage();
  await page.goto(url);
  // Expressions as text: they run in the page, whose DOM types the tests' compilation does not have.
  const adapter = await page.evaluate('navigator.gpu ? navigator.gpu.requestAdapter().then(Boolean) : false');
  await page.close();
  if (adapter) return { browser, url, close };
  await browser.close();
  close();
  return `headless Chromium (${CHROMIUM}) offers no WebGPU adapter with flags ${WEBGPU_FLAGS.join(' ')}`;
}

const opened = await openPage();
if (typeof opened === 'string') process.stderr.write(`tskc: skipping the browser example test: ${opened}\n`);
const it = typeof opened === 'string' ? test.skip : test;

describe('the browser example', () => {
  afterAll(async () => {
    if (typeof opened === 'string') return;
    await opened.browser.close();
    opened.close();
  });

  it('compiles, runs on WebGPU and checks each example in the page', async () => {
    const { browser, url } = opened as Exclude<typeof opened, string>;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    for (const example of ['softmax', 'vector_add', 'layer_norm', 'matmul']) {
      await page.selectOption('#example', example);
      await page.click('#run');
      await page.waitForFunction("!['running', 'not run'].includes(document.getElementById('verdict').textContent)", undefined, { timeout: 60_000 });
      const [verdict, report] = await Promise.all([page.textContent('#verdict'), page.textContent('#report')]);
      expect({ example, verdict, report }).toEqual({ example, verdict: 'PASS', report: expect.stringContaining(`kernel ${example}`) });
    }
    // The generated WGSL is shown, and an edited kernel with a mistake is reported with its position.
    expect(await page.textContent('#wgsl')).toContain('@compute @workgroup_size(');
    await page.fill('#source', 'kernel broken(x: in f32[N]) grid(1) {\n  let y = nosuchop(x);\n}\n');
    await page.click('#run');
    await page.waitForFunction("document.getElementById('verdict').textContent === 'ERROR'");
    expect(await page.textContent('#report')).toMatch(/kernel\.tk:2:\d+/);
    expect(errors).toEqual([]);
  });
});
