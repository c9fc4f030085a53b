#!/usr/bin/env bash
# `vram_mb: measure` on real GPUs (issue 5): ResNet-50 and BERT with no declared need and
# `per_device: auto`, so the server starts one probe worker per model, reads the device memory it
# reports after load and warm-up at max batch, and places as many instances per GPU as that need
# allows (up to MAX_PER_DEVICE). Records the plan the server printed, /v2/status's needs, the
# instances placed, nvidia-smi's memory per GPU and process, and checks that every instance
# answers a request.
#
#   bench/gpu/measure.sh OUT_DIR
#
# MAX_PER_DEVICE: cap per GPU (default 3). Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/measure.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
gpu_make_models resnet50,bert
for model in resnet50 bert; do
  printf 'instances: {devices: all, per_device: auto, max_per_device: %s}\n' \
    "${MAX_PER_DEVICE:-3}" >>"$out/models/$model/config.yaml"
  cp "$out/models/$model/config.yaml" "$out/config-$model.yaml"
done
gpu_serve measure --http-threads 8
curl -sf "$URL/v2/status" >"$out/status.json"
nvidia-smi --query-gpu=index,memory.used,memory.total --format=csv >"$out/gpu-memory.csv"
nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv >"$out/gpu-processes.csv"
gpu_bench measure-resnet50 -m resnet50 --concurrency 64 --format binary --threads 8
gpu_bench measure-bert -m bert --concurrency 64 --format binary --threads 8
$python - "$out" <<'PY'
import json, sys
out = sys.argv[1]
status = json.load(open(f"{out}/status.json"))
summary = {"benchmark": "vram_mb: measure", "models": {}}
for model in status["models"]:
    level = json.load(open(f"{out}/measure-{model['name']}.json"))["levels"][0]
    placed = [i["device"] for i in model["instances"]]
    summary["models"][model["name"]] = {
        "need_mb": model.get("vram_need_mb"), "need": model.get("vram_need"), "instances": placed,
        "throughput_rps": level["throughput_rps"], "errors": level.get("errors")}
    print(f"{model['name']}: need {model.get('vram_need_mb')} MiB ({model.get('vram_need')}), "
          f"instances {placed}, 64 clients {level['throughput_rps']:.0f} req/s")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
PY
grep -i -A12 'need' "$out/serve-measure.log" | head -40 >"$out/plan.txt" || true
cat "$out/plan.txt" "$out/gpu-memory.csv" "$out/gpu-processes.csv"
log "done: results in $out"
