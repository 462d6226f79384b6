#!/usr/bin/env bash
# The GPU checks and benchmarks, in one call on the GPU machine (see ../shared/GPU.md):
#   here:   bash bench/gpu/run.sh pack      (bundles the code and Node into .device/, ignored by git)
#   there:  bash bench/gpu/run.sh           (with .device carried; results under $OUT)
# Steps: the runtime smoke test, the CUDA backend against the interpreter (examples, library kernels,
# random tiled matmuls, graph kernels and random programs: bench/gpu/check.ts), tskc's CUDA benchmarks (bench.ts) and
# PyTorch's (torch_peer.py) in the same call, then the WGSL backend through Dawn on NVIDIA's Vulkan
# driver (check.ts again, webgpu-bench.ts), and a table of all three. Exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = pack ]; then
  set -e
  mkdir -p .device
  for entry in smoke check bench webgpu-bench; do
    npx esbuild "bench/gpu/$entry.ts" --bundle --platform=node --format=esm --external:koffi --external:webgpu --outfile=".device/$entry.mjs" --log-level=warning
  done
  # koffi and its prebuilt native module (a separate package) are all the bundles leave outside.
  mkdir -p .device/node_modules/@koromix && rm -rf .device/node_modules/koffi .device/node_modules/@koromix/koffi-linux-x64
  cp -r node_modules/koffi .device/node_modules/ && cp -r node_modules/@koromix/koffi-linux-x64 .device/node_modules/@koromix/
  # Dawn: its loader script and the linux-x64 dawn.node only (the package is 132 MB).
  rm -rf .device/node_modules/webgpu && mkdir -p .device/node_modules/webgpu/dist/linux-x64
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/node_modules/webgpu/
  cp node_modules/webgpu/dist/linux-x64/dawn.node .device/node_modules/webgpu/dist/linux-x64/
  # The Vulkan loader and the glvnd libraries NVIDIA's ICD (libGLX_nvidia) links against, which the GPU
  # machine lacks (see the device README): Debian's amd64 packages.
  if ! ls .device/gl/libglvnd0_*.deb > /dev/null 2>&1; then
    rm -rf .device/gl && mkdir -p .device/gl /tmp/tskc-amd64/partial
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/tskc-amd64'
    apt-get $o update -qq
    (cd .device/gl && apt-get $o download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2)
  fi
  [ -f .device/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  du -sh .device
  exit 0
fi
# Everything is written to a work folder and comes back as one archive plus the table: the device tool
# returns at most 8 files from $OUT.
RETURN="${OUT:-/tmp/tskc-gpu-out}"
OUT=/tmp/tskc-gpu-results
rm -rf "$OUT" && mkdir -p "$OUT" "$RETURN"
export OUT
# The archive is refreshed after every step, so a run cut short still returns what it did.
snapshot() { tar czf "$RETURN/results.tar.gz" -C "$OUT" . 2>/dev/null; }
trap 'snapshot; cp "$OUT/table.txt" "$RETURN/" 2>/dev/null' EXIT
# TSKC_GPU_STEPS picks steps (all by default); each has its own time limit, together 550 s, so that the
# whole fits one call of one lease (GPU.md): call the device tool with timeout_s 600. The CUDA checks
# and benchmarks and PyTorch's first, WebGPU after. The limits follow session 22's H200 run: the whole
# CUDA bench in 40 s once its compiles ran in parallel, the WebGPU bench cut short at 80 s. `timeout -k`: a
# node process inside a CUDA driver call can ignore SIGTERM, and a plain timeout then waits forever.
# `profile` (not run by default): Nsight Compute on the bench cases whose names contain the '|'-separated
# strings of TSKC_PROFILE_CASES, one launch each after the warm-up, a text report each under $OUT.
ALL_STEPS="smoke check bench torch webgpu-check webgpu-bench"
STEPS=" ${TSKC_GPU_STEPS:-$ALL_STEPS} "
for step in $STEPS; do
  [[ " $ALL_STEPS profile " == *" $step "* ]] || { echo "run.sh: unknown step '$step' in TSKC_GPU_STEPS (steps: $ALL_STEPS profile)" >&2; exit 2; }
done
want() { [[ "$STEPS" == *" $1 "* ]]; }
xz -d -c .device/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
status=0
if want smoke; then
  timeout -k 10 "${TSKC_SMOKE_TIMEOUT:-30}" /tmp/node .device/smoke.mjs > "$OUT/smoke.txt" 2>&1 || { status=1; echo "smoke test failed:"; tail -20 "$OUT/smoke.txt"; }
  snapshot
fi
if want check; then
  TSKC_CHECK_BUDGET_S=$((${TSKC_CHECK_TIMEOUT:-140} - 15)) timeout -k 10 "${TSKC_CHECK_TIMEOUT:-140}" /tmp/node .device/check.mjs 2>&1 | tee "$OUT/check.txt" | tail -45
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  snapshot
fi
if want bench; then
  TSKC_BENCH_BUDGET_S="${TSKC_BENCH_BUDGET_S:-90}" timeout -k 10 "${TSKC_BENCH_TIMEOUT:-110}" /tmp/node .device/bench.mjs > "$OUT/bench.txt" 2> "$OUT/bench.err" || { status=1; echo "bench failed:"; tail -20 "$OUT/bench.err"; }
  snapshot
fi
if want profile; then
  ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  IFS='|' read -ra profiled <<< "${TSKC_PROFILE_CASES:-matmul bf16 8192}"
  for i in "${!profiled[@]}"; do
    # The bench's 3 warm-up launches skipped; its NVRTC compile in the same process (no precompiling children to follow).
    # OUT emptied: the profiled bench must not overwrite the bench step's bench.json.
    OUT= TSKC_BENCH_ONLY="${profiled[$i]}" TSKC_BENCH_COMPILE_JOBS=1 timeout -k 10 "${TSKC_PROFILE_TIMEOUT:-60}" "${ncu:-ncu}" --clock-control none --launch-skip 3 --launch-count 1 -k regex:tskc_kernel \
      --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables \
      --section LaunchStats --section Occupancy --section SchedulerStats --section WarpStateStats --section InstructionStats \
      /tmp/node .device/bench.mjs > "$OUT/profile-$i.txt" 2>&1 || echo "profile of '${profiled[$i]}' failed: $(tail -3 "$OUT/profile-$i.txt")"
  done
  snapshot
fi
if want torch; then
  PYTHONUNBUFFERED=1 timeout -k 10 "${TSKC_TORCH_TIMEOUT:-50}" python3 bench/gpu/torch_peer.py > "$OUT/torch.txt" 2> "$OUT/torch.err" || { echo "torch peer failed:"; tail -5 "$OUT/torch.err"; }
  snapshot
fi
# WebGPU: the Vulkan loader and glvnd unpacked, and NVIDIA's ICD named where the loader does not find it.
if want webgpu-check || want webgpu-bench; then
  for deb in .device/gl/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
fi
if want webgpu-check; then
  TSKC_CHECK_DEVICE=webgpu TSKC_FUZZ_RUNS="${TSKC_WEBGPU_FUZZ_RUNS:-40}" TSKC_CHECK_BUDGET_S=$((${TSKC_WEBGPU_CHECK_TIMEOUT:-70} - 15)) timeout -k 10 "${TSKC_WEBGPU_CHECK_TIMEOUT:-70}" /tmp/node .device/check.mjs 2>&1 | grep -v '^Warning: max' | tee "$OUT/check-webgpu.txt" | tail -20
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  snapshot
fi
if want webgpu-bench; then
  timeout -k 10 "${TSKC_WEBGPU_BENCH_TIMEOUT:-150}" /tmp/node .device/webgpu-bench.mjs > "$OUT/webgpu-bench.txt" 2> "$OUT/webgpu-bench.err" || { status=1; echo "webgpu bench failed:"; tail -20 "$OUT/webgpu-bench.err"; }
  snapshot
fi
python3 - "$OUT" <<'PY' | tee "$OUT/table.txt"
import json, sys, os
out = sys.argv[1]
def load(name, rows=None):
    # The last line of a step's stdout is its report; a step killed by its timeout leaves none, and then
    # the rows it printed to stderr as it went are what there is.
    try:
        return json.loads(open(os.path.join(out, name)).read().strip().splitlines()[-1])
    except Exception:
        results = []
        try:
            lines = open(os.path.join(out, rows)).readlines() if rows else []
        except OSError:
            lines = []
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short when the step was killed
            if "name" in row:  # a result, not a progress line (the bench's precompile summary)
                results.append(row)
        return {"results": results}
ours, torch, webgpu = load("bench.txt", "bench.err"), load("torch.txt"), load("webgpu-bench.txt", "webgpu-bench.err")
ours["results"] = [r for r in ours["results"] if "ms" in r or print(f"tskc {r['name']}: {r.get('error')}")]
webgpu["results"] = [r for r in webgpu["results"] if "ms" in r or print(f"webgpu {r['name']}: {r.get('error')}")]
peer = {r["name"]: r for r in torch["results"]}
wgpu = {r["name"]: r for r in webgpu["results"]}
print(f"\n{'benchmark':44} {'tskc ms':>9} {'torch ms':>9} {'tskc rate':>12} {'torch rate':>12} {'tskc/torch':>10} {'webgpu rate':>12} {'webgpu/cuda':>11}")
for r in ours["results"]:
    # A variant (its name's parenthetical: tiles, options) is set against PyTorch's same computation.
    p, w = peer.get(r["name"]) or peer.get(r["name"].split(" (")[0], {}), wgpu.get(r["name"], {})
    p = p if "ms" in p else {}
    unit = "GBps" if "GBps" in r else "TFLOPs"
    ratio = p["ms"] / r["ms"] if p else float("nan")
    wratio = r["ms"] / w["ms"] if w else float("nan")
    print(f"{r['name']:44} {r['ms']:9.4f} {p.get('ms', float('nan')):9.4f} {str(r.get(unit)) + ' ' + unit:>12} {str(p.get(unit)) + ' ' + unit:>12} {ratio:10.2f} {str(w.get(unit, '-')) + ' ' + unit:>12} {wratio:11.2f}")
shown = {r["name"] for r in ours["results"]}
for w in webgpu["results"]:
    if w["name"] not in shown:
        print(f"{'webgpu ' + w['name']:44} {w['ms']:9.4f} {'':9} {str(w.get('GBps')) + ' GBps':>12}")
for p in torch["results"]:
    if p["name"] not in shown:
        print(f"{'torch ' + p['name']:44} {'':9} {p['ms']:9.4f} {'':12} {str(p.get('GBps')) + ' GBps':>12}" if "ms" in p else f"torch {p['name']}: {p.get('error')}")
print("nvrtc cold / cached load (ms):", [(r["name"], r["nvrtcColdMs"], r["cachedLoadMs"]) for r in ours["results"]])
PY
exit $status
