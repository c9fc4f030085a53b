"""SIGTERM under load: 16 clients keep sending infers to `slow` (one worker, 100 ms per batch of
at most 4, so requests wait in its queue) on keep-alive connections; once at least 8 wait in the
queue, the server gets SIGTERM.

Judged by: every request that was completely sent before the signal (in flight) gets a complete
response, the right 200 or a 503 with a JSON error; a request sent after it gets the same or no
response at all (the connection closed before any byte of an answer: not accepted), never a
response cut off in the middle; the process exits 0 within the drain timeout plus a bound."""

import random
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

import rharness
from rharness import harness, report

CLIENTS = 16
DRAIN_S = 20


def read_one(sock, deadline):
    """Reads one response: (Response or None, bytes received for it, how it ended)."""
    data = b""
    while True:
        resps, _ = rharness.split_responses(data)
        if resps:
            return resps[0], len(data), "complete"
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            return None, len(data), "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return None, len(data), "reset"
        if not chunk:
            return None, len(data), "closed"
        data += chunk


class SigtermUnderLoadTest(unittest.TestCase):
    def test_requests_in_flight_get_complete_responses(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-rel-")
        self.addCleanup(shutil.rmtree, tmp, True)
        srv = rharness.Server(rharness.make_repository(tmp, "slow"),
                              ["--http-threads", "2", "--drain-timeout-s", str(DRAIN_S)])
        self.addCleanup(srv.stop)
        srv.start()
        killed_at = [None]
        lock = threading.Lock()
        records = []   # (sent before the signal?, outcome, status or None, bytes received)

        def client(k):
            rng = random.Random(k)
            deadline = time.monotonic() + 120
            sock = None
            try:
                for _ in range(10000):
                    if killed_at[0] is not None and time.monotonic() > killed_at[0] + 60:
                        break
                    body, in0, in1 = rharness.addsub_body(rng)
                    try:
                        if sock is None:
                            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
                        sock.sendall(harness.build_request(
                            "POST", "/v2/models/slow/infer", body,
                            {"Content-Type": "application/json"}))
                    except OSError:
                        with lock:
                            records.append((False, "not sent", None, 0))
                        break
                    before = killed_at[0] is None
                    resp, nbytes, how = read_one(sock, deadline)
                    if resp is not None:
                        good = (rharness.addsub_correct(resp, in0, in1) or
                                (resp.status == 503 and resp.error_message() is not None))
                        how = "valid" if good else "invalid"
                    with lock:
                        records.append((before, how, resp and resp.status, nbytes))
                    if resp is None or resp.status != 200 or \
                            (resp.header("Connection") or "").lower() == "close":
                        break
            finally:
                if sock is not None:
                    sock.close()

        threads = rharness.start_threads(client, [(k,) for k in range(CLIENTS)])
        try:
            harness.wait_until(
                lambda: srv.metrics().value("switchyard_queue_depth", model="slow") >= 8, 30,
                "8 requests waiting in slow's queue")
            killed_at[0] = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            code = srv.proc.wait(DRAIN_S + harness.STOP_WAIT_S)
        finally:
            hung = rharness.join_all(threads, 90)
        log = srv.log_tail(30)
        in_flight = [r for r in records if r[0]]
        after = [r for r in records if not r[0]]
        summary = {}
        for r in records:
            key = ("in flight" if r[0] else "after", r[1], r[2])
            summary[key] = summary.get(key, 0) + 1
        report(self, "exit %s; outcomes: %r" % (code, summary))
        self.assertEqual(code, 0, log)
        self.assertEqual(hung, [], "clients hung after the server exited")
        self.assertGreaterEqual(len([r for r in in_flight if r[2] is not None]), 8)
        bad = [r for r in in_flight if r[1] != "valid"]
        self.assertEqual(bad, [], "requests in flight at SIGTERM without a complete valid "
                         "response (sent before?, outcome, status, bytes)\n" + log)
        cut = [r for r in after if r[1] not in ("valid", "not sent") and
               not (r[1] in ("closed", "reset") and r[3] == 0)]
        self.assertEqual(cut, [], "requests sent after SIGTERM answered partially or wrongly")
        self.assertFalse(any(rharness.pid_running(p) for p in rharness.children(srv.proc.pid)))


class ShutdownGraceTest(unittest.TestCase):
    """--shutdown-grace-s: on SIGTERM the server turns not ready at once and keeps serving, so a
    balancer stops sending before it stops accepting; a second signal ends the grace early."""

    def test_not_ready_but_serving_then_a_second_signal_drains(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-rel-")
        self.addCleanup(shutil.rmtree, tmp, True)
        srv = rharness.Server(rharness.make_repository(tmp, "slow"),
                              ["--shutdown-grace-s", "600"])
        self.addCleanup(srv.stop)
        srv.start()
        self.assertEqual(srv._status("/v2/health/ready"), 200)
        srv.proc.send_signal(signal.SIGTERM)
        harness.wait_until(lambda: srv._status("/v2/health/ready") == 503, 30,
                           "readiness to turn false after SIGTERM")
        self.assertEqual(srv._status("/v2/health/live"), 200)
        body, in0, in1 = rharness.addsub_body(random.Random(1))
        resp = srv.request("POST", "/v2/models/slow/infer", body,
                           {"Content-Type": "application/json"})
        self.assertTrue(rharness.addsub_correct(resp, in0, in1), repr(resp))  # still served
        self.assertTrue(srv.alive())
        srv.proc.send_signal(signal.SIGTERM)  # far before the 600 s: drain now
        self.assertEqual(srv.proc.wait(DRAIN_S + harness.STOP_WAIT_S), 0, srv.log_tail(30))
        self.assertIn("a second stop signal: draining now", srv.log_tail(30))


if __name__ == "__main__":
    unittest.main()
