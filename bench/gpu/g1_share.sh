#!/usr/bin/env bash
# G1 with one GPU (issue 5): what one GPU serves with the share of G1's 256 clients it gets when
# there are two GPUs (128 clients), against what it serves with all 256, for each instance layout
# in LAYOUTS. On two GPUs each GPU sees 128 clients (through one front end), so twice this
# ratio is about what G1 can reach with that layout: a first look on a machine of one GPU, where
# G1 itself cannot run, not G1. ResNet-50, binary, 16 HTTP and 16 client threads, on GPU 0.
# Per layout: req/s and mean batch size at 256 and at 128 clients, and the ratio.
#
#   bench/gpu/g1_share.sh OUT_DIR
#
# LAYOUTS: `instances:` mappings separated by ";" (default: one worker; two in-process instances
# with one batch in flight each, whose batches run at the same time on their own CUDA streams;
# two in-process instances). MODEL_ARGS as in lib.sh (default: G1's fourth-round model,
# channels-last, cudnn benchmark, CUDA graphs for 15 batch sizes). Needs the carried build
# described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/g1_share.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh
export MODEL_ARGS=${MODEL_ARGS-"--channels-last --cudnn-benchmark --cuda-graphs 1,2,4,8,16,24,32,40,48,56,64,80,96,112,128"}
layouts=${LAYOUTS:-"{per_device: 1};{per_device: 2, isolation: thread, max_inflight_batches: 1};{per_device: 2, isolation: thread}"}
gpu_setup
gpu_make_models resnet50
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}

IFS=';' read -r -a layout_list <<<"$layouts"
for i in "${!layout_list[@]}"; do
  layout=${layout_list[$i]}
  repository=$out/layout-$i
  mkdir -p "$repository"
  cp -r "$out/models/resnet50" "$repository/"
  printf 'instances: %s\n' "$layout" >>"$repository/resnet50/config.yaml"
  printf '%s\n' "$layout" >"$out/layout-$i.instances"
  log "layout $i: instances: $layout"
  if REPOSITORY=$repository gpu_serve "layout-$i" --http-threads 16; then
    gpu_bench "layout-$i" -m resnet50 --concurrency 256,128 --format binary --threads 16
    curl -sf "$URL/v2/status" >"$out/status-layout-$i.json" || true
  else
    log "layout $i: the server did not start (serve-layout-$i.log)"
  fi
  gpu_stop
done

$python - "$out" "${#layout_list[@]}" <<'PY' | tee "$out/g1-share.txt"
import json, os, sys
out, count = sys.argv[1], int(sys.argv[2])
summary = []
for i in range(count):
    layout = open(f"{out}/layout-{i}.instances").read().strip()
    path = f"{out}/layout-{i}.json"
    if not os.path.exists(path):
        print(f"layout {i} ({layout}): no result")
        continue
    levels = {level["concurrency"]: level for level in json.load(open(path))["levels"]}
    def figures(clients):
        level = levels[clients]
        batches = sum(x["batches"] for x in level["instances"])
        items = sum(x["items"] for x in level["instances"])
        return level["throughput_rps"], items / max(batches, 1), level["stable"]
    (all_rps, all_batch, all_stable), (half_rps, half_batch, half_stable) = figures(256), figures(128)
    ratio = half_rps / all_rps
    print(f"layout {i} ({layout}): 256 clients {all_rps:.0f} req/s (batch {all_batch:.1f}"
          f"{'' if all_stable else ', unstable'}), 128 clients {half_rps:.0f} req/s (batch "
          f"{half_batch:.1f}{'' if half_stable else ', unstable'}); ratio {ratio:.3f}, "
          f"twice it {2 * ratio:.2f} (G1's bar 1.95)")
    summary.append({"layout": layout, "rps_256": all_rps, "batch_256": all_batch,
                    "rps_128": half_rps, "batch_128": half_batch, "ratio": ratio})
json.dump(summary, open(f"{out}/g1-share.json", "w"), indent=1)
PY
log "done: results in $out"
