/**
 * The WGSL of every example, of the GPU benchmarks' and the library's kernels and of random programs passes Dawn's validation (the null backend: no
 * driver needed), and a shader Dawn refuses is reported with WGSL line:column.
 */
import { jest } from '@jest/globals';
import { emitWgsl } from '../../../backends/wgsl/index.js';
import { wgslErrors } from '../../../runtime/webgpu/webgpu-kernel.js';
import { freshSeed } from '../../../examples/check.js';
import { randomProgram } from '../../fuzz/random-program.js';
import { copy } from '../../../bench/gpu/kernels.js';
import { EXAMPLE_CASES } from '../differential.js';
import { libraryKernels } from '../../../kernels/index.js';
import { webgpuOr } from './harness.js';
import { arange, f32, full, input, kernel, load, output, scalar, store, u32 } from '../../../dsl/index.js';

const { gpu, it } = await webgpuOr('null', 'the WGSL validation tests');
// Written out whole (as for a GPU), the library's row kernels are 5000 to 8000 lines: Dawn validates
// one in about 3 s alone, more beside other suites.
jest.setTimeout(60_000);

describe('generated WGSL validates', () => {
  const benchKernels = [copy, ...Object.values(libraryKernels)].map((k) => [k.name, k.build()] as const);
  it.each([...EXAMPLE_CASES.map(([name, kernel]) => [name, kernel] as const), ...benchKernels])('%s', async (_, kernel) => {
    for (const threads of [32, 256]) expect(await wgslErrors(gpu!.device, emitWgsl(kernel, { threads }).source)).toEqual([]);
  });

  const seed = freshSeed();
  it(`random programs from seed ${seed}`, async () => {
    for (let i = 0; i < 40; i++) {
      const p = randomProgram((seed + i) >>> 0);
      const errors = await wgslErrors(gpu!.device, emitWgsl(p.kernel).source);
      if (errors.length > 0) throw new Error(`random program ${p.seed}:\n${errors.join('\n')}`);
    }
  });

  it('boxed accesses validate with indices of other integer dtypes (they go lane by lane)', async () => {
    const k = kernel('u32_rows', { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']), s: scalar(u32) }, ({ x, y, s }) => {
      const rows = full([8], 0, u32).add(s).expandDims(1);
      const cols = arange(64).expandDims(0);
      store(y, [rows, cols], load(x, [rows, cols]));
    }, { grid: () => [1] }).build();
    for (const boxed of [false, true]) expect(await wgslErrors(gpu!.device, emitWgsl(k, { boxed }).source)).toEqual([]);
  });

  it('reports a refused shader with line:column', async () => {
    const errors = await wgslErrors(gpu!.device, '@compute @workgroup_size(1)\nfn main() {\n  let x: u32 = 1.5;\n}\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^3:\d+: .*\n {4}let x: u32 = 1\.5;/);
  });
});
