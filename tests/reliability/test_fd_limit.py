"""File-descriptor exhaustion. The server runs with a low RLIMIT_NOFILE (soft and hard, set in
the child before exec) and a --max-connections: the first of (limit 128, 120 connections),
(128, 100), (384, 100) that it starts with. A server may refuse a connection limit that does not
fit its fd limit, but then its message must name the limit (`ulimit -n`, RLIMIT_NOFILE, file
descriptors). 120 under 128 comes first so that a server without such a check runs out of fds.

(a) Clients open connections until the server stops accepting them (at most 300), and 32 more
that wait in the listen backlog; a worker of `simple` is killed with SIGKILL while they are held
(5 s: longer than the 3.1 s five failed restarts take with the restart backoff of 0.1 s
doubling); then all are closed. Within 60 s `simple` must be READY again and serve (a restart
that failed for want of fds must not leave it FAILED for good).

(b) A server asked for --max-connections 100000 under the same limit either exits non-zero with a
message naming the limit (ulimit -n / RLIMIT_NOFILE / file descriptors), or starts and warns that
it lowered its connection limit. Silence is a failure."""

import os
import re
import shutil
import signal
import tempfile
import time
import unittest

import rharness
from rharness import harness, report

NOFILE = 128
ATTEMPTS = ((128, 120), (128, 100), (384, 100))   # (RLIMIT_NOFILE, --max-connections)
OPEN_AT_MOST = 300
BACKLOG = 32                          # connections opened, not waited for, once it stops
HOLD_S = 5.0                          # held after the kill: > 0.1+0.2+0.4+0.8+1.6 s of backoff
RECOVER_S = 60
LIMIT_TEXT = re.compile(r"ulimit|RLIMIT_NOFILE|file descriptor|open files|fd limit|nofile",
                        re.I)


class FdLimitTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="switchyard-rel-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.repo = rharness.make_repository(self.tmp, "simple")

    def limited_server(self, max_connections, nofile=NOFILE):
        srv = rharness.Server(self.repo, ["--http-threads", "2", "--max-connections",
                                          str(max_connections)], nofile=nofile)
        self.addCleanup(srv.stop)
        return srv, srv.try_start()

    def test_model_recovers_after_fd_exhaustion(self):
        for nofile, mc in ATTEMPTS:
            srv, code = self.limited_server(mc, nofile)
            if code is None:
                break
            log = srv.log_text()
            report(self, "--max-connections %d under %d fds: exit %s: %s" %
                   (mc, nofile, code, log.strip().splitlines()[-1:]))
            self.assertNotEqual(code, 0, log)
            self.assertRegex(log, LIMIT_TEXT, "refused to start without naming the fd limit")
            srv.stop()
        else:
            self.fail("the server started with none of (fds, --max-connections) %r" %
                      (ATTEMPTS,))
        pid = srv.proc.pid
        self.assertEqual(rharness.model_status(srv, "simple")["state"], "READY")
        victim = rharness.worker_pids(srv, "simple")[0]
        fds0 = rharness.fd_count(pid)
        conns, pending = [], []
        stopped = None
        try:
            for i in range(OPEN_AT_MOST):
                try:
                    c = srv.raw(timeout=3)
                except OSError as e:
                    stopped = "connect failed: %s" % type(e).__name__
                    break
                try:
                    c.send(harness.build_request("GET", "/v2/health/live"))
                    resp = c.read_response()
                except (OSError, harness.ConnectionClosed) as e:
                    c.close()
                    stopped = "connection %d: %s" % (i, type(e).__name__)
                    break
                conns.append(c)
                if resp.status != 200:
                    stopped = "connection %d: %r" % (i, resp)
                    break
            # More connections wait in the listen backlog: a server that keeps trying to accept
            # them takes every fd the dead worker gives back.
            backlog, _ = rharness.connect_many(srv.port, BACKLOG, 10, timeout=3)
            pending.extend(backlog)
            fds_peak = rharness.fd_count(pid)
            os.kill(victim, signal.SIGKILL)
            # The exposure window: restarts are tried while every fd may be taken.
            hold_until = time.monotonic() + HOLD_S
            while time.monotonic() < hold_until:
                self.assertTrue(srv.alive(), srv.log_tail())
                time.sleep(0.1)  # paces the liveness check; decides nothing
        finally:
            rharness.close_all([c.sock for c in conns] + pending)
        report(self, "--max-connections %d under %d fds: %d connections served, then %s, and %d "
               "more opened; server fds %d before, %d at the peak" %
               (mc, nofile, len(conns), stopped, len(pending), fds0, fds_peak))
        self.assertIsNotNone(stopped, "the server accepted %d connections" % OPEN_AT_MOST)
        try:
            harness.wait_until(lambda: rharness.model_ready(srv, "simple"), RECOVER_S,
                               "simple READY and serving after the connections closed")
        except AssertionError as e:
            try:
                m = rharness.model_status(srv, "simple")
            except Exception as why:  # noqa: BLE001
                m = why
            self.fail("%s\n/v2/status of simple: %r\n--- server log ---\n%s" %
                      (e, m, srv.log_tail(30)))
        self.assertTrue(srv.alive())
        ok, resp = rharness.infer_ok(srv)
        self.assertTrue(ok, resp)

    def test_connection_limit_above_the_fd_limit_is_refused_or_lowered(self):
        srv, code = self.limited_server(100000)
        log = srv.log_text()
        if code is not None:
            report(self, "exit %s" % code)
            self.assertNotEqual(code, 0, log)
            self.assertRegex(log, LIMIT_TEXT, "refused to start without naming the fd limit")
            return
        warned = [line for line in log.splitlines()
                  if re.search(r"connection", line, re.I) and
                  (LIMIT_TEXT.search(line) or str(NOFILE) in line)]
        report(self, "started; warnings about the limit: %r" % warned)
        self.assertTrue(warned, "started with --max-connections 100000 under %d fds without a "
                        "warning that names the fd limit\n--- server log ---\n%s" %
                        (NOFILE, log))
        self.assertEqual(srv.request("GET", "/v2/health/live").status, 200)


if __name__ == "__main__":
    unittest.main()
