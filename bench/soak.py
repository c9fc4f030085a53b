#!/usr/bin/env python3
"""Soak test for switchyard (not run by CI; Python 3 standard library only).

    python3 bench/soak.py --minutes 30 --out /tmp/soak [--bin build/bin/switchyard]
                          [--seed N] [--clients 2] [--chaos-min-s 5 --chaos-max-s 30]
                          [--server-arg=--write-timeout-s --server-arg=10]

Starts `switchyard serve` on 127.0.0.1 (ephemeral port) with a copy of examples/models/simple,
examples/models/sim_batch and tests/reliability/models/pair in OUT/repository, and the admin
token set, so the repository API works. Then, for --minutes:

- load: per kind, --clients threads on keep-alive connections: JSON infer on simple, sim_batch and
  pair (answers checked), binary infer on simple (binary outputs checked), metadata / stats /
  health / metrics / status GETs, and slow readers (pipeline GET /metrics, read 4 KiB at a time);
- chaos: at random intervals (seeded RNG; the seed is printed) either SIGKILL of a random worker
  process (a child of the server) or a reload of a random model through
  POST /v2/repository/models/<m>/load;
- every 10 s one line: server RSS, open fds (/proc/<pid>/fd), worker processes, requests ok /
  failed (an HTTP error) / error (a connection error, a wrong or malformed answer), by cause.

At the end it stops the server it started (SIGTERM, SIGKILL after 60 s), writes OUT/soak.json
(settings, seed, chaos events, samples, totals) and OUT/server.log, and prints a summary: RSS
and fds at start / max / end, total requests, failed requests by cause. Exit status 0 when the
server lived to the end, exited 0 on SIGTERM and no answer was wrong or malformed; 1 otherwise.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TOKEN = "soak-token"
SAMPLE_S = 10
IO_TIMEOUT_S = 60
MODELS = [os.path.join(SOURCE, "examples", "models", "simple"),
          os.path.join(SOURCE, "examples", "models", "sim_batch"),
          os.path.join(SOURCE, "tests", "reliability", "models", "pair")]


# ----------------------------------------------------------------------------------------------
# /proc

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def children(pid):
    """Live (non-zombie) children of `pid`: the server's worker processes."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[1]) == pid and rest[0] != "Z":
            out.append(int(name))
    return out


# ----------------------------------------------------------------------------------------------
# Counting


class Counts:
    """ok / failed (HTTP error status) / error (connection error, wrong or malformed answer),
    per kind of client and per cause."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = {}
        self.failed = {}   # (kind, cause) -> n
        self.errors = {}   # (kind, cause) -> n

    def add(self, table, kind, cause=None):
        with self.lock:
            key = kind if cause is None else (kind, cause)
            table[key] = table.get(key, 0) + 1

    def snapshot(self):
        with self.lock:
            return (sum(self.ok.values()), sum(self.failed.values()), sum(self.errors.values()),
                    dict(self.failed), dict(self.errors), dict(self.ok))


def causes(table):
    out = {}
    for (kind, cause), n in table.items():
        out["%s:%s" % (kind, cause)] = n
    return out


# ----------------------------------------------------------------------------------------------
# Clients


class Client:
    """A keep-alive http.client connection that reconnects after an error."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=IO_TIMEOUT_S)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def json_addsub(rng, model):
    a = [rng.randrange(-1000, 1000) for _ in range(16)]
    b = [rng.randrange(-1000, 1000) for _ in range(16)]
    body = json.dumps({"inputs": [
        {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": a},
        {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32", "data": b}]}).encode()

    def check(headers, data):
        outs = {o["name"]: o["data"] for o in json.loads(data)["outputs"]}
        return (outs["OUTPUT0"] == [x + y for x, y in zip(a, b)] and
                outs["OUTPUT1"] == [x - y for x, y in zip(a, b)])
    return "POST", "/v2/models/%s/infer" % model, body, {"Content-Type": "application/json"}, check


def json_sim_batch(rng):
    v = [float(rng.randrange(0, 1000)) for _ in range(16)]
    body = json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "FP32",
                                   "data": v}]}).encode()

    def check(headers, data):
        return json.loads(data)["outputs"][0]["data"] == v
    return "POST", "/v2/models/sim_batch/infer", body, {"Content-Type": "application/json"}, check


def binary_addsub(rng):
    a = [rng.randrange(-1000, 1000) for _ in range(16)]
    b = [rng.randrange(-1000, 1000) for _ in range(16)]
    header = json.dumps({
        "inputs": [{"name": n, "shape": [1, 16], "datatype": "INT32",
                    "parameters": {"binary_data_size": 64}} for n in ("INPUT0", "INPUT1")],
        "outputs": [{"name": n, "parameters": {"binary_data": True}}
                    for n in ("OUTPUT0", "OUTPUT1")]}).encode()
    body = header + struct.pack("<16i", *a) + struct.pack("<16i", *b)

    def check(headers, data):
        hlen = int(headers["inference-header-content-length"])
        meta = json.loads(data[:hlen])
        offset, outs = hlen, {}
        for o in meta["outputs"]:
            size = o["parameters"]["binary_data_size"]
            outs[o["name"]] = list(struct.unpack("<16i", data[offset:offset + size]))
            offset += size
        return (offset == len(data) and outs["OUTPUT0"] == [x + y for x, y in zip(a, b)] and
                outs["OUTPUT1"] == [x - y for x, y in zip(a, b)])
    return ("POST", "/v2/models/simple/infer", body,
            {"Content-Type": "application/octet-stream",
             "Inference-Header-Content-Length": str(len(header))}, check)


META_PATHS = ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/simple",
              "/v2/models/pair/config", "/v2/models/stats", "/v2/models/simple/stats",
              "/metrics", "/v2/status"]


def meta_get(rng):
    path = rng.choice(META_PATHS)

    def check(headers, data):
        if path.startswith("/v2/health/"):
            return data == b""          # the status is the answer
        if path == "/metrics":
            return data.startswith(b"#")
        return isinstance(json.loads(data), (dict, list))
    return "GET", path, None, {}, check


def client_loop(kind, make, port, counts, stop, seed):
    rng = random.Random(seed)
    client = Client(port)
    try:
        while not stop.is_set():
            method, path, body, headers, check = make(rng)
            try:
                status, rheaders, data = client.request(method, path, body, headers)
            except (OSError, http.client.HTTPException) as e:
                counts.add(counts.errors, kind, type(e).__name__)
                stop.wait(0.05)  # do not spin on a server that is gone
                continue
            if status == 503 and path == "/v2/health/ready":
                counts.add(counts.ok, kind)  # a valid answer while a worker restarts
                continue
            if status != 200:
                counts.add(counts.failed, kind, "http_%d" % status)
                continue
            try:
                good = check(rheaders, data)
            except Exception:  # noqa: BLE001
                good = False
            if good:
                counts.add(counts.ok, kind)
            else:
                counts.add(counts.errors, kind, "wrong_answer")
    finally:
        client.close()


def slow_reader_loop(port, counts, stop, seed):
    """Pipelines 20 GET /metrics and reads the answers 4 KiB at a time, 0.2 s apart; counts each
    complete answer; a close by the server (a write timeout) counts as failed."""
    request = b"GET /metrics HTTP/1.1\r\nHost: soak\r\n\r\n"
    while not stop.is_set():
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(IO_TIMEOUT_S)
            s.connect(("127.0.0.1", port))
            s.sendall(request * 20)
        except OSError as e:
            counts.add(counts.errors, "slow_reader", type(e).__name__)
            stop.wait(0.5)
            continue
        data, answers = b"", 0
        try:
            while answers < 20 and not stop.is_set():
                chunk = s.recv(4096)
                if not chunk:
                    counts.add(counts.failed, "slow_reader", "closed_by_server")
                    break
                data += chunk
                while True:  # count complete answers (Content-Length framed)
                    head_end = data.find(b"\r\n\r\n")
                    if head_end < 0:
                        break
                    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", data[:head_end + 2])
                    if not m or not data.startswith(b"HTTP/1.1 200"):
                        counts.add(counts.errors, "slow_reader", "malformed")
                        answers = 20
                        break
                    end = head_end + 4 + int(m.group(1))
                    if len(data) < end:
                        break
                    data = data[end:]
                    answers += 1
                    counts.add(counts.ok, "slow_reader")
                stop.wait(0.2)
        except OSError as e:
            counts.add(counts.errors, "slow_reader", type(e).__name__)
        finally:
            s.close()


# ----------------------------------------------------------------------------------------------
# Chaos


def chaos_loop(server_pid, port, rng, lo, hi, events, stop, started):
    models = ["simple", "sim_batch", "pair"]
    while not stop.wait(rng.uniform(lo, hi)):
        t = round(time.monotonic() - started, 1)
        if rng.random() < 0.5:
            workers = children(server_pid)
            if not workers:
                events.append({"t": t, "action": "kill", "result": "no worker"})
                continue
            victim = rng.choice(sorted(workers))
            try:
                os.kill(victim, signal.SIGKILL)
                result = "killed"
            except ProcessLookupError:
                result = "gone"
            event = {"t": t, "action": "kill", "pid": victim, "result": result}
        else:
            model = rng.choice(models)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("POST", "/v2/repository/models/%s/load" % model, body=b"",
                             headers={"Authorization": "Bearer " + TOKEN})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                result = resp.status
            except (OSError, http.client.HTTPException) as e:
                result = type(e).__name__
            event = {"t": t, "action": "reload", "model": model, "result": result}
        events.append(event)
        print("  chaos %s" % json.dumps(event), flush=True)


# ----------------------------------------------------------------------------------------------
# Main


def start_server(args, out):
    repo = os.path.join(out, "repository")
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)
    for m in MODELS:
        shutil.copytree(m, os.path.join(repo, os.path.basename(m)))
    port_file = os.path.join(out, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(out, "server.log"), "wb")
    cmd = [args.bin, "serve", "--model-repository", repo, "--host", "127.0.0.1",
           "--http-port", "0", "--port-file", port_file, "--admin-token", TOKEN] + args.server_arg
    print("server: %s" % " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    port = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with open(port_file) as f:
                m = re.search(r"^http=(\d+)\s*$", f.read(), re.M)
            if m:
                port = int(m.group(1))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/v2/health/ready")
                if conn.getresponse().status == 200:
                    conn.close()
                    return proc, port, log
                conn.close()
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    sys.exit("server did not become ready within 60 s (exit %s); see %s" %
             (proc.returncode, os.path.join(out, "server.log")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--bin", default=os.path.join(SOURCE, "build", "bin", "switchyard"))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--clients", type=int, default=2, help="threads per kind of client")
    p.add_argument("--chaos-min-s", type=float, default=5.0)
    p.add_argument("--chaos-max-s", type=float, default=30.0)
    p.add_argument("--server-arg", action="append", default=[],
                   help="extra argument for `switchyard serve` (repeat; use --server-arg=--x)")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    print("seed %d (rerun with --seed %d)" % (seed, seed), flush=True)
    os.makedirs(args.out, exist_ok=True)

    proc, port, log = start_server(args, args.out)
    pid = proc.pid
    counts, events, samples = Counts(), [], []
    stop = threading.Event()
    rng = random.Random(seed)
    started = time.monotonic()
    kinds = [("json_simple", lambda r: json_addsub(r, "simple")),
             ("json_pair", lambda r: json_addsub(r, "pair")),
             ("json_sim_batch", json_sim_batch),
             ("binary_simple", binary_addsub),
             ("meta", meta_get)]
    threads = []
    for kind, make in kinds:
        for i in range(args.clients):
            threads.append(threading.Thread(target=client_loop, daemon=True, args=(
                kind, make, port, counts, stop, rng.randrange(1 << 31))))
    for i in range(max(1, args.clients // 2)):
        threads.append(threading.Thread(target=slow_reader_loop, daemon=True,
                                        args=(port, counts, stop, rng.randrange(1 << 31))))
    threads.append(threading.Thread(target=chaos_loop, daemon=True, args=(
        pid, port, random.Random(rng.randrange(1 << 31)), args.chaos_min_s, args.chaos_max_s,
        events, stop, started)))
    for t in threads:
        t.start()

    def sample():
        ok, failed, errors, failed_by, errors_by, _ = counts.snapshot()
        s = {"t": round(time.monotonic() - started, 1), "rss_kb": rss_kb(pid),
             "fds": fd_count(pid), "workers": len(children(pid)), "ok": ok, "failed": failed,
             "error": errors, "failed_by": causes(failed_by), "error_by": causes(errors_by),
             "alive": proc.poll() is None}
        samples.append(s)
        print("t=%6.1fs rss=%7s KiB fds=%4s workers=%2d ok=%8d failed=%5d error=%5d %s %s" % (
            s["t"], s["rss_kb"], s["fds"], s["workers"], ok, failed, errors,
            json.dumps(s["failed_by"]) if failed_by else "",
            json.dumps(s["error_by"]) if errors_by else ""), flush=True)
        return s

    end = started + args.minutes * 60
    died = False
    try:
        sample()
        while time.monotonic() < end:
            if stop.wait(min(SAMPLE_S, max(0.0, end - time.monotonic()))):
                break
            if proc.poll() is not None:
                print("server exited with %s during the soak" % proc.returncode, flush=True)
                died = True
                break
            sample()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        recent = samples and time.monotonic() - started - samples[-1]["t"] < 1.0
        final = samples[-1] if recent else sample()
        stop.set()
        for t in threads:
            t.join(IO_TIMEOUT_S + 5)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    code = proc.returncode

    ok, failed, errors, failed_by, errors_by, ok_by = counts.snapshot()
    report = {"seed": seed, "minutes": args.minutes, "bin": args.bin, "clients": args.clients,
              "server_args": args.server_arg, "exit_code": code, "died_during_soak": died,
              "events": events, "samples": samples,
              "totals": {"ok": ok, "failed": failed, "error": errors, "ok_by": ok_by,
                         "failed_by": causes(failed_by), "error_by": causes(errors_by)}}
    with open(os.path.join(args.out, "soak.json"), "w") as f:
        json.dump(report, f, indent=1)

    def col(key):
        vals = [s[key] for s in samples if s[key] is not None]
        return (vals[0], max(vals), vals[-1]) if vals else (None, None, None)
    rss, fds, workers = col("rss_kb"), col("fds"), col("workers")
    print("\n%-22s %12s %12s %12s" % ("", "start", "max", "end"))
    print("%-22s %12s %12s %12s" % (("server RSS (KiB)",) + rss))
    print("%-22s %12s %12s %12s" % (("server fds",) + fds))
    print("%-22s %12s %12s %12s" % (("worker processes",) + workers))
    print("\nrequests: %d in all, %d ok, %d failed (HTTP error), %d error" %
          (ok + failed + errors, ok, failed, errors))
    for title, table in (("failed", failed_by), ("error", errors_by)):
        for cause, n in sorted(causes(table).items(), key=lambda kv: -kv[1]):
            print("  %-7s %-40s %8d" % (title, cause, n))
    kills = sum(1 for e in events if e["action"] == "kill")
    print("chaos: %d worker kills, %d reloads (seed %d); exit code %s; %s" %
          (kills, len(events) - kills, seed, code, os.path.join(args.out, "soak.json")))
    bad = [c for (_, c) in errors_by if c in ("wrong_answer", "malformed")]
    healthy = not died and code == 0 and final["alive"] and not bad
    print("verdict: %s" % ("OK" if healthy else "PROBLEMS (see above)"))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
