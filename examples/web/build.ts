/**
 * Bundles the browser example (main.ts and the compiler it imports) into examples/web/dist/main.js:
 *   npm run web:build      then   npm run web   (serves it on http://localhost:8080)
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

export async function buildWeb(outfile = `${here}dist/main.js`): Promise<string> {
  await build({
    entryPoints: [`${here}main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    loader: { '.tk': 'text' },
    // Dawn is for Node; in a page the runtime takes navigator.gpu and never imports it.
    external: ['webgpu'],
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`wrote ${await buildWeb()}\n`);
