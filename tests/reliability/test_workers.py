"""Worker processes under attack (model `pair`: add/sub, two worker processes, 2 ms per batch).

(7) 16 client threads send infers for about 5 s; one worker is killed with SIGKILL once answers
flow, the other is stopped with SIGSTOP once the first is back (and continued at the end if it is
still there). Every request must get the right 200 or, at most, a clean 5xx with a JSON error;
zero connection errors, zero malformed or wrong answers; `pair` READY at the end.

(10) Workers started after the server listens (a restart after SIGKILL, a reload through the
repository API) must not hold the server's listening socket, nor any of its client connections:
the socket inodes in /proc/<worker>/fd are compared with the inodes of the TCP sockets whose
local port is the server's (/proc/net/tcp)."""

import os
import signal
import threading
import time
import unittest

import rharness
from rharness import harness, report

CLIENTS = 16
LOAD_S = 5.0
TOKEN = "reliability-token"


def instance(server, model, index):
    return rharness.model_status(server, model)["instances"][index]


class KillAndStopUnderLoadTest(rharness.ReliabilityCase):
    MODEL_NAMES = ("simple", "pair")
    SERVER_ARGS = ["--http-threads", "2"]

    def test_sigkill_and_sigstop_of_workers_under_load(self):
        srv = self.server
        first = instance(srv, "pair", 0)
        second = instance(srv, "pair", 1)
        tally = rharness.Tally()
        stop = threading.Event()
        started = time.monotonic()
        clients = rharness.start_threads(
            rharness.infer_loop, [(srv, "pair", tally, stop, 100000, 120) for _ in range(CLIENTS)])
        stopped_pid = None
        try:
            harness.wait_until(lambda: tally.answered() >= 200, 30, "the first 200 answers")
            os.kill(first["pid"], signal.SIGKILL)
            killed_at = tally.answered()

            def first_back():
                i = instance(srv, "pair", 0)
                return i if i["state"] == "READY" and i["pid"] != first["pid"] else None
            back = harness.wait_until(first_back, 30, "pair/0 READY again after SIGKILL")
            seen = tally.answered()
            harness.wait_until(lambda: tally.answered() >= seen + 100, 30,
                               "100 more answers after the restart")
            stopped_pid = second["pid"]
            os.kill(stopped_pid, signal.SIGSTOP)
            stopped_at = tally.answered()
            # The load's own length: about LOAD_S in all, and at least a second after the stop.
            load_until = max(started + LOAD_S, time.monotonic() + 1.0)
            while time.monotonic() < load_until:
                stop.wait(0.1)
        finally:
            stop.set()
            hung = rharness.join_all(clients, 90)
            if stopped_pid is not None and rharness.pid_running(stopped_pid):
                rharness.kill_quietly(stopped_pid, signal.SIGCONT)
        report(self, "%d clients, %.1f s: %s (answers at the kill %d, at the stop %d); pair/0 "
               "restarted as pid %d" % (CLIENTS, time.monotonic() - started, tally.summary(),
                                        killed_at, stopped_at, back["pid"]))
        self.assertEqual(hung, [], "clients still waiting 90 s after the load ended")
        self.assertEqual(tally.conn_errors, {}, tally.summary())
        self.assertEqual(tally.malformed, [], tally.summary())
        self.assertEqual(tally.wrong, [], tally.summary())
        self.assertTrue(all(500 <= s < 600 for s in tally.errors), tally.summary())
        self.assertGreater(tally.ok, 0)
        m = harness.wait_until(lambda: rharness.model_ready(srv, "pair"), 60,
                               "pair READY (both instances) at the end")
        report(self, "at the end: %r" % [(i["name"], i["state"], i["restarts"], i["last_error"])
                                         for i in m["instances"]])
        self.assertServerHealthy()


class WorkerFdsTest(rharness.ReliabilityCase):
    MODEL_NAMES = ("simple", "pair")
    SERVER_ARGS = ["--http-threads", "2", "--admin-token", TOKEN]

    def server_sockets(self):
        return {inode for _, inode in rharness.tcp_sockets(self.server.port) if inode}

    def assertNoWorkerHoldsServerSockets(self, when):
        srv = self.server
        listening = rharness.listening_inode(srv.port)
        self.assertIn(listening, rharness.socket_inodes(srv.proc.pid),
                      "the server itself does not hold socket:[%d]?" % listening)
        ours = self.server_sockets()
        listed = {i["pid"] for m in srv.get_json("/v2/status")["models"]
                  for i in m["instances"] if i.get("pid")}
        workers = sorted(set(rharness.children(srv.proc.pid)) | listed)
        self.assertTrue(listed, "no worker processes in /v2/status")
        held = {}
        for w in workers:
            leaked = set(rharness.socket_inodes(w)) & ours
            if leaked:
                held[w] = sorted("listening" if i == listening else "connection %d" % i
                                 for i in leaked)
        report(self, "%s: %d workers, listening socket:[%d], %d server TCP sockets; held by "
               "workers: %r" % (when, len(workers), listening, len(ours), held))
        self.assertEqual(held, {}, "%s: workers hold the server's sockets" % when)

    def test_restarted_and_reloaded_workers_hold_no_server_socket(self):
        srv = self.server
        # Client connections that stay open while workers start: they must not leak either.
        conns = []
        self.addCleanup(lambda: [c.close() for c in conns])
        for _ in range(4):
            c = srv.raw()
            conns.append(c)
            self.assertEqual(c.request("GET", "/v2/health/live").status, 200)
        self.assertNoWorkerHoldsServerSockets("before any restart")

        victim = instance(srv, "pair", 1)
        os.kill(victim["pid"], signal.SIGKILL)
        harness.wait_until(lambda: instance(srv, "pair", 1)["state"] == "READY" and
                           instance(srv, "pair", 1)["pid"] != victim["pid"], 30,
                           "pair/1 restarted")
        harness.wait_until(lambda: rharness.model_ready(srv, "pair"), 30, "pair READY")
        self.assertNoWorkerHoldsServerSockets("after a restart")

        old = rharness.worker_pids(srv, "pair")
        resp = srv.request("POST", "/v2/repository/models/pair/load", b"",
                           {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(resp.status, 200, resp)
        harness.wait_until(lambda: not set(rharness.worker_pids(srv, "pair")) & set(old), 30,
                           "pair reloaded with new workers")
        harness.wait_until(lambda: not any(rharness.pid_running(p) for p in old), 30,
                           "the old workers gone")
        self.assertNoWorkerHoldsServerSockets("after a reload")
        for c in conns:
            self.assertEqual(c.request("GET", "/v2/health/live").status, 200)
        self.assertServerHealthy()


if __name__ == "__main__":
    unittest.main()
