/**
 * Row reductions through subgroups (WgslEmitOptions.subgroups): where the device has them, the WebGPU
 * runtime emits shuffles, and the kernel checks at run time that its subgroups are runs of
 * consecutive invocations before taking them. Here: the check finds lavapipe's subgroups (so the
 * shuffles, not the fallback, are what the differential tests run), and both paths, with rows inside
 * one subgroup and across several, agree with the interpreter.
 */
import { jest } from '@jest/globals';
import { emitWgsl } from '../../../backends/wgsl/index.js';
import { freshSeed, randInt, randomTensor, rng } from '../../../examples/check.js';
import { arange, bf16, f32, input, kernel, load, output, programId, store } from '../../../dsl/index.js';
import { softmaxRows } from '../../../kernels/rows/softmax.js';
import { layerNormRows } from '../../../kernels/rows/norms.js';
import { compileWebgpu } from '../../../runtime/webgpu/webgpu-kernel.js';
import { type Runner, expectSame, poisoned, runBoth } from '../differential.js';
import { webgpuOr } from './harness.js';

jest.setTimeout(120_000);
const { gpu, it } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the WebGPU subgroup tests');
const withSubgroups = it === test && gpu!.subgroups && !gpu!.validationOnly ? test : test.skip;
if (gpu && !gpu.subgroups) process.stderr.write(`tskc: skipping the subgroup tests: ${gpu.adapterName} has no subgroups\n`);

// Row sums of [R, C] tiles: C = 4 gives rows of 1 lane, 64 of 8, 2048 of 256 lanes (across subgroups).
const rowSums = kernel(
  'row_sums',
  { x: input(f32, ['M', 'N']), y: output(f32, ['M']) },
  ({ x, y }, { R, C }) => {
    const rows = programId(0).mul(R).add(arange(R));
    const cols = arange(C);
    const ok = rows.lt(x.dim(0)).expandDims(1).and(cols.lt(x.dim(1)).expandDims(0));
    const t = load(x, [rows.expandDims(1), cols.expandDims(0)], { mask: ok, other: 0 });
    store(y, [rows], t.sum(1).add(t.max(1)), { mask: rows.lt(x.dim(0)) });
  },
  { params: { R: 4, C: 64 }, grid: ({ M }, { R }) => [M] },
);

describe('WGSL row reductions through subgroups', () => {
  withSubgroups('the kernel finds its subgroups to be runs of consecutive invocations', async () => {
    const { device } = gpu!;
    const source = emitWgsl(softmaxRows(f32).build({ BLOCK_N: 256 }), { subgroups: true, unroll: 1 }).source;
    expect(source).toContain('subgroupShuffleXor');
    // The width tskc_sg, reported through the status word instead of the kernel's own status.
    const probe = source.replace(/ {2}if \(tskc_bad != 0i\) \{ loop[^\n]*\n\}\n$/, '  if (tskc_lid == 0u) { atomicStore(&tskc_status[0], i32(tskc_sg) + 1000); }\n}\n');
    expect(probe).not.toBe(source);
    const module = device.createShaderModule({ code: probe });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'tskc_kernel' } });
    const buffer = (size: number, usage: number) => device.createBuffer({ size, usage });
    const [params, status, x, y] = [buffer(64, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST), buffer(4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC), buffer(1024, GPUBufferUsage.STORAGE), buffer(1024, GPUBufferUsage.STORAGE)];
    device.queue.writeBuffer(params, 0, new Uint32Array([1, 256, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [params, status, x, y].map((b, binding) => ({ binding, resource: { buffer: b } })) });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
    pass.end();
    const read = buffer(4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    encoder.copyBufferToBuffer(status, 0, read, 0, 4);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const width = new Int32Array(read.getMappedRange())[0]! - 1000;
    read.unmap();
    // Lavapipe's subgroups are runs of 4, 8 or 16 invocations; elsewhere any power of two, or 0.
    if (gpu!.software) expect(width).toBeGreaterThanOrEqual(4);
    expect(width === 0 || Number.isInteger(Math.log2(width))).toBe(true);
  });

  const paths: [string, Runner][] = [
    ['shuffles', { compile: (k) => compileWebgpu(k, { subgroups: true }) }],
    ['shuffles, boxed accesses', { compile: (k) => compileWebgpu(k, { subgroups: true, boxed: true }) }],
    ['workgroup memory', { compile: (k) => compileWebgpu(k, { subgroups: false }) }],
  ];
  describe.each(paths)('%s', (_path, runner) => {
    it.each([
      [4, 4],
      [8, 64],
      [1, 2048],
    ])('row sums and maxima of %i x %i tiles == interpreter', async (r, c) => {
      const seed = freshSeed();
      const q = rng(seed);
      const [m, n] = [randInt(q, 1, 40), randInt(q, 1, c)];
      const { got, want } = await runBoth(runner, rowSums.build({ R: r, C: c }), { x: randomTensor(q, [m, n], -4, 4), y: poisoned(f32, [m]) });
      expectSame(got['y']!, want['y']!, true, `row_sums R=${r} C=${c} (seed ${seed}) M=${m} N=${n}`, f32, true);
    });

    it.each([
      ['softmax_bf16', softmaxRows(bf16).build({ BLOCK_N: 2048 })],
      ['layer_norm_bf16', layerNormRows(bf16).build({ BLOCK_N: 2048 })],
    ] as const)('%s == interpreter', async (name, k) => {
      const seed = freshSeed();
      const q = rng(seed);
      const [m, n] = [randInt(q, 1, 20), randInt(q, 1, 2048)];
      const args = { x: randomTensor(q, [m, n], -4, 4, bf16), y: poisoned(bf16, [m, n]), ...(name === 'layer_norm_bf16' ? { w: randomTensor(q, [n], -2, 2, bf16), b: randomTensor(q, [n], -1, 1, bf16) } : {}) };
      const { got, want } = await runBoth(runner, k, args);
      expectSame(got['y']!, want['y']!, true, `${name} (seed ${seed}) M=${m} N=${n}`, bf16, true);
    });
  });
});
