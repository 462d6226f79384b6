/**
 * Whether WebGPU adapters exist here, decided before tests are collected so that without one the
 * tests skip visibly (the reason printed) instead of passing: Dawn's null backend for validating WGSL,
 * and a real adapter (Vulkan, e.g. Mesa's lavapipe on the CPU, or OpenGL) for running it.
 */
import { type WebgpuDevice, openWebgpu } from '../../../runtime/webgpu/gpu.js';

async function attempt(backend: string | undefined): Promise<WebgpuDevice | string> {
  try {
    const gpu = await openWebgpu(backend);
    return gpu;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The device of `backend` and `test`, or `test.skip` after printing why there is none. */
export async function webgpuOr(backend: string | undefined, suite: string): Promise<{ gpu: WebgpuDevice | undefined; it: jest.It }> {
  const got = await attempt(backend);
  if (typeof got !== 'string') return { gpu: got, it: test };
  process.stderr.write(`tskc: skipping ${suite}: ${got}\n`);
  return { gpu: undefined, it: test.skip };
}
