"""Shared helpers for switchyard's integration tests (Python 3 standard library only).

A test file starts the real `switchyard` binary on 127.0.0.1 with `--http-port 0`, waits (bounded)
for the port file, talks to it over real HTTP, and always stops it afterwards:

    class MyTest(harness.ServerTestCase):
        REPOSITORY = harness.examples_models()     # or harness.make_repository(...)
        SERVER_ARGS = ["--http-threads", "2"]

        def test_live(self):
            self.assertEqual(self.server.request("GET", "/v2/health/live").status, 200)

Environment: SWITCHYARD_BIN (the binary; default <source>/build/bin/switchyard) and
SWITCHYARD_SOURCE_DIR (the checkout; default two folders up from this file).
SWITCHYARD_TEST_LOG=1 prints each server's log when it stops.

Synchronisation is by bounded polling for a condition (`wait_until`), never by sleeping a fixed
time; no assertion depends on how long something took.
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("SWITCHYARD_SOURCE_DIR") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
PORT_FILE_WAIT_S = 20   # longest wait for the port file after start
READY_WAIT_S = 30       # longest wait for /v2/health/ready after the port file
STOP_WAIT_S = 20        # longest wait for exit after SIGTERM before SIGKILL


def switchyard_bin():
    path = os.environ.get("SWITCHYARD_BIN") or os.path.join(SOURCE_DIR, "build", "bin",
                                                             "switchyard")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise AssertionError("switchyard binary not found at %s (set SWITCHYARD_BIN)" % path)
    return path


def examples_dir():
    """examples/models itself."""
    return os.path.join(SOURCE_DIR, "examples", "models")


_TENSOR_EXAMPLES = None


def examples_models():
    """A repository of the example models except the Python ones (`backend: python`: eager
    PyTorch models that take seconds of CPU to load, tested on their own by
    test_python_models.py): links to the example folders, made once per test process."""
    global _TENSOR_EXAMPLES
    if _TENSOR_EXAMPLES is None:
        repo = tempfile.mkdtemp(prefix="switchyard-examples-")
        atexit.register(shutil.rmtree, repo, True)
        for name in sorted(os.listdir(examples_dir())):
            folder = os.path.join(examples_dir(), name)
            config = os.path.join(folder, "config.yaml")
            if not os.path.isfile(config):
                continue
            with open(config) as f:
                if re.search(r"^backend:\s*python\b", f.read(), re.MULTILINE):
                    continue
            os.symlink(folder, os.path.join(repo, name))
        _TENSOR_EXAMPLES = repo
    return _TENSOR_EXAMPLES


def test_models(*parts):
    return os.path.join(SOURCE_DIR, "tests", "integration", "models", *parts)


def make_repository(tmpdir, *model_dirs):
    """Copies the given model folders into a fresh repository under `tmpdir`; returns its path.

    Lets one server serve the example models together with this suite's own models."""
    repo = os.path.join(tmpdir, "repository")
    os.makedirs(repo, exist_ok=True)
    for src in model_dirs:
        if not os.path.isdir(src):
            raise AssertionError("model folder missing: %s" % src)
        shutil.copytree(src, os.path.join(repo, os.path.basename(src.rstrip("/"))))
    return repo


def wait_until(predicate, timeout, what="condition", interval=0.01):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` seconds pass
    (AssertionError naming `what` and the last value)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s (last value: %r)" %
                                 (timeout, what, last))
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def _die_with_parent():
    """preexec_fn: the server gets SIGKILL if the test process dies (e.g. ctest timeout)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

from wire import (IO_TIMEOUT_S, ConnectionClosed, Metrics, RawConnection, Response,  # noqa: F401
                  build_request, decode_infer, encode_infer, flatten, output_values, pack,
                  parse_responses, unpack)


# ----------------------------------------------------------------------------------------------
# The server process


class Server:
    """One `switchyard serve` process on 127.0.0.1 with an ephemeral port."""

    def __init__(self, repository, args=(), wait_ready=True):
        self.repository = repository
        self.args = list(args)
        self.wait_ready = wait_ready
        self.proc = None
        self.port = None
        self.grpc_port = None  # set when the server serves gRPC (--grpc-port)
        self.tmpdir = tempfile.mkdtemp(prefix="switchyard-it-")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self.port_file = os.path.join(self.tmpdir, "port")

    def command(self):
        # Jobs go to this server's own folder unless the test names one (beside the
        # repository, the default, would be inside the source tree for its models).
        state = [] if "--state-dir" in self.args else [
            "--state-dir", os.path.join(self.tmpdir, "state")]
        # No gRPC unless the test asks for it (`--grpc-port any`): the default port is fixed.
        grpc = [] if "--grpc-port" in self.args else ["--grpc-port", "0"]
        return [switchyard_bin(), "serve", "--model-repository", self.repository,
                "--host", "127.0.0.1", "--http-port", "0", "--port-file", self.port_file
                ] + state + grpc + self.args

    def start(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            self.port = wait_until(self._read_port, PORT_FILE_WAIT_S, "the port file")
            if self.wait_ready:
                wait_until(lambda: self._status("/v2/health/ready") == 200, READY_WAIT_S,
                           "GET /v2/health/ready to answer 200")
        except BaseException:
            error, tail = sys.exc_info()[1], self.log_tail()  # stop() removes the log
            self.stop()
            raise AssertionError("server failed to start: %s\n--- server log ---\n%s" %
                                 (error, tail))
        return self

    def _read_port(self):
        if self.proc.poll() is not None:
            raise AssertionError("server exited with %s before writing the port file" %
                                 self.proc.returncode)
        try:
            with open(self.port_file) as f:
                content = f.read()
        except FileNotFoundError:
            return None
        m = re.search(r"^http=(\d+)\s*$", content, re.M)
        if not m:
            return None
        port = int(m.group(1))
        grpc = re.search(r"^grpc=(\d+)\s*$", content, re.M)
        self.grpc_port = int(grpc.group(1)) if grpc else None
        try:  # the file may be half written: only a port that accepts counts
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return None
        return port

    def _status(self, path):
        try:
            return self.request("GET", path, timeout=5).status
        except OSError:
            return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no log)"

    def stop(self, timeout=STOP_WAIT_S):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code. Idempotent."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.environ.get("SWITCHYARD_TEST_LOG"):
            sys.stderr.write("--- server log (%s) ---\n%s\n" % (self.repository, self.log_tail()))
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return self.proc.returncode

    # -- request helpers (a fresh connection per call) --

    def connection(self, timeout=IO_TIMEOUT_S):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, timeout=IO_TIMEOUT_S):
        return RawConnection(self.port, timeout)

    def request(self, method, path, body=None, headers=None, timeout=IO_TIMEOUT_S):
        conn = self.connection(timeout)
        try:
            return http_request(conn, method, path, body, headers)
        finally:
            conn.close()

    def get_json(self, path):
        resp = self.request("GET", path)
        if resp.status != 200:
            raise AssertionError("GET %s answered %r" % (path, resp))
        return resp.json()

    def infer(self, model, request, version=None, binary_inputs=(), headers=None):
        """POSTs an infer request (JSON, plus raw tensors if `binary_inputs`)."""
        path = "/v2/models/%s%s/infer" % (model, "" if version is None else
                                          "/versions/%s" % version)
        body, hlen = encode_infer(request, binary_inputs)
        hdrs = dict(headers or {})
        if binary_inputs:
            hdrs["Inference-Header-Content-Length"] = str(hlen)
        else:
            hdrs.setdefault("Content-Type", "application/json")
        return self.request("POST", path, body, hdrs)

    def metrics(self):
        resp = self.request("GET", "/metrics")
        if resp.status != 200:
            raise AssertionError("GET /metrics answered %r" % resp)
        return Metrics(resp.body.decode("utf-8"))

    def model_stats(self, model, version=None):
        """The model_stats entry of one model from /v2/models/{m}/stats."""
        path = "/v2/models/%s%s/stats" % (model, "" if version is None else
                                          "/versions/%s" % version)
        stats = self.get_json(path)["model_stats"]
        entries = [s for s in stats if s.get("name") == model]
        if len(entries) != 1:
            raise AssertionError("expected one stats entry for %s in %r" % (model, stats))
        return entries[0]


def http_request(conn, method, path, body=None, headers=None):
    """Sends one request on an http.client connection; returns a Response."""
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=dict(headers or {}))
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, r.reason, r.getheaders(), data)


class ServerTestCase(unittest.TestCase):
    """One server per test class. Subclasses set REPOSITORY (a path) or override
    repository(tmpdir), and SERVER_ARGS. After every test the server must still be alive and
    answer /v2/health/live (a crash shows up as an error of the test that caused it)."""

    REPOSITORY = None
    SERVER_ARGS = []
    server = None

    @classmethod
    def repository(cls, tmpdir):
        return cls.REPOSITORY

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.mkdtemp(prefix="switchyard-repo-")
        cls.addClassCleanup(shutil.rmtree, cls._tmp, True)
        cls.server = Server(cls.repository(cls._tmp), cls.SERVER_ARGS)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def tearDown(self):
        srv = self.server
        if srv is None:
            return
        if not srv.alive():
            self.fail("server died (exit %s)\n--- server log ---\n%s" %
                      (srv.proc.returncode, srv.log_tail()))
        status = srv._status("/v2/health/live")
        self.assertEqual(status, 200, "server stopped answering /v2/health/live")

    # -- assertion helpers --

    def assertError(self, resp, status, msg=None):
        """`resp` has `status` and a KServe error body {"error": "<non-empty>"}."""
        self.assertEqual(resp.status, status, msg or repr(resp))
        err = resp.error_message()
        self.assertIsNotNone(err, "expected a JSON {\"error\": ...} body, got %r" % resp)
        self.assertTrue(err.strip(), "empty error message in %r" % resp)
        return err

    def assertOk(self, resp):
        self.assertEqual(resp.status, 200, repr(resp))
        return resp


def stream_events(server, target, body=b"", content_type=None, until=None):
    """POST `target` with Accept: text/event-stream; reads the events until the stream ends (or,
    with `until`, until an event satisfies it: the connection is then closed) and returns
    (status line, [(event, parsed data)])."""
    conn = server.raw(timeout=30)
    content = b"Content-Type: %s\r\n" % content_type.encode() if content_type else b""
    conn.send(b"POST %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n%s"
              b"Content-Length: %d\r\n\r\n%s" % (target.encode(), content, len(body), body))
    data = b""
    events = []
    while True:
        chunk = conn.sock.recv(65536)
        if not chunk:
            break
        data += chunk
        _, _, stream = data.partition(b"\r\n\r\n")
        events = []
        for event in stream.decode().split("\n\n")[:-1]:
            lines = dict(line.split(": ", 1) for line in event.splitlines() if ": " in line)
            if "event" in lines:
                events.append((lines["event"], json.loads(lines["data"])))
        if until is not None and any(until(e) for e in events):
            break
    conn.close()
    return data.split(b"\r\n", 1)[0].decode(), events


def run_in_threads(fn, args_list):
    """Runs fn(*args) for each args in parallel threads; returns results in order (an exception
    in a thread is re-raised here)."""
    results = [None] * len(args_list)
    errors = [None] * len(args_list)

    def work(i, args):
        try:
            results[i] = fn(*args)
        except BaseException as e:  # noqa: BLE001
            errors[i] = e

    threads = [threading.Thread(target=work, args=(i, a), daemon=True)
               for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(IO_TIMEOUT_S * 2)
    for e in errors:
        if e is not None:
            raise e
    return results


def simple_request(in0, in1, batch=1, nested=False, **extra):
    """A JSON infer request for the `simple` model (INPUT0, INPUT1 INT32 [batch, 16])."""
    def data(v):
        return [v[i * 16:(i + 1) * 16] for i in range(batch)] if nested else v
    req = {"inputs": [
        {"name": "INPUT0", "shape": [batch, 16], "datatype": "INT32", "data": data(in0)},
        {"name": "INPUT1", "shape": [batch, 16], "datatype": "INT32", "data": data(in1)},
    ]}
    req.update(extra)
    return req
