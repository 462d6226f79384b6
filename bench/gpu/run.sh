#!/usr/bin/env bash
# The GPU checks and benchmarks, in one call on the GPU machine (see ../shared/GPU.md):
#   here:   bash bench/gpu/run.sh pack      (bundles the code and Node into .device/, ignored by git)
#   there:  bash bench/gpu/run.sh           (with .device carried; results under $OUT)
# Steps: the runtime smoke test, the CUDA backend against the interpreter (examples, benchmark kernels
# and random programs: bench/gpu/check.ts), then tskc's benchmarks and PyTorch's in the same call, and
# a table of both. Exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = pack ]; then
  set -e
  mkdir -p .device
  for entry in smoke check bench; do
    npx esbuild "bench/gpu/$entry.ts" --bundle --platform=node --format=esm --external:koffi --outfile=".device/$entry.mjs" --log-level=warning
  done
  # koffi and its prebuilt native module (a separate package) are all the bundles leave outside.
  mkdir -p .device/node_modules/@koromix && rm -rf .device/node_modules/koffi .device/node_modules/@koromix/koffi-linux-x64
  cp -r node_modules/koffi .device/node_modules/ && cp -r node_modules/@koromix/koffi-linux-x64 .device/node_modules/@koromix/
  [ -f .device/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  du -sh .device
  exit 0
fi
OUT="${OUT:-/tmp/tskc-gpu-out}"
mkdir -p "$OUT"
export OUT
xz -d -c .device/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
status=0
timeout 60 /tmp/node .device/smoke.mjs > "$OUT/smoke.txt" 2>&1 || { status=1; echo "smoke test failed:"; tail -20 "$OUT/smoke.txt"; }
timeout "${TSKC_CHECK_TIMEOUT:-240}" /tmp/node .device/check.mjs 2>&1 | tee "$OUT/check.txt" | tail -45
[ "${PIPESTATUS[0]}" = 0 ] || status=1
timeout 180 /tmp/node .device/bench.mjs > "$OUT/bench.txt" 2> "$OUT/bench.err" || { status=1; echo "bench failed:"; tail -20 "$OUT/bench.err"; }
timeout 120 python3 bench/gpu/torch_peer.py > "$OUT/torch.txt" 2> "$OUT/torch.err" || { echo "torch peer failed:"; tail -5 "$OUT/torch.err"; }
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
def load(name):
    try:
        return json.loads(open(os.path.join(out, name)).read().strip().splitlines()[-1])
    except Exception:
        return {"results": []}
ours, torch = load("bench.txt"), load("torch.txt")
peer = {r["name"]: r for r in torch["results"]}
print(f"\n{'benchmark':44} {'tskc ms':>9} {'torch ms':>9} {'tskc rate':>12} {'torch rate':>12} {'tskc/torch':>10}")
for r in ours["results"]:
    p = peer.get(r["name"], {})
    unit = "GBps" if "GBps" in r else "TFLOPs"
    ratio = p["ms"] / r["ms"] if p else float("nan")
    print(f"{r['name']:44} {r['ms']:9.4f} {p.get('ms', float('nan')):9.4f} {str(r.get(unit)) + ' ' + unit:>12} {str(p.get(unit)) + ' ' + unit:>12} {ratio:10.2f}")
print("nvrtc cold / cached load (ms):", [(r["name"].split()[0], r["nvrtcColdMs"], r["cachedLoadMs"]) for r in ours["results"]])
PY
exit $status
