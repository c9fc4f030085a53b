#!/usr/bin/env bash
# G4 (issue 5): where a lone request's time goes, ResNet-50 (plain) on the first GPU, one run:
#   offline-b1, offline-b1-idle300  the torch plugin alone (torch_plugin_driver), batches of one
#                                   back to back, and each after 300 us asleep
#   standin-c1, c1                  served at concurrency 1 (one worker, no batch delay), with the
#                                   split of gpu_c1_split (backend execute in the worker, the
#                                   server's compute, the client's latency): a sim model with
#                                   ResNet-50's tensors and no compute (what the serving path
#                                   alone adds for a 301 KB request here), then ResNet-50
# and, as VARIANTS selects (default "shm poll shmpoll"), the same served runs
#   shm: standin-c1-shm, c1-shm     the client's input in a registered shared-memory region
#                                   (`bench --format shm`, `serve --allow-shared-memory`): no
#                                   301 KB body on the socket
#   poll: standin-c1-poll, c1-poll  with `serve --poll-us 20000` (HTTP threads and the result
#                                   reader poll for 20 ms after each event before they sleep)
#   shmpoll: standin-c1-shm-poll, c1-shm-poll  both
#   allpoll: standin-c1-all-poll, c1-all-poll  both, and the client polls too (bench --poll-us
#                                   20000): no thread on the path sleeps
#   qos: c1-qos, offline-b1-idle300-qos  while a PM QoS request (/dev/cpu_dma_latency = 0) keeps
#                                   the cores out of deep idle states, if permitted
#   busy: c1-busy, offline-b1-idle300-busy  while every core runs a `nice 19` spinner, which
#                                   takes only otherwise idle time
#
#   bench/gpu/g4_split.sh OUT_DIR
#
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/g4_split.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
variants=" ${VARIANTS:-shm poll shmpoll} "
variant() { [[ $variants == *" $1 "* ]]; }
spinners=()
qos=
trap 'kill "${spinners[@]}" ${qos:-} 2>/dev/null || true; gpu_stop' EXIT
gpu_setup
gpu_make_models resnet50
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
printf 'instances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\n' \
  >>"$out/models/resnet50/config.yaml"
standin=$out/standin-models
gpu_standin_model "$standin" "{devices: cpu, per_device: 1, isolation: process}" \
  "batching: {max_queue_delay_us: 0}"

log "offline batches of one"
gpu_offline_resnet50 200 1
IDLE_US=300 gpu_offline_resnet50 200 1

# served SUFFIX [SERVE_ARGS...]: the stand-in and ResNet-50 at concurrency 1.
served() {
  local suffix=$1
  shift
  log "served at concurrency 1${suffix:+ ($suffix)}"
  REPOSITORY=$standin gpu_serve "standin$suffix" --http-threads 8 "$@"
  gpu_c1_split "standin-c1$suffix" resnet_io
  gpu_stop
  gpu_serve "g4$suffix" --http-threads 8 "$@"
  gpu_c1_split "c1$suffix" resnet50
  gpu_stop
}
served ""
if variant shm; then C1_FORMAT=shm served -shm --allow-shared-memory; fi
if variant poll; then served -poll --poll-us 20000; fi
if variant shmpoll; then C1_FORMAT=shm served -shm-poll --allow-shared-memory --poll-us 20000; fi
if variant allpoll; then
  C1_FORMAT=shm C1_CLIENT_POLL_US=20000 served -all-poll --allow-shared-memory --poll-us 20000
fi

if variant qos; then
  log "ResNet-50 while a PM QoS request holds every CPU's wake-up latency at 0 us"
  # Linux's /dev/cpu_dma_latency: while a process keeps it open with a value written, the cores
  # stay out of idle states that take longer to leave. Needs write permission on the device.
  $python - "$out/qos.txt" <<'PY' &
import os, struct, sys, time
try:
    fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
    os.write(fd, struct.pack("i", 0))
    open(sys.argv[1], "w").write("held: /dev/cpu_dma_latency = 0 us\n")
    time.sleep(3600)
except OSError as error:
    open(sys.argv[1], "w").write(f"not held: {error}\n")
PY
  qos=$!
  sleep 1
  cat "$out/qos.txt"
  gpu_serve g4-qos --http-threads 8
  gpu_c1_split c1-qos resnet50
  gpu_stop
  IDLE_US=300 TAG=qos gpu_offline_resnet50 200 1
  kill "$qos" 2>/dev/null || true
  qos=
fi

if variant busy; then
  log "ResNet-50 with a nice-19 spinner on every core"
  for _ in $(seq "$(nproc)"); do
    nice -n 19 $python -c 'while True: pass' &
    spinners+=($!)
  done
  gpu_serve g4-busy --http-threads 8
  gpu_c1_split c1-busy resnet50
  gpu_stop
  IDLE_US=300 TAG=busy gpu_offline_resnet50 200 1
  kill "${spinners[@]}"
  spinners=()
fi
cat "$out"/*-split.txt
log "done: results in $out"
