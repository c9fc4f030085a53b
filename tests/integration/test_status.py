"""/v2/status tells the truth: per-instance batches and items add up to what /metrics reports
per instance and to /v2/models/{m}/stats; queue depth and the oldest wait match
switchyard_queue_depth while requests wait; the routing policies spread a closed-loop load over
simulated GPUs of different speeds as documented (a slow GPU gets fewer items under fastest and
least_outstanding; round_robin gives every instance the same count).

The server runs models/status on three simulated GPUs, the third at a quarter of the speed.
Assertions are on counts and orderings, never on durations."""

import json
import threading
import unittest

import harness

GPUS = "80GB,80GB,80GB:speed=0.25"
SLOW_GPU = "GPU2"


def body(values, priority=None):
    req = {"inputs": [{"name": "INPUT0", "shape": [len(values) // 2, 2], "datatype": "INT32",
                       "data": values}]}
    if priority is not None:
        req["parameters"] = {"priority": priority}
    return json.dumps(req)


def closed_loop(server, model, total, clients):
    """`clients` threads, each on its own keep-alive connection, send one request after another
    until `total` requests were sent in all; returns the responses that were not a correct 200."""
    lock = threading.Lock()
    sent = [0]

    def work(t):
        bad = []
        with server.raw() as conn:
            while True:
                with lock:
                    if sent[0] >= total:
                        return bad
                    k = sent[0]
                    sent[0] += 1
                resp = conn.request("POST", "/v2/models/%s/infer" % model, body([k, t]))
                if resp.status != 200 or resp.json()["outputs"][0]["data"] != [k, t]:
                    bad.append(resp)
    return sum(harness.run_in_threads(work, [(t,) for t in range(clients)]), [])


class StatusTest(harness.ServerTestCase):
    REPOSITORY = harness.test_models("status")
    SERVER_ARGS = ["--http-threads", "4", "--simulate-gpus", GPUS]

    def status(self):
        return self.server.get_json("/v2/status")

    def model_status(self, model, status=None):
        status = status or self.status()
        found = [m for m in status["models"] if m["name"] == model]
        self.assertEqual(len(found), 1, status)
        return found[0]

    def wait_idle(self, model):
        def idle():
            m = self.model_status(model)
            metrics = self.server.metrics()
            return (m["queue"]["depth"] == 0 and
                    all(i["inflight_batches"] == 0 for i in m["instances"]) and
                    metrics.value("switchyard_inflight_requests", model=model) == 0 and
                    metrics.value("switchyard_instance_inflight_batches", model=model) == 0)
        harness.wait_until(idle, 30, "%s to be idle" % model)

    def instance_items(self, model):
        """{device: items} of a model with one instance per device."""
        out = {}
        for i in self.model_status(model)["instances"]:
            self.assertNotIn(i["device"], out)
            out[i["device"]] = i["items"]
        return out

    # -- status against metrics and statistics --

    def test_status_counts_match_metrics_and_stats(self):
        model = "multi"
        self.wait_idle(model)
        before = self.server.model_stats(model)
        m0 = self.server.metrics()
        threads, per_thread = 8, 30

        def work(t):
            bad, items = [], 0
            with self.server.raw() as conn:
                for i in range(per_thread):
                    n = 1 + (t + i) % 3      # batch 1, 2 or 3 per request
                    values = list(range(t * 1000 + i, t * 1000 + i + 2 * n))
                    resp = conn.request("POST", "/v2/models/multi/infer", body(values))
                    items += n
                    if resp.status != 200 or resp.json()["outputs"][0]["data"] != values:
                        bad.append(resp)
            return bad, items
        results = harness.run_in_threads(work, [(t,) for t in range(threads)])
        self.assertEqual(sum((bad for bad, _ in results), []), [])
        sent_items = sum(items for _, items in results)
        self.wait_idle(model)

        status = self.model_status(model)
        metrics = self.server.metrics()
        stats = self.server.model_stats(model)
        instances = status["instances"]
        self.assertEqual(len(instances), 6)
        self.assertEqual(sorted(i["device"] for i in instances),
                         ["GPU0", "GPU0", "GPU1", "GPU1", "GPU2", "GPU2"])

        # Each instance: status == its metric series (labels model, instance, device).
        series = {labels["instance"]: labels for labels, _ in
                  metrics.series("switchyard_instance_batches_total", model=model)}
        self.assertEqual(sorted(series), sorted(i["name"] for i in instances))
        for i in instances:
            name = i["name"]
            with self.subTest(instance=name):
                self.assertEqual(series[name]["device"], i["device"])
                self.assertEqual(i["batches"], metrics.value(
                    "switchyard_instance_batches_total", model=model, instance=name))
                self.assertEqual(i["items"], metrics.value(
                    "switchyard_instance_items_total", model=model, instance=name))
                self.assertEqual(i["batches"], metrics.value(
                    "switchyard_instance_compute_duration_seconds_count", model=model,
                    instance=name))
                self.assertEqual(metrics.value("switchyard_instance_inflight_batches",
                                               model=model, instance=name), 0)
                self.assertEqual(i["inflight_batches"], 0)
                self.assertEqual(i["outstanding_items"], 0)
                self.assertLessEqual(i["batches"], i["items"])
                self.assertLessEqual(i["items"], 8 * i["batches"], "max_batch_size is 8")
                if i["batches"]:
                    self.assertGreater(i["average_batch_ms"], 0, i)

        # The instances together: what /stats and the model's metrics count.
        batches = sum(i["batches"] for i in instances)
        items = sum(i["items"] for i in instances)
        self.assertEqual(items, stats["inference_count"])
        self.assertEqual(batches, stats["execution_count"])
        self.assertEqual(stats["inference_count"] - before["inference_count"], sent_items)
        self.assertEqual(metrics.value("switchyard_requests_total", model=model,
                                       outcome="success") -
                         m0.value("switchyard_requests_total", model=model, outcome="success"),
                         threads * per_thread)
        self.assertEqual(metrics.value("switchyard_instance_items_total", model=model), items)
        self.assertEqual(metrics.value("switchyard_instance_batches_total", model=model), batches)
        self.assertGreaterEqual(sum(1 for i in instances if i["items"] > 0), 2,
                                "8 concurrent clients should keep several instances busy")

    # -- queue depth while requests wait --

    def test_queue_depth_matches_metrics_while_requests_wait(self):
        model = "slow_one"
        self.wait_idle(model)
        m = self.model_status(model)
        self.assertEqual(m["queue"]["max_size"], 16)
        self.assertEqual(m["queue"]["depth_by_priority"], [0, 0])
        self.assertEqual(m["queue"]["oldest_wait_ms"], 0)
        self.assertEqual(len(m["instances"]), 1)
        results = {}

        def send(k, priority):
            results[k] = self.server.request("POST", "/v2/models/slow_one/infer",
                                             body([k, k], priority), timeout=60)
        threads = [threading.Thread(target=send, args=(0, None), daemon=True)]
        threads[0].start()
        try:
            # The first request executes (one instance, one batch of one at a time) ...
            def executing():
                m = self.model_status(model)
                return m["instances"][0]["inflight_batches"] == 1 and m["queue"]["depth"] == 0
            harness.wait_until(executing, 20, "the first request to execute")
            done_before = m["instances"][0]["items"]
            # ... and the next four wait behind it: two at priority 1, two at priority 2.
            for k, priority in ((1, 1), (2, 2), (3, 1), (4, 2)):
                t = threading.Thread(target=send, args=(k, priority), daemon=True)
                t.start()
                threads.append(t)

            def all_arrived():  # waiting + executing + executed: one consistent snapshot
                m = self.model_status(model)
                i = m["instances"][0]
                return m["queue"]["depth"] + i["outstanding_items"] + i["items"] - done_before == 5
            harness.wait_until(all_arrived, 20, "all five requests to reach the server")

            # From here on the queue only shrinks: two equal status reads around a metrics read
            # mean the depth did not change in between, so metrics must say the same.
            def consistent_reading():
                s1 = self.model_status(model)
                metrics = self.server.metrics()
                s2 = self.model_status(model)
                if s1["queue"]["depth_by_priority"] != s2["queue"]["depth_by_priority"]:
                    return None
                return s1, s2, metrics
            s1, s2, metrics = harness.wait_until(consistent_reading, 20,
                                                 "two equal status reads")
            depth = s1["queue"]["depth"]
            self.assertEqual(depth, sum(s1["queue"]["depth_by_priority"]))
            self.assertGreaterEqual(depth, 1, "requests should still be waiting (1 s each)")
            self.assertEqual(metrics.value("switchyard_queue_depth", model=model), depth)
            self.assertGreater(s1["queue"]["oldest_wait_ms"], 0)
            self.assertGreaterEqual(s2["queue"]["oldest_wait_ms"], s1["queue"]["oldest_wait_ms"])
            self.assertEqual(s1["instances"][0]["inflight_batches"], 1)
            self.assertEqual(metrics.value("switchyard_instance_inflight_batches", model=model), 1)
            self.assertEqual(metrics.value("switchyard_inflight_requests", model=model), 1)
            if depth == 4:
                self.assertEqual(s1["queue"]["depth_by_priority"], [2, 2])
            # Priority 1 is served first: its level empties before priority 2's.
            p1, p2 = s1["queue"]["depth_by_priority"]
            self.assertTrue(p2 == 2 or p1 == 0, s1["queue"])
        finally:
            for t in threads:
                t.join(60)
        self.assertEqual(sorted(results), [0, 1, 2, 3, 4])
        for k, resp in results.items():
            self.assertOk(resp)
            self.assertEqual(resp.json()["outputs"][0]["data"], [k, k])
        self.wait_idle(model)
        m = self.model_status(model)
        self.assertEqual(m["queue"]["depth"], 0)
        self.assertEqual(m["queue"]["oldest_wait_ms"], 0)
        self.assertEqual(self.server.metrics().value("switchyard_queue_depth", model=model), 0)

    # -- routing over devices of different speeds --

    def run_load(self, model, total=360, clients=12):
        self.wait_idle(model)
        before = self.instance_items(model)
        self.assertEqual(sorted(before), ["GPU0", "GPU1", "GPU2"])
        self.assertEqual(closed_loop(self.server, model, total, clients), [])
        self.wait_idle(model)
        after = self.instance_items(model)
        got = {d: after[d] - before[d] for d in after}
        self.assertEqual(sum(got.values()), total, got)
        return got

    def assertSlowGetsLess(self, got):
        fast = [n for d, n in got.items() if d != SLOW_GPU]
        for n in fast:
            self.assertLess(got[SLOW_GPU], n, "the GPU at speed 0.25 should get fewer items "
                            "than each fast GPU: %r" % got)

    def test_fastest_gives_the_slow_gpu_less(self):
        self.assertEqual(self.model_status("route_fastest")["routing"], "fastest")
        self.assertSlowGetsLess(self.run_load("route_fastest"))

    def test_least_outstanding_gives_the_slow_gpu_less(self):
        self.assertEqual(self.model_status("route_least")["routing"], "least_outstanding")
        self.assertSlowGetsLess(self.run_load("route_least"))

    def test_round_robin_gives_every_instance_the_same(self):
        self.assertEqual(self.model_status("route_rr")["routing"], "round_robin")
        got = self.run_load("route_rr", total=300)
        self.assertLessEqual(max(got.values()) - min(got.values()), 1, got)


if __name__ == "__main__":
    unittest.main()
