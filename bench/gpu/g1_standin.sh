#!/usr/bin/env bash
# G1's serving path with compute that scales perfectly (issue 5): a sim model with ResNet-50's
# tensors (FP16 [3,224,224] in, FP16 [1000] out, max batch 128) whose batch time is shaped like
# ResNet-50's own on an H200 (channels-last: 2.84 ms at 32, 4.85 at 64, 8.88 at 128; fitted
# as 820 us + 63 us per image), served in worker processes on one and on two simulated GPUs,
# 256 batch-1 clients, binary, 16 HTTP threads: G1's load, with a GPU that costs no CPU. A
# simulated GPU runs its batches one after another, so what separates the ratio from 2 is the
# batch size the clients leave each GPU (the model's curve: 2 E(64) / E(128) = 1.83) and the
# serving path. Per run: req/s, mean batch size, and the model's own rate at that batch size.
#
#   bench/gpu/g1_standin.sh OUT_DIR
#
# SERVICE_US, PER_ITEM_US: the batch time (default 820 and 63). Needs no GPU; run it on the GPU
# host for its cores. Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/g1_standin.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
service_us=${SERVICE_US:-820}
per_item_us=${PER_ITEM_US:-63}
mkdir -p "$out/backends"
cp build/backends/libswitchyard_backend_sim.so "$out/backends/"
nproc >"$out/nproc.txt"

standin=$out/standin-models
gpu_standin_model "$standin" "{per_device: 1, isolation: process}" "" \
  "{function: zeros, service_time_us: $service_us, service_time_per_item_us: $per_item_us}"
for gpus in 1 2; do
  log "$gpus simulated GPU(s)"
  REPOSITORY=$standin gpu_serve "standin-${gpus}gpu" --http-threads 16 \
    --simulate-gpus "${gpus}x80GB"
  gpu_bench "standin-${gpus}gpu" -m resnet_io --concurrency 256 --format binary --threads 16
  curl -sf "$URL/v2/status" >"$out/status-${gpus}gpu.json"
  gpu_stop
done

$python - "$out" "$service_us" "$per_item_us" <<'PY'
import json, sys
out, service_us, per_item_us = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
rate = lambda b: b / ((service_us + per_item_us * b) / 1e6)  # the model's own img/s at batch b
rows = {}
for gpus in (1, 2):
    level = json.load(open(f"{out}/standin-{gpus}gpu.json"))["levels"][0]
    instances = level["instances"]
    batch = sum(i["items"] for i in instances) / max(1, sum(i["batches"] for i in instances))
    rows[gpus] = (level["throughput_rps"], batch)
    print(f"{gpus} simulated GPU(s): {level['throughput_rps']:.0f} req/s, mean batch {batch:.1f}; "
          f"the model's rate at that batch {gpus * rate(batch):.0f} img/s "
          f"({level['throughput_rps'] / (gpus * rate(batch)):.2f} of it)")
ratio = rows[2][0] / rows[1][0]
print(f"ratio 2/1: {ratio:.2f}; the curve's cap 2 E(64) / E(128) = {2 * rate(64) / rate(128):.2f}")
json.dump({"service_us": service_us, "per_item_us": per_item_us,
           "one_rps": rows[1][0], "one_batch": rows[1][1], "two_rps": rows[2][0],
           "two_batch": rows[2][1], "ratio": ratio}, open(f"{out}/summary.json", "w"), indent=2)
PY
log "done: results in $out"
