/**
 * The browser example: compiles a .tk kernel in the page to WGSL, runs it on WebGPU (navigator.gpu) on
 * random inputs, and checks every output against the reference interpreter. Bundled by build.ts.
 */
import { compileTk } from '../../dsl/text/index.js';
import { compareOutputs, copyArguments, makeArguments, symbolValues } from '../../bin/launch-inputs.js';
import { interpretTensors } from '../../runtime/interpret-tensors.js';
import { compileWebgpu } from '../../runtime/webgpu/webgpu-kernel.js';
import layerNorm from '../layer-norm.tk';
import matmul from '../matmul.tk';
import softmax from '../softmax.tk';
import vectorAdd from '../vector-add.tk';

/** Each example with shapes small enough for a software adapter. */
const EXAMPLES: Record<string, { source: string; shapes: string }> = {
  softmax: { source: softmax, shapes: 'M=64 N=1000' },
  vector_add: { source: vectorAdd, shapes: 'N=100000' },
  layer_norm: { source: layerNorm, shapes: 'M=64 N=1000' },
  matmul: { source: matmul, shapes: 'M=100 N=70 K=90' },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const [picker, shapesInput, seedInput, sourceBox] = [$<HTMLSelectElement>('example'), $<HTMLInputElement>('shapes'), $<HTMLInputElement>('seed'), $<HTMLTextAreaElement>('source')];

function show(name: string): void {
  sourceBox.value = EXAMPLES[name]!.source;
  shapesInput.value = EXAMPLES[name]!.shapes;
}

function parseShapes(text: string): Record<string, number> {
  const shapes: Record<string, number> = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_]\w*)=(\d+)$/.exec(part);
    if (!m) throw new Error(`shapes: expected NAME=VALUE, got ${part}`);
    shapes[m[1]!] = Number(m[2]);
  }
  return shapes;
}

async function run(): Promise<void> {
  const [verdict, timing, report, wgsl] = [$('verdict'), $('timing'), $('report'), $('wgsl')];
  verdict.textContent = 'running';
  verdict.className = '';
  timing.textContent = '';
  try {
    const [def] = compileTk(sourceBox.value, 'kernel.tk');
    if (!def) throw new Error('the source defines no kernel');
    const kernel = def.build();
    const symbols = symbolValues(kernel, def, parseShapes(shapesInput.value));
    const seed = seedInput.value ? Number(seedInput.value) : Math.floor(Math.random() * 2 ** 31);
    const args = makeArguments(kernel, symbols, seed);
    const reference = copyArguments(args);
    const t0 = performance.now();
    const compiled = await compileWebgpu(kernel);
    const t1 = performance.now();
    await compiled.run(args);
    const t2 = performance.now();
    wgsl.textContent = compiled.source.source;
    interpretTensors(kernel, reference);
    const results = compareOutputs(kernel, args, reference);
    const pass = results.every((r) => r.pass);
    report.textContent = [
      `kernel ${kernel.name} on ${compiled.gpu.adapterName} (${compiled.gpu.backend}), ${Object.entries(symbols).map(([k, v]) => `${k}=${v}`).join(' ')}, seed ${seed}`,
      ...results.map((r) => `${r.name}: max abs error ${r.maxAbsError.toExponential(2)}, max rel error ${r.maxRelError.toExponential(2)} ${r.pass ? 'ok' : 'FAIL'}`),
    ].join('\n');
    verdict.textContent = pass ? 'PASS' : 'FAIL';
    verdict.className = verdict.textContent;
    timing.textContent = `(compiled in ${(t1 - t0).toFixed(1)} ms, ran in ${(t2 - t1).toFixed(1)} ms including transfers)`;
  } catch (e) {
    verdict.textContent = 'ERROR';
    verdict.className = 'ERROR';
    report.textContent = e instanceof Error ? e.message : String(e);
  }
}

for (const name of Object.keys(EXAMPLES)) picker.add(new Option(name, name));
picker.addEventListener('change', () => show(picker.value));
$('run').addEventListener('click', () => void run());
show(picker.value);
