"""Slow clients: (1) slowloris, 200 connections trickling a header one byte every 0.5 s against
--idle-timeout-s 2, and (2) slow readers, 32 connections that pipeline 200 requests for a large
answer (GET /metrics, ~180 KB with the 64-instance model `wide`) and never read, against
--write-timeout-s 2 (a flag new in this round) and --max-connections 32.

Judged by: a normal client is still served (during the slowloris, and after the slow readers'
connections time out), the attackers' connections are closed by the server within a bounded
wait, every response anyone got is a valid one, and the server's RSS and fd count come back."""

import select
import socket
import threading
import time
import unittest

import rharness
from rharness import harness, report

IDLE_TIMEOUT_S = 2
WRITE_TIMEOUT_S = 2
SLOW_CONNECTIONS = 200
SLOW_ROUNDS = 12          # one byte per round on every connection
SLOW_PAUSE_S = 0.5        # between rounds: the attack's own pace (about 6 s in all)
READERS = 32
PIPELINED = 200
CLOSE_WAIT_S = 20         # longest wait for the server to close an attacker's connection


def wait_closed(socks, timeout):
    """Reads every socket in `socks` until the server closes it (EOF or reset) or `timeout`
    passes; returns ({index: bytes read}, [indexes still open])."""
    data = {i: b"" for i in range(len(socks))}
    open_ = set(range(len(socks)))
    deadline = time.monotonic() + timeout
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select([socks[i] for i in open_], [], [],
                                    max(0.0, min(1.0, deadline - time.monotonic())))
        index = {id(socks[i]): i for i in open_}
        for s in ready:
            i = index[id(s)]
            try:
                chunk = s.recv(1 << 16)
            except (BlockingIOError, socket.timeout):
                chunk = None
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""  # a reset counts as closed
            if chunk:
                data[i] += chunk
            elif chunk == b"":
                open_.discard(i)
    return data, sorted(open_)


class SlowlorisTest(rharness.ReliabilityCase):
    SERVER_ARGS = ["--idle-timeout-s", str(IDLE_TIMEOUT_S), "--http-threads", "2"]

    def test_slowloris_connections_are_closed_and_others_served(self):
        srv = self.server
        fds0 = rharness.fd_count(srv.proc.pid)
        socks, failed = rharness.connect_many(srv.port, SLOW_CONNECTIONS, 30)
        self.addCleanup(rharness.close_all, socks)
        self.assertEqual((len(socks), failed), (SLOW_CONNECTIONS, 0), "could not connect")
        partial = (b"GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                   b"a" * 64)[:SLOW_ROUNDS]
        tally = rharness.Tally()
        stop = threading.Event()
        client = rharness.start_threads(rharness.infer_loop,
                                        [(srv, "simple", tally, stop, 100000, 60)])
        refused_during = set()
        try:
            for rnd in range(SLOW_ROUNDS):
                for i, s in enumerate(socks):
                    if i in refused_during:
                        continue
                    try:
                        s.send(partial[rnd:rnd + 1], socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        pass
                    except OSError:  # reset or broken pipe: the server closed it
                        refused_during.add(i)
                # The attack's pace, not a synchronisation: one byte per connection per round.
                stop.wait(SLOW_PAUSE_S)
            served_during = tally.answered()
        finally:
            stop.set()
            self.assertEqual(rharness.join_all(client, 90), [], "the normal client hung")
        report(self, "normal client during the attack: %s; attackers already closed: %d/%d" %
               (tally.summary(), len(refused_during), SLOW_CONNECTIONS))
        self.assertGreater(served_during, 0, "the normal client got no answer during the attack")
        self.assertEqual((tally.wrong, tally.malformed, tally.conn_errors), ([], [], {}),
                         tally.summary())
        self.assertEqual(tally.errors, {}, tally.summary())
        # The attack lasts three idle timeouts: a server that restarts the timeout at every byte
        # (instead of bounding the whole header) lets them all live through it.
        self.assertGreaterEqual(len(refused_during), SLOW_CONNECTIONS // 2,
                                "only %d of %d trickling connections closed during a %.0f-s "
                                "attack with --idle-timeout-s %d" %
                                (len(refused_during), SLOW_CONNECTIONS,
                                 SLOW_ROUNDS * SLOW_PAUSE_S, IDLE_TIMEOUT_S))

        rest = [socks[i] for i in range(len(socks)) if i not in refused_during]
        data, still_open = wait_closed(rest, CLOSE_WAIT_S)
        self.assertEqual(still_open, [], "%d slowloris connections still open %d s after the "
                         "attack" % (len(still_open), CLOSE_WAIT_S))
        for got in data.values():  # a 408 (or 400) before closing is fine, nothing else
            if got:
                self.assertRegex(got.split(b"\r\n")[0], rb"^HTTP/1\.[01] (408|400) ", got[:200])
        rharness.close_all(socks)
        harness.wait_until(lambda: rharness.fd_count(srv.proc.pid) <= fds0 + 8, 30,
                           "the server's fd count back near %d" % fds0)
        self.assertServerHealthy(rss_slack_mb=32)


class SlowReaderTest(rharness.ReliabilityCase):
    MODEL_NAMES = ("simple", "wide")  # wide: 64 in-process instances make /metrics large
    SERVER_ARGS = ["--write-timeout-s", str(WRITE_TIMEOUT_S), "--max-connections", str(READERS),
                   "--http-threads", "2"]

    def connect_small(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
        s.settimeout(10)
        s.connect(("127.0.0.1", self.server.port))
        return s

    def served(self):
        """Whether a new client gets GET /v2/health/live answered (False if closed at once)."""
        try:
            with self.server.raw(timeout=5) as conn:
                return conn.request("GET", "/v2/health/live").status == 200
        except (OSError, harness.ConnectionClosed):
            return False

    def test_stuck_readers_are_closed_and_new_clients_served(self):
        srv = self.server
        answer = srv.request("GET", "/metrics")
        self.assertEqual(answer.status, 200)
        report(self, "each pipelined answer: GET /metrics, %d bytes" % len(answer.body))
        pipeline = harness.build_request("GET", "/metrics") * PIPELINED
        readers = []
        try:
            for _ in range(READERS):
                s = self.connect_small()
                readers.append(s)
                s.sendall(pipeline)  # ~8 KB: fits the socket buffers; never read back
            # The stuck readers fill the server's connection limit; once their writes time out
            # the server closes them and a new client is served.
            harness.wait_until(self.served, 30 + WRITE_TIMEOUT_S,
                               "a new client to be served while %d readers never read" % READERS)
            data, still_open = wait_closed(readers, CLOSE_WAIT_S)
        finally:
            rharness.close_all(readers)
        self.assertEqual(still_open, [], "%d of the %d stuck readers not closed by the server "
                         "%d s after the write timeout" % (len(still_open), READERS,
                                                           CLOSE_WAIT_S))
        complete = 0
        for got in data.values():
            resps, _partial = rharness.split_responses(got)
            for r in resps:
                self.assertEqual(r.status, 200, r)
            complete += len(resps)
        report(self, "stuck readers got %d complete answers of %d asked before being closed"
               % (complete, READERS * PIPELINED))
        self.assertLess(complete, READERS * PIPELINED, "the readers were never stuck")
        self.assertRssComesDown(32)
        self.assertServerHealthy(rss_slack_mb=32)


if __name__ == "__main__":
    unittest.main()
