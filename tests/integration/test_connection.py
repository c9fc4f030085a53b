"""HTTP/1.1 connection handling on the wire: thousands of requests on one keep-alive connection,
pipelining (answered in order), Connection: close and HTTP/1.0, chunked request bodies, header and
body limits (431/400, 413), malformed HTTP, slow clients that must not block others, and the idle
timeout."""

import json
import os
import socket
import threading
import unittest

import harness
from harness import simple_request

MAX_BODY_MB = 1
MAX_HEADER_KB = 16


def infer_bytes(in0, in1, **extra):
    body = json.dumps(simple_request(in0, in1, **extra)).encode()
    return harness.build_request("POST", "/v2/models/simple/infer", body,
                                 {"Content-Type": "application/json"})


class ConnectionTest(harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "2", "--max-request-body-mb", str(MAX_BODY_MB),
                   "--max-header-kb", str(MAX_HEADER_KB)]

    @classmethod
    def repository(cls, tmpdir):
        ex = harness.examples_models()
        return harness.make_repository(tmpdir, os.path.join(ex, "simple"),
                                       os.path.join(ex, "sim_batch"))

    def check_sum(self, resp, in0, in1):
        self.assertEqual(resp.status, 200, resp)
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][2], [a + b for a, b in zip(in0, in1)])

    def test_5000_requests_on_one_connection(self):
        with self.server.raw() as conn:
            for i in range(5000):
                in0 = [i + k for k in range(16)]
                in1 = [k - i for k in range(16)]
                conn.send(infer_bytes(in0, in1))
                resp = conn.read_response()
                self.assertEqual(resp.status, 200, "request %d: %r" % (i, resp))
                self.assertNotEqual((resp.header("Connection") or "").lower(), "close",
                                    "server asked to close after request %d" % i)
                self.assertEqual(resp.json()["outputs"][0]["data"],
                                 [a + b for a, b in zip(in0, in1)], "request %d" % i)
            # Still the same socket, still serving.
            self.assertOk(conn.request("GET", "/v2/health/live"))

    def test_pipelined_requests_are_answered_in_order(self):
        reqs = []
        expected = []
        for i in range(12):
            kind = i % 6
            if kind == 0:
                in0 = [i] * 16
                in1 = list(range(16))
                reqs.append(infer_bytes(in0, in1, id="p%d" % i))
                expected.append(("infer", "p%d" % i, [a + b for a, b in zip(in0, in1)]))
            elif kind == 1:
                reqs.append(harness.build_request("GET", "/v2/health/live"))
                expected.append(("status", 200))
            elif kind == 2:
                reqs.append(harness.build_request("GET", "/v2/models/no_such_model"))
                expected.append(("status", 404))
            elif kind == 3:
                # A slower model before a faster one: the answers must still come in order.
                vals = [float(i)] * 16
                body = json.dumps({"id": "b%d" % i, "inputs": [
                    {"name": "INPUT0", "shape": [1, 16], "datatype": "FP32", "data": vals}]})
                reqs.append(harness.build_request("POST", "/v2/models/sim_batch/infer", body))
                expected.append(("infer", "b%d" % i, vals))
            elif kind == 4:
                reqs.append(harness.build_request("POST", "/v2/models/simple/infer", b"{oops"))
                expected.append(("status", 400))
            else:
                reqs.append(harness.build_request("GET", "/v2/models/simple"))
                expected.append(("status", 200))
        with self.server.raw() as conn:
            conn.send(b"".join(reqs))
            for i, exp in enumerate(expected):
                resp = conn.read_response()
                if exp[0] == "status":
                    self.assertEqual(resp.status, exp[1], "response %d: %r" % (i, resp))
                else:
                    self.assertEqual(resp.status, 200, "response %d: %r" % (i, resp))
                    body = resp.json()
                    self.assertEqual(body.get("id"), exp[1], "response %d out of order" % i)
                    self.assertEqual(body["outputs"][0]["data"], exp[2])
            self.assertOk(conn.request("GET", "/v2/health/ready"))

    def test_pipelined_infers_only(self):
        n = 50
        with self.server.raw() as conn:
            conn.send(b"".join(infer_bytes([i] * 16, [1] * 16, id=str(i)) for i in range(n)))
            for i in range(n):
                resp = conn.read_response()
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json()["id"], str(i))
                self.assertEqual(resp.json()["outputs"][0]["data"], [i + 1] * 16)

    def test_connection_close_header(self):
        with self.server.raw() as conn:
            conn.send(harness.build_request("GET", "/v2/health/live",
                                            headers={"Connection": "close"}))
            data = conn.read_until_closed(20)
            resps = harness.parse_responses(data)
            self.assertEqual(len(resps), 1, data)
            self.assertEqual(resps[0].status, 200)

    def test_http_1_0_closes_after_response(self):
        with self.server.raw() as conn:
            conn.send(b"GET /v2/health/live HTTP/1.0\r\n\r\n")
            data = conn.read_until_closed(20)
            self.assertTrue(data.startswith(b"HTTP/1."), data)
            self.assertIn(b" 200 ", data.split(b"\r\n")[0])

    def test_http_1_0_infer(self):
        in0, in1 = list(range(16)), [2] * 16
        body = json.dumps(simple_request(in0, in1)).encode()
        with self.server.raw() as conn:
            conn.send(harness.build_request("POST", "/v2/models/simple/infer", body,
                                            version="HTTP/1.0", host=None))
            data = conn.read_until_closed(20)
            resps = harness.parse_responses(data)
            self.assertEqual(len(resps), 1)
            self.check_sum(resps[0], in0, in1)

    def test_chunked_request_body(self):
        in0, in1 = list(range(16)), [5] * 16
        body = json.dumps(simple_request(in0, in1)).encode()
        chunks = [body[i:i + 37] for i in range(0, len(body), 37)]
        wire = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        with self.server.raw() as conn:
            conn.send(harness.build_request("POST", "/v2/models/simple/infer", wire,
                                            {"Transfer-Encoding": "chunked"}))
            self.check_sum(conn.read_response(), in0, in1)
            self.assertOk(conn.request("GET", "/v2/health/live"))

    def test_request_split_into_tiny_writes(self):
        in0, in1 = list(range(16)), [9] * 16
        data = infer_bytes(in0, in1)
        with self.server.raw() as conn:
            for i in range(0, len(data), 7):
                conn.send(data[i:i + 7])
            self.check_sum(conn.read_response(), in0, in1)

    def test_large_body_split_into_small_writes(self):
        # A body from 1 KiB up is read past Beast's parser, straight into its own memory: part
        # of it arrives with the header, the rest in many reads.
        in0, in1 = list(range(16)), [5] * 16
        body = json.dumps(simple_request(in0, in1)).encode()
        body = body + b" " * (20000 - len(body))
        data = harness.build_request("POST", "/v2/models/simple/infer", body,
                                     {"Content-Type": "application/json"})
        data += infer_bytes([3] * 16, [4] * 16)  # pipelined behind it
        with self.server.raw() as conn:
            for i in range(0, len(data), 997):
                conn.send(data[i:i + 997])
            self.check_sum(conn.read_response(), in0, in1)
            self.check_sum(conn.read_response(), [3] * 16, [4] * 16)

    def test_expect_100_continue_is_answered_before_the_body(self):
        # The client sends the header alone and waits: the server must say "100 Continue" (curl
        # would otherwise wait a second before sending a body over 1 MiB).
        in0, in1 = list(range(16)), [4] * 16
        body = json.dumps(simple_request(in0, in1)).encode()
        body = body + b" " * (5000 - len(body))
        data = harness.build_request("POST", "/v2/models/simple/infer", body,
                                     {"Expect": "100-continue"})
        head, rest = data[:len(data) - len(body)], data[len(data) - len(body):]
        with self.server.raw() as conn:
            conn.send(head)
            self.assertEqual(conn._read_line(), b"HTTP/1.1 100 Continue")
            self.assertEqual(conn._read_line(), b"")
            conn.send(rest)
            self.check_sum(conn.read_response(), in0, in1)

    def test_expect_100_continue_over_the_limit_is_413_at_once(self):
        head = harness.build_request(
            "POST", "/v2/models/simple/infer",
            headers={"Expect": "100-continue",
                     "Content-Length": str(MAX_BODY_MB * 1024 * 1024 + 1)})
        with self.server.raw() as conn:
            conn.send(head)  # and never the body
            resp = conn.read_response()
            self.assertEqual(resp.status, 413, resp)

    def test_client_closes_mid_body(self):
        head = (b"POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 100000\r\n\r\n")
        with self.server.raw() as conn:
            conn.send(head + b"{" + b" " * 5000)
        in0, in1 = list(range(16)), [2] * 16
        self.check_sum(self.server.request("POST", "/v2/models/simple/infer",
                                           json.dumps(simple_request(in0, in1)).encode()),
                       in0, in1)

    # -- limits --

    def test_header_too_large(self):
        big = "x" * (MAX_HEADER_KB * 1024 + 1024)
        with self.server.raw() as conn:
            conn.send(harness.build_request("GET", "/v2/health/live",
                                            headers={"X-Big": big}))
            try:
                resp = conn.read_response()
            except (harness.ConnectionClosed, ConnectionResetError) as e:
                self.fail("server closed without answering an oversized header: %s" % e)
            self.assertIn(resp.status, (431, 400), resp)
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_many_headers_too_large_in_total(self):
        headers = [("X-H%d" % i, "v" * 100) for i in range(MAX_HEADER_KB * 12)]
        with self.server.raw() as conn:
            conn.send(harness.build_request("GET", "/v2/health/live", headers=headers))
            try:
                resp = conn.read_response()
            except (harness.ConnectionClosed, ConnectionResetError) as e:
                self.fail("server closed without answering oversized headers: %s" % e)
            self.assertIn(resp.status, (431, 400), resp)
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_header_below_limit_is_fine(self):
        resp = self.server.request("GET", "/v2/health/live",
                                   headers={"X-Medium": "y" * (MAX_HEADER_KB * 1024 // 2)})
        self.assertOk(resp)

    def _send_in_background(self, conn, data):
        def send():
            try:
                conn.sock.sendall(data)
            except OSError:
                pass  # the server may answer and close before reading everything
        t = threading.Thread(target=send, daemon=True)
        t.start()
        return t

    def test_body_too_large_is_413(self):
        size = MAX_BODY_MB * 1024 * 1024 + 4096
        body = b'{"inputs": [' + b" " * (size - 13) + b"]"
        with self.server.raw() as conn:
            t = self._send_in_background(
                conn, harness.build_request("POST", "/v2/models/simple/infer", body))
            try:
                resp = conn.read_response()
            except (harness.ConnectionClosed, ConnectionResetError) as e:
                self.fail("server closed without answering 413: %s" % e)
            self.assertError(resp, 413)
            t.join(30)
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_body_too_large_chunked_is_413(self):
        chunk = b" " * 65536
        n = (MAX_BODY_MB * 1024 * 1024) // len(chunk) + 4
        wire = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(n)) + b"0\r\n\r\n"
        with self.server.raw() as conn:
            t = self._send_in_background(conn, harness.build_request(
                "POST", "/v2/models/simple/infer", wire, {"Transfer-Encoding": "chunked"}))
            try:
                resp = conn.read_response()
            except (harness.ConnectionClosed, ConnectionResetError) as e:
                self.fail("server closed without answering 413: %s" % e)
            self.assertError(resp, 413)
            t.join(30)
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_body_just_below_limit_is_parsed(self):
        # A JSON body padded to just under the limit (whether MB means 10^6 or 2^20 bytes) is
        # read and parsed: a 200, not a 413.
        in0, in1 = list(range(16)), [1] * 16
        body = json.dumps(simple_request(in0, in1)).encode()
        body = body + b" " * (MAX_BODY_MB * 1000 * 1000 - len(body) - 1000)
        self.check_sum(self.server.request("POST", "/v2/models/simple/infer", body), in0, in1)

    def test_pipelined_large_bodies_are_answered_in_order(self):
        # Large bodies are read with a larger buffer that is given back after each request; the
        # bytes of the next pipelined request already in it must survive that.
        sent = []
        data = b""
        for i in range(3):
            in0, in1 = [i + k for k in range(16)], [7] * 16
            body = json.dumps(simple_request(in0, in1)).encode()
            body = body + b" " * (300 * 1000 + 4099 * i)
            data += harness.build_request("POST", "/v2/models/simple/infer", body,
                                          {"Content-Type": "application/json"})
            sent.append((in0, in1))
        data += infer_bytes([1] * 16, [2] * 16)  # and a small one right behind them
        sent.append(([1] * 16, [2] * 16))
        with self.server.raw() as conn:
            conn.send(data)
            for in0, in1 in sent:
                self.check_sum(conn.read_response(), in0, in1)

    # -- malformed HTTP --

    def assertRejectedOrClosed(self, data):
        with self.server.raw(timeout=20) as conn:
            try:
                conn.send(data)
            except OSError:
                pass
            try:
                got = conn.read_until_closed(20)
            except AssertionError:
                got = conn.buf
                self.assertTrue(got, "garbage %r: no answer and not closed after 20 s" %
                                data[:40])
            if got:
                line = got.split(b"\r\n", 1)[0]
                self.assertTrue(line.startswith(b"HTTP/1.1 400") or
                                line.startswith(b"HTTP/1.0 400"),
                                "garbage %r answered %r" % (data[:40], got[:200]))
        # Others are still served.
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_garbage_bytes(self):
        for data in (b"\x00\x01\x02\x03garbage\r\n\r\n",
                     b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
                     b"GET\r\n\r\n",
                     b"GET /v2/health/live HTTP/1.1\r\nBad Header Line\r\n\r\n",
                     b"POST /v2/models/simple/infer HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                     b"POST /v2/models/simple/infer HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                     b"POST /v2/models/simple/infer HTTP/1.1\r\nTransfer-Encoding: chunked"
                     b"\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
                     b"GET /v2/health/live HTTP/1.1\r\nContent-Length: 1\r\n"
                     b"Content-Length: 2\r\n\r\nab",
                     os.urandom(4096)):
            self.assertRejectedOrClosed(data)

    def test_client_closes_mid_request(self):
        for data in (b"POST /v2/models/simple/infer HTTP/1.1\r\nContent-Length: 500\r\n\r\n{",
                     b"GET /v2/heal"):
            with self.server.raw() as conn:
                conn.send(data)
        self.assertOk(self.server.request("GET", "/v2/health/live"))

    def test_stalled_clients_do_not_block_others(self):
        # More stalled connections than HTTP threads; other clients must still be served.
        stalled = []
        try:
            for _ in range(6):
                c = self.server.raw()
                c.send(b"POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 1000\r\n\r\n{\"inputs\": ")
                stalled.append(c)
            for i in range(20):
                in0, in1 = [i] * 16, list(range(16))
                self.check_sum(self.server.infer("simple", simple_request(in0, in1)), in0, in1)
        finally:
            for c in stalled:
                c.close()

    def test_many_concurrent_connections(self):
        def work(i):
            with self.server.raw() as conn:
                for j in range(20):
                    in0, in1 = [i] * 16, [j] * 16
                    conn.send(infer_bytes(in0, in1))
                    resp = conn.read_response()
                    if resp.status != 200:
                        return resp
                    if resp.json()["outputs"][0]["data"] != [i + j] * 16:
                        return resp
            return None
        failures = [r for r in harness.run_in_threads(work, [(i,) for i in range(32)]) if r]
        self.assertEqual(failures, [])


class IdleTimeoutTest(harness.ServerTestCase):
    SERVER_ARGS = ["--idle-timeout-s", "1"]

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir,
                                       os.path.join(harness.examples_models(), "simple"))

    def test_idle_connection_is_closed(self):
        with self.server.raw() as conn:
            conn.read_until_closed(20)  # never sent anything

    def test_idle_keep_alive_connection_is_closed(self):
        with self.server.raw() as conn:
            self.assertOk(conn.request("GET", "/v2/health/live"))
            self.assertEqual(conn.read_until_closed(20), b"")

    def test_half_sent_request_is_closed(self):
        with self.server.raw() as conn:
            conn.send(b"GET /v2/health/li")
            got = conn.read_until_closed(20)
            if got:  # a 408 (or 400) before closing is fine
                self.assertRegex(got.split(b"\r\n")[0], rb"^HTTP/1\.[01] (408|400) ")


if __name__ == "__main__":
    unittest.main()
