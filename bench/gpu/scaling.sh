#!/usr/bin/env bash
# G1 scaling (BENCHMARKS.md): ResNet-50 served on every GPU of the machine against the same
# server on its first GPU alone (CUDA_VISIBLE_DEVICES), 256 batch-1 clients, binary FP16, in one
# run. Bar: throughput on N GPUs >= 0.97 N x on 1 GPU.
#
#   bench/gpu/scaling.sh OUT_DIR [PER_DEVICE]
#
# PER_DEVICE: instances per GPU (default 1; the model's config leaves it auto otherwise). Needs the
# carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/scaling.sh OUT_DIR [PER_DEVICE]}
per_device=${2:-1}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
trap 'gpu_stop' EXIT

gpu_setup
gpu_make_models resnet50
printf 'instances: {per_device: %s}\n' "$per_device" >>"$out/models/resnet50/config.yaml"
cp "$out/models/resnet50/config.yaml" "$out/config.yaml"
gpus=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | wc -l)

run() {  # NAME: serve, bench at 256 clients, stop
  gpu_serve "$1" --http-threads 16
  curl -sf "$URL/v2/status" >"$out/status-$1.json"
  "$bin" bench -m resnet50 --url "$URL" --concurrency 256 --format binary --threads 16 \
    --json-out "$out/$1.json" | tee "$out/$1.txt"
  gpu_stop
}
CUDA_VISIBLE_DEVICES=0 run one-gpu
run all-gpus

$python - "$out" "$gpus" <<'PY'
import json, sys
out, gpus = sys.argv[1], int(sys.argv[2])
one = json.load(open(f"{out}/one-gpu.json"))["levels"][0]["throughput_rps"]
all_ = json.load(open(f"{out}/all-gpus.json"))["levels"][0]["throughput_rps"]
ratio = all_ / one
bar = 0.97 * gpus
summary = {"benchmark": "G1 scaling", "model": "resnet50", "gpus": gpus, "one_gpu_rps": one,
           "all_gpus_rps": all_, "ratio": ratio, "bar": bar, "met": ratio >= bar}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"G1 scaling: resnet50, 256 clients: 1 GPU {one:.0f} req/s, {gpus} GPUs {all_:.0f} req/s, "
      f"ratio {ratio:.2f} (bar >= {bar:.2f}: {'met' if ratio >= bar else 'NOT MET'})")
PY
log "done: results in $out"
