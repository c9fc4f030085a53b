"""Cancellation after dispatch, end to end: a request whose client goes away, or whose own timeout
(?timeout_ms) passes, while its model works on it. A Python model hears of it (ctx.cancelled())
and stops early; a per_request CLI run is killed; either way the instance is free again for the
next request at once. Real binary, real Python interpreter (/usr/bin/python3 with numpy).
"""

import os
import subprocess
import time
import unittest

import harness
from test_python_models import write_model

PYTHON = "/usr/bin/python3"
HAS_NUMPY = subprocess.run([PYTHON, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL).returncode == 0

# Works on a body of "wait" until its request is cancelled (or 60 s pass), noting in heard.txt
# (in its model folder) what stopped it; answers any other body at once.
WAITS_MODEL = '''
import os
import time
import switchyard

class Waits:
    def setup(self, ctx):
        self.ctx = ctx

    def decode(self, request):
        return request.body

    def predict(self, body):
        give_up = time.monotonic() + 60
        while body == b"wait" and time.monotonic() < give_up:
            if self.ctx.cancelled():
                with open(os.path.join(self.ctx.model_dir, "heard.txt"), "a") as f:
                    f.write("cancelled\\n")
                raise switchyard.Cancelled("stopped early")
            time.sleep(0.01)
        return b"done: " + body
'''

WAITS_CONFIG = '''
backend: python
instances: {devices: cpu, per_device: 1}
warmup: {requests: 0}
parameters: {python: /usr/bin/python3}
'''

# A CLI run per request that would take a minute.
SLEEPS_CONFIG = '''
backend: exec
max_batch_size: 0
inputs: [{name: INPUT0, datatype: INT32, shape: [1]}]
outputs: [{name: OUTPUT0, datatype: INT32, shape: [1]}]
instances: {devices: cpu, per_device: 1}
warmup: {requests: 0}
parameters: {command: /bin/sleep 60, mode: per_request}
'''

# Far below the minute the work would take; far above how long telling it takes.
STOPPED_WITHIN_S = 15


@unittest.skipUnless(HAS_NUMPY, "/usr/bin/python3 lacks numpy")
class CancellationTest(harness.ServerTestCase):
    @classmethod
    def repository(cls, tmpdir):
        repo = os.path.join(tmpdir, "repository")
        write_model(repo, "waits", WAITS_CONFIG, {"1/model.py": WAITS_MODEL})
        write_model(repo, "sleeps", SLEEPS_CONFIG, {})
        cls.heard = os.path.join(repo, "waits", "heard.txt")
        return repo

    def heard_lines(self):
        if not os.path.exists(self.heard):
            return []
        with open(self.heard) as f:
            return f.read().splitlines()

    def predict(self, model, body, query="", content_type="application/octet-stream"):
        return self.server.request("POST", "/v2/models/%s/predict%s" % (model, query), body,
                                   {"Content-Type": content_type})

    def assertFreeAgain(self):
        """The instance takes the next request at once."""
        start = time.monotonic()
        self.assertEqual(self.assertOk(self.predict("waits", b"quick")).body, b"done: quick")
        self.assertLess(time.monotonic() - start, STOPPED_WITHIN_S)

    def test_a_timeout_that_passes_while_predict_runs_stops_it_and_answers_504(self):
        before = len(self.heard_lines())
        start = time.monotonic()
        err = self.assertError(self.predict("waits", b"wait", "?timeout_ms=1000"), 504)
        took = time.monotonic() - start
        self.assertGreaterEqual(took, 1.0)
        self.assertLess(took, STOPPED_WITHIN_S)
        self.assertIn("the request's timeout passed while it executed", err)
        self.assertIn("stopped early", err)
        self.assertEqual(len(self.heard_lines()), before + 1)
        self.assertFreeAgain()

    def test_a_client_that_goes_away_stops_predict(self):
        before = len(self.heard_lines())
        conn = self.server.raw()
        conn.send(b"POST /v2/models/waits/predict HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\nwait")
        time.sleep(0.5)  # it is running
        conn.close()
        deadline = time.monotonic() + STOPPED_WITHIN_S
        while len(self.heard_lines()) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(self.heard_lines()), before + 1, "the model was not told")
        self.assertFreeAgain()

    def test_a_per_request_run_is_killed_when_its_timeout_passes(self):
        start = time.monotonic()
        err = self.assertError(self.predict("sleeps", b'{"INPUT0": [1]}', "?timeout_ms=1000",
                                            "application/json"), 504)
        self.assertLess(time.monotonic() - start, STOPPED_WITHIN_S)
        self.assertIn("the request was stopped while it ran", err)
        self.assertIn("killed by signal 9", err)
        start = time.monotonic()
        err = self.assertError(self.predict("sleeps", b'{"INPUT0": [2]}', "?timeout_ms=500",
                                            "application/json"), 504)
        self.assertLess(time.monotonic() - start, STOPPED_WITHIN_S)  # not behind a minute's run


if __name__ == "__main__":
    unittest.main()
