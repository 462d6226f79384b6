"""The peer of bench/cpu/run.ts: the same work in numpy (OpenBLAS for the matmul), median of repeats.
Prints one JSON object: {name: median_seconds}. Run by run.ts; python3 with numpy must be on PATH."""
import json
import sys
import time

import numpy as np

try:
    from scipy.special import erf
except ImportError:
    erf = None


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    rng = np.random.default_rng()
    out = {}
    a = rng.standard_normal((2048, 2048), dtype=np.float32)
    b = rng.standard_normal((2048, 2048), dtype=np.float32)
    out["sgemm_2048"] = median_time(lambda: a @ b, 5)
    x = rng.standard_normal((4096, 4096), dtype=np.float32)

    def softmax():
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    out["softmax_4096"] = median_time(softmax, 5)
    w = rng.standard_normal(4096, dtype=np.float32)
    bias = rng.standard_normal(4096, dtype=np.float32)

    def layer_norm():
        mean = x.mean(axis=1, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=1, keepdims=True)
        return d / np.sqrt(var + 1e-5) * w + bias

    out["layer_norm_4096"] = median_time(layer_norm, 5)
    def log_softmax():
        shifted = x - x.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    out["log_softmax_4096"] = median_time(log_softmax, 5)
    out["rms_norm_4096"] = median_time(lambda: x / np.sqrt((x * x).mean(axis=1, keepdims=True) + 1e-6) * w, 5)
    r = rng.standard_normal((4096, 4096), dtype=np.float32)

    def rms_norm_residual():
        h = x + r
        return h, h / np.sqrt((h * h).mean(axis=1, keepdims=True) + 1e-6) * w

    out["rms_norm_residual_4096"] = median_time(rms_norm_residual, 5)
    g = rng.standard_normal((4096, 4096), dtype=np.float32)
    out["swiglu_4096"] = median_time(lambda: x / (1 + np.exp(-x)) * g, 5)
    if erf is not None:  # numpy has no erf; without scipy the GeGLU row has no peer
        out["geglu_4096"] = median_time(lambda: 0.5 * x * (1 + erf(x * np.float32(np.sqrt(0.5)))) * g, 5)
    del r, g
    # Rotary embedding (half-split) of x [S=4096, H=32, D=128] by cos, sin [S, D/2].
    xr = rng.standard_normal((4096, 32, 128), dtype=np.float32)
    cos = rng.standard_normal((4096, 1, 64), dtype=np.float32)
    sin = rng.standard_normal((4096, 1, 64), dtype=np.float32)

    def rotary():
        lo, hi = xr[..., :64], xr[..., 64:]
        return np.concatenate([lo * cos - hi * sin, hi * cos + lo * sin], axis=-1)

    out["rotary_4096x32x128"] = median_time(rotary, 5)
    del xr
    # Attention of B=1, H=8, S=1024, D=64 (scale 1/8), with and without the causal mask: the scores
    # as one batched matmul, the mask as an added -inf above the diagonal, exp, and the product with v
    # divided by the sums once per output row (as the kernel does), not the S x S weights.
    q, k, v = (rng.standard_normal((1, 8, 1024, 64), dtype=np.float32) for _ in range(3))
    mask = np.where(np.triu(np.ones((1024, 1024), dtype=bool), 1), -np.inf, 0).astype(np.float32)

    def attention(causal):
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(0.125)
        if causal:
            scores += mask
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return (e @ v) / e.sum(axis=-1, keepdims=True)

    out["attention_1x8x1024x64"] = median_time(lambda: attention(False), 5)
    out["attention_causal_1x8x1024x64"] = median_time(lambda: attention(True), 5)
    # Cross-entropy over a 32000-word vocabulary, 1024 rows, composed from numpy operations.
    logits = rng.standard_normal((1024, 32000), dtype=np.float32)
    targets = rng.integers(0, 32000, 1024)

    def cross_entropy():
        mx = logits.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))
        return lse - logits[np.arange(1024), targets]

    out["cross_entropy_1024x32000"] = median_time(cross_entropy, 5)
    del logits
    # A linear layer with bias and relu, x [1024, 2048], W [2048, 2048].
    xl = rng.standard_normal((1024, 2048), dtype=np.float32)
    wl = rng.standard_normal((2048, 2048), dtype=np.float32)
    bl = rng.standard_normal(2048, dtype=np.float32)
    out["linear_bias_relu_1024x2048x2048"] = median_time(lambda: np.maximum(xl @ wl.T + bl, 0), 5)

    def linear_relu_softmax():
        z = np.maximum(xl @ wl.T + bl, 0)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    out["linear_relu_softmax_1024x2048x2048"] = median_time(linear_relu_softmax, 5)
    # The gated MLP of a transformer: silu(x W_gate^T) * (x W_up^T).
    wu = rng.standard_normal((2048, 2048), dtype=np.float32)

    def swiglu_mlp():
        gate = xl @ wl.T
        with np.errstate(over="ignore"):  # exp(-gate) overflows to inf for gate < -88: silu is then -0
            return gate / (1 + np.exp(-gate)) * (xl @ wu.T)

    out["swiglu_mlp_1024x2048x2048"] = median_time(swiglu_mlp, 5)
    del wu
    # fp32 GEMV of the low-bit GEMV's shape (y = W x, W [8192, 8192]): the peer of tskc's u4 GEMV.
    wg = rng.standard_normal((8192, 8192), dtype=np.float32)
    xg = rng.standard_normal(8192, dtype=np.float32)
    out["gemv_8192"] = median_time(lambda: wg @ xg, 10)
    del wg
    # fp32 matmul of the low-bit GEMM's shape (x [256, 4096] . W^T, W [4096, 4096]).
    xm = rng.standard_normal((256, 4096), dtype=np.float32)
    wm = rng.standard_normal((4096, 4096), dtype=np.float32)
    out["gemm_256x4096"] = median_time(lambda: xm @ wm.T, 5)
    del wm
    src = rng.standard_normal(64 * 1024 * 1024, dtype=np.float32)
    dst = np.empty_like(src)
    out["copy_256MiB"] = median_time(lambda: np.copyto(dst, src), 10)
    out["numpy"] = np.__version__
    json.dump(out, sys.stdout)


main()
