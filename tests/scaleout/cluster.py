"""Three switchyard nodes behind HAProxy or nginx on 127.0.0.1, for the scale-out tests (Python 3
standard library only, on top of tests/integration/harness.py).

- `Node`: one `switchyard serve` of models/node (100 requests/s on two simulated GPUs) with
  `--agent-port`, `--shutdown-grace-s` and an admin token; it can be killed, stopped, SIGTERM'd
  and started again on the same ports, as a rolling restart does.
- `HAProxy`, `Nginx`: the shipped deploy/ configuration with only the listening address, the
  nodes' addresses (and HAProxy's stats socket) changed: the file under test is the file users
  get.
- `Load`: an open-loop client: requests due at a fixed rate, sent by a pool of threads on
  keep-alive http.client connections; every outcome counted (status, or the exception).

Every wait is bounded (harness.wait_until); every process started here is ended by its PID.
"""

import collections
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import harness  # noqa: F401  (PYTHONPATH from ctest)
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "integration"))
    import harness  # noqa: F401

MODEL = "node"
MODEL_DIR = os.path.join(HERE, "models", MODEL)
NODE_CAPACITY_RPS = 100      # models/node on --simulate-gpus 2x80GB (its config says why)
ADMIN_TOKEN = "scale-out-test-token"
GRACE_S = 3                  # --shutdown-grace-s: above HAProxy's inter*fall + agent-inter (1.5 s)
HAPROXY_BIN = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = os.path.join(harness.SOURCE_DIR, "deploy")
START_WAIT_S = 30
STOP_WAIT_S = 40             # SIGTERM: grace + drain of a few queued requests, with room


def have(binary):
    return os.path.isfile(binary) and os.access(binary, os.X_OK)


def infer_body(value=1.0):
    return json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
                                   "data": [value] * 16}]}).encode()


INFER_PATH = "/v2/models/%s/infer" % MODEL


def get(port, path, timeout=5):
    """(status, body) of GET path on 127.0.0.1:port; (None, error) if it fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e)
    finally:
        conn.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def child_pids(pid):
    """Direct children of pid (from /proc/*/stat)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def end_process(proc, sig=signal.SIGTERM, timeout=STOP_WAIT_S):
    """Sends sig to proc (a Popen), waits up to timeout, then SIGKILLs it and its children."""
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    children = child_pids(proc.pid)
    try:
        os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        proc.send_signal(sig)
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        for pid in [proc.pid] + children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return proc.wait()


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
    except OSError:
        return "(no log at %s)" % path


# ----------------------------------------------------------------------------------------------
# Nodes


class Node:
    """One switchyard node on fixed ports once started (the first start picks free ones)."""

    def __init__(self, tmpdir, name, grace_s=GRACE_S, extra_args=(), model_dir=MODEL_DIR):
        self.name = name
        self.model = os.path.basename(model_dir.rstrip("/"))
        self.dir = os.path.join(tmpdir, name)
        os.makedirs(self.dir)
        self.repository = harness.make_repository(self.dir, model_dir)
        # Its own backend folder, holding a link to the sim plugin: a test can take the plugin
        # away so that the node's workers cannot be restarted (its model becomes UNAVAILABLE).
        self.backends = os.path.join(self.dir, "backends")
        os.makedirs(self.backends)
        plugin = "libswitchyard_backend_sim.so"
        self.plugin_link = os.path.join(self.backends, plugin)
        self.plugin_target = os.path.join(os.path.dirname(os.path.dirname(harness.switchyard_bin())),
                                          "backends", plugin)
        os.symlink(self.plugin_target, self.plugin_link)
        self.grace_s = grace_s
        self.extra_args = list(extra_args)
        self.port = 0
        self.agent_port = 0
        self.proc = None
        self.starts = 0
        self.log_path = None

    def command(self, port_file):
        return [harness.switchyard_bin(), "serve", "--model-repository", self.repository,
                "--host", "127.0.0.1", "--http-port", str(self.port), "--grpc-port", "0",
                "--agent-port", str(self.agent_port), "--port-file", port_file,
                "--state-dir", os.path.join(self.dir, "state"),
                "--simulate-gpus", "2x80GB", "--shutdown-grace-s", str(self.grace_s),
                "--admin-token", ADMIN_TOKEN, "--http-threads", "1",
                "--backend-directory", self.backends] + self.extra_args

    def launch(self):
        """Starts the process; `wait_started` waits for it. Same ports as before if it ran."""
        self.starts += 1
        port_file = os.path.join(self.dir, "port-%d" % self.starts)
        self.log_path = os.path.join(self.dir, "server-%d.log" % self.starts)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(port_file), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=harness._die_with_parent)
        self._port_file = port_file

    def _read_ports(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s at startup:\n%s" %
                                 (self.name, self.proc.returncode, tail(self.log_path)))
        try:
            with open(self._port_file) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        http_m = re.search(r"^http=(\d+)$", text, re.M)
        agent_m = re.search(r"^agent=(\d+)$", text, re.M)
        if not (http_m and agent_m):
            return None
        return int(http_m.group(1)), int(agent_m.group(1))

    def wait_started(self):
        self.port, self.agent_port = harness.wait_until(self._read_ports, START_WAIT_S,
                                                        "%s's port file" % self.name)
        harness.wait_until(lambda: get(self.port, "/v2/health/ready")[0] == 200, START_WAIT_S,
                           "%s to be ready" % self.name)
        return self

    def start(self):
        self.launch()
        return self.wait_started()

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_WAIT_S):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %s s:\n%s" %
                                 (self.name, timeout, tail(self.log_path)))

    def stop(self):
        return end_process(self.proc)

    def metrics(self):
        status, body = get(self.port, "/metrics")
        if status != 200:
            raise AssertionError("GET /metrics of %s: %s %r" % (self.name, status, body))
        return harness.Metrics(body.decode())

    def answered(self):
        """Infer requests this node answered 200 (switchyard_requests_total, success)."""
        return self.metrics().value("switchyard_requests_total", model=self.model,
                                    outcome="success")

    def status(self):
        status, body = get(self.port, "/v2/status")
        return json.loads(body) if status == 200 else None

    def worker_pids(self):
        return [i["pid"] for m in self.status()["models"] for i in m["instances"] if i["pid"]]

    def repository_call(self, action):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", "/v2/repository/models/%s/%s" % (self.model, action), b"{}",
                         {"Authorization": "Bearer " + ADMIN_TOKEN,
                          "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()


# ----------------------------------------------------------------------------------------------
# Balancers


class Balancer:
    """A balancer process running the shipped config with the test's addresses filled in."""

    NAME = ""

    def __init__(self, tmpdir, nodes):
        self.dir = os.path.join(tmpdir, self.NAME)
        os.makedirs(self.dir)
        self.nodes = nodes
        self.port = free_port()
        self.config_path = os.path.join(self.dir, os.path.basename(self.shipped_config()))
        self.log_path = os.path.join(self.dir, "balancer.log")
        self.proc = None

    def start(self):
        with open(self.shipped_config()) as f:
            text = self.fill(f.read())
        with open(self.config_path, "w") as f:
            f.write(text)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         preexec_fn=harness._die_with_parent)
        harness.wait_until(self._answers, START_WAIT_S,
                           "%s to answer /v2/health/ready on port %d" % (self.NAME, self.port))
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (self.NAME, self.proc.returncode,
                                                            self.log_tail()))
        return get(self.port, "/v2/health/ready")[0] == 200

    def stop(self):
        return end_process(self.proc, timeout=10)

    def log_tail(self, n=40):
        return tail(self.log_path, n)

    @staticmethod
    def replace_servers(text, pattern, make, nodes):
        """Replaces the i-th match of `pattern` with make(match, nodes[i]); there must be exactly
        as many matches as nodes."""
        matches = list(re.finditer(pattern, text, re.M))
        if len(matches) != len(nodes):
            raise AssertionError("expected %d server lines matching %r in the shipped config, "
                                 "found %d" % (len(nodes), pattern, len(matches)))
        out, last = [], 0
        for m, node in zip(matches, nodes):
            out.append(text[last:m.start()])
            out.append(make(m, node))
            last = m.end()
        out.append(text[last:])
        return "".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HAProxy(Balancer):
    NAME = "haproxy"
    BACKEND = "switchyard_nodes"

    def shipped_config(self):
        return os.path.join(DEPLOY, "haproxy", "haproxy.cfg")

    def fill(self, text):
        self.socket_path = os.path.join(self.dir, "stats.sock")
        text, n = re.subn(r"^(\s*bind\s+)127\.0\.0\.1:8000\b", r"\g<1>127.0.0.1:%d" % self.port,
                          text, flags=re.M)
        assert n == 1, "no `bind 127.0.0.1:8000` in the shipped haproxy.cfg"
        text, n = re.subn(r"^(\s*stats socket\s+)\S+", r"\g<1>" + self.socket_path, text,
                          flags=re.M)
        assert n == 1, "no `stats socket` in the shipped haproxy.cfg"
        return self.replace_servers(
            text, r"^(\s*server\s+\S+\s+)127\.0\.0\.1:\d+(.*?)agent-port\s+\d+(.*)$",
            lambda m, node: "%s127.0.0.1:%d%sagent-port %d%s" % (
                m.group(1), node.port, m.group(2), node.agent_port, m.group(3)), self.nodes)

    def command(self):
        return [HAPROXY_BIN, "-db", "-f", self.config_path]

    def server_names(self):
        return ["node%d" % (i + 1) for i in range(len(self.nodes))]

    def runtime(self, command):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.socket_path)
            s.sendall(command.encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data.decode()
                data += chunk

    def stats(self):
        """{server name: its `show stat` row (dict)} of the nodes' backend, plus the backend's
        and the frontend's rows under 'BACKEND' and 'FRONTEND'."""
        lines = self.runtime("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = {}
        for line in lines[1:]:
            if not line:
                continue
            row = dict(zip(header, line.split(",")))
            if row["svname"] == "FRONTEND" or row["pxname"] == self.BACKEND:
                rows[row["svname"]] = row
        return rows

    def state(self, server):
        return self.stats()[server]["status"]

    def sessions(self, server):
        """Requests (sessions) HAProxy has sent to `server` so far."""
        return int(self.stats()[server]["stot"] or 0)

    def all_up(self):
        rows = self.stats()
        return all(rows[s]["status"] == "UP" for s in self.server_names())

    def start(self):
        super().start()
        harness.wait_until(self.all_up, START_WAIT_S, "HAProxy to see every node UP")
        return self

    def retries(self):
        """Retries (wretr), redispatches (wredis), connection errors (econ) and response errors
        (eresp) HAProxy counted for the nodes' backend."""
        row = self.stats()["BACKEND"]
        return {k: int(row[k] or 0) for k in ("wretr", "wredis", "econ", "eresp")}

    def summary(self):
        rows = self.stats()
        keys = ("status", "weight", "stot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "wretr", "wredis",
                "econ", "eresp", "check_status", "agent_status")
        return "\n".join("%-9s %s" % (name, " ".join("%s=%s" % (k, rows[name].get(k, ""))
                                                      for k in keys))
                         for name in self.server_names() + ["BACKEND", "FRONTEND"])


class Nginx(Balancer):
    NAME = "nginx"

    def shipped_config(self):
        return os.path.join(DEPLOY, "nginx", "nginx.conf")

    def fill(self, text):
        text, n = re.subn(r"^(\s*listen\s+)127\.0\.0\.1:8000\b", r"\g<1>127.0.0.1:%d" % self.port,
                          text, flags=re.M)
        assert n == 1, "no `listen 127.0.0.1:8000` in the shipped nginx.conf"
        return self.replace_servers(
            text, r"^(\s*server\s+)127\.0\.0\.1:\d+(.*)$",
            lambda m, node: "%s127.0.0.1:%d%s" % (m.group(1), node.port, m.group(2)), self.nodes)

    def command(self):
        # -e: the error log before the config is read (nginx otherwise opens its compiled-in
        # /var/log/nginx/error.log first).
        return [NGINX_BIN, "-e", "stderr", "-p", self.dir + "/", "-c", self.config_path]

    def summary(self):
        return "nginx upstream errors: %s" % self.retries()

    def retries(self):
        """What nginx's error log says it passed to another node, by cause (each such line is
        one attempt that failed on a node; the request went on to the next)."""
        causes = collections.Counter()
        try:
            with open(self.log_path, errors="replace") as f:
                for line in f:
                    if "upstream" not in line or "[error]" not in line and "[warn]" not in line:
                        continue
                    m = re.search(r"\] \d+#\d+: \*\d+ (.*?) while ", line)
                    causes[m.group(1) if m else line.strip()[-80:]] += 1
        except OSError:
            pass
        return dict(causes)


# ----------------------------------------------------------------------------------------------
# Load


class Load:
    """Open loop: one infer request due every 1/rate s, sent by the first free thread of a pool on
    its keep-alive connection to 127.0.0.1:port. Outcomes: HTTP status (int) or the exception's
    class name (a connection reset, a timeout). Stop with stop(); counts() after."""

    def __init__(self, port, rate, threads=64, timeout=120):
        self.port = port
        self.rate = rate
        self.threads_n = threads
        self.timeout = timeout
        self.body = infer_body()
        self.due = queue.Queue()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.outcomes = collections.Counter()
        self.completed = 0
        self.sent = 0
        self.threads = []

    def start(self):
        self.threads = [threading.Thread(target=self._pace, daemon=True)]
        self.threads += [threading.Thread(target=self._work, daemon=True)
                         for _ in range(self.threads_n)]
        for t in self.threads:
            t.start()
        return self

    def _pace(self):
        start = time.monotonic()
        k = 0
        while not self.stopping.is_set():
            due = start + k / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                self.stopping.wait(delay)  # pacing the arrivals, not synchronisation
                continue
            self.due.put(due)
            with self.lock:
                self.sent += 1
            k += 1

    def _work(self):
        conn = None
        while True:
            try:
                self.due.get(timeout=0.05)
            except queue.Empty:
                if self.stopping.is_set():
                    break
                continue
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                conn.request("POST", INFER_PATH, self.body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                outcome = r.status
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = type(e).__name__
                conn.close()
                conn = None
            with self.lock:
                self.outcomes[outcome] += 1
                self.completed += 1
        if conn is not None:
            conn.close()

    def done(self):
        with self.lock:
            return self.completed

    def wait_for(self, more, what, timeout=60):
        """Waits until `more` requests more than now have completed."""
        target = self.done() + more
        harness.wait_until(lambda: self.done() >= target, timeout,
                           "%d more requests to complete (%s)" % (more, what))

    def stop(self, timeout=180):
        """Stops new arrivals; waits for every request sent to be answered (or to fail)."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        hung = [t for t in self.threads if t.is_alive()]
        if hung:
            raise AssertionError("%d client threads still waiting %s s after the load stopped "
                                 "(outcomes so far %r)" % (len(hung), timeout, self.counts()))
        return self.counts()

    def counts(self):
        with self.lock:
            return dict(self.outcomes)

    def failures(self, allowed=(200,)):
        return {k: v for k, v in self.counts().items() if k not in allowed}
