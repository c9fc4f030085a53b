#!/usr/bin/env bash
# G4 (issue 5) in pairs: the plugin's own time for a batch of one moves by more than the bar
# between runs on the GPU VMs, so each served figure is taken right after an offline one. With
# ResNet-50 (plain) on the first GPU and one server up (one worker, no batch delay), ROUNDS times
# (default 4):
#   offline   the torch plugin alone (torch_plugin_driver), 300 batches of one back to back
#   binary    served at concurrency 1, the input as a binary body (3 s window)
#   shm       the same with the input in a registered shared-memory region (bench --format shm)
# G4 of a round = served p50 − that round's offline p50. Per VARIANTS (default "plain poll"):
#   plain  serve --allow-shared-memory
#   poll   serve --allow-shared-memory --poll-us 20000 (HTTP threads, result reader and worker
#          poll for 20 ms after each event before they sleep)
# Writes every pair and the medians to g4-paired.txt and g4-paired.json.
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
gpu_setup
gpu_make_models resnet50
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
printf 'instances: {per_device: 1}\nbatching: {max_queue_delay_us: 0}\n' \
  >>"$out/models/resnet50/config.yaml"

# served NAME FORMAT: resnet50 at concurrency 1 into $out/NAME.{json,txt}.
served() {
  "$bin" bench --url "$URL" -m resnet50 --concurrency 1 --format "$2" --threads 1 \
    --warmup-s 1 --window-ms 3000 --max-windows 1 --json-out "$out/$1.json" >"$out/$1.txt" 2>&1
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
print("variant  round  offline p50 us  binary p50 us  G4 binary us  shm p50 us  G4 shm us")
for variant in variants:
    rows = []
    for r in range(1, rounds + 1):
        o = offline(f"{variant}-{r}")
        b, s = served(f"{variant}-{r}-binary"), served(f"{variant}-{r}-shm")
        rows.append({"offline_p50_us": o, "binary_p50_us": b, "shm_p50_us": s,
                     "g4_binary_us": b - o, "g4_shm_us": s - o})
        print(f"{variant:8} {r:5}  {o:14.1f}  {b:13.1f}  {b - o:12.1f}  {s:10.1f}  {s - o:9.1f}")
    medians = {k: statistics.median(row[k] for row in rows) for k in ("g4_binary_us", "g4_shm_us")}
    print(f"{variant:8} median G4: binary {medians['g4_binary_us']:.1f} us, "
          f"shm {medians['g4_shm_us']:.1f} us (bar <= 150 us)")
    summary[variant] = {"rounds": rows, "median": medians}
json.dump(summary, open(f"{out}/g4-paired.json", "w"), indent=1)
PY
log "done: results in $out"
