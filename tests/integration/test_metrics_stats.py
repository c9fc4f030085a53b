"""/metrics and /v2/models/.../stats count exactly what the test sent: requests, items, batches,
queue and compute histograms, per model. Counts are compared as differences from a snapshot taken
before sending, so warm-up requests and other tests' traffic do not matter."""

import json
import os
import unittest

import harness
from harness import simple_request

REQUESTS = "switchyard_requests_total"
QUEUE_HIST = "switchyard_queue_duration_seconds"
COMPUTE_HIST = "switchyard_compute_duration_seconds"


def batch_counts(stats):
    """{batch_size: executions} from a model_stats entry."""
    return {b["batch_size"]: b["compute_infer"]["count"] for b in stats.get("batch_stats", [])}


class MetricsStatsTest(harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "4"]

    @classmethod
    def repository(cls, tmpdir):
        ex = harness.examples_models()
        return harness.make_repository(tmpdir, os.path.join(ex, "simple"),
                                       os.path.join(ex, "sim_batch"))

    def assertHistogramConsistent(self, metrics, family, model):
        buckets = metrics.series(family + "_bucket", model=model)
        self.assertTrue(buckets, "no %s_bucket series for %s" % (family, model))
        by_series = {}
        for labels, v in buckets:
            key = tuple(sorted((k, val) for k, val in labels.items() if k != "le"))
            le = labels["le"]
            by_series.setdefault(key, []).append((float("inf") if le == "+Inf" else float(le), v))
        for key, points in by_series.items():
            points.sort()
            self.assertEqual(points[-1][0], float("inf"), "%s has no +Inf bucket" % family)
            values = [v for _, v in points]
            self.assertEqual(values, sorted(values), "%s buckets are not cumulative" % family)
            count = metrics.value(family + "_count", **dict(key))
            self.assertEqual(points[-1][1], count, "%s: +Inf bucket != _count" % family)
            self.assertGreaterEqual(metrics.value(family + "_sum", **dict(key)), 0)

    def wait_idle(self, model):
        def idle():
            m = self.server.metrics()
            return (m.value("switchyard_queue_depth", model=model) == 0 and
                    m.value("switchyard_inflight_requests", model=model) == 0)
        harness.wait_until(idle, 20, "%s to be idle" % model)

    def test_sequential_requests_are_counted_exactly(self):
        self.wait_idle("simple")
        s0 = self.server.model_stats("simple")
        m0 = self.server.metrics()
        in0, in1 = list(range(16)), [2] * 16
        with self.server.raw() as conn:

            for _ in range(7):
                self.assertOk(conn.request("POST", "/v2/models/simple/infer",
                                           json.dumps(simple_request(in0, in1))))
            self.assertOk(conn.request("POST", "/v2/models/simple/infer",
                                       json.dumps(simple_request(in0 * 3, in1 * 3, batch=3))))
            bad = simple_request(in0, in1)
            bad["inputs"][0]["shape"] = [1, 15]
            for _ in range(2):
                self.assertEqual(conn.request("POST", "/v2/models/simple/infer",
                                              json.dumps(bad)).status, 400)
            self.assertEqual(conn.request("POST", "/v2/models/nope/infer",
                                          json.dumps(bad)).status, 404)
        self.wait_idle("simple")
        s1 = self.server.model_stats("simple")
        m1 = self.server.metrics()

        def d(*path):
            a, b = s0, s1
            for p in path:
                a, b = a[p], b[p]
            return b - a
        self.assertEqual(d("inference_count"), 10, "items: 7 x 1 + 1 x 3")
        self.assertEqual(d("execution_count"), 8)
        self.assertEqual(d("inference_stats", "success", "count"), 8)
        self.assertGreater(d("inference_stats", "success", "ns"), 0)
        self.assertEqual(d("inference_stats", "queue", "count"), 8)
        self.assertEqual(d("inference_stats", "compute_infer", "count"), 8)
        b0, b1 = batch_counts(s0), batch_counts(s1)
        self.assertEqual(b1.get(1, 0) - b0.get(1, 0), 7, s1["batch_stats"])
        self.assertEqual(b1.get(3, 0) - b0.get(3, 0), 1, s1["batch_stats"])
        self.assertGreater(s1["last_inference"], 1_500_000_000_000, "ms since the epoch")
        self.assertGreaterEqual(s1["last_inference"], s0["last_inference"])

        self.assertEqual(m1.value(REQUESTS, model="simple", outcome="success") -
                         m0.value(REQUESTS, model="simple", outcome="success"), 8)
        total = m1.value(REQUESTS, model="simple") - m0.value(REQUESTS, model="simple")
        self.assertGreaterEqual(total, 8)
        self.assertLessEqual(total, 10, "only 10 requests named the model")
        for fam in (QUEUE_HIST, COMPUTE_HIST):
            self.assertEqual(m1.value(fam + "_count", model="simple") -
                             m0.value(fam + "_count", model="simple"), 8, fam)
            self.assertHistogramConsistent(m1, fam, "simple")
        self.assertEqual(m1.value("switchyard_queue_depth", model="simple"), 0)
        self.assertEqual(m1.value("switchyard_inflight_requests", model="simple"), 0)
        self.assertTrue(m1.has("switchyard_queue_depth", model="simple"))
        self.assertTrue(m1.has("switchyard_inflight_requests", model="simple"))

    def test_concurrent_requests_are_counted_exactly(self):
        threads, per_thread = 8, 10
        n = threads * per_thread
        self.wait_idle("sim_batch")
        s0 = self.server.model_stats("sim_batch")
        m0 = self.server.metrics()

        def work(t):
            bad = []
            with self.server.raw() as conn:

                for i in range(per_thread):
                    vals = [float(t * 100 + i)] * 16
                    body = json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 16],
                                                   "datatype": "FP32", "data": vals}]})
                    resp = conn.request("POST", "/v2/models/sim_batch/infer", body)
                    if resp.status != 200 or resp.json()["outputs"][0]["data"] != vals:
                        bad.append(resp)
            return bad
        failures = sum(harness.run_in_threads(work, [(t,) for t in range(threads)]), [])
        self.assertEqual(failures, [])
        self.wait_idle("sim_batch")
        s1 = self.server.model_stats("sim_batch")
        m1 = self.server.metrics()

        self.assertEqual(s1["inference_count"] - s0["inference_count"], n)
        self.assertEqual(s1["inference_stats"]["success"]["count"] -
                         s0["inference_stats"]["success"]["count"], n)
        self.assertEqual(s1["inference_stats"]["queue"]["count"] -
                         s0["inference_stats"]["queue"]["count"], n)
        executions = s1["execution_count"] - s0["execution_count"]
        self.assertGreaterEqual(executions, 1)
        self.assertLessEqual(executions, n)
        b0, b1 = batch_counts(s0), batch_counts(s1)
        delta = {k: b1.get(k, 0) - b0.get(k, 0) for k in b1}
        self.assertEqual(sum(k * v for k, v in delta.items()), n,
                         "items over batch_stats: %r" % s1["batch_stats"])
        self.assertEqual(sum(delta.values()), executions)
        self.assertTrue(all(k <= 64 for k, v in delta.items() if v), delta)

        self.assertEqual(m1.value(REQUESTS, model="sim_batch", outcome="success") -
                         m0.value(REQUESTS, model="sim_batch", outcome="success"), n)
        self.assertEqual(m1.value(QUEUE_HIST + "_count", model="sim_batch") -
                         m0.value(QUEUE_HIST + "_count", model="sim_batch"), n)
        compute = (m1.value(COMPUTE_HIST + "_count", model="sim_batch") -
                   m0.value(COMPUTE_HIST + "_count", model="sim_batch"))
        self.assertIn(compute, (n, executions), "compute histogram counts requests or batches")
        self.assertHistogramConsistent(m1, QUEUE_HIST, "sim_batch")
        self.assertHistogramConsistent(m1, COMPUTE_HIST, "sim_batch")

    def test_all_models_and_version_stats_agree(self):
        self.wait_idle("simple")
        self.wait_idle("sim_batch")
        everything = {s["name"]: s for s in
                      self.server.get_json("/v2/models/stats")["model_stats"]}
        for model in ("simple", "sim_batch"):
            one = self.server.model_stats(model)
            versioned = self.server.model_stats(model, version=1)
            self.assertEqual(everything[model]["inference_count"], one["inference_count"])
            self.assertEqual(one["inference_count"], versioned["inference_count"])
            self.assertEqual(one["execution_count"], versioned["execution_count"])
            self.assertEqual(one["version"], "1")

    def test_metrics_families(self):
        m = self.server.metrics()
        expected = {REQUESTS: "counter", QUEUE_HIST: "histogram", COMPUTE_HIST: "histogram",
                    "switchyard_queue_depth": "gauge", "switchyard_inflight_requests": "gauge"}
        for family, kind in expected.items():
            self.assertEqual(m.types.get(family), kind, family)
        for name, labels, _ in m.samples:
            if name.startswith(REQUESTS):
                self.assertIn("model", labels)
                self.assertIn("outcome", labels)


if __name__ == "__main__":
    unittest.main()
