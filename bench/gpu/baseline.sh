#!/usr/bin/env bash
# G3 vs the common design (BENCHMARKS.md): switchyard on every GPU of the machine against one
# Python process that round-robins batch-1 requests over one model copy per GPU on a thread pool
# (bench/baselines/common_server.py --torchscript), same models, same client (256 batch-1
# clients, binary), in one run. Bar: switchyard >= 10 x the baseline's throughput.
#
#   bench/gpu/baseline.sh OUT_DIR [PER_DEVICE]
#
# PER_DEVICE: switchyard instances per GPU (default 1). MODELS: space-separated (default
# "resnet50 bert"); MODEL_ARGS: make_models.py options (the baseline loads the same model.pt).
# Needs the carried build described in bench/gpu/lib.sh, and aiohttp in $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/baseline.sh OUT_DIR [PER_DEVICE]}
per_device=${2:-1}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
models=${MODELS:-resnet50 bert}
gpu_make_models "${models// /,}"
gpus=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | wc -l)
devices=$(seq -s, -f 'cuda:%g' 0 $((gpus - 1)))

tensors() {  # MODEL: the baseline's --input/--output flags
  case $1 in
    resnet50) echo "--input input:FP16:3,224,224 --output logits:FP16:1000" ;;
    bert) echo "--input input_ids:INT64:128 --output pooled:FP16:768" ;;
    *) echo "unknown model $1" >&2; return 1 ;;
  esac
}

# The baseline takes the place of the server in gpu_bench (SERVER_PID, URL).
baseline_serve() {  # MODEL
  local port_file=$out/port-baseline-$1 flags
  flags=$(tensors "$1")
  rm -f "$port_file"
  # shellcheck disable=SC2086
  $python bench/baselines/common_server.py --model "$1" \
    --torchscript "$out/models/$1/1/model.pt" --devices "$devices" $flags \
    --host 127.0.0.1 --port 0 --port-file "$port_file" >"$out/baseline-$1.log" 2>&1 &
  SERVER_PID=$!
  gpu_wait_ready "$port_file" "$out/baseline-$1.log"
}

for model in $models; do
  log "G3 $model: the common design on $gpus GPU(s)"
  baseline_serve "$model"
  gpu_bench "baseline-$model" -m "$model" --concurrency 256 --format binary --threads 16 \
    --max-windows 3
  gpu_stop
  log "G3 $model: switchyard on $gpus GPU(s), $per_device instance(s) per GPU"
  printf 'instances: {per_device: %s}\n' "$per_device" >>"$out/models/$model/config.yaml"
  gpu_serve "$model" --http-threads 16
  gpu_bench "switchyard-$model" -m "$model" --concurrency 256 --format binary --threads 16
  curl -sf "$URL/v2/models/$model/stats" >"$out/stats-$model.json" || true
  gpu_stop
done

$python - "$out" "$gpus" $models <<'PY'
import json, sys
out, gpus, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
summary = {"benchmark": "G3 vs common design", "gpus": gpus, "bar": 10, "models": {}}
for model in models:
    base = json.load(open(f"{out}/baseline-{model}.json"))["levels"][0]
    ours = json.load(open(f"{out}/switchyard-{model}.json"))["levels"][0]
    ratio = ours["throughput_rps"] / base["throughput_rps"]
    summary["models"][model] = {"baseline_rps": base["throughput_rps"],
                                "switchyard_rps": ours["throughput_rps"], "ratio": ratio,
                                "baseline_errors": base.get("errors"), "met": ratio >= 10}
    print(f"G3: {model}, {gpus} GPU(s), 256 clients: common design {base['throughput_rps']:.0f} "
          f"req/s, switchyard {ours['throughput_rps']:.0f} req/s, ratio {ratio:.1f} "
          f"(bar >= 10: {'met' if ratio >= 10 else 'NOT MET'})")
json.dump(summary, open(f"{out}/summary-g3.json", "w"), indent=2)
PY
log "done: results in $out"
