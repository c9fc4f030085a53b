# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts in bench/. Source it; it defines functions only.
# Every process a script starts is recorded with track_pid and ended by cleanup_tracked (the
# scripts call it from an EXIT trap).

TRACKED_PIDS=()

log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

track_pid() { TRACKED_PIDS+=("$1"); }

# Sends TERM to every tracked process, waits up to 5 s for each, then KILLs what is left.
cleanup_tracked() {
  local pid _
  for pid in "${TRACKED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${TRACKED_PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  TRACKED_PIDS=()
}

# The switchyard binary: $SWITCHYARD_BIN, else build/bin/switchyard (nothing is built here).
switchyard_bin() {
  local bin=${SWITCHYARD_BIN:-build/bin/switchyard}
  [ -x "$bin" ] || die "no switchyard binary at $bin (run ./dev build, or set SWITCHYARD_BIN)"
  printf '%s\n' "$bin"
}

# A TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http_ok URL SECONDS PID: until GET URL answers 2xx; fails if PID exits or time runs out.
wait_http_ok() {
  local url=$1 seconds=$2 pid=$3
  for _ in $(seq $((seconds * 10))); do
    curl -sf -o /dev/null "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Ends one tracked process (TERM, up to 5 s, then KILL) and forgets it.
stop_tracked() {
  local pid=$1 kept=() p _
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${TRACKED_PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  TRACKED_PIDS=("${kept[@]}")
}

# wait_port_file FILE PID LOG: the port from a line `http=PORT` that PID writes to FILE (up to
# 30 s; fails, showing the end of LOG, if PID exits first or time runs out).
wait_port_file() {
  local file=$1 pid=$2 log_file=$3 port=""
  for _ in $(seq 300); do
    if [ -s "$file" ]; then
      port=$(sed -n 's/^http=\([0-9][0-9]*\)$/\1/p' "$file")
      [ -n "$port" ] && break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    tail -n 20 "$log_file" >&2 || true
    die "pid $pid did not write http=PORT to $file"
  fi
  printf '%s\n' "$port"
}

# start_switchyard DIR HTTP_THREADS [REPOSITORY [SERVE_ARGS...]]: serves REPOSITORY (default
# examples/models) on an ephemeral port of 127.0.0.1, logging to DIR/switchyard-N.log; sets
# SWITCHYARD_PID and SWITCHYARD_URL once the server is ready. May be called several times (stop
# a server with stop_tracked "$SWITCHYARD_PID").
SWITCHYARD_STARTS=0
start_switchyard() {
  local dir=$1 threads=$2 repository=${3:-examples/models} bin port_file log_file port
  shift 3 2>/dev/null || shift $#
  bin=$(switchyard_bin)
  SWITCHYARD_STARTS=$((SWITCHYARD_STARTS + 1))
  port_file="$dir/switchyard-$SWITCHYARD_STARTS.port"
  log_file="$dir/switchyard-$SWITCHYARD_STARTS.log"
  "$bin" serve --model-repository "$repository" --host 127.0.0.1 --http-port 0 \
    --port-file "$port_file" --http-threads "$threads" "$@" >"$log_file" 2>&1 &
  SWITCHYARD_PID=$!
  track_pid "$SWITCHYARD_PID"
  port=$(wait_port_file "$port_file" "$SWITCHYARD_PID" "$log_file")
  SWITCHYARD_URL="http://127.0.0.1:$port"
  if ! wait_http_ok "$SWITCHYARD_URL/v2/health/ready" 60 "$SWITCHYARD_PID"; then
    tail -n 20 "$log_file" >&2 || true
    die "switchyard at $SWITCHYARD_URL did not become ready"
  fi
  log "switchyard serving $repository at $SWITCHYARD_URL (pid $SWITCHYARD_PID, $threads HTTP threads${*:+, $*})"
}

# The resident set size of PID in KiB (VmRSS of /proc/PID/status).
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Machine facts for a results folder's summary: cores, CPU model, load, and whether the CI
# clone (another build sharing the machine) is running.
machine_json() {
  local busy=false
  if pgrep -f ci-clone >/dev/null 2>&1; then busy=true; fi
  python3 - "$busy" <<'PY'
import json, os, platform, sys
model = ""
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
print(json.dumps({"nproc": os.cpu_count(), "cpu": model, "loadavg": os.getloadavg(),
                  "ci_running": sys.argv[1] == "true", "kernel": platform.release()}))
PY
}

# copy_repository_with_isolation SRC DEST ISOLATION: copies the model repository SRC to DEST
# with every model's `instances.isolation` set to ISOLATION (process or thread), so a benchmark
# can compare worker-process instances with in-process ones on the same models.
copy_repository_with_isolation() {
  local src=$1 dest=$2 isolation=$3
  mkdir -p "$dest"
  cp -r "$src"/. "$dest"/
  python3 - "$dest" "$isolation" <<'PY'
import pathlib, re, sys
root, isolation = pathlib.Path(sys.argv[1]), sys.argv[2]
for config in root.glob("*/config.yaml"):
    text = config.read_text()
    if re.search(r"^instances:\s*$", text, re.M):  # a block: add the key to it
        text = re.sub(r"^instances:\s*$", f"instances:\n  isolation: {isolation}", text,
                      count=1, flags=re.M)
    elif re.search(r"^instances:\s*\{", text, re.M):  # a flow mapping: add the key first
        text = re.sub(r"^instances:\s*\{", f"instances: {{isolation: {isolation}, ", text,
                      count=1, flags=re.M)
    else:
        text += f"\ninstances: {{isolation: {isolation}}}\n"
    config.write_text(text)
PY
}
