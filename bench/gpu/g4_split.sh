#!/usr/bin/env bash
# G4 (issue 5): where a lone request's time goes, ResNet-50 (plain) on the first GPU, one run:
#   offline-b1, offline-b1-idle300  the torch plugin alone (torch_plugin_driver), batches of one
#                                   back to back, and each after 300 us asleep
#   c1                              served at concurrency 1 (one instance, no batch delay), with
#                                   the split of gpu_c1_split: backend execute in the worker,
#                                   the server's compute (IPC included), the client's p50
#   standin-c1                      the same split for a sim model with ResNet-50's tensors and
#                                   no compute (function zeros, one worker process): what the
#                                   serving path alone adds for a 301 KB request here
#   c1-qos, offline-b1-idle300-qos  the same while a PM QoS request (/dev/cpu_dma_latency = 0)
#                                   keeps the cores out of deep idle states, if permitted
#   c1-busy, offline-b1-idle300-busy  the same while every core runs a `nice 19` spinner, which
#                                   takes only otherwise idle time: the cores stay out of deep
#                                   idle states. If these are faster, the gap is the machine's
#                                   power management rather than the serving path.
#
#   bench/gpu/g4_split.sh OUT_DIR
#
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/g4_split.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
spinners=()
qos=
trap 'kill "${spinners[@]}" ${qos:-} 2>/dev/null || true; gpu_stop' EXIT
gpu_setup
gpu_make_models resnet50
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}

log "offline batches of one"
gpu_offline_resnet50 200 1
IDLE_US=300 gpu_offline_resnet50 200 1

log "stand-in: ResNet-50's tensors, no compute, at concurrency 1"
standin=$out/standin-models
gpu_standin_model "$standin" "{devices: cpu, per_device: 1, isolation: process}" \
  "batching: {max_queue_delay_us: 0}"
REPOSITORY=$standin gpu_serve standin --http-threads 8
gpu_c1_split standin-c1 resnet_io
gpu_stop

log "served at concurrency 1"
printf 'instances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\n' \
  >>"$out/models/resnet50/config.yaml"
gpu_serve g4 --http-threads 8
gpu_c1_split c1 resnet50

log "the same while a PM QoS request holds every CPU's wake-up latency at 0 us"
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
gpu_c1_split c1-qos resnet50
IDLE_US=300 TAG=qos gpu_offline_resnet50 200 1
kill "$qos" 2>/dev/null || true
qos=

log "the same with a nice-19 spinner on every core"
for _ in $(seq "$(nproc)"); do
  nice -n 19 $python -c 'while True: pass' &
  spinners+=($!)
done
gpu_c1_split c1-busy resnet50
IDLE_US=300 TAG=busy gpu_offline_resnet50 200 1
kill "${spinners[@]}"
spinners=()
gpu_stop
cat "$out"/standin-c1-split.txt "$out"/c1-split.txt "$out"/c1-qos-split.txt \
  "$out"/c1-busy-split.txt
log "done: results in $out"
