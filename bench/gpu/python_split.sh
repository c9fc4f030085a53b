#!/usr/bin/env bash
# Where a batch's time goes when the P1 model (bench/gpu/python_resnet50) is served through the
# Python API: the model as it is, then the same model whose predict returns zeros without
# touching the GPU (what the exec transport and the runner cost alone), each with 256 batch-1
# clients for 3 windows. Per batch: the backend's execute in the worker (exec plugin: BATCH
# written, Python, RESULT read; /v2/status backend_execute_us / backend_batches) and the
# throughput. Results (bench outputs, status, summary) in OUT_DIR/split.tar.gz and printed.
#
#   bench/gpu/python_split.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/python_split.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
gpu_python_backends
for variant in model transport; do
  repo=$out/repo-$variant
  gpu_python_resnet50 "$repo" 1
  if [ "$variant" = transport ]; then  # predict: zeros of the output's shape, no GPU
    cat >>"$repo/resnet50_py/1/model.py" <<'PY'


class Transport(ResNet50):
    def predict(self, batch):
        return [{"logits": np.zeros((len(item["input"]), 1000), np.float16)} for item in batch]
PY
    sed -i 's/^parameters: {python: \(.*\)}$/parameters: {python: \1, python_class: Transport}/' \
      "$repo/resnet50_py/config.yaml"
  fi
  REPOSITORY=$repo gpu_serve "$variant" --http-threads 16
  gpu_bench "served-$variant" -m resnet50_py --concurrency 256 --format binary --threads 16 \
    --max-windows 3
  curl -sf "$URL/v2/status" >"$out/status-$variant.json"
  gpu_stop
done
$python - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys
out = sys.argv[1]
for variant in ("model", "transport"):
    level = json.load(open(f"{out}/served-{variant}.json"))["levels"][0]
    model = [m for m in json.load(open(f"{out}/status-{variant}.json"))["models"]
             if m["name"] == "resnet50_py"][0]
    inst = model["instances"][0]
    batches = max(inst["backend_batches"], 1)
    print(f"{variant}: {level['throughput_rps']:.0f} img/s, {inst['backend_batches']} batches, "
          f"backend execute {inst['backend_execute_us'] / batches / 1e3:.1f} ms per batch")
PY
# Archived beside OUT_DIR first: tar reading the folder it writes into fails ("file changed as
# we read it").
tar -C "$out" -czf "$out.tar.gz" --exclude=backends --exclude='repo-*' .
mv "$out.tar.gz" "$out/split.tar.gz"
