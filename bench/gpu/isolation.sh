#!/usr/bin/env bash
# G6 isolation (BENCHMARKS.md): kill -9 one worker during a loaded run (ResNet-50 on every GPU,
# one instance each, 256 batch-1 clients, binary FP16). Bars: 0 failed requests; the instance
# is back and serving within the model's load time + 2 s.
#
#   bench/gpu/isolation.sh OUT_DIR
#
# The model's load time is the torch plugin's own (torch_plugin_driver's "loaded in"), measured
# in the same run. Needs the carried build described in bench/gpu/lib.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: bench/gpu/isolation.sh OUT_DIR}
# shellcheck source=bench/gpu/lib.sh
source bench/gpu/lib.sh

gpu_setup
gpu_make_models resnet50
printf 'instances: {per_device: 1}\n' >>"$out/models/resnet50/config.yaml"
gpu_offline_resnet50 3 1  # its "loaded in" line is the model's load time

gpu_serve g6 --http-threads 16
"$bin" bench -m resnet50 --url "$URL" --concurrency 256 --format binary --threads 16 \
  --max-windows 4 --json-out "$out/g6.json" >"$out/g6.txt" 2>&1 &
bench_pid=$!
sleep 8
log "kill -9 of resnet50/0's worker under load"
$python - "$URL" "$out" <<'PY'
import json, os, signal, sys, time, urllib.request
url, out = sys.argv[1], sys.argv[2]
def instance():
    status = json.load(urllib.request.urlopen(f"{url}/v2/status"))
    model = next(m for m in status["models"] if m["name"] == "resnet50")
    return model["instances"][0]
before = instance()
killed = time.monotonic()
os.kill(before["pid"], signal.SIGKILL)
while True:
    now = instance()
    if now["restarts"] >= before["restarts"] + 1 and now["state"] == "READY":
        break
    if time.monotonic() - killed > 120:
        sys.exit("the instance did not come back within 120 s")
    time.sleep(0.02)
back = time.monotonic() - killed
served_before = now["batches"]
while instance()["batches"] <= served_before and time.monotonic() - killed < 120:
    time.sleep(0.02)
serving = time.monotonic() - killed
result = {"killed_pid": before["pid"], "new_pid": now["pid"], "ready_after_s": back,
          "serving_after_s": serving, "last_error": now["last_error"]}
json.dump(result, open(f"{out}/recovery.json", "w"), indent=2)
print(json.dumps(result))
PY
wait "$bench_pid"
cat "$out/g6.txt"
curl -sf "$URL/metrics" | grep -E "^switchyard_(instance_restarts|request_retries)_total" \
  | tee "$out/g6-metrics.txt" || true
gpu_stop

$python - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
recovery = json.load(open(f"{out}/recovery.json"))
levels = json.load(open(f"{out}/g6.json"))["levels"]
# Over the whole level (warm-up included), not only its reported windows: every request sent.
totals = levels[0]["totals"]
errors = (totals["answered"] - totals["successes"] + totals["connection_errors"]
          + totals["unanswered"])
load_s = float(re.search(r"loaded in ([0-9.]+) s", open(f"{out}/offline-b1.txt").read()).group(1))
bar_s = load_s + 2
ok = errors == 0 and recovery["serving_after_s"] <= bar_s
summary = {"benchmark": "G6 isolation", "errors": errors, "model_load_s": load_s,
           "bar_s": bar_s, **recovery, "met": ok}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"G6 isolation: {errors} failed requests; instance ready {recovery['ready_after_s']:.2f} s "
      f"and serving {recovery['serving_after_s']:.2f} s after kill -9 (bar: 0 failed, back "
      f"within load {load_s:.2f} s + 2 s = {bar_s:.2f} s): {'met' if ok else 'NOT MET'}")
PY
log "done: results in $out"
