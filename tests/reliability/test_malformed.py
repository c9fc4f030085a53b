"""Oversized and smuggling-shaped requests, each on its own connection: huge chunked trailers
(value and name), a 70,000-byte header value under --max-header-kb 1024, Transfer-Encoding
values other than a lone `chunked` (identity, `chunked, identity`, xchunked, `gzip, chunked`),
Transfer-Encoding together with Content-Length, two Authorization headers, and 64 connections
that each claim a 64 MiB body and send none of it.

Judged by: each gets a clean HTTP error (or, where stated, a close), the bytes after a refused
header are never answered as a second request, the server's RSS does not grow with what bodies
merely claim, and after each case the server answers live and an infer (tearDown checks live
after every test; assertServerHealthy adds the infer and the RSS bound)."""

import socket
import time
import unittest

import rharness
from rharness import harness, report

CLAIMED_BODY = 64 * 1024 * 1024
CLAIMERS = 64
CLAIM_RSS_BOUND_MB = 64    # the server's RSS may grow by less than this over all 64 claims
SECOND = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(port, data, timeout=20, until_closed=True):
    """Sends `data` on a new connection and reads until the server closes it or `timeout`
    passes (or, unless `until_closed`, until a first complete response is in); returns
    (complete responses, closed?, bytes of a trailing partial response)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got, closed = b"", False
    try:
        try:
            sock.sendall(data)
        except OSError:
            pass  # the server may refuse and close before reading everything
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(1 << 16)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            if not chunk:
                closed = True
                break
            got += chunk
            if not until_closed and rharness.split_responses(got)[0]:
                break
    finally:
        sock.close()
    resps, partial = rharness.split_responses(got)
    return resps, closed, partial


def chunked(path, trailer, te="chunked"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te.encode() +
            b"\r\n\r\n0\r\n" + trailer + b"\r\n\r\n")


class MalformedCases:
    """The cases; each subclass runs them against its own server."""

    def expect_error_or_close(self, data, statuses, must_answer=False, what=""):
        resps, closed, partial = exchange(self.server.port, data, until_closed=False)
        report(self, "%s: %s%s" % (what, [r.status for r in resps] or "no answer",
                                    ", closed" if closed else ""))
        self.assertFalse(partial, "%s: a truncated response" % what)
        self.assertLessEqual(len(resps), 1, "%s: answered %r" % (what, resps))
        if must_answer:
            self.assertEqual(len(resps), 1, "%s: closed without an answer" % what)
        for r in resps:
            self.assertIn(r.status, statuses, "%s: %r" % (what, r))
            self.assertIsNotNone(r.error_message(), "%s: not a JSON error: %r" % (what, r))
        if not resps:
            self.assertTrue(closed, "%s: neither answered nor closed" % what)
        return resps

    def test_chunked_trailer_value_of_65534_bytes(self):
        for path in (b"/v2/health/live", b"/v2/models/simple/infer"):
            for size in (65534, 65535, 70000):
                self.expect_error_or_close(chunked(path, b"T: " + b"t" * size),
                                           range(400, 500), what="trailer value %d" % size)
                self.assertServerHealthy()

    def test_chunked_trailer_name_of_70000_bytes(self):
        self.expect_error_or_close(chunked(b"/v2/health/live", b"T" * 70000 + b": v"),
                                   range(400, 500), what="trailer name 70000")
        self.assertServerHealthy()

    def test_header_value_of_70000_bytes(self):
        data = harness.build_request("GET", "/v2/health/live", headers={"X-Big": "v" * 70000})
        self.expect_error_or_close(data, (431, 400), must_answer=True, what="header value 70000")
        data = harness.build_request("GET", "/v2/health/live",
                                     headers={"X" * 70000: "v"})
        self.expect_error_or_close(data, (431, 400), must_answer=True, what="header name 70000")
        self.assertServerHealthy()

    def test_transfer_encodings_other_than_chunked_are_400_and_close(self):
        for te, statuses in (("identity", [400]), ("chunked, identity", [400]),
                             ("xchunked", [400]), ("chunked, chunked", [400]),
                             ("identity, chunked", [400, 501])):
            head = ("POST /v2/health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n"
                    % te).encode()
            resps, closed, partial = exchange(self.server.port, head + SECOND)
            report(self, "TE %r: %s, %s" % (te, [r.status for r in resps],
                                            "closed" if closed else "NOT closed"))
            self.assertEqual(len(resps), 1, "Transfer-Encoding: %s (+ a pipelined GET): %r" %
                             (te, resps))
            self.assertIn(resps[0].status, statuses, "Transfer-Encoding: %s: %r" % (te, resps))
            self.assertTrue(closed, "Transfer-Encoding: %s: connection left open" % te)
            self.assertFalse(partial)
        self.assertServerHealthy()

    def test_unsupported_transfer_coding_is_501_and_close(self):
        body = b"0\r\n\r\n"
        head = b"POST /v2/health/live HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        resps, closed, partial = exchange(self.server.port, head + body + SECOND)
        report(self, "TE 'gzip, chunked': %s" % [r.status for r in resps])
        self.assertEqual(len(resps), 1, resps)
        self.assertIn(resps[0].status, (501, 400), resps)
        self.assertTrue(closed, "connection left open after a refused transfer coding")
        self.assertServerHealthy()

    def test_transfer_encoding_with_content_length_is_400(self):
        body = b"0\r\n\r\n"
        for order in ((b"Transfer-Encoding: chunked", b"Content-Length: 5"),
                      (b"Content-Length: 5", b"Transfer-Encoding: chunked")):
            head = (b"POST /v2/health/live HTTP/1.1\r\nHost: x\r\n" + b"\r\n".join(order) +
                    b"\r\n\r\n")
            resps, closed, partial = exchange(self.server.port, head + body + SECOND)
            report(self, "%r: %s" % (order, [r.status for r in resps]))
            self.assertEqual([r.status for r in resps], [400], resps)
            self.assertTrue(closed, "connection left open")
        self.assertServerHealthy()

    def test_two_authorization_headers_are_400(self):
        data = harness.build_request("GET", "/v2/models/simple", headers=[
            ("Authorization", "Bearer a"), ("Authorization", "Bearer b")])
        self.expect_error_or_close(data, (400,), must_answer=True, what="two Authorization")
        data = harness.build_request("POST", "/v2/repository/models/simple/load", headers=[
            ("Authorization", "Bearer a"), ("Authorization", "Bearer b")])
        self.expect_error_or_close(data, (400,), must_answer=True,
                                   what="two Authorization on load")
        self.assertServerHealthy()

    def test_claimed_bodies_are_not_allocated_up_front(self):
        srv = self.server
        pid = srv.proc.pid
        rss0 = rharness.rss_kb(pid)
        vm0 = rharness.proc_status_kb(pid, "VmSize")
        bound_kb = CLAIM_RSS_BOUND_MB * 1024
        conns = []
        peak = rss0
        try:
            for i in range(CLAIMERS):
                path = "/v2/models/simple/infer" if i % 2 else "/v2/health/live"
                head = harness.build_request("POST", path, headers={
                    "Content-Length": str(CLAIMED_BODY), "Content-Type": "application/json"})
                conn = srv.raw(timeout=30)
                conns.append(conn)
                conn.send(head)
                client_port = conn.sock.getsockname()[1]
                # The server has read the header once the kernel holds no unread byte of it.
                harness.wait_until(
                    lambda: not rharness.unread_by_server(srv.port, client_port), 10,
                    "the server to read claimer %d's header" % i)
                peak = max(peak, rharness.rss_kb(pid))
                if peak - rss0 >= bound_kb:
                    break  # stop early: the next claims would only add to it
            # Whatever a header leads to happens right after it is read: watch a little more.
            deadline = time.monotonic() + 1.0
            observations = 0
            while time.monotonic() < deadline or observations < 5:
                peak = max(peak, rharness.rss_kb(pid))
                observations += 1
                time.sleep(0.05)  # paces the observations; decides nothing
            self.assertTrue(srv.alive(), srv.log_tail())
            vm = rharness.proc_status_kb(pid, "VmSize")
            ok, resp = rharness.infer_ok(srv)
            self.assertTrue(ok, "infer while %d bodies are claimed: %r" % (len(conns), resp))
        finally:
            for c in conns:
                c.close()
        report(self, "RSS %d KiB before, peak %d KiB with %d claimed 64 MiB bodies (virtual "
               "size %d -> %d MiB, not judged)" % (rss0, peak, len(conns), vm0 // 1024,
                                                   vm // 1024))
        self.assertLess(peak - rss0, bound_kb,
                        "RSS grew by %d MiB for %d connections that each only claimed a 64 MiB "
                        "body" % ((peak - rss0) // 1024, len(conns)))
        self.assertServerHealthy()


class MalformedDefaultLimitsTest(MalformedCases, rharness.ReliabilityCase):
    SERVER_PER_TEST = True  # a case that kills the server must not fail the others
    SERVER_ARGS = ["--http-threads", "2"]
    RSS_SLACK_MB = 96


class MalformedLargeHeaderLimitTest(MalformedCases, rharness.ReliabilityCase):
    SERVER_PER_TEST = True
    SERVER_ARGS = ["--http-threads", "2", "--max-header-kb", "1024"]
    RSS_SLACK_MB = 96


if __name__ == "__main__":
    unittest.main()
