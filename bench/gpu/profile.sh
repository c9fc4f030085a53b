#!/usr/bin/env bash
# Where the serving layer's time goes on a GPU machine (issue 5: G2, G4, and G1's input path),
# in one run:
#   b2-thread, b2-process  B2 overhead (bench/overhead: `simple`, concurrency 1) on this machine
#   offline-b1, -b128      the torch plugin alone (torch_plugin_driver), ResNet-50; and
#   offline-b1-idle300     batch 1 after 300 us idle, as a lone client's requests arrive
#   standin-*              a sim model with ResNet-50's signature (FP16 [3,224,224] in, FP16
#                          [1000] out, function zeros: no compute), 4 CPU instances, 256 clients,
#                          binary: what the HTTP front end, the scheduler and the shared-memory
#                          path carry for these tensor sizes without a GPU in the way
#   resnet-c1, resnet-c256 ResNet-50 on the first GPU, one instance, max_queue_delay_us 0;
#                          resnet-c1-split.txt: the backend's execute time in the worker per
#                          batch against the server's compute time per batch
# Each loaded level also samples CPU use per thread (bench/lib/thread_cpu.py) to show which
# thread is the bottleneck.
#
#   bench/gpu/profile.sh OUT_DIR
#
# PARTS: which of "b2 offline standin resnet" to run (default all). POLL_US: see the end.
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/profile.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
nproc >"$out/nproc.txt"
parts=" ${PARTS:-b2 offline standin resnet} "
part() { [[ $parts == *" $1 "* ]]; }

if part b2; then
  log "B2 overhead on this machine"
  for isolation in thread process; do
    ISOLATION=$isolation SWITCHYARD_BIN=$bin bench/overhead "$out/b2-$isolation" \
      >"$out/b2-$isolation.txt" 2>&1 || log "B2 $isolation failed (see b2-$isolation.txt)"
    tail -4 "$out/b2-$isolation.txt"
  done
fi

gpu_setup
gpu_make_models resnet50

if part offline; then
  log "offline (the plugin alone)"
  gpu_offline_resnet50 30 1 128
  # G4's reference for a lone client: the same batch of one after the ~300 us a client's round
  # trip leaves the worker idle (back to back it is ~1 ms faster on an H200; docs/benchmarks.md).
  IDLE_US=300 gpu_offline_resnet50 30 1
fi

if part standin; then
  log "stand-in: ResNet-50's tensors, no compute"
  standin=$out/standin-models
  for isolation in process thread; do
    gpu_standin_model "$standin" "{devices: cpu, per_device: 4, isolation: $isolation}"
    REPOSITORY=$standin gpu_serve "standin-$isolation" --http-threads 8
    gpu_bench "standin-$isolation" -m resnet_io --concurrency 256 --format binary --threads 8 \
      --max-windows 3
    curl -sf "$URL/v2/models/resnet_io/stats" >"$out/standin-$isolation-stats.json" || true
    gpu_stop
  done
fi

part resnet || { log "done: results in $out"; exit 0; }
log "ResNet-50 on one GPU, one instance, no batch delay"
printf 'instances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\n' \
  >>"$out/models/resnet50/config.yaml"
resnet() {  # NAME [SERVE_ARGS...]: concurrency 1 (with its split) and 256
  local name=$1
  shift
  CUDA_VISIBLE_DEVICES=0 gpu_serve "$name" --http-threads 8 "$@"
  gpu_c1_split "$name-c1" resnet50
  gpu_bench "$name-c256" -m resnet50 --concurrency 256 --format binary --threads 8 \
    --max-windows 6
  curl -sf "$URL/v2/models/resnet50/stats" >"$out/$name-stats.json" || true
  gpu_stop
}
resnet resnet
# POLL_US: the same again with `serve --poll-us POLL_US` (files resnet-poll-*).
if [ -n "${POLL_US:-}" ]; then resnet resnet-poll --poll-us "$POLL_US"; fi
log "done: results in $out"
