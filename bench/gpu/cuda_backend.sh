#!/usr/bin/env bash
# The cuda backend behind the server on real GPUs (issue 5): a `spin` model (a timed kernel of
# known cost per batch; output = input, copied to the GPU and back) served in worker processes.
#   check        one binary request: the answer equals the input
#   one-gpu      the first GPU alone (CUDA_VISIBLE_DEVICES), 256 batch-1 clients, binary
#   all-gpus     every GPU, the same load (G1's ratio without a framework)
#   c1           concurrency 1 on the first GPU: p50 against the server's own compute time
# The model's ceiling per GPU is max_batch / (service_time + max_batch * per_item).
#
#   bench/gpu/cuda_backend.sh OUT_DIR
#
# Builds the plugin on this machine (backends/cuda stand-alone, into build/gpu-cuda). Needs the
# carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/cuda_backend.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

service_us=2000
per_item_us=20
max_batch=64

log "versions"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
gpu_build_cuda_plugin
mkdir -p "$out/models/spin/1"
cat >"$out/models/spin/config.yaml" <<EOF
backend: cuda
max_batch_size: $max_batch
inputs: [{name: x, datatype: FP32, shape: [1024]}]
outputs: [{name: y, datatype: FP32, shape: [1024]}]
instances: {devices: all, per_device: 1}
parameters: {workload: spin, service_time_us: $service_us, per_item_us: $per_item_us}
batching: {max_queue_delay_us: 0}  # a lone request is not held back (c1); 256 clients fill batches
EOF

check() {  # one request whose answer must equal its input
  $python - "$URL" <<'PY'
import json, struct, sys, urllib.request
values = [float(i) * 0.5 - 100 for i in range(1024)]
raw = struct.pack("<1024f", *values)
header = json.dumps({"inputs": [{"name": "x", "shape": [1, 1024], "datatype": "FP32",
                                 "parameters": {"binary_data_size": len(raw)}}],
                     "parameters": {"binary_data_output": True}}).encode()
request = urllib.request.Request(sys.argv[1] + "/v2/models/spin/infer", data=header + raw,
                                 headers={"Inference-Header-Content-Length": str(len(header))})
with urllib.request.urlopen(request, timeout=30) as response:
    body = response.read()
    length = int(response.headers["Inference-Header-Content-Length"])
answer = struct.unpack("<1024f", body[length:])
assert list(answer) == values, "the answer is not the input"
print("check: the answer equals the input (1024 FP32)")
PY
}

log "one GPU"
CUDA_VISIBLE_DEVICES=0 gpu_serve one-gpu --http-threads 16
check | tee "$out/check.txt"
gpu_bench spin-one-gpu -m spin --concurrency 256 --format binary --threads 16
gpu_bench spin-c1 -m spin --concurrency 1 --format binary --threads 1
curl -sf "$URL/v2/status" >"$out/status-one-gpu.json"
gpu_stop

log "every GPU"
gpu_serve all-gpus --http-threads 16
curl -sf "$URL/v2/status" >"$out/status-all-gpus.json"
gpu_bench spin-all-gpus -m spin --concurrency 256 --format binary --threads 16
gpu_stop

$python - "$out" "$service_us" "$per_item_us" "$max_batch" <<'PY'
import json, sys
out, service_us, per_item_us, max_batch = sys.argv[1], *map(float, sys.argv[2:])
level = lambda name: json.load(open(f"{out}/{name}.json"))["levels"][0]
gpus = len(json.load(open(f"{out}/status-all-gpus.json"))["models"][0]["instances"])
one, every, c1 = level("spin-one-gpu"), level("spin-all-gpus"), level("spin-c1")
ceiling = max_batch / ((service_us + max_batch * per_item_us) / 1e6)
ratio = every["throughput_rps"] / one["throughput_rps"]
compute = c1.get("server", {}).get("compute_infer_us")
p50 = c1["latency_us"]["p50"]
summary = {"benchmark": "cuda backend behind the server", "gpus": gpus,
           "ceiling_per_gpu_rps": ceiling, "one_gpu_rps": one["throughput_rps"],
           "all_gpus_rps": every["throughput_rps"], "ratio": ratio,
           "c1_p50_us": p50, "c1_compute_infer_us": compute}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"cuda spin: 1 GPU {one['throughput_rps']:.0f} req/s ({one['throughput_rps'] / ceiling:.2f} "
      f"of the ceiling {ceiling:.0f}), {gpus} GPUs {every['throughput_rps']:.0f} req/s, "
      f"ratio {ratio:.2f}")
if compute is not None:
    print(f"cuda spin, concurrency 1: p50 {p50:.1f} us, server compute {compute:.1f} us, "
          f"p50 - compute {p50 - compute:.1f} us")
PY
log "done: results in $out"
