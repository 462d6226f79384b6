/** Devices, tensors and the compiled-kernel cache. */
export { type Device, type DeviceKind, type CompiledKernel, type LaunchOptions, type DeviceOptions, DeviceError, device } from './device.js';
export { Tensor, TensorError } from './tensor.js';
export { ArtifactCache, CacheError, defaultCacheDir } from './cache.js';
export { ToolchainError } from './cpu/toolchain.js';
export { CpuLaunchError, type CpuKernel, compileCpu } from './cpu/cpu-kernel.js';
export { WebgpuError, type WebgpuKernel, compileWebgpu, wgslErrors } from './webgpu/webgpu-kernel.js';
export { WebgpuMissingError, openWebgpu } from './webgpu/gpu.js';
export { type RunGraphOptions, checkFeeds, compileOnce, runGraph, runStep, runSteps } from './graph.js';
export { type StepTiming, type TuneOptions, type TunedStep, TuningStore, deviceIdentity, tuneProgram } from './tune.js';
