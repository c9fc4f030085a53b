#!/usr/bin/env bash
# P1 and P2 (BENCHMARKS.md) on one GPU, in one call:
#  - offline: the eager ResNet-50 of bench/models/eager_resnet50.py in Python at batch 16, 32, 64
#    and 128, host numpy in and out (bench/gpu/python_offline.py); the best is P1's reference;
#  - served: the same model written against the Python API (bench/gpu/python_resnet50, a
#    `backend: python` model with declared FP16 tensors), 256 batch-1 clients, binary;
#  - the common design: bench/baselines/common_server.py --eager (one aiohttp process, round
#    robin, batch 1) serving the same model, the same clients.
# Bars: served >= 0.85 x offline best (P1); served >= 10 x the common design (P2).
#
#   bench/gpu/python_models.sh OUT_DIR
#
# Needs the carried build (bench/gpu/lib.sh: build/bin, build/backends with the exec plugin and
# its python/ runner, build/gpu-libs) and torch, torchvision, numpy and aiohttp in $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/python_models.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

log "versions"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$python -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision",
torchvision.__version__)' | tee -a "$out/gpu.txt"
gpu_python_backends

log "P1 reference: offline, host numpy in and out"
$python bench/gpu/python_offline.py --seconds "${OFFLINE_S:-8}" | tee "$out/offline.txt"

log "P2 reference: the common design serving the same eager model"
port_file=$out/port-common
PYTHONPATH=bench/models $python bench/baselines/common_server.py --model resnet50_py --eager \
  --devices cuda:0 --input input:FP16:3,224,224 --output logits:FP16:1000 \
  --host 127.0.0.1 --port 0 --port-file "$port_file" >"$out/common.log" 2>&1 &
SERVER_PID=$!
gpu_wait_ready "$port_file" "$out/common.log"
gpu_bench common -m resnet50_py --concurrency 256 --format binary --threads 16 --max-windows 3
gpu_stop

log "P1: served through the Python API"
gpu_python_resnet50 "$out/repository" 1
REPOSITORY=$out/repository gpu_serve python --http-threads 16
gpu_bench served -m resnet50_py --concurrency 256 --format binary --threads 16
curl -sf "$URL/v2/models/resnet50_py/stats" >"$out/served-stats.json" || true
curl -sf "$URL/v2/status" >"$out/served-status.json" || true
gpu_stop

$python - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys
out = sys.argv[1]
best = [json.loads(line) for line in open(f"{out}/offline.txt") if '"best"' in line][0]["best"]
served = json.load(open(f"{out}/served.json"))["levels"][0]
common = json.load(open(f"{out}/common.json"))["levels"][0]
p1 = served["throughput_rps"] / best["img_per_s"]
p2 = served["throughput_rps"] / common["throughput_rps"]
summary = {"offline_best": best, "served_rps": served["throughput_rps"],
           "served_latency_us": served["latency_us"], "served_errors": served.get("errors"),
           "common_rps": common["throughput_rps"], "common_errors": common.get("errors"),
           "p1": p1, "p1_met": p1 >= 0.85, "p2": p2, "p2_met": p2 >= 10}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"P1: served {served['throughput_rps']:.0f} img/s, offline best {best['img_per_s']:.0f} "
      f"img/s at batch {best['batch']}: {p1:.3f} (bar >= 0.85: {'met' if p1 >= 0.85 else 'NOT MET'})")
print(f"P2: served {served['throughput_rps']:.0f} req/s, common design "
      f"{common['throughput_rps']:.0f} req/s: {p2:.1f} x (bar >= 10: "
      f"{'met' if p2 >= 10 else 'NOT MET'})")
PY
log "done: results in $out"
