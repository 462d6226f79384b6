/** Every example's IR prints, parses back to an equal kernel, and verifies; also after the passes. */
import { kernelDifference, parseKernel, printKernel, verify } from '../../compiler/ir/index.js';
import { PassManager, dce } from '../../compiler/passes/index.js';
import { layerNorm } from '../../examples/layer-norm.js';
import { matmul } from '../../examples/matmul.js';
import { softmax } from '../../examples/softmax.js';
import { vectorAdd } from '../../examples/vector-add.js';

const kernels = {
  vector_add: vectorAdd.build(),
  softmax: softmax.build(),
  layer_norm: layerNorm.build(),
  matmul: matmul.build(),
  'matmul (BM=16, BN=8, BK=4)': matmul.build({ BM: 16, BN: 8, BK: 4 }),
};

describe('examples in the text form', () => {
  test.each(Object.entries(kernels))('%s round-trips', (_name, k) => {
    const text = printKernel(k);
    const back = parseKernel(text, 'example.tile');
    expect(kernelDifference(back, k)).toBeUndefined();
    expect(printKernel(back)).toBe(text);
    verify(back);
  });

  test.each(Object.entries(kernels))('%s round-trips after dce, verified after every pass', (_name, k) => {
    const out = new PassManager([dce], { verifyEach: true }).run(k);
    expect(kernelDifference(parseKernel(printKernel(out)), out)).toBeUndefined();
  });
});
