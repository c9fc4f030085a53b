#!/usr/bin/env bash
# G4 (issue 5) in pairs: each served figure is taken right after an offline one, on one server.
# With ResNet-50 on the first GPU (one worker, no batch delay), ROUNDS times (default 4):
#   offline   the torch plugin alone (torch_plugin_driver), 300 batches of one back to back
#   binary    served at concurrency 1, the input as a binary body (3 s window)
#   shm       the same with the input in a registered shared-memory region (bench --format shm)
#   shmc      shm with a client that polls too (bench --poll-us 20000): no client wake-up
# G4 of a round = served p50 − that round's offline p50. Per VARIANTS (default "plain poll"):
#   plain  serve --allow-shared-memory
#   poll   serve --allow-shared-memory --poll-us 20000 (HTTP threads, result reader and worker
#          poll for 20 ms after each event before they sleep)
# The model is made with CUDA graphs for batch 1 (MODEL_ARGS, default "--cuda-graphs 1"; the
# driver gets the same parameter through DRIVER_ARGS): without them a batch of one is bound by
# the CPU launching ~160 kernels, and its time moved by 1.5 ms between minutes of one call
# (docs/benchmarks.md), more than the bar. MODEL_ARGS= DRIVER_ARGS= runs the plain model.
# Writes every round and the medians to g4-paired.txt and g4-paired.json.
#
#   bench/gpu/g4_paired.sh OUT_DIR
#
# Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/g4_paired.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
rounds=${ROUNDS:-4}
export MODEL_ARGS=${MODEL_ARGS-"--cuda-graphs 1"}
export DRIVER_ARGS=${DRIVER_ARGS-"--param cuda_graph_batch_sizes=1"}
gpu_setup
gpu_make_models resnet50
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
printf 'instances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\n' \
  >>"$out/models/resnet50/config.yaml"

# served NAME FORMAT [CLIENT_POLL_US]: resnet50 at concurrency 1 into $out/NAME.{json,txt}.
served() {
  "$bin" bench --url "$URL" -m resnet50 --concurrency 1 --format "$2" --threads 1 \
    --poll-us "${3:-0}" --warmup-s 1 --window-ms 3000 --max-windows 1 \
    --json-out "$out/$1.json" >"$out/$1.txt" 2>&1
}

for variant in ${VARIANTS:-plain poll}; do
  args=(--allow-shared-memory --http-threads 8)
  if [ "$variant" = poll ]; then args+=(--poll-us 20000); fi
  log "variant $variant: serve ${args[*]}"
  gpu_serve "g4-$variant" "${args[@]}"
  for round in $(seq "$rounds"); do
    log "variant $variant, round $round"
    TAG=$variant-$round gpu_offline_resnet50 300 1 >/dev/null
    served "$variant-$round-binary" binary
    served "$variant-$round-shm" shm
    served "$variant-$round-shmc" shm 20000
  done
  gpu_stop
done

# shellcheck disable=SC2086 # the variants are words
$python - "$out" "$rounds" ${VARIANTS:-plain poll} <<'PY' | tee "$out/g4-paired.txt"
import json, re, statistics, sys
out, rounds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def served(name):
    return json.load(open(f"{out}/{name}.json"))["levels"][0]["latency_us"]["p50"]
def offline(tag):
    text = open(f"{out}/offline-b1-{tag}.txt").read()
    return 1000 * float(re.search(r"p50 ([0-9.]+) ms", text).group(1))
summary = {}
runs = ("binary", "shm", "shmc")
print("variant  round  offline p50 us  " + "  ".join(f"{r:>6} p50 us  G4 {r:>6} us" for r in runs))
for variant in variants:
    rows = []
    for r in range(1, rounds + 1):
        row = {"offline_p50_us": offline(f"{variant}-{r}")}
        for run in runs:
            row[f"{run}_p50_us"] = served(f"{variant}-{r}-{run}")
            row[f"g4_{run}_us"] = row[f"{run}_p50_us"] - row["offline_p50_us"]
        rows.append(row)
        print(f"{variant:8} {r:5}  {row['offline_p50_us']:14.1f}  " + "  ".join(
            f"{row[f'{run}_p50_us']:13.1f}  {row[f'g4_{run}_us']:12.1f}" for run in runs))
    medians = {f"g4_{run}_us": statistics.median(row[f"g4_{run}_us"] for row in rows)
               for run in runs}
    print(f"{variant:8} median G4: " + ", ".join(
        f"{run} {medians[f'g4_{run}_us']:.1f} us" for run in runs) + " (bar <= 150 us)")
    summary[variant] = {"rounds": rows, "median": medians}
json.dump(summary, open(f"{out}/g4-paired.json", "w"), indent=1)
PY
log "done: results in $out"
