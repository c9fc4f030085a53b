"""Helpers of the reliability suite (Python 3 standard library only), on top of the integration
harness (tests/integration/harness.py: the server process, raw sockets, request builders).

ctest puts tests/integration on PYTHONPATH; run by hand, this module adds it itself:

    cd tests/reliability && SWITCHYARD_BIN=../../build/bin/switchyard python3 -m unittest -v \
        test_slow_clients

What every attack is judged by (ReliabilityCase.assertServerHealthy): the server process still
runs, answers GET /v2/health/live and a real infer on `simple` with the right sums, and its RSS
(VmRSS of /proc/<pid>/status) is within a stated bound of what it was before the attack. Requests
sent during an attack are counted by a Tally: every response must be a valid one (a 200 with the
right outputs, or an error status with a JSON {"error": ...} body); connection errors and
malformed responses are counted separately and reported. The /proc helpers live in procfs.py
and are re-exported here.
"""

import json
import os
import random
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

from procfs import (children, fd_count, listening_inode, pid_running, proc_stat,  # noqa: F401
                    proc_status_kb, raise_nofile, rss_kb, socket_inodes, tcp_sockets,
                    unread_by_server)

MODELS = os.path.join(HERE, "models")
MIB = 1024 * 1024

# ----------------------------------------------------------------------------------------------
# The server


def make_repository(tmpdir, *names):
    """A repository with the named models, each from tests/reliability/models or examples."""
    dirs = []
    for name in names:
        own = os.path.join(MODELS, name)
        dirs.append(own if os.path.isdir(own) else os.path.join(harness.examples_models(), name))
    return harness.make_repository(tmpdir, *dirs)


class Server(harness.Server):
    """harness.Server with an optional RLIMIT_NOFILE (soft and hard) for the server process and
    a start that can report an exit at startup instead of raising."""

    def __init__(self, repository, args=(), wait_ready=True, nofile=None):
        super().__init__(repository, args, wait_ready)
        self.nofile = nofile

    def _preexec(self):
        harness._die_with_parent()
        if self.nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def start(self):
        if self.try_start() is not None:
            error = "exit %s" % self.proc.returncode
            tail = self.log_tail()
            self.stop()
            raise AssertionError("server failed to start: %s\n--- server log ---\n%s" %
                                 (error, tail))
        return self

    def try_start(self, timeout=harness.PORT_FILE_WAIT_S):
        """Starts the server; None once it listens (and is ready, if wait_ready), or its exit
        code if it exited first. Raises AssertionError if it neither listens nor exits."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=self._preexec)

        def listening_or_exited():
            if self.proc.poll() is not None:
                return "exited"
            try:
                return self._read_port()
            except AssertionError:
                return "exited"
        try:
            got = harness.wait_until(listening_or_exited, timeout, "the port file or an exit")
            if got == "exited":
                self.proc.wait(harness.STOP_WAIT_S)
                return self.proc.returncode
            self.port = got
            if self.wait_ready:
                harness.wait_until(lambda: self._status("/v2/health/ready") == 200,
                                   harness.READY_WAIT_S, "GET /v2/health/ready to answer 200")
        except BaseException:
            error, tail = sys.exc_info()[1], self.log_tail()
            self.stop()
            raise AssertionError("server failed to start: %s\n--- server log ---\n%s" %
                                 (error, tail))
        return None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def model_status(server, name):
    models = [m for m in server.get_json("/v2/status")["models"] if m["name"] == name]
    if len(models) != 1:
        raise AssertionError("expected one %s in /v2/status, got %r" % (name, models))
    return models[0]


def worker_pids(server, name):
    return [i["pid"] for i in model_status(server, name)["instances"]]


def model_ready(server, name):
    """The model's /v2/status entry if it and all its instances are READY and it answers an
    infer correctly; else None (also when the server cannot be reached)."""
    try:
        m = model_status(server, name)
    except (OSError, AssertionError, ValueError):
        return None
    if m["state"] != "READY" or any(i["state"] != "READY" for i in m["instances"]):
        return None
    try:
        ok, _ = infer_ok(server, name)
    except OSError:
        return None
    return m if ok else None


# ----------------------------------------------------------------------------------------------
# Requests and their tally


def addsub_request(in0, in1):
    return {"inputs": [
        {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": in0},
        {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32", "data": in1}]}


def addsub_body(rng=random):
    """(body bytes, in0, in1) of an add/sub infer request on INT32 [1, 16]."""
    in0 = [rng.randrange(-10000, 10000) for _ in range(16)]
    in1 = [rng.randrange(-10000, 10000) for _ in range(16)]
    return json.dumps(addsub_request(in0, in1)).encode(), in0, in1


def addsub_correct(resp, in0, in1):
    """Whether `resp` is a 200 carrying OUTPUT0 = in0 + in1 and OUTPUT1 = in0 - in1."""
    if resp.status != 200:
        return False
    try:
        outs = {o["name"]: harness.flatten(o["data"]) for o in resp.json()["outputs"]}
    except Exception:
        return False
    return (outs.get("OUTPUT0") == [a + b for a, b in zip(in0, in1)] and
            outs.get("OUTPUT1") == [a - b for a, b in zip(in0, in1)])


def infer_ok(server, model="simple", timeout=30):
    """One infer with random inputs on a fresh connection: (correct?, response)."""
    body, in0, in1 = addsub_body()
    resp = server.request("POST", "/v2/models/%s/infer" % model, body,
                          {"Content-Type": "application/json"}, timeout=timeout)
    return addsub_correct(resp, in0, in1), resp


def split_responses(data):
    """The complete responses at the start of `data`: (responses, bytes of a trailing partial
    response, 0 if none)."""
    conn = harness.RawConnection.__new__(harness.RawConnection)
    conn.sock = None
    conn.buf = data

    def _fill():
        raise harness.ConnectionClosed("incomplete")
    conn._fill = _fill
    out = []
    while conn.buf.strip():
        keep = conn.buf
        try:
            out.append(conn.read_response())
        except harness.ConnectionClosed:
            return out, len(keep)
    return out, 0


class Tally:
    """Thread-safe counts of what requests got. ok: the right 200; error: an error status with
    a JSON error body (recorded by status); wrong: a 200 with wrong outputs; malformed: not a
    valid response (bad status line, non-JSON error body); conn_error: the connection failed
    (refused, reset, closed before or during a response, timeout), by exception name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.errors = {}
        self.wrong = []
        self.malformed = []
        self.conn_errors = {}

    def record(self, resp, in0=None, in1=None):
        with self.lock:
            if resp.status == 200 and (in0 is None or addsub_correct(resp, in0, in1)):
                self.ok += 1
            elif resp.status == 200:
                self.wrong.append(resp)
            elif resp.status >= 400 and resp.error_message() is not None:
                self.errors[resp.status] = self.errors.get(resp.status, 0) + 1
            else:
                self.malformed.append(resp)

    def record_exception(self, exc):
        name = type(exc).__name__
        with self.lock:
            if isinstance(exc, AssertionError):  # the response reader's "bad status line" etc.
                self.malformed.append(str(exc)[:200])
            else:
                self.conn_errors[name] = self.conn_errors.get(name, 0) + 1

    def answered(self):
        with self.lock:
            return self.ok + sum(self.errors.values()) + len(self.wrong) + len(self.malformed)

    def summary(self):
        with self.lock:
            return ("ok=%d errors=%r wrong=%d malformed=%d conn_errors=%r" %
                    (self.ok, self.errors, len(self.wrong), len(self.malformed),
                     self.conn_errors))


def infer_loop(server, model, tally, stop, max_requests=100000, deadline_s=120, rng=None):
    """Sends add/sub infers one after another on a keep-alive connection (a new one after a
    connection error) until `stop` is set, `max_requests` were sent or `deadline_s` passed;
    records every outcome in `tally`."""
    rng = rng or random.Random()
    deadline = time.monotonic() + deadline_s
    conn = None
    path = "/v2/models/%s/infer" % model
    try:
        for _ in range(max_requests):
            if stop.is_set() or time.monotonic() > deadline:
                break
            body, in0, in1 = addsub_body(rng)
            try:
                if conn is None:
                    conn = server.raw(timeout=60)
                conn.send(harness.build_request("POST", path, body,
                                                {"Content-Type": "application/json"}))
                resp = conn.read_response()
            except (OSError, harness.ConnectionClosed, AssertionError) as e:
                tally.record_exception(e)
                if conn is not None:
                    conn.close()
                conn = None
                continue
            tally.record(resp, in0, in1)
            if (resp.header("Connection") or "").lower() == "close":
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()


def start_threads(target, args_list):
    threads = [threading.Thread(target=target, args=args, daemon=True) for args in args_list]
    for t in threads:
        t.start()
    return threads


def join_all(threads, timeout):
    """Joins every thread within `timeout` seconds in all; returns those still running."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]


# ----------------------------------------------------------------------------------------------
# Test cases


def _sanitized_binary():
    """Whether the server binary is built with AddressSanitizer or ThreadSanitizer. Their
    allocators keep freed memory in quarantine and map shadow memory, so the server's RSS after an
    attack says nothing about what it holds: the RSS-slack checks below are skipped (each says so);
    every other check still runs."""
    with open(harness.switchyard_bin(), "rb") as f:
        tail = b""
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return False
            if b"AddressSanitizer" in tail + chunk or b"ThreadSanitizer" in tail + chunk:
                return True
            tail = chunk[-32:]


SANITIZED = _sanitized_binary()


class ReliabilityCase(harness.ServerTestCase):
    """One server per class (models: MODEL_NAMES, flags: SERVER_ARGS), or one per test with
    SERVER_PER_TEST (where one case may kill the server: the next starts from a fresh one).
    The server's RSS after a few warm-up requests is baseline_rss_kb; assertServerHealthy
    compares against it."""

    MODEL_NAMES = ("simple",)
    RSS_SLACK_MB = 64   # how far above its warmed-up RSS the server may be after an attack
    SERVER_PER_TEST = False

    @classmethod
    def repository(cls, tmpdir):
        return make_repository(tmpdir, *cls.MODEL_NAMES)

    @classmethod
    def _start_server(cls, add_cleanup):
        tmp = tempfile.mkdtemp(prefix="switchyard-rel-")
        add_cleanup(shutil.rmtree, tmp, True)
        server = Server(cls.repository(tmp), cls.SERVER_ARGS)
        add_cleanup(server.stop)
        server.start()
        for _ in range(20):
            ok, resp = infer_ok(server)
            if not ok:
                raise AssertionError("warm-up infer on simple failed: %r" % resp)
        return server, rss_kb(server.proc.pid)

    @classmethod
    def setUpClass(cls):
        if not cls.SERVER_PER_TEST:
            cls.server, cls.baseline_rss_kb = cls._start_server(cls.addClassCleanup)

    def setUp(self):
        if self.SERVER_PER_TEST:
            self.server, self.baseline_rss_kb = self._start_server(self.addCleanup)

    def assertServerHealthy(self, rss_slack_mb=None, server=None):
        """The server runs, answers live and an infer on `simple`, and its RSS is within
        `rss_slack_mb` (default RSS_SLACK_MB) of its warmed-up RSS; returns the RSS in KiB."""
        srv = server or self.server

        def died():
            try:  # a server that is going down may still be there for a moment
                srv.proc.wait(5)
            except subprocess.TimeoutExpired:
                return "server still running"
            return "server died (exit %s)\n--- server log ---\n%s" % (srv.proc.returncode,
                                                                      srv.log_tail())
        if not srv.alive():
            self.fail(died())
        try:
            live = srv.request("GET", "/v2/health/live").status
            ok, resp = infer_ok(srv)
        except OSError as e:
            self.fail("no answer after the attack (%s); %s" % (e, died()))
        self.assertEqual(live, 200, "server stopped answering /v2/health/live")
        self.assertTrue(ok, "infer on simple after the attack: %r" % resp)
        slack = self.RSS_SLACK_MB if rss_slack_mb is None else rss_slack_mb
        rss = rss_kb(srv.proc.pid)
        base = getattr(self, "baseline_rss_kb", None) or rss
        if SANITIZED:
            report(self, "RSS %d KiB after the attack, %d KiB before: not judged (sanitizer "
                   "build)" % (rss, base))
            return rss
        self.assertLessEqual(rss, base + slack * 1024,
                             "server RSS %d KiB, more than %d MiB above its %d KiB before" %
                             (rss, slack, base))
        return rss

    def assertRssComesDown(self, slack_mb, timeout=30):
        """Waits (bounded) until the server's RSS is within slack_mb of its warmed-up RSS."""
        base = self.baseline_rss_kb
        if SANITIZED:
            report(self, "RSS coming down: not judged (sanitizer build)")
            return
        harness.wait_until(lambda: rss_kb(self.server.proc.pid) <= base + slack_mb * 1024,
                           timeout, "server RSS within %d MiB of its %d KiB before the attack"
                           % (slack_mb, base))


def report(test, text):
    """One line to stderr (shown by unittest -v and ctest --output-on-failure)."""
    sys.stderr.write("\n  [%s] %s\n" % (test.id().rsplit(".", 1)[-1], text))
    sys.stderr.flush()


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def connect_many(port, count, deadline_s, timeout=10):
    """Opens up to `count` TCP connections to 127.0.0.1:port within `deadline_s`; returns the
    sockets (fewer if connects failed or time ran out) and the number of failed connects."""
    socks, failed = [], 0
    deadline = time.monotonic() + deadline_s
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=timeout))
        except OSError:
            failed += 1
    return socks, failed


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass

