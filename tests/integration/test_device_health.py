"""A GPU that reports a fatal condition is drained: on simulated GPUs whose spec says
`health=failed` (what NVML's "GPU lost" looks like to the server), the instances placed there take
no work, the model whose every instance is there is not ready and says why, readiness is false,
and /v2/devices and /v2/status report the device's health and each drained instance's reason."""

import shutil
import tempfile
import unittest

import harness

REASON = "GPU1 failed: simulated failure (--simulate-gpus health=failed)"
REQUEST = {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "INT32", "data": [7, 8]}]}


class FailedGpuTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.mkdtemp(prefix="switchyard-repo-")
        cls.addClassCleanup(shutil.rmtree, cls._tmp, True)
        cls.server = harness.Server(harness.test_models("drain"),
                                    ["--http-threads", "2", "--simulate-gpus",
                                     "5GB,5GB:health=failed"], wait_ready=False)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def models(self):
        return {m["name"]: m for m in self.server.get_json("/v2/status")["models"]}

    def test_devices_report_the_failure(self):
        devices = self.server.get_json("/v2/devices")["devices"]
        self.assertEqual([(d["health"], d["health_detail"]) for d in devices],
                         [("healthy", ""),
                          ("failed", "simulated failure (--simulate-gpus health=failed)")])

    def test_instances_on_the_failed_gpu_take_no_work(self):
        for _ in range(8):
            self.assertOk(self.server.infer("both", REQUEST))
        instances = {i["name"]: i for i in self.models()["both"]["instances"]}
        self.assertEqual((instances["both/0"]["device"], instances["both/0"]["state"],
                          instances["both/0"]["drained"]), ("GPU0", "READY", ""))
        self.assertEqual((instances["both/1"]["device"], instances["both/1"]["state"],
                          instances["both/1"]["drained"]), ("GPU1", "DRAINED", REASON))
        self.assertGreaterEqual(instances["both/0"]["batches"], 1)
        self.assertEqual(instances["both/1"]["batches"], 0)

    def test_a_model_with_every_instance_drained_is_not_ready_and_says_why(self):
        model = self.models()["only_gpu1"]
        self.assertEqual(model["state"], "UNAVAILABLE")
        self.assertEqual(model["reason"], "no instance is available (drained: %s)" % REASON)
        self.assertEqual(self.models()["both"]["state"], "READY")
        self.assertEqual(self.server.request("GET", "/v2/health/ready").status, 503)
        self.assertFalse(self.server.get_json("/v2/status")["ready"])
        self.assertNotEqual(self.server.request("GET", "/v2/models/only_gpu1/ready").status, 200)
        self.assertEqual(self.server.request("GET", "/v2/models/both/ready").status, 200)
        index = self.server.request("POST", "/v2/repository/index", "{}")
        self.assertIn(REASON, index.body.decode())
        # Its requests wait for an instance (none comes back) until their queue timeout.
        resp = self.server.infer("only_gpu1", REQUEST)
        self.assertEqual(resp.status, 504, resp)


if __name__ == "__main__":
    unittest.main()
