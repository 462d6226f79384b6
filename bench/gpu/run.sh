#!/usr/bin/env bash
# The GPU checks, in one call on the GPU machine (see ../shared/GPU.md):
#   here:   bash bench/gpu/run.sh pack      (bundles the code and Node into .device/, ignored by git)
#   there:  bash bench/gpu/run.sh           (with .device carried)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = pack ]; then
  mkdir -p .device
  npx esbuild bench/gpu/smoke.ts --bundle --platform=node --format=esm --external:koffi --outfile=.device/smoke.mjs --log-level=warning
  # koffi and its prebuilt native module (a separate package) are all the bundle leaves outside.
  mkdir -p .device/node_modules/@koromix && rm -rf .device/node_modules/koffi .device/node_modules/@koromix/koffi-linux-x64
  cp -r node_modules/koffi .device/node_modules/ && cp -r node_modules/@koromix/koffi-linux-x64 .device/node_modules/@koromix/
  [ -f .device/node.xz ] || xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  du -sh .device
  exit 0
fi
xz -d -c .device/node.xz > /tmp/node && chmod +x /tmp/node
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
/tmp/node .device/smoke.mjs
