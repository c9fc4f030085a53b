"""Backpressure and failures on the real server: a full queue answers 429 + Retry-After, a
deadline that passes in the queue answers 504 (request parameter `timeout` and the model's
queue.timeout_ms), a client that disconnects while queued is cancelled (never executed), and a
failing backend answers 500. Models: tests/integration/models/backpressure (one instance each,
service times of 1-2 s, no warm-up).

No assertion depends on timing: the slow models only make sure that the instance is busy while
the test looks; the test waits for conditions (queue depth in /metrics) by bounded polling."""

import json
import re
import unittest

import harness

CANCEL_OUTCOME = re.compile(r"cancel|disconnect|abort|client_closed", re.I)


def one(value, **params):
    """Infer request for the backpressure models (INPUT0 INT32 [1], no batch dimension)."""
    req = {"inputs": [{"name": "INPUT0", "shape": [1], "datatype": "INT32", "data": [value]}]}
    if params:
        req["parameters"] = params
    return req


def one_bytes(model, value, **params):
    return harness.build_request("POST", "/v2/models/%s/infer" % model,
                                 json.dumps(one(value, **params)),
                                 {"Content-Type": "application/json"})


class BackpressureBase(harness.ServerTestCase):
    """Helpers; the tests are in the subclasses (each class has its own server)."""
    SERVER_ARGS = ["--http-threads", "4"]
    REPOSITORY = harness.test_models("backpressure")

    def gauges(self, model):
        m = self.server.metrics()
        return (m.value("switchyard_queue_depth", model=model),
                m.value("switchyard_inflight_requests", model=model))

    def wait_drained(self, model):
        harness.wait_until(lambda: self.gauges(model) == (0, 0), 30,
                           "%s's queue depth and in-flight gauges to return to 0" % model)

    def outcomes(self, model):
        """{outcome: count} of switchyard_requests_total for `model`."""
        out = {}
        for labels, v in self.server.metrics().series("switchyard_requests_total", model=model):
            out[labels.get("outcome")] = out.get(labels.get("outcome"), 0) + v
        return out

    def open_and_send(self, model, values, **params):
        conns = []
        try:
            for v in values:
                c = self.server.raw(timeout=60)
                conns.append(c)
                c.send(one_bytes(model, v, **params))
        except BaseException:
            for c in conns:
                c.close()
            raise
        return conns

    def read_all(self, conns):
        try:
            return [c.read_response() for c in conns]
        finally:
            for c in conns:
                c.close()



class BackpressureTest(BackpressureBase):
    def test_full_queue_answers_429_with_retry_after(self):
        n = 12
        conns = self.open_and_send("slow_429", range(n))
        # Another model is served while this one is saturated.
        fast = self.assertOk(self.server.infer("fast", {"inputs": [
            {"name": "INPUT0", "shape": [1, 1], "datatype": "INT32", "data": [5]}]}))
        self.assertEqual(harness.output_values(fast)["OUTPUT0"][2], [5])
        resps = self.read_all(conns)
        statuses = [r.status for r in resps]
        self.assertTrue(set(statuses) <= {200, 429}, statuses)
        self.assertIn(429, statuses, "a queue of 2 behind one 1 s instance took %d requests" % n)
        self.assertIn(200, statuses)
        for i, r in enumerate(resps):
            if r.status == 429:
                self.assertError(r, 429)
                retry = r.header("Retry-After")
                self.assertIsNotNone(retry, "429 without Retry-After: %r" % r.header_list)
                self.assertRegex(retry, r"^\d+$", "Retry-After must be delay-seconds")
            else:
                self.assertEqual(harness.output_values(r)["OUTPUT0"][2], [i])
        self.wait_drained("slow_429")
        outcomes = self.outcomes("slow_429")
        self.assertEqual(sum(outcomes.values()), n, outcomes)
        self.assertEqual(outcomes.get("success", 0), statuses.count(200), outcomes)
        # The queue recovers.
        self.assertOk(self.server.infer("slow_429", one(99)))

    def test_timeout_parameter_expires_in_queue_504(self):
        blockers = self.open_and_send("slow_deadline", range(4))
        try:
            harness.wait_until(lambda: self.gauges("slow_deadline")[0] >= 1, 20,
                               "a request of slow_deadline to wait in its queue")
            # 100 ms deadline; the instance is busy for at least a second.
            resp = self.server.infer("slow_deadline", one(42, timeout=100000))
            self.assertError(resp, 504)
        finally:
            resps = self.read_all(blockers)
        self.assertEqual([r.status for r in resps], [200] * 4, resps)
        self.wait_drained("slow_deadline")
        stats = self.server.model_stats("slow_deadline")
        self.assertEqual(stats["inference_stats"]["success"]["count"], 4,
                         "the expired request must not have been executed: %r" % stats)
        self.assertEqual(stats["inference_count"], 4, stats)

    def test_model_queue_timeout_504(self):
        resps = self.read_all(self.open_and_send("short_timeout", range(6)))
        statuses = [r.status for r in resps]
        self.assertTrue(set(statuses) <= {200, 504}, statuses)
        self.assertIn(504, statuses, "queue.timeout_ms 200 behind a 1 s instance")
        self.assertIn(200, statuses)
        for r in resps:
            if r.status == 504:
                self.assertError(r, 504)
        self.wait_drained("short_timeout")
        self.assertOk(self.server.infer("short_timeout", one(1)))

    def test_backend_failure_is_500(self):
        reqs = [{"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT32",
                             "data": [1]}]},
                {"inputs": [{"name": "INPUT0", "shape": [2, 1], "datatype": "INT32",
                             "data": [1, 2]}]},
                {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT32",
                             "data": [3]}], "parameters": {"binary_data_output": True}}]
        for req in reqs:
            self.assertError(self.server.infer("failing", req), 500)
        # The server keeps serving, the failing model included (still 500, not a crash).
        self.assertOk(self.server.infer("fast", {"inputs": [
            {"name": "INPUT0", "shape": [1, 1], "datatype": "INT32", "data": [5]}]}))
        self.assertError(self.server.infer("failing", reqs[0]), 500)
        self.wait_drained("failing")
        stats = self.server.model_stats("failing")
        self.assertEqual(stats["inference_stats"]["fail"]["count"], 4, stats)
        self.assertEqual(stats["inference_stats"]["success"]["count"], 0, stats)
        outcomes = self.outcomes("failing")
        self.assertEqual(outcomes.get("success", 0), 0, outcomes)
        self.assertEqual(sum(outcomes.values()), 4, outcomes)


class ClientDisconnectTest(BackpressureBase):
    """On its own server: a crash here must not take the other tests down with it."""

    def test_client_disconnect_cancels_queued_request(self):
        blockers = self.open_and_send("slow_cancel", range(2))
        try:
            def admitted():
                depth, inflight = self.gauges("slow_cancel")
                return (depth,) if depth + inflight >= 2 else None
            depth_before = harness.wait_until(admitted, 20,
                                              "both blockers of slow_cancel to be admitted")[0]
            victim = self.server.raw()
            victim.send(one_bytes("slow_cancel", 777))
            harness.wait_until(lambda: self.gauges("slow_cancel")[0] >= depth_before + 1, 20,
                               "the victim request to wait in slow_cancel's queue")
            victim.close()
        finally:
            resps = self.read_all(blockers)
        self.assertEqual([r.status for r in resps], [200, 200], resps)
        self.wait_drained("slow_cancel")
        stats = self.server.model_stats("slow_cancel")
        self.assertEqual(stats["inference_stats"]["success"]["count"], 2,
                         "the disconnected request must not have been executed: %r" % stats)
        self.assertEqual(stats["inference_count"], 2, stats)
        outcomes = self.outcomes("slow_cancel")
        cancelled = sum(v for k, v in outcomes.items() if k and CANCEL_OUTCOME.search(k))
        self.assertEqual(cancelled, 1, "switchyard_requests_total should count the cancel: %r" %
                         outcomes)
        self.assertEqual(outcomes.get("success", 0), 2, outcomes)


if __name__ == "__main__":
    unittest.main()
