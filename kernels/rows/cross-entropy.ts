/**
 * Cross-entropy of logits [M, V] against integer targets [M], fused with the log-softmax it needs and
 * chunked over the vocabulary: one program per row walks V in chunks of BLOCK_V, keeping a running
 * maximum and the sum of exponentials scaled to it (a chunk's sum is rescaled when the maximum grows),
 * so no row of probabilities is ever stored:
 *   loss[m] = log Σ_v exp(logits[m, v]) − logits[m, targets[m]]   (0 where targets[m] = IGNORE)
 * in f32 for any logits dtype. A target outside [0, V) other than IGNORE fails the launch (an access
 * outside `logits`), as a wrong label should, rather than giving a loss.
 */
import { type Dtype, arange, exp, f32, forRange, full, i32, input, kernel, load, log, output, programId, store, where } from '../../dsl/index.js';

export function crossEntropyRows(d: Dtype) {
  return kernel(
    `cross_entropy_${d.name}`,
    { logits: input(d, ['M', 'V']), targets: input(i32, ['M']), loss: output(f32, ['M']) },
    ({ logits, targets, loss }, { BLOCK_V, IGNORE }) => {
      const row = programId(0);
      const v = logits.dim(1);
      const [max, sum] = forRange(0, v, BLOCK_V, [full([], -Infinity, f32), full([], 0, f32)], (v0, [runningMax, runningSum]) => {
        const cols = v0.add(arange(BLOCK_V));
        const t = load(logits, [row, cols], { mask: cols.lt(v), other: -Infinity }).to(f32);
        const next = runningMax!.maximum(t.max(0));
        return [next, runningSum!.mul(exp(runningMax!.sub(next))).add(exp(t.sub(next)).sum(0))];
      });
      const target = load(targets, [row]);
      const counted = target.ne(IGNORE);
      const picked = load(logits, [row, target], { mask: counted }).to(f32);
      store(loss, [row], where(counted, max!.add(log(sum!)).sub(picked), 0));
    },
    { params: { BLOCK_V: 4096, IGNORE: -100 }, grid: ({ M }) => [M], shapes: { M: 4096, V: 32000 } },
  );
}

/** The float64 reference: logits row-major [m, v]. */
export function crossEntropyReference(logits: ArrayLike<number>, targets: ArrayLike<number>, m: number, v: number, ignore = -100): Float64Array {
  const loss = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    if (targets[i] === ignore) continue;
    let max = -Infinity;
    for (let j = 0; j < v; j++) max = Math.max(max, logits[i * v + j]!);
    let sum = 0;
    for (let j = 0; j < v; j++) sum += Math.exp(logits[i * v + j]! - max);
    loss[i] = max + Math.log(sum) - logits[i * v + targets[i]!]!;
  }
  return loss;
}
