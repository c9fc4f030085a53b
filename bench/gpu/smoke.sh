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
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
trap 'gpu_stop' EXIT

gpu_setup
gpu_make_models resnet50
log "devices"
"$bin" devices --model-repository "$out/models" | tee "$out/devices.txt"

log "offline (the plugin alone)"
resnet=(--plugin "$out/backends/libswitchyard_backend_torch.so"
        --model-file "$out/models/resnet50/1/model.pt" --max-batch 128 --gpus 1
        --input input:FP16:3,224,224 --output logits:FP16:1000 --rows 1)
for requests in 1 128; do
  "$out/torch_plugin_driver" "${resnet[@]}" --requests $requests --iterations 30 \
    | tee "$out/offline-b$requests.txt"
done

log "served"
gpu_serve one --http-threads 8
curl -sf "$URL/v2/status" >"$out/status.json"
"$bin" bench -m resnet50 --url "$URL" --concurrency 1,64,256 --format binary --threads 8 \
  --json-out "$out/served.json" | tee "$out/served.txt"
curl -sf "$URL/metrics" | grep -E "^switchyard_gpu_" >"$out/gpu-metrics.txt" || true
gpu_stop
log "done: results in $out"
