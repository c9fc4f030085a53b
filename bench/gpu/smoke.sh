#!/usr/bin/env bash
# First step of the GPU benchmark suite (issue 5): on a GPU machine, serve ResNet-50 through the
# whole server (NVML devices, a worker process pinned by CUDA_VISIBLE_DEVICES, the torch plugin)
# and measure it against the plugin's own offline throughput in the same run.
#
#   bench/gpu/smoke.sh OUT_DIR
#
# Expects a switchyard build carried from the CPU machine: build/bin/switchyard, build/backends
# (sim, exec) and build/gpu-libs (the shared libraries `ldd build/bin/switchyard` lists that the
# GPU machine lacks). Builds the torch plugin here against this machine's torch, makes the
# model (random weights), then runs:
#   offline  torch_plugin_driver: the plugin alone at batch 1 and 128 (the G2/G4 references)
#   served   `switchyard bench` against `switchyard serve`, binary FP16 inputs, concurrency
#            1 (G4), 64 and 256 (G2), one GPU.
# Writes logs and JSON to OUT_DIR. G1 (2 GPUs), G3, G5, G6 are not in this script yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/smoke.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export LD_LIBRARY_PATH=$PWD/build/gpu-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
python=${PYTHON:-python3}
bin=$PWD/build/bin/switchyard
log() { printf '[gpu] %s\n' "$*" | tee -a "$out/steps.log" >&2; }

log "versions"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
$python -c 'import torch; print("torch", torch.__version__)' | tee -a "$out/gpu.txt"
"$bin" --version | tee -a "$out/gpu.txt"

log "torch plugin (stand-alone build against this torch)"
mkdir -p "$out/backends"
cp build/backends/libswitchyard_backend_sim.so build/backends/libswitchyard_backend_exec.so \
  "$out/backends/"
cmake -S backends/torch -B "$out/torch-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$($python -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
  >"$out/torch-build.log" 2>&1
cmake --build "$out/torch-build" -j"$(nproc)" >>"$out/torch-build.log" 2>&1
cp "$out/torch-build/backends/libswitchyard_backend_torch.so" "$out/backends/"
g++ -std=c++17 -O2 -I include tests/unit/backends/torch/torch_plugin_driver.cc -ldl \
  -o "$out/torch_plugin_driver"

log "model"
$python bench/models/make_models.py "$out/models" --models resnet50 >"$out/models.log" 2>&1

log "devices"
"$bin" devices --model-repository "$out/models" | tee "$out/devices.txt"

log "offline (the plugin alone)"
resnet=(--plugin "$out/backends/libswitchyard_backend_torch.so"
        --model-file "$out/models/resnet50/1/model.pt" --max-batch 128 --gpus 1
        --input input:FP16:3,224,224 --output logits:FP16:1000 --rows 1)
for requests in 1 128; do
  "$out/torch_plugin_driver" "${resnet[@]}" --requests $requests --iterations 30 \
    | tee "$out/offline-b$requests.txt"
done

log "served"
"$bin" serve --model-repository "$out/models" --backend-directory "$out/backends" \
  --host 127.0.0.1 --http-port 0 --port-file "$out/port" --http-threads 8 \
  >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  [ -s "$out/port" ] && curl -sf "http://127.0.0.1:$(cut -d= -f2 "$out/port")/v2/health/ready" \
    >/dev/null && break
  kill -0 $server || { tail -20 "$out/serve.log"; exit 1; }
  sleep 0.5
done
url="http://127.0.0.1:$(cut -d= -f2 "$out/port")"
curl -sf "$url/v2/status" >"$out/status.json"
"$bin" bench -m resnet50 --url "$url" --concurrency 1,64,256 --format binary --threads 8 \
  --json-out "$out/served.json" | tee "$out/served.txt"
curl -sf "$url/v2/status" >"$out/status-after.json"
curl -sf "$url/metrics" | grep -E "^switchyard_gpu_" >"$out/gpu-metrics.txt" || true
kill -TERM $server
wait $server || true
log "done: results in $out"
