"""Reload storm: the repository API (POST /v2/repository/models/pair/unload, then .../load, with
the admin token) 50 times in a row while clients send requests to `pair` (the model being
cycled) and to `simple` (which must not notice); then 50 reloads in place (load of a loaded
model), which must not cost `pair`'s clients a single request.

Judged by: every unload and load answers 200; the server never crashes; `pair`'s clients get the
right 200 or a JSON error (404/503 while it is unloaded), never a connection error or a malformed
answer; `simple`'s client gets only right 200s; at the end `pair` is READY and serves, the
server's fd count is within a small slack of where it started, it has as many worker processes as
before (none left over, no zombies), and its RSS is within a bound."""

import os
import threading
import unittest

import rharness
from rharness import harness, report

TOKEN = "reliability-token"
AUTH = {"Authorization": "Bearer " + TOKEN}
CYCLES = 50
FD_SLACK = 8


def zombies(pid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = rharness.proc_stat(int(name))
            if st is not None and st[1] == pid and st[0] == "Z":
                out.append(int(name))
    return out


class ReloadStormTest(rharness.ReliabilityCase):
    MODEL_NAMES = ("simple", "pair")
    SERVER_ARGS = ["--http-threads", "2", "--admin-token", TOKEN, "--drain-timeout-s", "10"]
    RSS_SLACK_MB = 64

    def test_unload_and_load_50_times_under_load(self):
        srv = self.server
        pid = srv.proc.pid
        fds0 = rharness.fd_count(pid)
        workers0 = rharness.children(pid)
        pair_tally, simple_tally = rharness.Tally(), rharness.Tally()
        stop = threading.Event()
        clients = rharness.start_threads(rharness.infer_loop, [
            (srv, "pair", pair_tally, stop, 1000000, 240),
            (srv, "pair", pair_tally, stop, 1000000, 240),
            (srv, "simple", simple_tally, stop, 1000000, 240)])
        calls = []
        try:
            harness.wait_until(lambda: pair_tally.answered() > 10, 30, "pair's first answers")
            for _ in range(CYCLES):
                for action in ("unload", "load"):
                    resp = srv.request("POST", "/v2/repository/models/pair/%s" % action, b"",
                                       AUTH, timeout=60)
                    calls.append((action, resp.status))
                    if resp.status != 200:
                        self.fail("%s #%d answered %r\n--- server log ---\n%s" %
                                  (action, len(calls), resp, srv.log_tail(20)))
                    self.assertTrue(srv.alive(), srv.log_tail())
        finally:
            stop.set()
            hung = rharness.join_all(clients, 90)
        report(self, "%d calls; pair: %s; simple: %s" % (len(calls), pair_tally.summary(),
                                                         simple_tally.summary()))
        self.assertEqual(hung, [], "clients hung")
        self.assertEqual(len(calls), 2 * CYCLES)
        self.assertEqual((pair_tally.conn_errors, pair_tally.malformed, pair_tally.wrong),
                         ({}, [], []), pair_tally.summary())
        self.assertTrue(set(pair_tally.errors) <= {404, 503}, pair_tally.summary())
        self.assertEqual((simple_tally.conn_errors, simple_tally.malformed, simple_tally.wrong,
                          simple_tally.errors), ({}, [], [], {}), simple_tally.summary())
        self.assertGreater(simple_tally.ok, 0)

        harness.wait_until(lambda: rharness.model_ready(srv, "pair"), 60, "pair READY")
        harness.wait_until(lambda: len(rharness.children(pid)) == len(workers0), 30,
                           "as many workers as before (%d)" % len(workers0))
        harness.wait_until(lambda: rharness.fd_count(pid) <= fds0 + FD_SLACK, 30,
                           "the server's fd count within %d of %d" % (FD_SLACK, fds0))
        report(self, "fds %d before, %d after; workers %d before, %d after; zombies %r" %
               (fds0, rharness.fd_count(pid), len(workers0), len(rharness.children(pid)),
                zombies(pid)))
        harness.wait_until(lambda: not zombies(pid), 10, "no zombie workers")
        for _ in range(10):
            ok, resp = rharness.infer_ok(srv, "pair")
            self.assertTrue(ok, resp)
        self.assertServerHealthy()

    def test_reload_in_place_50_times_drops_no_request(self):
        srv = self.server
        pid = srv.proc.pid
        fds0 = rharness.fd_count(pid)
        workers0 = rharness.children(pid)
        tally = rharness.Tally()
        stop = threading.Event()
        clients = rharness.start_threads(rharness.infer_loop,
                                         [(srv, "pair", tally, stop, 1000000, 240)] * 4)
        fds = []
        try:
            harness.wait_until(lambda: tally.answered() > 10, 30, "pair's first answers")
            for k in range(CYCLES):
                resp = srv.request("POST", "/v2/repository/models/pair/load", b"", AUTH,
                                   timeout=60)
                if resp.status != 200:
                    self.fail("reload #%d answered %r\n--- server log ---\n%s" %
                              (k + 1, resp, srv.log_tail(20)))
                fds.append(rharness.fd_count(pid))
        finally:
            stop.set()
            hung = rharness.join_all(clients, 90)
        report(self, "%d reloads; pair: %s; server fds after each tenth reload: %r" %
               (CYCLES, tally.summary(), fds[9::10]))
        self.assertEqual(hung, [], "clients hung")
        self.assertEqual((tally.conn_errors, tally.malformed, tally.wrong, tally.errors),
                         ({}, [], [], {}), tally.summary())
        self.assertGreater(tally.ok, 0)
        harness.wait_until(lambda: rharness.model_ready(srv, "pair"), 60, "pair READY")
        harness.wait_until(lambda: len(rharness.children(pid)) == len(workers0), 30,
                           "as many workers as before (%d)" % len(workers0))
        harness.wait_until(lambda: rharness.fd_count(pid) <= fds0 + FD_SLACK, 30,
                           "the server's fd count within %d of %d" % (FD_SLACK, fds0))
        harness.wait_until(lambda: not zombies(pid), 10, "no zombie workers")
        self.assertServerHealthy()


if __name__ == "__main__":
    unittest.main()
