"""The benchmark baseline (bench/baselines/common_server.py, the common design B6 and G3 compare
against) answers what the same client sends switchyard: the sim workload in JSON, and a
TorchScript model (torch_model.py) over JSON and the binary tensor data extension, with the
model's real outputs; bad requests are 400s, not crashes.

Runs the baseline with /usr/bin/python3 (Debian's aiohttp and torch); skipped, saying why,
where either is missing. The TorchScript model is made at test time on CPU."""

import http.client
import json
import os
import struct
import subprocess
import tempfile
import unittest

import harness

PYTHON = "/usr/bin/python3"
SERVER = os.path.join(harness.SOURCE_DIR, "bench", "baselines", "common_server.py")

MAKE_MODEL = """
import sys, torch
class Affine(torch.nn.Module):
    def forward(self, x):
        return x * 2 + 1, x.sum(dim=1, keepdim=True)
torch.jit.trace(Affine(), torch.zeros(2, 4)).save(sys.argv[1])
"""


def missing(module):
    probe = subprocess.run([PYTHON, "-c", "import " + module], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return probe.returncode != 0


class Baseline:
    """The baseline server on an ephemeral port of 127.0.0.1, stopped by stop()."""

    def __init__(self, tmpdir, *args):
        port_file = os.path.join(tmpdir, "port")
        self.log = open(os.path.join(tmpdir, "server.log"), "w+")
        self.process = subprocess.Popen(
            [PYTHON, SERVER, "--host", "127.0.0.1", "--port", "0", "--port-file", port_file]
            + list(args), stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_until(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0
                           or self.process.poll() is not None, 60, "baseline port file")
        if self.process.poll() is not None:
            self.log.seek(0)
            raise RuntimeError("baseline exited: " + self.log.read())
        with open(port_file) as f:
            self.port = int(f.read().strip().split("=")[1])

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


@unittest.skipIf(missing("aiohttp"), PYTHON + " cannot import aiohttp (python3-aiohttp)")
class SimBaselineTest(unittest.TestCase):
    def test_add_sub_json(self):
        with tempfile.TemporaryDirectory() as tmpdir:
            server = Baseline(tmpdir, "--model", "simple", "--function", "add_sub",
                              "--datatype", "INT32", "--dims", "4", "--instances", "2")
            try:
                body = {"inputs": [
                    {"name": "INPUT0", "datatype": "INT32", "shape": [1, 4], "data": [1, 2, 3, 4]},
                    {"name": "INPUT1", "datatype": "INT32", "shape": [1, 4], "data": [1, 1, 1, 1]}]}
                status, _, data = server.request("POST", "/v2/models/simple/infer",
                                                 json.dumps(body))
                self.assertEqual(status, 200, data)
                outputs = {o["name"]: o["data"] for o in json.loads(data)["outputs"]}
                self.assertEqual(outputs, {"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 2, 3]})
                status, _, _ = server.request("POST", "/v2/models/simple/infer", "{not json")
                self.assertEqual(status, 400)
            finally:
                server.stop()


@unittest.skipIf(missing("aiohttp"), PYTHON + " cannot import aiohttp (python3-aiohttp)")
@unittest.skipIf(missing("torch"), PYTHON + " cannot import torch (python3-torch)")
class TorchBaselineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.TemporaryDirectory()
        model = os.path.join(cls.tmpdir.name, "affine.pt")
        subprocess.run([PYTHON, "-c", MAKE_MODEL, model], check=True)
        cls.server = Baseline(cls.tmpdir.name, "--model", "affine", "--torchscript", model,
                              "--devices", "cpu,cpu", "--input", "x:FP32:4",
                              "--output", "y:FP32:4", "--output", "total:FP32:1")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmpdir.cleanup()

    def infer(self, body, headers=None):
        return self.server.request("POST", "/v2/models/affine/infer", body, headers)

    def test_metadata_names_the_tensors(self):
        status, _, data = self.server.request("GET", "/v2/models/affine")
        self.assertEqual(status, 200)
        meta = json.loads(data)
        self.assertEqual(meta["inputs"], [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}])
        self.assertEqual([o["name"] for o in meta["outputs"]], ["y", "total"])

    def test_json_request_gets_the_model_outputs(self):
        body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                            "data": [1, 2, 3, 4]}]}
        for _ in range(3):  # both copies, round robin
            status, _, data = self.infer(json.dumps(body))
            self.assertEqual(status, 200, data)
            outputs = {o["name"]: o for o in json.loads(data)["outputs"]}
            self.assertEqual(outputs["y"]["data"], [3, 5, 7, 9])
            self.assertEqual(outputs["y"]["shape"], [1, 4])
            self.assertEqual(outputs["total"]["data"], [10])

    def test_binary_request_gets_binary_outputs(self):
        header = json.dumps({
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                        "parameters": {"binary_data_size": 16}}],
            "parameters": {"binary_data_output": True}}).encode()
        body = header + struct.pack("<4f", 0.5, -1, 2, 10)
        status, headers, data = self.infer(
            body, {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual(status, 200, data)
        json_length = int(headers["Inference-Header-Content-Length"])
        outputs = json.loads(data[:json_length])["outputs"]
        self.assertEqual([o["parameters"]["binary_data_size"] for o in outputs], [16, 4])
        self.assertEqual(struct.unpack("<4f", data[json_length:json_length + 16]), (2, -1, 5, 21))
        self.assertEqual(struct.unpack("<f", data[json_length + 16:]), (11.5,))

    def test_bad_requests_are_400(self):
        wrong_shape = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3],
                                   "data": [1, 2, 3]}]}
        short_binary = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                                               "parameters": {"binary_data_size": 16}}]}).encode()
        for body, headers in [
                (json.dumps(wrong_shape), None),
                (json.dumps({"inputs": [{"name": "nope"}]}), None),
                (short_binary + b"\0" * 8, {"Inference-Header-Content-Length":
                                            str(len(short_binary))}),
                (b"{}", {"Inference-Header-Content-Length": "99"})]:
            status, _, data = self.infer(body, headers)
            self.assertEqual(status, 400, data)
        status, _, _ = self.server.request("POST", "/v2/models/other/infer", b"{}")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
