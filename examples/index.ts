/** The example kernels by name, as `tskc list` and `tskc run NAME` know them. */
import { layerNorm } from './layer-norm.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { vectorAdd } from './vector-add.js';

export const exampleKernels = {
  vector_add: vectorAdd,
  softmax,
  layer_norm: layerNorm,
  matmul,
} as const;
