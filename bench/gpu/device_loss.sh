#!/usr/bin/env bash
# A sticky CUDA error drains its GPU (issue 5), on a real GPU, with both GPU backends:
#   spin   the cuda backend, two workers on the first GPU; a request starting with -1 makes its
#          batch write to an invalid device address (parameters.fault_on_value)
#   index  the torch backend, one worker on the same GPU: a TorchScript table lookup; an index
#          out of range trips a device-side assert (a sticky error of libtorch's own kernels)
# For each: a normal request is answered; the faulting request is answered 500 (retried once,
# after the restart, where it faults again); right after it the GPU is `failed` in
# /v2/devices with the reason and every instance there (of both models) is DRAINED; later the
# GPU is healthy, the model READY and a normal request is answered right again. The server's
# log lines about it and switchyard_device_faults_total are kept.
#
#   bench/gpu/device_loss.sh OUT_DIR
#
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/device_loss.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
gpu_setup
gpu_build_cuda_plugin
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}

models=$out/loss-models
rm -rf "$models" && mkdir -p "$models/spin/1" "$models/index/1"
cat >"$models/spin/config.yaml" <<'EOF'
backend: cuda
max_batch_size: 8
inputs: [{name: x, datatype: FP32, shape: [4]}]
outputs: [{name: y, datatype: FP32, shape: [4]}]
instances: {devices: all, per_device: 2}
batching: {max_queue_delay_us: 0}
parameters: {workload: spin, service_time_us: 200, fault_on_value: -1}
EOF
cat >"$models/index/config.yaml" <<'EOF'
backend: torch
max_batch_size: 8
inputs: [{name: index, datatype: INT64, shape: [4]}]
outputs: [{name: value, datatype: FP32, shape: [4]}]
instances: {devices: all, per_device: 1}
batching: {max_queue_delay_us: 0}
EOF
# TorchScript compiles from source: the maker must be a file (not stdin).
cat >"$out/make_index_model.py" <<'PY'
import sys
import torch


class Lookup(torch.nn.Module):
    """value[i] = 10 * index[i] for an index in [0, 16); outside, on CUDA, a device-side assert."""

    def __init__(self):
        super().__init__()
        self.register_buffer("table", torch.arange(16, dtype=torch.float32) * 10)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return self.table[index]


torch.jit.script(Lookup()).save(sys.argv[1])
PY
$python "$out/make_index_model.py" "$models/index/1/model.pt"

REPOSITORY=$models gpu_serve loss --http-threads 4
$python - "$URL" "$out" <<'PY' | tee "$out/device-loss.txt"
import json, sys, time, urllib.error, urllib.request

url, out = sys.argv[1], sys.argv[2]
summary = {}


def call(method, path, body=None):
    request = urllib.request.Request(url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def infer(model, datatype, values):
    name = "x" if model == "spin" else "index"
    body = json.dumps({"inputs": [{"name": name, "shape": [1, 4], "datatype": datatype,
                                   "data": values}]}).encode()
    return call("POST", f"/v2/models/{model}/infer", body)


def status():
    return json.loads(call("GET", "/v2/status")[1])


def devices():
    return json.loads(call("GET", "/v2/devices")[1])["devices"]


def answer(text):
    return json.loads(text)["outputs"][0]["data"]


for model, datatype, good, expected, bad in (
        ("spin", "FP32", [1.5, 2, 3, 4], [1.5, 2, 3, 4], [-1, 0, 0, 0]),
        ("index", "INT64", [0, 1, 15, 2], [0, 10, 150, 20], [99, 0, 0, 0])):
    code, text = infer(model, datatype, good)
    assert code == 200 and answer(text) == expected, (model, code, text)
    start = time.monotonic()
    fault_code, fault_text = code, text = infer(model, datatype, bad)
    answered_s = time.monotonic() - start
    drained = status()
    gpu = devices()[0]
    print(f"{model}: the faulting request: HTTP {code} after {answered_s:.2f} s: {text}")
    print(f"{model}: GPU0 right after: {gpu['health']}: {gpu['health_detail']}")
    for m in drained["models"]:
        for i in m["instances"]:
            print(f"{model}:   {i['name']}: {i['state']} {i['drained']} | {i['last_error'][:160]}")
    assert code == 500, (model, code, text)
    for _ in range(600):
        st = status()
        if devices()[0]["health"] == "healthy" and all(
                i["state"] == "READY" for m in st["models"] for i in m["instances"]):
            break
        time.sleep(0.1)
    healthy_s = time.monotonic() - start
    code, text = infer(model, datatype, good)
    print(f"{model}: healthy and ready again {healthy_s:.2f} s after the faulting request; "
          f"then a normal request: HTTP {code} {answer(text) if code == 200 else text}")
    assert code == 200 and answer(text) == expected, (model, code, text)
    summary[model] = {"fault_status": fault_code, "fault_answered_s": answered_s,
                      "healthy_again_s": healthy_s, "gpu_right_after": gpu,
                      "error": fault_text}
metrics = call("GET", "/metrics")[1]
faults = [line for line in metrics.splitlines() if line.startswith("switchyard_device_faults_total")]
print("\n".join(faults))
summary["faults_metric"] = faults
json.dump(summary, open(f"{out}/device-loss.json", "w"), indent=2)
print("device loss: both backends drained and recovered their GPU")
PY
gpu_stop
grep -E "lost GPU|failed: |no longer failed|worker restarted|new worker is ready" \
  "$out/serve-loss.log" | tee "$out/device-loss-log.txt"
log "done: results in $out"
