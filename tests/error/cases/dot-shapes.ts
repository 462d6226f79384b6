// dot(a[16,8], b[16,8]): the inner extents must agree.
import { dot, f32, kernel, zeros } from '../../../dsl/index.js';

export const expected = 'dot(tile<f32>[16, 8], tile<f32>[16, 8], tile<f32>[16, 8]): a is [16, 8] and b is [16, 8]: the inner extents differ';
export const build = () =>
  kernel('k', {}, () => void dot(zeros([16, 8], f32), zeros([16, 8], f32), zeros([16, 8], f32)), { grid: () => [1] }).build();
