#!/usr/bin/env bash
# P1 with more than one instance of the Python-API model on the GPU: the offline reference
# (bench/gpu/python_offline.py) and the served model (bench/gpu/python_resnet50, 256 batch-1
# clients, binary) with per_device 1, 2 and 4 (PER_DEVICE="1 2 4"), side by side in one call.
# Each instance is its own Python program with its own CUDA context: while one receives and
# decodes a batch, another's runs on the GPU. Summary in OUT_DIR/summary.txt.
#
#   bench/gpu/python_instances.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/python_instances.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
gpu_python_backends
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv >"$out/gpu.txt"
log "offline reference"
$python bench/gpu/python_offline.py --seconds "${OFFLINE_S:-8}" >"$out/offline.txt"
for count in ${PER_DEVICE:-1 2 4}; do
  log "served, per_device $count"
  gpu_python_resnet50 "$out/repo-$count" "$count"
  REPOSITORY=$out/repo-$count gpu_serve "per-$count" --http-threads 16
  gpu_bench "served-$count" -m resnet50_py --concurrency 256 --format binary --threads 16 \
    --max-windows 3
  gpu_stop
done
# shellcheck disable=SC2086  # the counts, one argument each
$python - "$out" ${PER_DEVICE:-1 2 4} <<'PY' | tee "$out/summary.txt"
import json, sys
out, counts = sys.argv[1], sys.argv[2:]
best = [json.loads(line) for line in open(f"{out}/offline.txt") if '"best"' in line][0]["best"]
print(f"offline best {best['img_per_s']:.0f} img/s at batch {best['batch']}")
for count in counts:
    level = json.load(open(f"{out}/served-{count}.json"))["levels"][0]
    rps = level["throughput_rps"]
    print(f"per_device {count}: {rps:.0f} img/s, p50 {level['latency_us']['p50'] / 1e3:.1f} ms, "
          f"p99 {level['latency_us']['p99'] / 1e3:.1f} ms, errors {level.get('errors')}: "
          f"P1 {rps / best['img_per_s']:.3f}")
PY
