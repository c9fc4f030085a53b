"""Partial responses (SyHostApi::request_send_partial): a model that answers a request several
times before its final answer. A streaming /predict client sees each as `event: partial`, in
order, before the `result`; clients that take one answer (/predict, /infer) get the final one
only. Sim models in a worker process and in the server's own process; a Python model through
ctx.send."""

import json
import os
import subprocess
import unittest

import harness
from test_python_models import write_model

PYTHON = "/usr/bin/python3"
HAS_NUMPY = subprocess.run([PYTHON, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL).returncode == 0

# add_sub on INT32 [4], two partial responses (copies of the final one) spread over 30 ms.
SIM_CONFIG = '''
backend: sim
max_batch_size: 8
inputs:
  - {name: INPUT0, datatype: INT32, shape: [4]}
  - {name: INPUT1, datatype: INT32, shape: [4]}
outputs:
  - {name: OUTPUT0, datatype: INT32, shape: [4]}
  - {name: OUTPUT1, datatype: INT32, shape: [4]}
instances: {devices: cpu, per_device: 1, isolation: %s}
parameters: {function: add_sub, partial_responses: 2, service_time_us: 30000}
'''

# Echoes a BYTES input, with one partial response first: one over the cap fails the request.
ECHO_CONFIG = '''
backend: sim
max_batch_size: 0
inputs: [{name: IN, datatype: BYTES, shape: [1]}]
outputs: [{name: OUT, datatype: BYTES, shape: [1]}]
instances: {devices: cpu, per_device: 1}
parameters: {function: identity, partial_responses: 1}
'''

# Sends "page i of n" for each page, then answers how many pages there were.
PAGES_MODEL = '''
import switchyard

class Pages:
    def setup(self, ctx):
        self.ctx = ctx

    def decode(self, request):
        return int(request.params.get("pages", "3"))

    def predict(self, pages):
        for page in range(1, pages + 1):
            self.ctx.send({"page": page, "of": pages})
        return {"pages": pages}
'''

PAGES_CONFIG = '''
backend: python
instances: {devices: cpu, per_device: 1}
warmup: {requests: 0}
parameters: {python: /usr/bin/python3}
'''

INPUTS = {"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}
ANSWER = {"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 2, 3]}


class PartialResponseTest(harness.ServerTestCase):
    @classmethod
    def repository(cls, tmpdir):
        repo = os.path.join(tmpdir, "repository")
        for isolation in ("process", "thread"):
            write_model(repo, "parts_" + isolation, SIM_CONFIG % isolation, {})
        write_model(repo, "echo", ECHO_CONFIG, {})
        if HAS_NUMPY:
            write_model(repo, "pages", PAGES_CONFIG, {"1/model.py": PAGES_MODEL})
        return repo

    def stream(self, model, body, target_query=""):
        return harness.stream_events(self.server, "/v2/models/%s/predict%s" % (model, target_query),
                                     body, "application/json")

    def test_a_streaming_client_sees_each_partial_response_then_the_result(self):
        for isolation in ("process", "thread"):
            with self.subTest(isolation=isolation):
                status, events = self.stream("parts_" + isolation, json.dumps(INPUTS).encode())
                self.assertIn("200", status)
                expected = {"status": 200, "content_type": "application/json", "body": ANSWER}
                self.assertEqual(events, [("partial", expected), ("partial", expected),
                                          ("result", expected)])

    def test_clients_that_take_one_answer_get_the_final_one(self):
        for isolation in ("process", "thread"):
            with self.subTest(isolation=isolation):
                model = "parts_" + isolation
                resp = self.assertOk(self.server.request(
                    "POST", "/v2/models/%s/predict" % model, json.dumps(INPUTS).encode(),
                    {"Content-Type": "application/json"}))
                self.assertEqual(resp.json(), ANSWER)
                resp = self.assertOk(self.server.infer(model, {"inputs": [
                    {"name": name, "shape": [1, 4], "datatype": "INT32", "data": data}
                    for name, data in INPUTS.items()]}))
                outputs = {o["name"]: o["data"] for o in resp.json()["outputs"]}
                self.assertEqual(outputs, ANSWER)

    def test_a_partial_response_over_the_cap_fails_its_request(self):
        small = "x" * 100
        status, events = self.stream("echo", json.dumps({"IN": small}).encode())
        self.assertEqual([e for e, _ in events], ["partial", "result"])
        self.assertEqual(events[0][1]["body"], {"OUT": [small]})
        self.assertEqual(events[1][1]["body"], {"OUT": [small]})
        big = "x" * 70000  # over the 64 KiB a partial response may carry
        resp = self.server.request("POST", "/v2/models/echo/predict",
                                   json.dumps({"IN": big}).encode(),
                                   {"Content-Type": "application/json"})
        self.assertIn("more than 65536 bytes", self.assertError(resp, 400))

    @unittest.skipUnless(HAS_NUMPY, "python3-numpy is not installed")
    def test_a_python_model_sends_partial_responses_with_ctx_send(self):
        status, events = self.stream("pages", b"{}", "?pages=3")
        self.assertIn("200", status)
        self.assertEqual([(e, d["body"]) for e, d in events],
                         [("partial", {"page": 1, "of": 3}), ("partial", {"page": 2, "of": 3}),
                          ("partial", {"page": 3, "of": 3}), ("result", {"pages": 3})])
        resp = self.assertOk(self.server.request("POST", "/v2/models/pages/predict?pages=2", b"{}",
                                                 {"Content-Type": "application/json"}))
        self.assertEqual(resp.json(), {"pages": 2})


if __name__ == "__main__":
    unittest.main()
