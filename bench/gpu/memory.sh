#!/usr/bin/env bash
# G5 memory (BENCHMARKS.md): load -> 100 requests -> unload, 20 cycles (ResNet-50, one instance
# per GPU), through the repository API. Bar: every GPU's used memory returns to within 16 MiB of
# what it was before the first load, every cycle.
#
#   bench/gpu/memory.sh OUT_DIR [CYCLES]
#
# Memory is nvidia-smi's memory.used per GPU, read after each unload (polled for up to 10 s
# while the ended workers' memory is released). Needs the carried build described in
# bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/memory.sh OUT_DIR [CYCLES]}
cycles=${2:-20}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
gpu_make_models resnet50
printf 'instances: {per_device: 1}\n' >>"$out/models/resnet50/config.yaml"
gpu_serve g5 --http-threads 4
$python - "$URL" "$out" "$cycles" <<'PY'
import json, subprocess, sys, time, urllib.request
url, out, cycles = sys.argv[1], sys.argv[2], int(sys.argv[3])
BAR_MIB = 16

def used_mib():
    text = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                          check=True, capture_output=True, text=True).stdout
    return [int(line) for line in text.split()]

def post(path):
    request = urllib.request.Request(f"{url}{path}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.status

header = json.dumps({"inputs": [{"name": "input", "datatype": "FP16", "shape": [1, 3, 224, 224],
                                 "parameters": {"binary_data_size": 3 * 224 * 224 * 2}}]}).encode()
body = header + bytes(3 * 224 * 224 * 2)

def infer():
    request = urllib.request.Request(f"{url}/v2/models/resnet50/infer", data=body, method="POST",
                                     headers={"Inference-Header-Content-Length": str(len(header)),
                                              "Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return response.status

def settle(limit_mib, seconds=10):
    """memory.used once every GPU is within limit (or after `seconds`), and the wait."""
    start = time.monotonic()
    while True:
        now = used_mib()
        if all(u <= l for u, l in zip(now, limit_mib)) or time.monotonic() - start > seconds:
            return now, time.monotonic() - start
        time.sleep(0.1)

# serve loaded the model at startup: unload it, and take the baseline once memory is steady
# (two readings a second apart agree; at most 15 s).
post("/v2/repository/models/resnet50/unload")
baseline = used_mib()
for _ in range(15):
    time.sleep(1)
    now = used_mib()
    if now == baseline:
        break
    baseline = now
rows, met = [], True
for cycle in range(1, cycles + 1):
    t0 = time.monotonic()
    assert post("/v2/repository/models/resnet50/load") == 200
    loaded = used_mib()
    load_s = time.monotonic() - t0
    statuses = [infer() for _ in range(100)]
    assert post("/v2/repository/models/resnet50/unload") == 200
    after, release_s = settle([b + BAR_MIB for b in baseline])
    ok = all(a - b <= BAR_MIB for a, b in zip(after, baseline)) and statuses.count(200) == 100
    met &= ok
    rows.append({"cycle": cycle, "load_s": load_s, "loaded_mib": loaded, "after_unload_mib": after,
                 "release_wait_s": release_s, "ok_requests": statuses.count(200), "within_bar": ok})
    print(f"cycle {cycle:2d}: load {load_s:5.2f} s, loaded {loaded} MiB, after unload {after} MiB "
          f"(baseline {baseline}, released in {release_s:.1f} s), 100 requests: "
          f"{statuses.count(200)} ok -> {'ok' if ok else 'OVER'}", flush=True)
summary = {"benchmark": "G5 memory", "baseline_mib": baseline, "bar_mib": BAR_MIB,
           "cycles": rows, "met": met}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"G5 memory: {cycles} cycles of load -> 100 requests -> unload; every GPU back within "
      f"{BAR_MIB} MiB of {baseline} MiB after every unload: {'met' if met else 'NOT MET'}")
PY
gpu_stop
log "done: results in $out"
