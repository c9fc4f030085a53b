#!/usr/bin/env bash
# First step of the GPU benchmark suite (issue 5): on a GPU machine, serve ResNet-50 through the
# whole server (NVML devices, a worker process pinned by CUDA_VISIBLE_DEVICES, the torch plugin)
# and measure it against the plugin's own offline throughput in the same run.
#
#   bench/gpu/smoke.sh OUT_DIR
#
# Needs the carried build described in bench/gpu/lib.sh. Runs:
#   offline  torch_plugin_driver: the plugin alone at batch 1 and 128 (the G2/G4 references)
#   served   `switchyard bench` against `switchyard serve`, binary FP16 inputs, concurrency
#            1 (G4), 64 and 256 (G2), one GPU.
# Writes logs and JSON to OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/smoke.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
gpu_make_models resnet50
log "devices"
"$bin" devices --model-repository "$out/models" | tee "$out/devices.txt"

log "offline (the plugin alone)"
gpu_offline_resnet50 30 1 128

log "served"
gpu_serve one --http-threads 8
curl -sf "$URL/v2/status" >"$out/status.json"
"$bin" bench -m resnet50 --url "$URL" --concurrency 1,64,256 --format binary --threads 8 \
  --json-out "$out/served.json" | tee "$out/served.txt"
curl -sf "$URL/metrics" | grep -E "^switchyard_gpu_" >"$out/gpu-metrics.txt" || true
gpu_stop
log "done: results in $out"
