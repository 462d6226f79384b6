"""PyTorch on the same GPU, in the same call as bench.ts: the peer of every tskc GPU benchmark.

CUDA-event medians of 20 samples of 10 back-to-back runs after warm-up, like bench.ts. Prints JSON.
"""
import json
import statistics

import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False


def time_ms(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(20):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(10):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / 10)
    return statistics.median(samples)


def main():
    m, n = 4096, 8192
    rows = []
    x = torch.rand(1 << 28, device="cuda") * 2 - 1
    y = torch.empty_like(x)
    ms = time_ms(lambda: y.copy_(x))
    rows.append({"name": "copy f32 1 GiB", "ms": ms, "GBps": round(2 * 4 * (1 << 28) / ms / 1e6)})
    del x, y
    xb = (torch.rand(m, n, device="cuda") * 2 - 1).to(torch.bfloat16)
    w = torch.rand(n, device="cuda").to(torch.bfloat16)
    b = torch.rand(n, device="cuda").to(torch.bfloat16)
    for name, fn in [
        ("softmax bf16 4096x8192", lambda: torch.softmax(xb, -1)),
        ("layer_norm bf16 4096x8192", lambda: F.layer_norm(xb, (n,), w, b, 1e-5)),
        ("rms_norm bf16 4096x8192", lambda: F.rms_norm(xb, (n,), w, 1e-6)),
    ]:
        ms = time_ms(fn)
        rows.append({"name": name, "ms": ms, "GBps": round(2 * 2 * m * n / ms / 1e6)})
    rb = (torch.rand(m, n, device="cuda") * 2 - 1).to(torch.bfloat16)

    def rms_residual():
        h = xb + rb
        return h, F.rms_norm(h, (n,), w, 1e-6)

    for name, fn, moved in [
        ("graph: softmax bf16 4096x8192 (1 kernel)", lambda: torch.softmax(xb, -1), 2),
        ("graph: rms_norm + residual bf16 4096x8192 (1 kernel)", rms_residual, 4),
        ("graph: swiglu bf16 4096x8192 (1 kernel)", lambda: F.silu(xb) * rb, 3),
    ]:
        ms = time_ms(fn)
        rows.append({"name": name, "ms": ms, "GBps": round(moved * 2 * m * n / ms / 1e6)})
    del rb
    a = torch.rand(2048, 2048, device="cuda")
    bm = torch.rand(2048, 2048, device="cuda")
    ms = time_ms(lambda: a @ bm)
    rows.append({"name": "matmul f32 2048^3 (example, 64x64 tiles)", "ms": ms, "TFLOPs": round(2 * 2048**3 / ms / 1e9, 3)})
    xl = (torch.rand(1024, 8192, device="cuda") * 2 - 1).to(torch.bfloat16)
    wl = (torch.rand(8192, 8192, device="cuda") * 2 - 1).to(torch.bfloat16)
    bl = (torch.rand(8192, device="cuda") * 2 - 1).to(torch.bfloat16)
    ms = time_ms(lambda: F.relu(F.linear(xl, wl, bl)))
    rows.append({"name": "linear bf16 1024x8192x8192 + bias + relu", "ms": ms, "TFLOPs": round(2 * 1024 * 8192 * 8192 / ms / 1e9, 3)})
    # The graph rows of bench.ts (PyTorch eager composing the same ops).
    for name in ("linear bf16 1024x8192x8192 + bias + relu (tensor cores, accumulator staged)", "graph: linear bf16 1024x8192x8192 + bias + relu (1 kernel)", "graph: linear bf16 1024x8192x8192 + bias + relu (1 kernel, tensor cores)"):
        rows.append({"name": name, "ms": ms, "TFLOPs": round(2 * 1024 * 8192 * 8192 / ms / 1e9, 3)})
    ms = time_ms(lambda: torch.softmax(F.gelu(F.linear(xl, wl, bl)), -1))
    rows.append({"name": "graph: linear bf16 1024x8192x8192 + bias + gelu + softmax (2 kernels)", "ms": ms, "TFLOPs": round(2 * 1024 * 8192 * 8192 / ms / 1e9, 3)})
    del xl, wl, bl
    xm, wm = ((torch.rand(8192, 8192, device="cuda") * 2 - 1).to(torch.bfloat16) for _ in range(2))
    ms = time_ms(lambda: xm @ wm.T)
    rows.append({"name": "matmul bf16 8192^3", "ms": ms, "TFLOPs": round(2 * 8192**3 / ms / 1e9, 3)})
    del xm, wm
    # f32 on TF32 tensor cores (bench.ts's tf32 row rounds its operands to tf32 likewise).
    torch.backends.cuda.matmul.allow_tf32 = True
    xf, wf, bf = (torch.rand(*s, device="cuda") * 2 - 1 for s in ((1024, 8192), (8192, 8192), (8192,)))
    ms = time_ms(lambda: F.relu(F.linear(xf, wf, bf)))
    rows.append({"name": "linear f32 1024x8192x8192 + bias + relu (tf32)", "ms": ms, "TFLOPs": round(2 * 1024 * 8192 * 8192 / ms / 1e9, 3)})
    torch.backends.cuda.matmul.allow_tf32 = False
    del xf, wf, bf
    qa, ka, va = ((torch.rand(4, 32, 4096, 128, device="cuda") * 2 - 1).to(torch.bfloat16) for _ in range(3))
    for causal in (False, True):
        ms = time_ms(lambda: F.scaled_dot_product_attention(qa, ka, va, is_causal=causal))
        flops = (2 if causal else 4) * 4 * 32 * 4096 * 4096 * 128
        rows.append({"name": "attention bf16 B4 H32 S4096 D128" + (" causal" if causal else ""), "ms": ms, "TFLOPs": round(flops / ms / 1e9, 3)})
    del qa, ka, va
    rows.extend(int4_gemv_rows())
    rows.extend(tilus_rows())
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "results": rows}))


def int4_gemv_rows():
    """PyTorch's int4 weight-only matmul (tinygemm, group 128, bf16) at bench.ts's u4 GEMV shapes, and
    the bf16 GEMV it replaces. The private ops change between versions: a failure is reported, not fatal."""
    n = k = 8192
    group = 128
    rows = []
    try:
        codes = torch.randint(0, 256, (n, k // 2), dtype=torch.uint8, device="cuda")
        packed = torch.ops.aten._convert_weight_to_int4pack(codes, 8)
        scales_zeros = (torch.rand(k // group, n, 2, device="cuda") * 0.1).to(torch.bfloat16)
        for m in (1, 16):
            x = (torch.rand(m, k, device="cuda") * 2 - 1).to(torch.bfloat16)
            ms = time_ms(lambda: torch.ops.aten._weight_int4pack_mm(x, packed, group, scales_zeros))
            moved = n * k // 2 + 2 * 2 * n * k // group + 2 * m * (k + n)
            rows.append({"name": f"u4 GEMV bf16 M={m} N=K=8192 g128", "ms": ms, "GBps": round(moved / ms / 1e6)})
    except Exception as e:  # noqa: BLE001 - a private op; report what happened
        rows.append({"name": "u4 GEMV bf16 (torch int4pack)", "error": repr(e)[:300]})
    w = (torch.rand(n, k, device="cuda") * 2 - 1).to(torch.bfloat16)
    x = (torch.rand(1, k, device="cuda") * 2 - 1).to(torch.bfloat16)
    ms = time_ms(lambda: x @ w.T)
    rows.append({"name": "bf16 GEMV M=1 N=K=8192 (torch only)", "ms": ms, "GBps": round(2 * n * k / ms / 1e6)})
    return rows


def tilus_rows():
    """PyTorch's f16 matmul at Tilus's benchmark shapes (K = 4096, N = 12288), the peer of bench.ts's tilus rows."""
    k, n = 4096, 12288
    w = (torch.rand(n, k, device="cuda") * 2 - 1).to(torch.float16)
    rows = []
    for m in (1, 16, 4096, 4097):
        x = (torch.rand(m, k, device="cuda") * 2 - 1).to(torch.float16)
        ms = time_ms(lambda: x @ w.T)
        rows.append({"name": f"tilus: f16 matmul M={m} K=4096 N=12288 (torch)", "ms": ms, "TFLOPs": round(2 * m * n * k / ms / 1e9, 3), "GBps": round(2 * (n * k + m * (k + n)) / ms / 1e6)})
    return rows


if __name__ == "__main__":
    main()
