"""Every non-infer endpoint of the KServe v2 REST API: health, server and model metadata, model
readiness, config, statistics, metrics, repository index; and 404 / 405 for what does not exist."""

import unittest

import harness

EXAMPLE_MODELS = ("simple", "simple_string", "simple_identity", "sim_batch")


class EndpointsTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--http-threads", "2"]

    def test_health_live_and_ready(self):
        for path in ("/v2/health/live", "/v2/health/ready"):
            self.assertOk(self.server.request("GET", path))

    def test_query_string_is_ignored(self):
        # tritonclient's examples append ?test_1=1&test_2=2 to every call.
        self.assertOk(self.server.request("GET", "/v2/health/live?test_1=1&test_2=2"))
        resp = self.assertOk(self.server.request("GET", "/v2/models/simple?test_1=1"))
        self.assertEqual(resp.json()["name"], "simple")

    def test_server_metadata(self):
        resp = self.assertOk(self.server.request("GET", "/v2"))
        self.assertTrue(resp.header("Content-Type", "").startswith("application/json"),
                        resp.header_list)
        meta = resp.json()
        self.assertEqual(meta["name"], "switchyard")
        self.assertIsInstance(meta["version"], str)
        self.assertTrue(meta["version"])
        self.assertIsInstance(meta["extensions"], list)
        self.assertIn("binary_tensor_data", meta["extensions"])

    def test_model_metadata_simple(self):
        for path in ("/v2/models/simple", "/v2/models/simple/versions/1"):
            meta = self.assertOk(self.server.request("GET", path)).json()
            self.assertEqual(meta["name"], "simple")
            self.assertIn("1", meta["versions"])
            self.assertIsInstance(meta.get("platform"), str)
            self.assertEqual(meta["inputs"], [
                {"name": "INPUT0", "datatype": "INT32", "shape": [-1, 16]},
                {"name": "INPUT1", "datatype": "INT32", "shape": [-1, 16]}])
            self.assertEqual(meta["outputs"], [
                {"name": "OUTPUT0", "datatype": "INT32", "shape": [-1, 16]},
                {"name": "OUTPUT1", "datatype": "INT32", "shape": [-1, 16]}])

    def test_model_metadata_variable_dims_and_bytes(self):
        meta = self.server.get_json("/v2/models/simple_identity")
        self.assertEqual(meta["inputs"], [{"name": "INPUT0", "datatype": "BYTES",
                                           "shape": [-1, -1]}])
        meta = self.server.get_json("/v2/models/simple_string")
        self.assertEqual([i["datatype"] for i in meta["inputs"]], ["BYTES", "BYTES"])
        meta = self.server.get_json("/v2/models/sim_batch")
        self.assertEqual(meta["inputs"], [{"name": "INPUT0", "datatype": "FP32",
                                           "shape": [-1, 16]}])

    def test_model_metadata_unknown_model_or_version(self):
        self.assertError(self.server.request("GET", "/v2/models/no_such_model"), 404)
        self.assertError(self.server.request("GET", "/v2/models/simple/versions/7"), 404)
        self.assertError(self.server.request("GET", "/v2/models/no_such_model/versions/1"), 404)

    def test_model_ready(self):
        for m in EXAMPLE_MODELS:
            self.assertOk(self.server.request("GET", "/v2/models/%s/ready" % m))
        self.assertOk(self.server.request("GET", "/v2/models/simple/versions/1/ready"))
        self.assertError(self.server.request("GET", "/v2/models/no_such_model/ready"), 404)
        self.assertError(self.server.request("GET", "/v2/models/simple/versions/9/ready"), 404)

    def test_model_config(self):
        for path in ("/v2/models/simple/config", "/v2/models/simple/versions/1/config"):
            cfg = self.assertOk(self.server.request("GET", path)).json()
            self.assertEqual(cfg["name"], "simple")
            self.assertEqual(cfg["max_batch_size"], 8)
            self.assertEqual([(t["name"], t["data_type"], [int(d) for d in t["dims"]])
                              for t in cfg["input"]],
                             [("INPUT0", "TYPE_INT32", [16]), ("INPUT1", "TYPE_INT32", [16])])
            self.assertEqual([(t["name"], t["data_type"], [int(d) for d in t["dims"]])
                              for t in cfg["output"]],
                             [("OUTPUT0", "TYPE_INT32", [16]), ("OUTPUT1", "TYPE_INT32", [16])])
            # perf_analyzer reads these.
            self.assertIn("dynamic_batching", cfg)
            self.assertIn("instance_group", cfg)
            self.assertTrue(cfg.get("backend") or cfg.get("platform"))

    def test_model_config_types(self):
        cfg = self.server.get_json("/v2/models/simple_string/config")
        self.assertEqual([t["data_type"] for t in cfg["input"]], ["TYPE_STRING", "TYPE_STRING"])
        cfg = self.server.get_json("/v2/models/sim_batch/config")
        self.assertEqual(cfg["max_batch_size"], 64)
        self.assertEqual(cfg["input"][0]["data_type"], "TYPE_FP32")
        cfg = self.server.get_json("/v2/models/simple_identity/config")
        self.assertEqual([int(d) for d in cfg["input"][0]["dims"]], [-1])
        self.assertError(self.server.request("GET", "/v2/models/no_such_model/config"), 404)

    def test_statistics_endpoints(self):
        stats = self.server.get_json("/v2/models/stats")["model_stats"]
        names = {s["name"] for s in stats}
        for m in EXAMPLE_MODELS:
            self.assertIn(m, names)
        for path in ("/v2/models/simple/stats", "/v2/models/simple/versions/1/stats"):
            stats = self.server.get_json(path)["model_stats"]
            self.assertEqual(len(stats), 1, stats)
            s = stats[0]
            self.assertEqual((s["name"], s["version"]), ("simple", "1"))
            for key in ("last_inference", "inference_count", "execution_count"):
                self.assertIsInstance(s[key], int, key)
            for key in ("success", "fail", "queue", "compute_input", "compute_infer",
                        "compute_output"):
                self.assertIsInstance(s["inference_stats"][key]["count"], int)
                self.assertIsInstance(s["inference_stats"][key]["ns"], int)
            self.assertIsInstance(s["batch_stats"], list)
        self.assertError(self.server.request("GET", "/v2/models/no_such_model/stats"), 404)
        self.assertError(self.server.request("GET", "/v2/models/simple/versions/5/stats"), 404)

    def test_metrics_endpoint(self):
        resp = self.assertOk(self.server.request("GET", "/metrics"))
        self.assertTrue(resp.header("Content-Type", "").startswith("text/plain"),
                        resp.header_list)
        metrics = harness.Metrics(resp.body.decode("utf-8"))
        self.assertEqual(metrics.types.get("switchyard_requests_total"), "counter")
        self.assertEqual(metrics.types.get("switchyard_queue_duration_seconds"), "histogram")
        self.assertEqual(metrics.types.get("switchyard_compute_duration_seconds"), "histogram")
        self.assertEqual(metrics.types.get("switchyard_queue_depth"), "gauge")
        self.assertEqual(metrics.types.get("switchyard_inflight_requests"), "gauge")

    def test_repository_index(self):
        for body in (b"", b"{}"):
            resp = self.assertOk(self.server.request("POST", "/v2/repository/index", body))
            index = resp.json()
            self.assertIsInstance(index, list, index)
            by_name = {e["name"]: e for e in index}
            for m in EXAMPLE_MODELS:
                self.assertIn(m, by_name)
                self.assertEqual(by_name[m].get("state"), "READY", by_name[m])
                self.assertEqual(str(by_name[m].get("version")), "1", by_name[m])
        # {"ready": true} lists only ready models: all of them here.
        index = self.assertOk(self.server.request("POST", "/v2/repository/index",
                                                  b'{"ready": true}')).json()
        self.assertTrue(set(EXAMPLE_MODELS) <= {e["name"] for e in index}, index)
        self.assertError(self.server.request("POST", "/v2/repository/index", b"{bad json"), 400)

    def test_unknown_routes_are_404(self):
        for method, path in (("GET", "/"), ("GET", "/v2/nonsense"), ("GET", "/v3"),
                             ("GET", "/v2/models/simple/nonsense"),
                             ("GET", "/v2/models/simple/versions/1/nonsense"),
                             ("POST", "/v2/models/simple/infer/extra"),
                             ("GET", "/v2/health"), ("GET", "/v2/health/alive")):
            resp = self.server.request(method, path, b"{}" if method == "POST" else None)
            if path == "/" and resp.status == 200:
                continue  # the dashboard may live at /
            self.assertError(resp, 404, "%s %s -> %r" % (method, path, resp))

    def test_wrong_method_is_405(self):
        cases = (("GET", "/v2/models/simple/infer"), ("PUT", "/v2/models/simple/infer"),
                 ("POST", "/v2/health/live"), ("POST", "/v2/health/ready"),
                 ("DELETE", "/v2/models/simple"), ("POST", "/v2/models/simple/config"),
                 ("PUT", "/v2"), ("GET", "/v2/repository/index"),
                 ("POST", "/v2/models/simple/stats"), ("POST", "/metrics"))
        for method, path in cases:
            body = b"{}" if method in ("POST", "PUT") else None
            resp = self.server.request(method, path, body)
            self.assertError(resp, 405, "%s %s -> %r" % (method, path, resp))

    def test_head_of_live(self):
        with self.server.raw() as conn:
            resp = conn.request("HEAD", "/v2/health/live")
            self.assertIn(resp.status, (200, 405), resp)
            # The connection is still in sync afterwards.
            self.assertOk(conn.request("GET", "/v2/health/live"))


if __name__ == "__main__":
    unittest.main()
