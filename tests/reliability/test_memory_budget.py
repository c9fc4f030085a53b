"""The server-wide memory budget (--max-buffered-mb, a flag new in this round: bytes of request
bodies being received plus replies being written; beyond it new body bytes are refused with 429
and Retry-After and the connection is closed).

With --max-buffered-mb 8, eight connections each announce a 16 MiB infer body and send 4 MiB of
it in 64 KiB pieces, taking turns (32 MiB in flight in all, four times the budget). Judged by: at
least one gets a 429 with Retry-After and a JSON error; nothing else but a 429 or a close comes
back; the server's RSS grows by less than the budget plus a stated slack while it happens; and
afterwards normal requests succeed, a body of half the budget is accepted again and again (the
refused bytes went back to the budget), and the RSS is back within its bound."""

import select
import socket
import time
import unittest

import rharness
from rharness import harness, report

BUDGET_MB = 8
CONNECTIONS = 8
BODY = 16 * rharness.MIB          # announced
SENT = 4 * rharness.MIB           # sent of it, per connection
PIECE = 64 * 1024
PEAK_SLACK_MB = 16                # RSS growth allowed above the budget while under attack


class MemoryBudgetTest(rharness.ReliabilityCase):
    SERVER_ARGS = ["--http-threads", "2", "--max-buffered-mb", str(BUDGET_MB),
                   "--max-request-body-mb", "64"]

    def test_bodies_over_the_budget_are_refused_with_429(self):
        srv = self.server
        pid = srv.proc.pid
        rss0 = rharness.rss_kb(pid)
        head = harness.build_request("POST", "/v2/models/simple/infer", headers={
            "Content-Type": "application/json", "Content-Length": str(BODY)})
        piece = b" " * PIECE
        socks, got, sent = [], {}, {}
        outcome = {}   # index -> "answered", "reset", "stalled"
        peak = rss0
        try:
            for i in range(CONNECTIONS):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                s.sendall(head + b"{")
                socks.append(s)
                got[i], sent[i] = b"", 1
            for _ in range(SENT // PIECE):   # rounds: a piece for each connection still going
                going = [i for i in range(CONNECTIONS) if i not in outcome]
                if not going:
                    break
                for i in going:
                    readable, _, _ = select.select([socks[i]], [], [], 0)
                    if readable:                     # an answer (or a close) came: stop sending
                        outcome[i] = "answered"
                        continue
                    try:
                        socks[i].settimeout(5)
                        socks[i].sendall(piece)
                        sent[i] += PIECE
                    except socket.timeout:
                        outcome[i] = "stalled"       # the server stopped reading it
                    except OSError:
                        outcome[i] = "reset"
                peak = max(peak, rharness.rss_kb(pid))
            # Collect what came back: a connection refused gets its 429 and a close.
            deadline = time.monotonic() + 15
            for i, s in enumerate(socks):
                while time.monotonic() < deadline:
                    s.settimeout(max(0.01, min(1.0, deadline - time.monotonic())))
                    try:
                        chunk = s.recv(1 << 16)
                    except socket.timeout:
                        if rharness.split_responses(got[i])[0] or i not in outcome:
                            break                    # answered, or still waiting for its body
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    got[i] += chunk
            peak = max(peak, rharness.rss_kb(pid))
            self.assertTrue(srv.alive(), srv.log_tail())
            ok, resp = rharness.infer_ok(srv)
            self.assertTrue(ok, "a small infer while the budget is spent: %r" % resp)
        finally:
            rharness.close_all(socks)
        statuses = []
        for i in range(CONNECTIONS):
            resps, _ = rharness.split_responses(got[i])
            statuses.append([r.status for r in resps])
            for r in resps:
                self.assertEqual(r.status, 429, "connection %d: %r" % (i, r))
                self.assertIsNotNone(r.header("Retry-After"), "429 without Retry-After: %r" % r)
                self.assertIsNotNone(r.error_message(), "429 without a JSON error: %r" % r)
        report(self, "statuses %r; outcome %r; sent MiB %r; RSS %d KiB before, peak %d KiB" %
               (statuses, outcome, [sent[i] // rharness.MIB for i in range(CONNECTIONS)],
                rss0, peak))
        self.assertTrue(any(429 in s for s in statuses),
                        "no connection got a 429 with %d MiB sent against a budget of %d MiB"
                        % (sum(sent.values()) // rharness.MIB, BUDGET_MB))
        self.assertLess(peak - rss0, (BUDGET_MB + PEAK_SLACK_MB) * 1024,
                        "RSS grew by %d MiB under a budget of %d MiB" %
                        ((peak - rss0) // 1024, BUDGET_MB))
        for _ in range(20):
            ok, resp = rharness.infer_ok(srv)
            self.assertTrue(ok, "infer after the attack: %r" % resp)
        self.assertRssComesDown(BUDGET_MB + PEAK_SLACK_MB)
        # The refused bodies' bytes were given back to the budget: one body of half the budget
        # at a time still fits, again and again.
        for k in range(4):
            body, in0, in1 = rharness.addsub_body()
            body += b" " * (BUDGET_MB * rharness.MIB // 2 - len(body))
            resp = srv.request("POST", "/v2/models/simple/infer", body,
                               {"Content-Type": "application/json"})
            self.assertTrue(rharness.addsub_correct(resp, in0, in1),
                            "a %d MiB body after the attack (#%d): %r" %
                            (BUDGET_MB // 2, k + 1, resp))
        report(self, "RSS after the attack and four %d MiB bodies: %d KiB" %
               (BUDGET_MB // 2, rharness.rss_kb(pid)))
        self.assertServerHealthy()   # RSS within RSS_SLACK_MB: large bodies may stay pooled


if __name__ == "__main__":
    unittest.main()
