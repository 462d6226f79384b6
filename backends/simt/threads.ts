import type { Block, Kernel } from '../../compiler/ir/ir.js';
import { sizeOf } from '../../compiler/interpret/tiles.js';

/**
 * Threads per block for a kernel: enough that the largest tile gives each about 8 elements, from 32 to
 * 256 (WebGPU's default limit, too). Measured on an H100 (bench/RESULTS-GPU.md): bf16 layer norm and
 * RMS norm over rows of 8192 ran 1.37x and 1.34x faster with 256 threads than with 512, and slower still
 * with 1024.
 */
export function chooseThreads(kernel: Kernel): number {
  let largest = 1;
  const visit = (b: Block) => {
    for (const op of b.ops) {
      for (const r of op.results) if (r.type.kind === 'tile') largest = Math.max(largest, sizeOf(r.type.shape));
      op.regions.forEach(visit);
    }
  };
  visit(kernel.body);
  return Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.ceil(largest / 8)))));
}
