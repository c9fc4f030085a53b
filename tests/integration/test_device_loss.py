"""A worker whose backend finds its GPU unusable (SY_ERROR_DEVICE_LOST, what the torch and cuda
backends return after a sticky CUDA error) drains that GPU until a new worker on it is ready.

`lossy` has one worker per simulated GPU; a request whose INPUT0 starts with 66 makes the sim
backend report its GPU lost. That request is retried once, on the other GPU (the first is
drained and its worker restarting), which loses it too: the client gets a 500 naming the loss,
each GPU counts one fault, both GPUs are failed with the reason in the log while their workers
restart, and both are healthy and serving again afterwards."""

import json
import unittest

import harness

FAULTS = "switchyard_device_faults_total"
LOSS = "simulated device loss (parameters.device_lost_on_value)"


def request(first):
    return {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "INT32",
                        "data": [first, 1]}]}


class DeviceLossTest(harness.ServerTestCase):
    REPOSITORY = harness.test_models("device_loss")
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", "2x5GB"]

    def server_log(self):
        with open(self.server.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def lossy(self):
        return [m for m in self.server.get_json("/v2/status")["models"] if m["name"] == "lossy"][0]

    def healthy_and_ready(self):
        devices = self.server.get_json("/v2/devices")["devices"]
        return (all(d["health"] == "healthy" for d in devices) and
                self.lossy()["state"] == "READY" and
                all(i["state"] == "READY" for i in self.lossy()["instances"]))

    def test_a_lost_gpu_is_drained_until_its_worker_is_back(self):
        self.assertOk(self.server.infer("lossy", request(1)))
        self.assertEqual(self.server.metrics().value(FAULTS), 0)

        resp = self.server.infer("lossy", request(66))
        self.assertEqual(resp.status, 500, resp)
        error = json.loads(resp.body)["error"]
        self.assertIn("its backend lost the GPU: " + LOSS, error)
        self.assertIn("already retried once", error)

        metrics = self.server.metrics()
        self.assertEqual(metrics.value(FAULTS, device="GPU0"), 1)
        self.assertEqual(metrics.value(FAULTS, device="GPU1"), 1)
        log = self.server_log()
        for gpu in ("GPU0", "GPU1"):
            self.assertIn("%s failed: lossy/%s lost it: %s: its instances are drained" %
                          (gpu, gpu[-1], LOSS), log)

        harness.wait_until(self.healthy_and_ready, 60, "both GPUs healthy and lossy ready")
        log = self.server_log()
        for gpu in ("GPU0", "GPU1"):
            self.assertIn("%s is no longer failed" % gpu, log)
        for instance in self.lossy()["instances"]:
            self.assertEqual(instance["restarts"], 1, instance)
            self.assertIn("its backend lost the GPU: " + LOSS, instance["last_error"])
        for value in range(4):
            resp = self.server.infer("lossy", request(value))
            self.assertOk(resp)
            self.assertEqual(json.loads(resp.body)["outputs"][0]["data"], [value, 1])


if __name__ == "__main__":
    unittest.main()
