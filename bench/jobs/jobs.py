#!/usr/bin/env python3
"""J1-J3 (issue "Jobs"): the job API under load, after kill -9, and cancellation, on CPU.

    python3 bench/jobs/jobs.py --out /tmp/jobs [--jobs 10000] [--rate 1000] [--bin build/bin/switchyard]

Starts `switchyard serve` on 127.0.0.1 with its own repository and state folder:
  - `sim`: sim FP32[16] identity, 2 ms + 0.05 ms an item per batch, batches up to 64;
  - `slow`: the same, 300 ms a batch, batches up to 8;
  - `sleeps`: a Python model (/usr/bin/python3 with numpy) that works ?seconds=, checking
    ctx.cancelled() every 10 ms.
J1: --jobs jobs submitted open loop at --rate/s to `sim` (POST .../jobs, JSON) from 8 client
    threads, while one client reads the status of a random accepted job in a loop. Every submit
    must be accepted (202) or refused outright (429); the status reads' p99 must be <= 2 ms. Then
    every accepted job must succeed.
J2: 500 jobs queued and 8 running (`slow`, --job-concurrency 8), kill -9 of the server, a
    restart on the same state folder; every accepted job must end succeeded, exactly once (one
    result each, none lost).
J3: a 60 s job of `sleeps` is cancelled while it runs; the time from DELETE to the job's
    `cancelled` and to the answer of a 0 s job submitted right after the DELETE (the instance is
    free again) must be <= 1 s.
Prints a table, writes OUT/jobs.json and the server logs. Standard library only.
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SLEEPS_MODEL = '''
import time
import switchyard

class Sleeps:
    def setup(self, ctx):
        self.ctx = ctx

    def decode(self, request):
        return float(request.params.get("seconds", "0"))

    def predict(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.ctx.cancelled():
                raise switchyard.Cancelled("stopped")
            time.sleep(0.01)
        return {"slept": seconds}
'''


def sim_config(service_us, per_item_us, max_batch):
    return ("backend: sim\nmax_batch_size: %d\n"
            "inputs: [{name: INPUT0, datatype: FP32, shape: [16]}]\n"
            "outputs: [{name: OUTPUT0, datatype: FP32, shape: [16]}]\n"
            "instances: {devices: cpu, per_device: 1}\n"
            "parameters: {function: identity, service_time_us: %d, service_time_per_item_us: %d}\n"
            % (max_batch, service_us, per_item_us))


def write_repository(root):
    repo = os.path.join(root, "repository")
    models = {
        "sim": {"config.yaml": sim_config(2000, 50, 64)},
        "slow": {"config.yaml": sim_config(300000, 0, 8)},
        "sleeps": {"config.yaml": "backend: python\ninstances: {devices: cpu, per_device: 1}\n"
                                  "warmup: {requests: 0}\nparameters: {python: /usr/bin/python3}\n",
                   "1/model.py": SLEEPS_MODEL},
    }
    for name, files in models.items():
        os.makedirs(os.path.join(repo, name, "1"), exist_ok=True)
        for path, text in files.items():
            with open(os.path.join(repo, name, path), "w") as f:
                f.write(text)
    return repo


class Server:
    def __init__(self, binary, repo, state, out, name, args=()):
        self.port_file = os.path.join(out, name + ".port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(os.path.join(out, name + ".log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--model-repository", repo, "--host", "127.0.0.1",
             "--http-port", "0", "--port-file", self.port_file, "--state-dir", state] + list(args),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + 120
        port = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the server exited (%s): see its log" % self.proc.returncode)
            if port is None and os.path.exists(self.port_file):
                found = re.search(r"^http=(\d+)\s*$", open(self.port_file).read(), re.M)
                port = int(found.group(1)) if found else None
            if port is not None:
                try:
                    if request(port, "GET", "/v2/health/ready")[0] == 200:
                        return port
                except OSError:
                    pass
            time.sleep(0.1)
        self.kill()
        raise SystemExit("the server was not ready within 120 s")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


def request(port, method, path, body=None, headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        if own:
            conn.close()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else None


def wait_all(port, ids, timeout):
    """The final states of `ids` (polling the list of jobs, a page at a time)."""
    deadline = time.monotonic() + timeout
    wanted = set(ids)
    while True:
        states = {}
        after = ""
        while True:
            status, body = request(port, "GET", "/v2/jobs?limit=1000&after=" + after)
            page = json.loads(body)
            for job in page["jobs"]:
                if job["id"] in wanted:
                    states[job["id"]] = job
            if "next" not in page:
                break
            after = page["next"]
        done = [j for j in states.values() if j["state"] in ("succeeded", "failed", "cancelled")]
        if len(done) == len(wanted) or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def j1(binary, repo, out, jobs, rate):
    state = os.path.join(out, "state-j1")
    shutil.rmtree(state, ignore_errors=True)
    server = Server(binary, repo, state, out, "j1")
    body = json.dumps({"INPUT0": [0.5] * 16})
    headers = {"Content-Type": "application/json"}
    accepted, refused, other = [], [], []
    lock = threading.Lock()
    reads = []
    stop_reading = threading.Event()
    start = time.monotonic()
    threads = 8

    def submitter(t):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for i in range(t, jobs, threads):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            status, answer = request(server.port, "POST", "/v2/models/sim/jobs", body, headers,
                                     conn)
            with lock:
                if status == 202:
                    accepted.append(json.loads(answer)["id"])
                elif status == 429:
                    refused.append(i)
                else:
                    other.append((status, answer[:200]))

    def reader():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while not stop_reading.is_set():
            with lock:
                job = random.choice(accepted) if accepted else None
            if job is None:
                time.sleep(0.001)
                continue
            t0 = time.perf_counter()
            status, _ = request(server.port, "GET", "/v2/jobs/" + job, conn=conn)
            reads.append(((time.perf_counter() - t0) * 1e6, status))

    workers = [threading.Thread(target=submitter, args=(t,)) for t in range(threads)]
    read_thread = threading.Thread(target=reader)
    read_thread.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    submit_s = time.monotonic() - start
    stop_reading.set()
    read_thread.join()
    states = wait_all(server.port, accepted, 300)
    server.stop()
    latencies = [us for us, status in reads if status == 200]
    succeeded = sum(1 for j in states.values() if j["state"] == "succeeded")
    return {
        "jobs": jobs, "rate_target": rate, "submit_s": round(submit_s, 2),
        "rate_achieved": round(jobs / submit_s, 1), "accepted": len(accepted),
        "refused_429": len(refused), "other": other[:5], "succeeded": succeeded,
        "status_reads": len(latencies), "status_p50_us": round(percentile(latencies, 50) or 0),
        "status_p99_us": round(percentile(latencies, 99) or 0),
        "status_errors": sum(1 for _, s in reads if s != 200),
        "met": (len(other) == 0 and succeeded == len(accepted) and
                (percentile(latencies, 99) or 1e9) <= 2000)}


def j2(binary, repo, out):
    state = os.path.join(out, "state-j2")
    shutil.rmtree(state, ignore_errors=True)
    args = ["--job-concurrency", "8"]
    first = Server(binary, repo, state, out, "j2-first", args)
    body = json.dumps({"INPUT0": [1.0] * 16})
    headers = {"Content-Type": "application/json"}
    ids = []
    conn = http.client.HTTPConnection("127.0.0.1", first.port, timeout=60)
    for _ in range(508):
        status, answer = request(first.port, "POST", "/v2/models/slow/jobs", body, headers, conn)
        if status != 202:
            raise SystemExit("J2: a submit was answered %d: %r" % (status, answer[:200]))
        ids.append(json.loads(answer)["id"])
    time.sleep(0.1)
    listed = json.loads(request(first.port, "GET", "/v2/jobs?limit=1000")[1])["jobs"]
    running_at_kill = sum(1 for j in listed if j["state"] == "running")
    queued_at_kill = sum(1 for j in listed if j["state"] == "queued")
    first.kill()
    second = Server(binary, repo, state, out, "j2-second", args)
    states = wait_all(second.port, ids, 300)
    results = 0
    for job_id in ids:
        status, _ = request(second.port, "GET", "/v2/jobs/%s/result" % job_id)
        results += status == 200
    second.stop()
    succeeded = sum(1 for j in states.values() if j["state"] == "succeeded")
    rerun = sum(1 for j in states.values() if j.get("attempts") == 2)
    return {"submitted": len(ids), "queued_at_kill": queued_at_kill,
            "running_at_kill": running_at_kill, "succeeded_after_restart": succeeded,
            "results_200": results, "ran_twice": rerun, "lost": len(ids) - succeeded,
            "met": succeeded == len(ids) == results}


def j3(binary, repo, out, rounds=5):
    state = os.path.join(out, "state-j3")
    shutil.rmtree(state, ignore_errors=True)
    server = Server(binary, repo, state, out, "j3", ["--job-concurrency", "1"])
    to_cancelled, to_free = [], []
    for _ in range(rounds):
        status, answer = request(server.port, "POST", "/v2/models/sleeps/jobs?seconds=60", b"")
        job = json.loads(answer)["id"]
        while json.loads(request(server.port, "GET", "/v2/jobs/" + job)[1])["state"] != "running":
            time.sleep(0.01)
        time.sleep(0.5)  # it is in predict
        t0 = time.monotonic()
        request(server.port, "DELETE", "/v2/jobs/" + job)
        quick = json.loads(request(server.port, "POST", "/v2/models/sleeps/jobs?seconds=0",
                                   b"")[1])["id"]
        cancelled_at = free_at = None
        while free_at is None or cancelled_at is None:
            now = time.monotonic()
            if cancelled_at is None and json.loads(
                    request(server.port, "GET", "/v2/jobs/" + job)[1])["state"] == "cancelled":
                cancelled_at = now
            if free_at is None and json.loads(
                    request(server.port, "GET", "/v2/jobs/" + quick)[1])["state"] == "succeeded":
                free_at = now
            if now - t0 > 30:
                break
            time.sleep(0.005)
        to_cancelled.append(round(((cancelled_at or 1e9) - t0) * 1000, 1))
        to_free.append(round(((free_at or 1e9) - t0) * 1000, 1))
    server.stop()
    return {"rounds": rounds, "delete_to_cancelled_ms": to_cancelled,
            "delete_to_next_job_done_ms": to_free,
            "met": max(to_cancelled + to_free) <= 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--bin", default=os.path.join(SOURCE, "build", "bin", "switchyard"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    repo = write_repository(args.out)
    report = {"j1": j1(args.bin, repo, args.out, args.jobs, args.rate)}
    print("J1", json.dumps(report["j1"]), flush=True)
    report["j2"] = j2(args.bin, repo, args.out)
    print("J2", json.dumps(report["j2"]), flush=True)
    report["j3"] = j3(args.bin, repo, args.out)
    print("J3", json.dumps(report["j3"]), flush=True)
    with open(os.path.join(args.out, "jobs.json"), "w") as f:
        json.dump(report, f, indent=1)
    return 0 if all(r["met"] for r in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
