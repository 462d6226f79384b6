/**
 * The graph API: a transformer block's feed-forward half as whole-tensor expressions. Nothing runs
 * here; `tskc explain examples/graph.ts` prints how the fusion pass cuts it into kernels, `tskc tune`
 * times their tile sizes, and compileGraph + runGraph run it (tests/examples/graph.test.ts).
 *
 *   h   = x + residual                       \  one kernel: the add, the norm's mean of squares and its
 *   n   = rms_norm(h) · w                    /  scaling, writing h and n
 *   act = silu(n · Wgateᵀ) ⊙ (n · Wupᵀ)      -- one kernel: both matmuls share the loop over K and the
 *                                               silu and product run in their epilogue
 *   out = h + act · Wdownᵀ                   -- one kernel: the residual add in the matmul's epilogue
 */
import { bf16, f32 } from '../dsl/index.js';
import { graphInput } from '../dsl/graph/index.js';

const [tokens, model, hidden] = [64, 256, 512];

const x = graphInput('x', f32, [tokens, model]);
const residual = graphInput('residual', f32, [tokens, model]);
const w = graphInput('w', f32, [model]);
const wGate = graphInput('w_gate', f32, [hidden, model]);
const wUp = graphInput('w_up', f32, [hidden, model]);
const wDown = graphInput('w_down', f32, [model, hidden]);

export const h = x.add(residual);
const n = h.rmsNorm(w);
const act = n.matmul(wGate.T).silu().mul(n.matmul(wUp.T));
export const out = h.add(act.matmul(wDown.T));

/** The same block's attention scores for one head in bf16: a row softmax fused into the matmul epilogue. */
const q = graphInput('q', bf16, [tokens, 64]);
const k = graphInput('k', bf16, [tokens, 64]);
export const scores = q.matmul(k.T).mul(0.125).softmax();
