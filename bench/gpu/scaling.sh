#!/usr/bin/env bash
# G1 scaling (BENCHMARKS.md): a model served on every GPU of the machine against the same
# server on its first GPU alone (CUDA_VISIBLE_DEVICES), 256 batch-1 clients, binary FP16, in one
# run. Bar: throughput on N GPUs >= 0.97 N x on 1 GPU.
#
#   bench/gpu/scaling.sh OUT_DIR [PER_DEVICE]
#
# PER_DEVICE: instances per GPU (default 1; the model's config leaves it auto otherwise).
# INSTANCES: the whole `instances:` mapping instead, e.g. "{per_device: 2, max_inflight_batches:
# 1}" (two workers per GPU taking one batch each, so one's copies overlap the other's compute).
# MODELS: the models, space-separated (default resnet50; BENCHMARKS.md's G1 has resnet50 bert).
# SERVE_ARGS: more `switchyard serve` arguments (e.g. "--body-pool-mb 0").
# Each level also samples CPU use per thread. Needs the carried build described in
# bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/scaling.sh OUT_DIR [PER_DEVICE]}
per_device=${2:-1}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
models=${MODELS:-resnet50}
gpu_make_models "${models// /,}"
gpus=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | wc -l)

run() {  # MODEL NAME: serve, bench at 256 clients, stop
  # shellcheck disable=SC2086
  gpu_serve "$1-$2" --http-threads 16 ${SERVE_ARGS:-}
  curl -sf "$URL/v2/status" >"$out/status-$1-$2.json"
  gpu_bench "$1-$2" -m "$1" --concurrency 256 --format binary --threads 16
  curl -sf "$URL/v2/models/$1/stats" >"$out/stats-$1-$2.json" || true
  curl -sf "$URL/v2/status" >"$out/status-$1-$2-after.json" || true
  gpu_stop
}
for model in $models; do
  printf 'instances: %s\n' "${INSTANCES:-{per_device: $per_device\}}" \
    >>"$out/models/$model/config.yaml"
  cp "$out/models/$model/config.yaml" "$out/config-$model.yaml"
  CUDA_VISIBLE_DEVICES=0 run "$model" one-gpu
  run "$model" all-gpus
done

$python - "$out" "$gpus" $models <<'PY'
import json, sys
out, gpus, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
bar = 0.97 * gpus
summary = {"benchmark": "G1 scaling", "gpus": gpus, "bar": bar, "models": {}}
for model in models:
    one = json.load(open(f"{out}/{model}-one-gpu.json"))["levels"][0]["throughput_rps"]
    all_ = json.load(open(f"{out}/{model}-all-gpus.json"))["levels"][0]["throughput_rps"]
    ratio = all_ / one
    summary["models"][model] = {"one_gpu_rps": one, "all_gpus_rps": all_, "ratio": ratio,
                                "met": ratio >= bar}
    print(f"G1 scaling: {model}, 256 clients: 1 GPU {one:.0f} req/s, {gpus} GPUs {all_:.0f} "
          f"req/s, ratio {ratio:.2f} (bar >= {bar:.2f}: {'met' if ratio >= bar else 'NOT MET'})")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
PY
log "done: results in $out"
