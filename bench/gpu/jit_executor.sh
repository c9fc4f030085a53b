#!/usr/bin/env bash
# Which TorchScript graph executor the torch plugin should use (parameters.jit_executor), in one
# run on the first GPU, for ResNet-50 (plain: no CUDA graphs):
#   offline-b1-EXEC          the plugin alone, batches of one back to back
#   offline-b1-EXEC-warm128  the same after three batches of 128 rows first, as the server's
#                            warm-up at max batch runs them before the first request
#   offline-b128-EXEC        128 requests per batch (throughput)
#   served-EXEC-c1, -c256    behind the server: one instance, max_queue_delay_us 0, binary
# for EXEC in profiling (libtorch's default), simple and legacy. G4 compares served-EXEC-c1
# with offline-b1-EXEC.
#
#   bench/gpu/jit_executor.sh OUT_DIR
#
# EXECUTORS: which to run (default "profiling simple legacy").
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/jit_executor.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
gpu_setup
gpu_make_models resnet50
base_config=$(cat "$out/models/resnet50/config.yaml")
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}

for executor in ${EXECUTORS:-profiling simple legacy}; do
  log "jit_executor: $executor (offline)"
  DRIVER_ARGS="--param jit_executor=$executor" TAG=$executor gpu_offline_resnet50 200 1
  DRIVER_ARGS="--param jit_executor=$executor" TAG=$executor gpu_offline_resnet50 30 128
  DRIVER_ARGS="--warm-rows 128 --param jit_executor=$executor" TAG=$executor-warm128 \
    gpu_offline_resnet50 200 1

  log "jit_executor: $executor (served)"
  printf '%s\ninstances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\nparameters: {jit_executor: %s}\n' \
    "$base_config" "$executor" >"$out/models/resnet50/config.yaml"
  gpu_serve "$executor" --http-threads 8
  gpu_bench "served-$executor-c1" -m resnet50 --concurrency 1 --format binary --threads 1 \
    --max-windows 3
  gpu_bench "served-$executor-c256" -m resnet50 --concurrency 256 --format binary --threads 8 \
    --max-windows 4
  curl -sf "$URL/v2/models/resnet50/stats" >"$out/served-$executor-stats.json" || true
  gpu_stop
done
log "done: results in $out"
