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

# start_switchyard DIR HTTP_THREADS: serves examples/models on an ephemeral port of 127.0.0.1,
# logging to DIR/switchyard.log; sets SWITCHYARD_PID and SWITCHYARD_URL once the server is ready.
start_switchyard() {
  local dir=$1 threads=$2 bin port_file port
  bin=$(switchyard_bin)
  port_file="$dir/switchyard.port"
  "$bin" serve --model-repository examples/models --host 127.0.0.1 --http-port 0 \
    --port-file "$port_file" --http-threads "$threads" >"$dir/switchyard.log" 2>&1 &
  SWITCHYARD_PID=$!
  track_pid "$SWITCHYARD_PID"
  port=""
  for _ in $(seq 300); do
    if [ -s "$port_file" ]; then
      port=$(sed -n 's/^http=\([0-9][0-9]*\)$/\1/p' "$port_file")
      [ -n "$port" ] && break
    fi
    kill -0 "$SWITCHYARD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    tail -n 20 "$dir/switchyard.log" >&2 || true
    die "switchyard did not write http=PORT to $port_file"
  fi
  SWITCHYARD_URL="http://127.0.0.1:$port"
  if ! wait_http_ok "$SWITCHYARD_URL/v2/health/ready" 60 "$SWITCHYARD_PID"; then
    tail -n 20 "$dir/switchyard.log" >&2 || true
    die "switchyard at $SWITCHYARD_URL did not become ready"
  fi
  log "switchyard serving at $SWITCHYARD_URL (pid $SWITCHYARD_PID, $threads HTTP threads)"
}
