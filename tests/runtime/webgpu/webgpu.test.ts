/**
 * The WebGPU runtime's errors: each names its cause, and none leaves silently wrong data. Runs on a
 * real adapter (lavapipe on CI); the null backend's refusal to run is checked where Dawn loads.
 */
import { arange, atMost, cdiv, f32, forRange, i32, input, kernel, load, output, programId, scalar, sharedTile, store, tensor } from '../../../dsl/index.js';
import { DeviceError, device } from '../../../runtime/device.js';
import { Tensor } from '../../../runtime/tensor.js';
import { compileWebgpu } from '../../../runtime/webgpu/webgpu-kernel.js';
import { webgpuOr } from '../../backends/wgsl/harness.js';

const { it } = await webgpuOr(process.env['TSKC_WEBGPU_BACKEND'], 'the WebGPU runtime tests');
const { it: itNull } = await webgpuOr('null', 'the WebGPU null-backend test');

/** y[i] = x[i + shift] over blocks of 64, unmasked: a shift past the end reads outside x. */
const shifted = kernel(
  'shifted',
  { x: input(f32, ['N']), y: output(f32, ['N']), shift: scalar(i32) },
  ({ x, y, shift }) => {
    const i = arange(64).add(programId(0).mul(64));
    store(y, [i], load(x, [i.add(shift)]));
  },
  { grid: ({ N }) => [cdiv(N, 64)] },
);

/** A loop from 0 to 4 with the step given at launch. */
const stepped = kernel('stepped', { y: tensor(f32, [1]), step: scalar(i32) }, ({ y, step }) => {
  const [total] = forRange(0, 4, step, [load(y, [arange(1)])], (_, [acc]) => [acc!.add(1)]);
  store(y, [arange(1)], total!);
}, { grid: () => [1] });

const webgpu = device('webgpu');

describe('WebGPU runtime', () => {
  it('runs a kernel with a scalar argument', async () => {
    const x = Tensor.fromValues(f32, [128], Float64Array.from({ length: 128 }, (_, i) => i));
    const y = Tensor.empty(f32, [128]);
    await (await webgpu.compile(shifted.build())).run({ x, y, shift: 0 });
    expect(Array.from(y.toValues())).toEqual(Array.from(x.toValues()));
  });

  it('runs on buffers already on the device, several times in one submission', async () => {
    const k = await compileWebgpu(stepped.build());
    const device = k.gpu.device;
    const y = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(y, 0, new Float32Array([1, 0, 0, 0]));
    await k.runOnDevice({ y, step: 2 }, { y: [1] }, 3); // each run adds 2 (a loop from 0 to 4, step 2)
    const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(y, 0, read, 0, 16);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    expect(new Float32Array(read.getMappedRange())[0]).toBe(7);
    await expect(k.runOnDevice({ y, step: 0 }, { y: [1] })).rejects.toThrow('non-positive step');
    // A buffer short of its shape's bytes (in whole words) is refused.
    await expect(k.runOnDevice({ y, step: 2 }, { y: [5] })).rejects.toThrow('the buffer for y has 16 bytes; its shape [5] needs 20 (a whole number of 4-byte units)');
  });

  it("checks shapes on the device as any launch does: one value per symbol, and the kernel's requirements", async () => {
    const rows = kernel(
      'rows',
      { x: input(f32, ['M', 'N']), y: output(f32, ['M', 'N']) },
      ({ x, y }) => {
        const cols = arange(16);
        store(y, [programId(0), cols], load(x, [programId(0), cols], { mask: cols.lt(x.dim(1)) }), { mask: cols.lt(x.dim(1)) });
      },
      { grid: ({ M }) => [M], requires: ({ N }) => [atMost(N, 16)] },
    );
    const k = await compileWebgpu(rows.build());
    const buffer = () => k.gpu.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const [x, y] = [buffer(), buffer()];
    await k.runOnDevice({ x, y }, { x: [2, 16], y: [2, 16] });
    await expect(k.runOnDevice({ x, y }, { x: [2, 17], y: [2, 17] })).rejects.toThrow('kernel rows: its extents must satisfy N <= 16, but N = 17 (from x): 17 > 16');
    await expect(k.runOnDevice({ x, y }, { x: [2, 16], y: [3, 16] })).rejects.toThrow('kernel rows: argument y: extent 0 is 3 but M = 2 from x');
  });

  it('names the tensor an unmasked access went outside of', async () => {
    const k = await webgpu.compile(shifted.build());
    const run = k.run({ x: Tensor.empty(f32, [128]), y: Tensor.empty(f32, [128]), shift: 1 });
    await expect(run).rejects.toThrow('kernel shifted: an unmasked access went outside tensor argument 0 (x)');
  });

  it('keeps concurrent runs and compiles apart (each error blamed on its own run)', async () => {
    const k = await webgpu.compile(shifted.build());
    const x = Tensor.fromValues(f32, [128], Float64Array.from({ length: 128 }, (_, i) => i + 1));
    const [y1, y2] = [Tensor.empty(f32, [128]), Tensor.empty(f32, [128])];
    const outcomes = await Promise.allSettled([
      k.run({ x, y: y1, shift: 0 }),
      k.run({ x, y: Tensor.empty(f32, [128]), shift: 5 }),
      webgpu.compile(stepped.build()),
      k.run({ x, y: y2, shift: 0 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toContain('outside tensor argument 0 (x)');
    expect(Array.from(y1.toValues())).toEqual(Array.from(x.toValues()));
    expect(Array.from(y2.toValues())).toEqual(Array.from(x.toValues()));
  });

  it('refuses a loop with a non-positive step', async () => {
    const k = await webgpu.compile(stepped.build());
    await expect(k.run({ y: Tensor.empty(f32, [1]), step: 0 })).rejects.toThrow('a loop has a non-positive step');
    const y = Tensor.empty(f32, [1]);
    await k.run({ y, step: 1 });
    expect(y.toValues()[0]).toBe(4);
  });

  it('refuses a kernel that needs more workgroup memory than the device has, before running it', async () => {
    const big = kernel('big_shared', { y: output(f32, [1]) }, () => {
      sharedTile([1 << 16], f32);
    }, { grid: () => [1] });
    await expect(webgpu.compile(big.build())).rejects.toThrow(/big_shared does not fit .*: it needs 262144 bytes of workgroup memory/);
  });

  it('checks arguments as every device does', async () => {
    const k = await webgpu.compile(shifted.build());
    await expect(k.run({ x: Tensor.empty(i32, [128]), y: Tensor.empty(f32, [128]), shift: 0 })).rejects.toThrow('argument x must hold f32, got i32');
  });

  it('has no synchronous launch (its readback is asynchronous)', async () => {
    const k = await webgpu.compile(shifted.build());
    expect(() => k.launch({ x: Tensor.empty(f32, [64]), y: Tensor.empty(f32, [64]), shift: 0 })).toThrow(DeviceError);
  });

  itNull('says the null backend validates but runs nothing', async () => {
    const k = await compileWebgpu(shifted.build(), { backend: 'null' });
    await expect(k.run({ x: Tensor.empty(f32, [64]), y: Tensor.empty(f32, [64]), shift: 0 })).rejects.toThrow('validates but runs nothing');
  });
});
