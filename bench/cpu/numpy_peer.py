"""The peer of bench/cpu/run.ts: the same work in numpy (OpenBLAS for the matmul), median of repeats.

A server, so that each peer runs right after the tskc kernel it is compared with (this VM's speed
drifts by a third over minutes; peers timed all at once before the kernels gave ratios off by as
much). It first prints {"numpy": version}, then for each key read from stdin prints
{"key": key, "seconds": median} (null where the peer cannot run: GeGLU's needs scipy), or for a key
it does not know {"key": key, "error": message}, one JSON object a line (an exception in a work ends
the server, and run.ts reports its stderr). Run by run.ts; python3 with numpy must be on PATH."""
import json
import sys
import time

import numpy as np

try:
    from scipy.special import erf
except ImportError:
    erf = None

rng = np.random.default_rng()
WORKS = {}
_shared = {}


def work(key, repeats=5):
    """Registers setup() -> the function to time (or None where the peer cannot run)."""
    def register(setup):
        WORKS[key] = (setup, repeats)
        return setup
    return register


def normal(*shape):
    return rng.standard_normal(shape, dtype=np.float32)


def shared(name, *shape):
    """An input used by several works, made once (the 4096 x 4096 rows and their weights)."""
    if name not in _shared:
        _shared[name] = normal(*shape)
    return _shared[name]


# Seconds of calls made before timing, as bench/cpu/run.ts warms the tskc kernels (WARM_MS).
WARM_SECONDS = 0.2
# Seconds of timed calls at least (and `repeats` calls at least), as run.ts (MEASURE_MS).
MEASURE_SECONDS = 0.5


def median_time(fn, repeats):
    start, calls = time.perf_counter(), 0
    while calls < 2 or time.perf_counter() - start < WARM_SECONDS:
        fn()
        calls += 1
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < MEASURE_SECONDS:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


@work("sgemm_2048")
def _():
    a, b = normal(2048, 2048), normal(2048, 2048)
    return lambda: a @ b


@work("softmax_4096")
def _():
    x = shared("x", 4096, 4096)

    def softmax():
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return softmax


@work("layer_norm_4096")
def _():
    x, w, bias = shared("x", 4096, 4096), shared("w", 4096), shared("bias", 4096)

    def layer_norm():
        mean = x.mean(axis=1, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=1, keepdims=True)
        return d / np.sqrt(var + 1e-5) * w + bias
    return layer_norm


@work("log_softmax_4096")
def _():
    x = shared("x", 4096, 4096)

    def log_softmax():
        shifted = x - x.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_softmax


@work("rms_norm_4096")
def _():
    x, w = shared("x", 4096, 4096), shared("w", 4096)
    return lambda: x / np.sqrt((x * x).mean(axis=1, keepdims=True) + 1e-6) * w


@work("rms_norm_residual_4096")
def _():
    x, r, w = shared("x", 4096, 4096), shared("r", 4096, 4096), shared("w", 4096)

    def rms_norm_residual():
        h = x + r
        return h, h / np.sqrt((h * h).mean(axis=1, keepdims=True) + 1e-6) * w
    return rms_norm_residual


@work("swiglu_4096")
def _():
    x, g = shared("x", 4096, 4096), shared("r", 4096, 4096)
    return lambda: x / (1 + np.exp(-x)) * g


@work("geglu_4096")
def _():
    if erf is None:  # numpy has no erf; without scipy the GeGLU row has no peer
        return None
    x, g = shared("x", 4096, 4096), shared("r", 4096, 4096)
    return lambda: 0.5 * x * (1 + erf(x * np.float32(np.sqrt(0.5)))) * g


@work("rotary_4096x32x128")
def _():
    # Rotary embedding (half-split) of x [S=4096, H=32, D=128] by cos, sin [S, D/2].
    xr, cos, sin = normal(4096, 32, 128), normal(4096, 1, 64), normal(4096, 1, 64)

    def rotary():
        lo, hi = xr[..., :64], xr[..., 64:]
        return np.concatenate([lo * cos - hi * sin, hi * cos + lo * sin], axis=-1)
    return rotary


def attention_work(causal):
    # Attention of B=1, H=8, S=1024, D=64 (scale 1/8), with and without the causal mask: the scores
    # as one batched matmul, the mask as an added -inf above the diagonal, exp, and the product with v
    # divided by the sums once per output row (as the kernel does), not the S x S weights.
    q, k, v = (normal(1, 8, 1024, 64) for _ in range(3))
    mask = np.where(np.triu(np.ones((1024, 1024), dtype=bool), 1), -np.inf, 0).astype(np.float32)

    def attention():
        scores = (q @ k.transpose(0, 1, 3, 2)) * np.float32(0.125)
        if causal:
            scores += mask
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return (e @ v) / e.sum(axis=-1, keepdims=True)
    return attention


work("attention_1x8x1024x64")(lambda: attention_work(False))
work("attention_causal_1x8x1024x64")(lambda: attention_work(True))


@work("cross_entropy_1024x32000")
def _():
    # Cross-entropy over a 32000-word vocabulary, 1024 rows, composed from numpy operations.
    logits, targets = normal(1024, 32000), rng.integers(0, 32000, 1024)

    def cross_entropy():
        mx = logits.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))
        return lse - logits[np.arange(1024), targets]
    return cross_entropy


def linear_inputs():
    # A linear layer, x [1024, 2048], W [2048, 2048], bias [2048].
    return shared("xl", 1024, 2048), shared("wl", 2048, 2048), shared("bl", 2048)


@work("linear_bias_relu_1024x2048x2048")
def _():
    xl, wl, bl = linear_inputs()
    return lambda: np.maximum(xl @ wl.T + bl, 0)


@work("linear_relu_softmax_1024x2048x2048")
def _():
    xl, wl, bl = linear_inputs()

    def linear_relu_softmax():
        z = np.maximum(xl @ wl.T + bl, 0)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return linear_relu_softmax


@work("swiglu_mlp_1024x2048x2048")
def _():
    # The gated MLP of a transformer: silu(x W_gate^T) * (x W_up^T).
    xl, wl, _ = linear_inputs()
    wu = normal(2048, 2048)

    def swiglu_mlp():
        gate = xl @ wl.T
        with np.errstate(over="ignore"):  # exp(-gate) overflows to inf for gate < -88: silu is then -0
            return gate / (1 + np.exp(-gate)) * (xl @ wu.T)
    return swiglu_mlp


@work("gemv_8192", repeats=10)
def _():
    # fp32 GEMV of the low-bit GEMV's shape (y = W x, W [8192, 8192]): the peer of tskc's u4 GEMV.
    wg, xg = normal(8192, 8192), normal(8192)
    return lambda: wg @ xg


@work("gemm_256x4096")
def _():
    # fp32 matmul of the low-bit GEMM's shape (x [256, 4096] . W^T, W [4096, 4096]).
    xm, wm = normal(256, 4096), normal(4096, 4096)
    return lambda: xm @ wm.T


@work("copy_256MiB", repeats=10)
def _():
    src = normal(64 * 1024 * 1024)
    dst = np.empty_like(src)
    return lambda: np.copyto(dst, src)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    reply({"numpy": np.__version__})
    for line in sys.stdin:
        key = line.strip()
        if not key:
            continue
        if key not in WORKS:
            reply({"key": key, "error": f"no peer named {key} (known: {', '.join(WORKS)})"})
            continue
        setup, repeats = WORKS[key]
        fn = setup()
        seconds = None if fn is None else median_time(fn, repeats)
        # OpenBLAS's threads spin for a while after a call (about 2^28 cycles); answering only once
        # they sleep keeps them off the cores of the tskc kernel timed next.
        time.sleep(0.3)
        reply({"key": key, "seconds": seconds})


main()
