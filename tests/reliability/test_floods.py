"""Floods: (a) 2000 TCP connections opened as fast as possible (more than the default
--max-connections of 1024) and closed again, half of them with a reset; (b) 100 connections at
once each sending a request header of 20 KiB, over the default --max-header-kb of 16.

Judged by: a client with a keep-alive connection opened before the flood is served throughout;
every flooding connection over the header limit gets a 431 (or 400) or is closed, never anything
else; afterwards the server answers live and an infer, its fd count returns to where it was and
its RSS stays within a bound."""

import socket
import struct
import threading
import unittest

import rharness
from rharness import harness, report

FLOOD_CONNECTIONS = 2000
HEADER_FLOOD = 100
HEADER_BYTES = 20 * 1024   # over the default --max-header-kb 16


class FloodTest(rharness.ReliabilityCase):
    SERVER_ARGS = ["--http-threads", "2"]

    def test_connection_flood(self):
        srv = self.server
        soft = rharness.raise_nofile(FLOOD_CONNECTIONS + 256)
        count = min(FLOOD_CONNECTIONS, soft - 128)
        self.assertGreaterEqual(count, 1100, "this process may open only %d files" % soft)
        fds0 = rharness.fd_count(srv.proc.pid)
        tally = rharness.Tally()
        stop = threading.Event()
        client = rharness.start_threads(rharness.infer_loop,
                                        [(srv, "simple", tally, stop, 100000, 120)])
        harness.wait_until(lambda: tally.answered() > 0, 30, "the normal client's first answer")
        socks = []
        try:
            socks, failed = rharness.connect_many(srv.port, count, 60)
            opened = len(socks)
            for i, s in enumerate(socks):
                if i % 2:  # half of them end with a reset instead of a FIN
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            rharness.close_all(socks)
            answered_during = tally.answered()
        finally:
            rharness.close_all(socks)
            stop.set()
            self.assertEqual(rharness.join_all(client, 90), [], "the normal client hung")
        report(self, "opened %d of %d connections (%d connects failed); normal client: %s" %
               (opened, count, failed, tally.summary()))
        self.assertGreater(opened, 1024, "the flood did not exceed the connection limit")
        self.assertGreater(answered_during, 0)
        self.assertEqual((tally.wrong, tally.malformed, tally.conn_errors, tally.errors),
                         ([], [], {}, {}), tally.summary())
        harness.wait_until(lambda: rharness.fd_count(srv.proc.pid) <= fds0 + 8, 30,
                           "the server's fd count back near %d" % fds0)
        # New connections are served again (the limit's count came back down).
        for _ in range(20):
            ok, resp = rharness.infer_ok(srv)
            self.assertTrue(ok, resp)
        self.assertServerHealthy(rss_slack_mb=64)

    def test_header_flood(self):
        srv = self.server
        header = harness.build_request("GET", "/v2/health/live",
                                       headers={"X-Flood": "f" * HEADER_BYTES})
        barrier = threading.Barrier(HEADER_FLOOD, timeout=60)

        def flood(i):
            try:
                conn = srv.raw(timeout=30)
            except OSError as e:
                return ("connect", type(e).__name__)
            with conn:
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                try:
                    conn.send(header)
                except OSError:
                    pass  # the server may answer and close before reading it all
                try:
                    return ("status", conn.read_response().status)
                except (harness.ConnectionClosed, ConnectionResetError, BrokenPipeError):
                    return ("closed", None)
                except AssertionError as e:
                    return ("malformed", str(e)[:100])
                except socket.timeout:
                    return ("no answer and not closed", None)
        results = harness.run_in_threads(flood, [(i,) for i in range(HEADER_FLOOD)])
        counts = {}
        for r in results:
            counts[r] = counts.get(r, 0) + 1
        report(self, "header flood outcomes: %r" % counts)
        bad = [r for r in results if r not in (("status", 431), ("status", 400),
                                               ("closed", None))]
        self.assertEqual(bad, [], "a flooding connection got neither 431/400 nor a close")
        self.assertServerHealthy(rss_slack_mb=64)


if __name__ == "__main__":
    unittest.main()
