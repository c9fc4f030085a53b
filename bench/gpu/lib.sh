# Shared steps of the GPU benchmark scripts (sourced). Expects: cwd = the repository root, $out
# the results folder (made here, and made absolute), and a switchyard build carried from the CPU
# machine (build/bin/switchyard, build/backends with sim and exec, build/gpu-libs with the shared
# libraries the GPU machine lacks). Stops the server it started (gpu_serve) on exit.

mkdir -p "$out"
out=$(cd "$out" && pwd)
trap 'gpu_stop' EXIT

export LD_LIBRARY_PATH=$PWD/build/gpu-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
python=${PYTHON:-python3}
bin=$PWD/build/bin/switchyard
log() { printf '[gpu] %s\n' "$*" | tee -a "$out/steps.log" >&2; }

# gpu_setup: versions, the torch plugin built against this machine's torch (into
# $out/backends, next to sim and exec), and the plugin's offline driver.
gpu_setup() {
  log "versions"
  nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
  $python -c 'import torch; print("torch", torch.__version__)' | tee -a "$out/gpu.txt"
  log "torch plugin (stand-alone build against this torch)"
  mkdir -p "$out/backends"
  cp build/backends/libswitchyard_backend_sim.so build/backends/libswitchyard_backend_exec.so \
    "$out/backends/"
  # Kept in build/gpu-torch between calls while the machine stays warm (ninja rebuilds what
  # changed).
  cmake -S backends/torch -B build/gpu-torch -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$($python -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
    >"$out/torch-build.log" 2>&1
  cmake --build build/gpu-torch -j"$(nproc)" >>"$out/torch-build.log" 2>&1
  cp build/gpu-torch/backends/libswitchyard_backend_torch.so "$out/backends/"
  g++ -std=c++17 -O2 -I include tests/unit/backends/torch/torch_plugin_driver.cc -ldl \
    -o "$out/torch_plugin_driver"
}

# gpu_build_cuda_plugin: the cuda plugin, built on this machine (backends/cuda stand-alone, into
# build/gpu-cuda; log $out/cuda-build.log), copied into $out/backends.
gpu_build_cuda_plugin() {
  log "cuda plugin (stand-alone build)"
  cmake -S backends/cuda -B build/gpu-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \
    >"$out/cuda-build.log" 2>&1
  cmake --build build/gpu-cuda -j"$(nproc)" >>"$out/cuda-build.log" 2>&1
  mkdir -p "$out/backends"
  cp build/gpu-cuda/backends/libswitchyard_backend_cuda.so "$out/backends/"
}

# gpu_standin_model REPO INSTANCES [MORE_YAML [PARAMETERS]]: a fresh repository REPO holding
# `resnet_io`, a sim model with ResNet-50's tensors (FP16 [3,224,224] in, FP16 [1000] out, max
# batch 128) and no compute (function zeros): what the serving path carries for these sizes
# without a GPU in the way. INSTANCES is its `instances:` value; MORE_YAML is appended to its
# config; PARAMETERS replaces its `parameters:` value (default {function: zeros}).
gpu_standin_model() {
  rm -rf "$1" && mkdir -p "$1/resnet_io/1"
  cat >"$1/resnet_io/config.yaml" <<YAML
backend: sim
max_batch_size: 128
inputs:
  - {name: input, datatype: FP16, shape: [3, 224, 224]}
outputs:
  - {name: logits, datatype: FP16, shape: [1000]}
instances: $2
parameters: ${4:-{function: zeros\}}
${3:-}
YAML
}

# gpu_make_models MODELS: the benchmark models (random weights) into $out/models, made by
# bench/models/make_models.py with $MODEL_ARGS (e.g. "--cuda-graphs 1,8,32"). Made once into
# build/gpu-models-<args> while the machine stays warm, then copied.
gpu_make_models() {
  local model missing=() cache
  cache=build/gpu-models-$(printf '%s' "${MODEL_ARGS:-plain}" | tr -c 'a-zA-Z0-9' '_')
  log "models: $1 ${MODEL_ARGS:-}"
  for model in ${1//,/ }; do
    [ -f "$cache/$model/config.yaml" ] || missing+=("$model")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local list="${missing[*]}"
    # shellcheck disable=SC2086
    $python bench/models/make_models.py "$cache" --models "${list// /,}" ${MODEL_ARGS:-} \
      >"$out/models.log" 2>&1
  fi
  mkdir -p "$out/models"
  for model in ${1//,/ }; do cp -r "$cache/$model" "$out/models/"; done
}

# gpu_python_backends: the plugins a Python model needs (sim, exec, its link under the python
# name and exec's python/ runner) into $out/backends, the folder gpu_serve loads plugins from.
gpu_python_backends() {
  mkdir -p "$out/backends"
  cp -rP build/backends/libswitchyard_backend_sim.so build/backends/libswitchyard_backend_exec.so \
    build/backends/libswitchyard_backend_python.so build/backends/python "$out/backends/"
}

# gpu_python_resnet50 REPO PER_DEVICE: a fresh repository REPO holding `resnet50_py`, P1's
# eager ResNet-50 written against the Python API (bench/gpu/python_resnet50 with
# bench/models/eager_resnet50.py beside its model.py), PER_DEVICE instances on GPU 0 (a count
# or auto), served by $python.
gpu_python_resnet50() {
  rm -rf "$1" && mkdir -p "$1"
  cp -r bench/gpu/python_resnet50 "$1/resnet50_py"
  cp bench/models/eager_resnet50.py "$1/resnet50_py/1/"
  sed -i "s/per_device: 1}/per_device: $2}/" "$1/resnet50_py/config.yaml"
  printf 'parameters: {python: %s}\n' "$(command -v "$python")" >>"$1/resnet50_py/config.yaml"
}

# gpu_serve NAME [SERVE_ARGS...]: starts `switchyard serve` on $REPOSITORY (default $out/models;
# log $out/serve-NAME.log), waits until ready; sets SERVER_PID and URL.
gpu_serve() {
  local name=$1 port_file=$out/port-$1
  shift
  rm -f "$port_file"
  "$bin" serve --model-repository "${REPOSITORY:-$out/models}" --backend-directory "$out/backends" \
    --host 127.0.0.1 --http-port 0 --port-file "$port_file" "$@" >"$out/serve-$name.log" 2>&1 &
  SERVER_PID=$!
  gpu_wait_ready "$port_file" "$out/serve-$name.log"
}

# gpu_wait_ready PORT_FILE LOG: waits (up to 5 min) until the server SERVER_PID has written
# "http=PORT" to PORT_FILE and answers /v2/health/ready; sets URL. Prints LOG's tail and fails
# if the server exits first.
gpu_wait_ready() {
  local port_file=$1 log_file=$2
  for _ in $(seq 600); do
    if [ -s "$port_file" ]; then
      URL="http://127.0.0.1:$(cut -d= -f2 "$port_file")"
      curl -sf "$URL/v2/health/ready" >/dev/null && return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$log_file"; return 1; }
    sleep 0.5
  done
  return 1
}

gpu_stop() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# gpu_bench NAME [BENCH_ARGS...]: `switchyard bench` against $URL into $out/NAME.{json,txt}; 8 s
# in (past the warm-up), samples 5 s of CPU use per thread of the server, its workers and the
# client into $out/NAME-threads.txt.
gpu_bench() {
  local name=$1 bench_pid
  shift
  "$bin" bench --url "$URL" --json-out "$out/$name.json" "$@" >"$out/$name.txt" 2>&1 &
  bench_pid=$!
  sleep 8
  $python bench/lib/thread_cpu.py 5 "$SERVER_PID" "$bench_pid" >"$out/$name-threads.txt" || true
  wait "$bench_pid"
  cat "$out/$name.txt" "$out/$name-threads.txt"
}

# gpu_c1_split NAME MODEL: `gpu_bench NAME` of MODEL at concurrency 1 (binary, or C1_FORMAT: shm
# needs a server started with --allow-shared-memory; C1_CLIENT_POLL_US: the client polls, bench
# --poll-us; 3 windows), and
# where a lone request's time goes (NAME-split.txt), as means per request, each difference taken
# over one set of requests: over the whole run (server counters read before and after), the
# server's compute (/stats compute_infer: the backend, the IPC round trip, the server's side)
# minus the backend's execute in the worker (/v2/status backend_execute_us / backend_batches);
# over the windows the client timed, its latency minus the server's compute there (the bench's
# own `server` figures). A first run of a few seconds (NAME-warm) warms everything up, so that
# the slow first requests fall in neither. MODEL must have one instance.
gpu_c1_split() {
  local name=$1 model=$2
  local client=(--concurrency 1 --threads 1)
  client+=(--format "${C1_FORMAT:-binary}" --poll-us "${C1_CLIENT_POLL_US:-0}")
  "$bin" bench --url "$URL" -m "$model" "${client[@]}" \
    --warmup-s 0 --window-ms 3000 --max-windows 1 >"$out/$name-warm.txt" 2>&1
  curl -sf "$URL/v2/status" >"$out/$name-status-before.json"
  curl -sf "$URL/v2/models/$model/stats" >"$out/$name-stats-before.json"
  gpu_bench "$name" -m "$model" "${client[@]}" --max-windows 3 --warmup-s 0
  curl -sf "$URL/v2/status" >"$out/$name-status.json"
  curl -sf "$URL/v2/models/$model/stats" >"$out/$name-stats.json"
  $python - "$out" "$name" "$model" <<'PY' | tee "$out/$name-split.txt"
import json, sys
out, name, model = sys.argv[1:4]
def instance(suffix):
    models = json.load(open(f"{out}/{name}-{suffix}.json"))["models"]
    return [m for m in models if m["name"] == model][0]["instances"][0]
before, after = instance("status-before"), instance("status")
batches = after["backend_batches"] - before["backend_batches"]
backend_us = (after["backend_execute_us"] - before["backend_execute_us"]) / max(batches, 1)
def compute(suffix):
    stats = json.load(open(f"{out}/{name}-{suffix}.json"))["model_stats"][0]
    return stats["inference_stats"]["compute_infer"]
c0, c1 = compute("stats-before"), compute("stats")
requests = c1["count"] - c0["count"]
compute_us = (c1["ns"] - c0["ns"]) / max(requests, 1) / 1e3
level = json.load(open(f"{out}/{name}.json"))["levels"][0]
latency = level["latency_us"]
windows_compute_us = level["server"]["compute_infer_us"]  # over the windows the client timed
print(f"{name}: means per request; over the whole run ({batches} batches): the backend's "
      f"execute in the worker {backend_us:.1f} us, the server's compute {compute_us:.1f} us, so "
      f"IPC and the server's side of compute {compute_us - backend_us:.1f} us; over the "
      f"client's timed windows ({level['requests']} requests): the server's compute "
      f"{windows_compute_us:.1f} us, the client's latency {latency['mean']:.1f} us (p50 "
      f"{latency['p50']:.1f} us), so HTTP and the client {latency['mean'] - windows_compute_us:.1f} us")
PY
}

# gpu_offline_resnet50 ITERATIONS BATCH...: the torch plugin alone (torch_plugin_driver) on
# $out/models/resnet50, one line per batch size into $out/offline-bBATCH.txt. The inputs lie end
# to end in one buffer handed to the plugin as a worker hands it its shared memory
# (--shared-inputs 1), so the plugin copies them as it does behind the server. IDLE_US: idle time
# before each batch (--idle-us; files offline-bBATCH-idleIDLE_US.txt), as a lone client leaves
# between its requests. DRIVER_ARGS: more driver flags (e.g. "--warm-rows 128 --param
# jit_executor=simple"), with TAG appended to the file names (offline-bBATCH-TAG.txt).
gpu_offline_resnet50() {
  local iterations=$1 requests
  shift
  for requests in "$@"; do
    # shellcheck disable=SC2086 # DRIVER_ARGS is a list of flags
    "$out/torch_plugin_driver" --plugin "$out/backends/libswitchyard_backend_torch.so" \
      --model-file "$out/models/resnet50/1/model.pt" --max-batch 128 --gpus 1 \
      --input input:FP16:3,224,224 --output logits:FP16:1000 --rows 1 \
      --requests "$requests" --iterations "$iterations" --shared-inputs 1 \
      --idle-us "${IDLE_US:-0}" ${DRIVER_ARGS:-} |
      tee "$out/offline-b$requests${IDLE_US:+-idle$IDLE_US}${TAG:+-$TAG}.txt"
  done
}
