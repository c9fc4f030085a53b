"""S1 scale_out and S2 node_faults (docs/benchmarks.md), run by bench/scale_out/run.

S1: three switchyard nodes (S1_MODEL, default bench/scale_out/models/s1: 400 requests/s a node on
two simulated GPUs) behind the shipped deploy/haproxy/haproxy.cfg, closed loop (`switchyard
bench --concurrency C`), against one node through the same HAProxy process (the other two put in
maintenance through its runtime API), alternating rounds; bar: 3 nodes >= 2.85 x one node.
The machine's CPU use over each run is recorded: on two cores the nodes, HAProxy and the client
share them, so a ratio below the bar with the CPU near 100 % is the machine's limit, not the
balancer's.

S2: for HAProxy and nginx (shipped configs), three nodes of tests/scaleout/models/node (100/s
each) at ~50 % load (150/s open loop, Python client), and one fault to the second node: kill -9
(then restarted on its ports), SIGSTOP (then SIGCONT), SIGTERM (grace, drain, exit; then
restarted). Counts every outcome the client saw; bar: 0 failed requests.

Prints a table last; writes summary.json (and each bench run's JSON) to the results folder.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "scaleout"))
import cluster  # noqa: E402
from cluster import harness  # noqa: E402

ENV = os.environ.get


def log(msg):
    print("\033[1m[bench]\033[0m %s" % msg, file=sys.stderr, flush=True)


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def cpu_busy(before, after):
    total, idle = after[0] - before[0], after[1] - before[1]
    return 1 - idle / total if total else 0.0


# ----------------------------------------------------------------------------------------------
# S1


def s1(results, tmp):
    model_dir = ENV("S1_MODEL_DIR") or os.path.join(HERE, "models", ENV("S1_MODEL", "s1"))
    if not os.path.isdir(model_dir):
        model_dir = os.path.join(SOURCE, "bench", "models", "b4", ENV("S1_MODEL", "s1"))
    model = os.path.basename(model_dir)
    concurrency = int(ENV("S1_CONCURRENCY", "192"))
    rounds = int(ENV("ROUNDS", "2"))
    bench_args = (ENV("BENCH_ARGS") or "--warmup-s 2 --window-ms 5000 --max-windows 4").split()
    nodes = [cluster.Node(tmp, "s1-node%d" % (i + 1), model_dir=model_dir) for i in range(3)]
    procs = []
    try:
        for node in nodes:
            node.launch()
            procs.append(node)
        for node in nodes:
            node.wait_started()
        haproxy = cluster.HAProxy(os.path.join(tmp, "s1"), nodes).start()
        procs.append(haproxy)
        names = haproxy.server_names()

        def use(n):
            # Maintenance with the agent off: an agent's "ready" would lift it.
            for i, name in enumerate(names):
                server = "%s/%s" % (haproxy.BACKEND, name)
                if i < n:
                    haproxy.runtime("set server %s state ready" % server)
                    haproxy.runtime("enable agent %s" % server)
                else:
                    haproxy.runtime("disable agent %s" % server)
                    haproxy.runtime("set server %s state maint" % server)
            # Wait until the nodes in use are UP at full weight (out of slowstart; idle nodes'
            # agents say 100 %) and the others in maintenance.
            harness.wait_until(
                lambda: all((s["status"] == "UP" and s["weight"] == "100") if i < n else
                            s["status"].startswith("MAINT")
                            for i, s in enumerate(haproxy.stats()[name] for name in names)),
                60, "HAProxy to use %d node(s)" % n)

        runs = {1: [], 3: []}
        for r in range(1, rounds + 1):
            for n in (1, 3):
                use(n)
                out = os.path.join(results, "s1-%dnode-%d.json" % (n, r))
                log("S1 round %d: %d node(s), %s, concurrency %d" % (r, n, model, concurrency))
                before = cpu_times()
                subprocess.run([harness.switchyard_bin(), "bench", "-m", model, "--url",
                                "http://127.0.0.1:%d" % haproxy.port, "--concurrency",
                                str(concurrency), "--format", "json", "--json-out", out] +
                               bench_args, check=True, stdout=subprocess.DEVNULL)
                busy = cpu_busy(before, cpu_times())
                level = json.load(open(out))["levels"][0]
                runs[n].append({"throughput_rps": level["throughput_rps"],
                                "errors": level["errors"]["total"],
                                "p50_us": level["latency_us"]["p50"],
                                "p99_us": level["latency_us"]["p99"], "cpu_busy": busy})
        medians = {n: statistics.median(x["throughput_rps"] for x in runs[n]) for n in runs}
        ratio = medians[3] / max(medians[1], 1e-9)
        return {"model": model, "concurrency": concurrency, "rounds": rounds, "runs": runs,
                "median_rps": medians, "ratio": ratio, "bar": 2.85, "met": ratio >= 2.85}
    finally:
        for p in reversed(procs):
            p.stop()


# ----------------------------------------------------------------------------------------------
# S2

FAULTS = ("kill9", "sigstop", "sigterm")


def s2_run(balancer_cls, fault, tmp):
    nodes = [cluster.Node(tmp, "node%d" % (i + 1)) for i in range(3)]
    started = []
    load = None
    try:
        for node in nodes:
            node.launch()
            started.append(node)
        for node in nodes:
            node.wait_started()
        balancer = balancer_cls(tmp, nodes).start()
        started.append(balancer)
        rate = 0.5 * 3 * cluster.NODE_CAPACITY_RPS
        load = cluster.Load(balancer.port, rate, threads=256).start()
        load.wait_for(int(rate * 3), "before the fault")
        victim = nodes[1]
        if fault == "kill9":
            victim.signal(signal.SIGKILL)
            victim.wait_exit()
            load.wait_for(int(rate * 5), "node dead")
            victim.start()
            harness.wait_until(lambda: victim.answered() > 0, 60, "the node back")
        elif fault == "sigstop":
            victim.signal(signal.SIGSTOP)
            try:
                load.wait_for(int(rate * 5), "node stopped")
            finally:
                os.kill(victim.pid, signal.SIGCONT)
        else:
            victim.signal(signal.SIGTERM)
            victim.wait_exit()
            load.wait_for(int(rate * 3), "node exited")
            victim.start()
            harness.wait_until(lambda: victim.answered() > 0, 60, "the node back")
        load.wait_for(int(rate * 2), "after")
        counts = load.stop()
        return {"requests": sum(counts.values()),
                "failed": sum(v for k, v in counts.items() if k != 200),
                "outcomes": {str(k): v for k, v in counts.items()},
                "balancer_retries": balancer.retries()}
    finally:
        if load is not None:
            load.stopping.set()
        for p in reversed(started):
            p.stop()


def s2(tmp):
    out = {}
    balancers = [b for b in (cluster.HAProxy, cluster.Nginx)
                 if cluster.have(cluster.HAPROXY_BIN if b is cluster.HAProxy else
                                 cluster.NGINX_BIN)]
    for balancer in balancers:
        for fault in ENV("S2_FAULTS", " ".join(FAULTS)).split():
            log("S2: %s, %s of a node at ~50 %% load" % (balancer.NAME, fault))
            run_dir = tempfile.mkdtemp(dir=tmp)
            out["%s/%s" % (balancer.NAME, fault)] = s2_run(balancer, fault, run_dir)
    return out


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "loadavg": os.getloadavg(),
            "haproxy": subprocess.run([cluster.HAPROXY_BIN, "-v"], capture_output=True,
                                      text=True).stdout.splitlines()[0],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        SOURCE, "bench", "results", "scale_out-" + time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(results, exist_ok=True)
    if not cluster.have(cluster.HAPROXY_BIN):
        sys.exit("haproxy is not installed (Debian: haproxy)")
    tmp = tempfile.mkdtemp(prefix="switchyard-scale-out-")
    summary = {"benchmark": "S1 scale_out, S2 node_faults", "machine": machine()}
    try:
        if ENV("SKIP_S1") != "1":
            summary["s1"] = s1(results, tmp)
        if ENV("SKIP_S2") != "1":
            summary["s2"] = s2(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary["machine"]["loadavg_after"] = os.getloadavg()
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    m = summary["machine"]
    print("\nmachine: %d cores, %s; load average %.2f before, %.2f after" % (
        m["nproc"], m["cpu"], m["loadavg"][0], m["loadavg_after"][0]))
    if "s1" in summary:
        s = summary["s1"]
        print("\nS1 scale_out: %s, closed loop, concurrency %d, through HAProxy, %d rounds" % (
            s["model"], s["concurrency"], s["rounds"]))
        print("%-8s %10s %9s %9s %7s %9s  all rounds req/s" % (
            "nodes", "req/s", "p50 us", "p99 us", "errors", "CPU busy"))
        for n in (1, 3):
            runs = s["runs"][n]
            med = sorted(runs, key=lambda x: x["throughput_rps"])[(len(runs) - 1) // 2]
            print("%-8d %10.0f %9.0f %9.0f %7d %8.0f%%  %s" % (
                n, med["throughput_rps"], med["p50_us"], med["p99_us"], med["errors"],
                100 * med["cpu_busy"], " ".join("%.0f" % x["throughput_rps"] for x in runs)))
        print("ratio 3 nodes / 1 node = %.3f (bar >= 2.85: %s)" % (
            s["ratio"], "met" if s["met"] else "NOT MET"))
    if "s2" in summary:
        print("\nS2 node_faults: 3 nodes x 100 req/s, 150 req/s open loop, one node faulted")
        print("%-18s %9s %7s  %-28s %s" % ("balancer/fault", "requests", "failed", "outcomes",
                                          "balancer retries"))
        for key, r in summary["s2"].items():
            print("%-18s %9d %7d  %-28s %s" % (key, r["requests"], r["failed"],
                                              json.dumps(r["outcomes"]),
                                              json.dumps(r["balancer_retries"])))
        bad = {k: r["failed"] for k, r in summary["s2"].items() if r["failed"]}
        print("bar: 0 failed requests: %s" % ("met" if not bad else "NOT MET %r" % bad))
    print("results in %s" % results)


if __name__ == "__main__":
    main()
