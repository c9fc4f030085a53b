#!/usr/bin/env python3
"""P4 long_requests (BENCHMARKS.md): long requests beside short ones, on CPU.

    python3 bench/long_requests/p4.py --out /tmp/p4 [--long-s 90] [--window-s 20] [--clients 64]
                                      [--bin build/bin/switchyard]

Starts `switchyard serve` on 127.0.0.1 with three `backend: python` models, each with its own
instance:
  - `long_py`: the Python API; predict sleeps the request's `?seconds=`;
  - `long_cli`: the Python API running a command-line script per request (subprocess) that
    sleeps `?seconds=` and writes its answer to a file, as examples/models/to3d does;
  - `short`: the Python API; a JSON request in, ~2 ms of CPU work (a hash), a JSON answer out,
    batched up to 8.
Phase 1 (reference, idle server): --clients closed-loop clients send short requests for
--window-s; their latency p99 is the reference.
Phase 2: one --long-s request to long_py and one to long_cli start; the same clients send short
requests while they run (until both answered). The bar: both long requests answer 200 with the
expected body, and the short requests' p99 in phase 2 is at most 2 × phase 1's.
Prints a table, writes OUT/p4.json and OUT/server.log. Standard library only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

LONG_PY = '''
import time

class Sleeper:
    def decode(self, request):
        return float(request.params.get("seconds", "90"))

    def predict(self, seconds):
        started = time.monotonic()
        time.sleep(seconds)
        return {"slept_s": round(time.monotonic() - started, 3)}
'''

LONG_CLI_MODEL = '''
import os, subprocess, sys, tempfile
import switchyard

class Cli:
    def setup(self, ctx):
        self.script = os.path.join(ctx.version_dir, "work.py")

    def decode(self, request):
        return request.params.get("seconds", "90")

    def predict(self, seconds):
        with tempfile.TemporaryDirectory() as work:
            out = os.path.join(work, "out.txt")
            subprocess.run([sys.executable, self.script, seconds, out], check=True)
            with open(out, "rb") as f:
                return switchyard.Response(f.read(), "text/plain")
'''

LONG_CLI_SCRIPT = '''
import sys, time
seconds, out = float(sys.argv[1]), sys.argv[2]
for i in range(10):
    print("work: %d%%" % (10 * i), file=sys.stderr, flush=True)
    time.sleep(seconds / 10)
with open(out, "w") as f:
    f.write("done after %s s" % seconds)
'''

SHORT = '''
import hashlib

class Short:
    def decode(self, request):
        return request.json["n"]

    def predict(self, batch):
        out = []
        for n in batch:
            digest = b"x"
            for _ in range(2000):        # ~2 ms of CPU on a 2-core VM
                digest = hashlib.sha256(digest).digest()
            out.append({"n": n, "h": digest.hex()[:8]})
        return out
'''


def config(batch, extra=""):
    return ("backend: python\nmax_batch_size: %d\ninstances: {devices: cpu, per_device: 1}\n"
            "queue: {timeout_ms: 0}\nparameters: {python: /usr/bin/python3}\n%s" % (batch, extra))


def write_model(repo, name, cfg, files):
    os.makedirs(os.path.join(repo, name, "1"))
    with open(os.path.join(repo, name, "config.yaml"), "w") as f:
        f.write(cfg)
    for path, text in files.items():
        with open(os.path.join(repo, name, "1", path), "w") as f:
            f.write(text)


def start_server(binary, repo, out):
    port_file = os.path.join(out, "port")
    if os.path.exists(port_file):
        os.remove(port_file)  # an earlier run's
    log = open(os.path.join(out, "server.log"), "wb")
    proc = subprocess.Popen([binary, "serve", "--model-repository", repo, "--host", "127.0.0.1",
                             "--http-port", "0", "--port-file", port_file],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        return proc, wait_ready(proc, port_file, out)
    except BaseException:  # whatever went wrong, the server does not outlive the benchmark
        proc.kill()
        proc.wait()
        raise


def wait_ready(proc, port_file, out):
    """The port of the server `proc` once it answers /v2/health/ready (bounded: 120 s)."""
    deadline = time.monotonic() + 120
    port = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("server exited with %s; see %s/server.log" % (proc.returncode, out))
        if port is None and os.path.exists(port_file):
            found = re.search(r"^http=(\d+)\s*$", open(port_file).read(), re.M)
            port = int(found.group(1)) if found else None
        if port is not None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/v2/health/ready")
                if conn.getresponse().status == 200:
                    return port
            except OSError:
                pass
        time.sleep(0.2)
    sys.exit("server not ready within 120 s")


def post(port, path, body, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def short_load(port, clients, stop):
    """Closed-loop clients on keep-alive connections until stop() is true; latencies in s."""
    latencies, errors = [], []
    lock = threading.Lock()

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        while not stop():
            body = json.dumps({"n": n}).encode()
            started = time.perf_counter()
            try:
                conn.request("POST", "/v2/models/short/predict", body,
                             {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                ok = resp.status == 200 and json.loads(data)["n"] == n
            except (OSError, http.client.HTTPException, ValueError) as exc:
                ok, data = False, repr(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if ok else errors).append(elapsed if ok else data[:200])
            n += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def summary(latencies, seconds):
    return {"requests": len(latencies), "throughput_rps": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 50) * 1e3, 2),
            "p99_ms": round(percentile(latencies, 99) * 1e3, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--bin", default=os.path.join(SOURCE, "build", "bin", "switchyard"))
    parser.add_argument("--long-s", type=float, default=90)
    parser.add_argument("--window-s", type=float, default=20)
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    repo = os.path.join(args.out, "repository")
    shutil.rmtree(repo, ignore_errors=True)
    write_model(repo, "long_py", config(0), {"model.py": LONG_PY})
    write_model(repo, "long_cli", config(0), {"model.py": LONG_CLI_MODEL,
                                              "work.py": LONG_CLI_SCRIPT})
    write_model(repo, "short", config(8, "batching: {max_queue_delay_us: 1000}\n"),
                {"model.py": SHORT})
    proc, port = start_server(args.bin, repo, args.out)
    try:
        # Warm the short path, then the reference window on an idle server.
        short_load(port, 4, lambda t=time.monotonic() + 2: time.monotonic() > t)
        started = time.monotonic()
        idle, idle_errors = short_load(port, args.clients,
                                       lambda: time.monotonic() - started > args.window_s)
        idle_s = time.monotonic() - started

        results = {}

        def long_request(model):
            t0 = time.monotonic()
            try:
                status, body = post(port, "/v2/models/%s/predict?seconds=%g" % (model, args.long_s),
                                    b"{}", timeout=args.long_s * 3)
            except OSError as exc:
                status, body = None, repr(exc).encode()
            results[model] = {"status": status, "body": body.decode("utf-8", "replace")[:200],
                              "seconds": round(time.monotonic() - t0, 2)}

        longs = [threading.Thread(target=long_request, args=(m,)) for m in ("long_py", "long_cli")]
        for t in longs:
            t.start()
        started = time.monotonic()
        busy, busy_errors = short_load(port, args.clients,
                                       lambda: not any(t.is_alive() for t in longs))
        busy_s = time.monotonic() - started
        for t in longs:
            t.join()
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()

    report = {"settings": vars(args), "idle": summary(idle, idle_s),
              "with_long_requests": summary(busy, busy_s), "long": results,
              "short_errors": {"idle": len(idle_errors), "busy": len(busy_errors)},
              "error_samples": [e.decode("utf-8", "replace") for e in (idle_errors +
                                                                      busy_errors)[:5]]}
    ratio = report["with_long_requests"]["p99_ms"] / report["idle"]["p99_ms"]
    long_ok = all(r["status"] == 200 for r in results.values()) and len(results) == 2
    report["p99_ratio"] = round(ratio, 3)
    report["bar_met"] = long_ok and ratio <= 2 and not idle_errors and not busy_errors
    with open(os.path.join(args.out, "p4.json"), "w") as f:
        json.dump(report, f, indent=2)
    print("%-22s %9s %9s %9s %9s" % ("short requests", "requests", "req/s", "p50 ms", "p99 ms"))
    for name in ("idle", "with_long_requests"):
        r = report[name]
        print("%-22s %9d %9.1f %9.2f %9.2f" % (name, r["requests"], r["throughput_rps"],
                                                r["p50_ms"], r["p99_ms"]))
    for model, r in results.items():
        print("%-9s %s after %.1f s: %s" % (model, r["status"], r["seconds"], r["body"]))
    print("short errors: idle %d, busy %d" % (len(idle_errors), len(busy_errors)))
    print("p99 ratio %.2f (bar <= 2), both long requests 200: %s -> %s" %
          (ratio, long_ok, "MET" if report["bar_met"] else "NOT MET"))
    return 0 if report["bar_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
