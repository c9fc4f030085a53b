#!/usr/bin/env bash
# instances.recycle_vram_mb on a real GPU: a `backend: python` model that keeps 256 MiB of GPU
# memory per request it answers (a leak), limit 1500 MiB. 12 requests one after another: every
# request must succeed, and NVML's count (worker + Python program) must pass the limit and get
# the worker recycled at least once. Prints the answers, the restarts and the server's recycling
# lines; everything in OUT_DIR.
#
#   bench/gpu/recycle_vram.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/recycle_vram.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
gpu_python_backends
repo=$out/repo
rm -rf "$repo" && mkdir -p "$repo/leaky/1"
cat >"$repo/leaky/config.yaml" <<YAML
backend: python
instances: {devices: [0], per_device: 1, vram_mb: 3000, recycle_vram_mb: 1500}
warmup: {requests: 0}
parameters: {python: $(command -v "$python")}
YAML
cat >"$repo/leaky/1/model.py" <<'PY'
import os
import torch


class Leaky:
    def setup(self, ctx):
        self.kept = []  # never freed: the leak

    def predict(self, body):
        self.kept.append(torch.empty(256 << 20, dtype=torch.uint8, device="cuda"))
        return {"pid": os.getpid(), "kept_mib": 256 * len(self.kept)}
PY
REPOSITORY=$repo gpu_serve leaky
for _ in $(seq 12); do
  curl -sf -X POST --data-binary x "$URL/v2/models/leaky/predict" | tee -a "$out/answers.txt"
  echo | tee -a "$out/answers.txt"
  sleep 1.5  # a heartbeat or so: the server reads NVML once a second
done
curl -sf "$URL/v2/status" >"$out/status.json"
gpu_stop
$python - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys
out = sys.argv[1]
answers = [json.loads(line) for line in open(f"{out}/answers.txt") if line.strip()]
model = [m for m in json.load(open(f"{out}/status.json"))["models"] if m["name"] == "leaky"][0]
inst = model["instances"][0]
print(f"{len(answers)} of 12 requests answered; program pids {sorted({a['pid'] for a in answers})}; "
      f"largest kept {max(a['kept_mib'] for a in answers)} MiB; restarts {inst['restarts']}")
PY
grep -E "recycl" "$out/serve-leaky.log" | cut -c1-240
