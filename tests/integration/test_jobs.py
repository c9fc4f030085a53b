"""Jobs end to end: submit (POST .../jobs, or Prefer: respond-async), follow, fetch the result,
cancel, list, the bound on unfinished jobs, and a server killed with kill -9 that runs every
accepted job after its restart. Real binary; the long jobs run a Python model
(/usr/bin/python3 with numpy)."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from test_python_models import write_model
from wire import encode_infer

PYTHON = "/usr/bin/python3"
HAS_NUMPY = subprocess.run([PYTHON, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL).returncode == 0

# Works ?seconds=N (stopping early when its request is cancelled), then answers what it did.
SLEEPS_MODEL = '''
import time
import switchyard

class Sleeps:
    def setup(self, ctx):
        self.ctx = ctx

    def decode(self, request):
        return float(request.params.get("seconds", "0"))

    def predict(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.ctx.cancelled():
                raise switchyard.Cancelled("stopped early")
            time.sleep(0.01)
        return {"slept": seconds}
'''

SLEEPS_CONFIG = '''
backend: python
instances: {devices: cpu, per_device: 1}
warmup: {requests: 0}
parameters: {python: /usr/bin/python3}
'''

# Reports half its work done, waits until the file named by ?gate= exists (60 s at most), sends
# a partial response, reports it all done, then answers.
STEPS_MODEL = '''
import os
import time
import switchyard

class Steps:
    def setup(self, ctx):
        self.ctx = ctx

    def decode(self, request):
        return request.params.get("gate", "")

    def predict(self, gate):
        self.ctx.progress(0.5, "halfway: waiting for the gate")
        end = time.monotonic() + 60
        while gate and not os.path.exists(gate) and time.monotonic() < end:
            if self.ctx.cancelled():
                raise switchyard.Cancelled("stopped early")
            time.sleep(0.01)
        self.ctx.send({"done": False})
        self.ctx.progress(1.0, "done")
        return {"done": True}
'''

SIMPLE_JSON = {"INPUT0": list(range(16)), "INPUT1": [1] * 16}
FINISHED = ("succeeded", "failed", "cancelled")


def make_repository(tmpdir):
    repo = harness.make_repository(tmpdir, os.path.join(harness.examples_dir(), "simple"))
    write_model(repo, "sleeps", SLEEPS_CONFIG, {"1/model.py": SLEEPS_MODEL})
    write_model(repo, "steps", SLEEPS_CONFIG, {"1/model.py": STEPS_MODEL})
    write_model(repo, "steps_in_server",
                SLEEPS_CONFIG.replace("per_device: 1", "per_device: 1, isolation: thread"),
                {"1/model.py": STEPS_MODEL})
    return repo


class JobClient:
    """What a job client does, against one server."""

    def __init__(self, test, server):
        self.test = test
        self.server = server

    def submit(self, path, body, headers=None, expect=202):
        resp = self.server.request("POST", path, body, headers)
        self.test.assertEqual(resp.status, expect, repr(resp))
        if expect != 202:
            return resp
        job = resp.json()
        self.test.assertEqual(resp.header("Location"), "/v2/jobs/" + job["id"])
        self.test.assertEqual(job["url"], "/v2/jobs/" + job["id"])
        self.test.assertRegex(job["id"], "^[0-9a-f]{32}$")
        return job

    def get(self, job_id):
        return self.server.get_json("/v2/jobs/" + job_id)

    def wait(self, job_id, states=FINISHED, timeout=60):
        return harness.wait_until(lambda: (lambda j: j if j["state"] in states else None)(
            self.get(job_id)), timeout, "job %s to be %s" % (job_id, "/".join(states)))

    def result(self, job_id):
        return self.server.request("GET", "/v2/jobs/%s/result" % job_id)


@unittest.skipUnless(HAS_NUMPY, "/usr/bin/python3 lacks numpy")
class JobsTest(harness.ServerTestCase):
    SERVER_ARGS = ["--job-concurrency", "1", "--max-jobs", "6", "--job-keepalive-s", "1"]

    @classmethod
    def repository(cls, tmpdir):
        return make_repository(tmpdir)

    def setUp(self):
        self.jobs = JobClient(self, self.server)

    def assertSameAnswer(self, job_result, direct):
        self.assertEqual(job_result.status, direct.status)
        self.assertEqual(job_result.header("Content-Type"), direct.header("Content-Type"))
        self.assertEqual(job_result.body, direct.body)

    def test_a_job_answers_what_predict_answers(self):
        body = json.dumps(SIMPLE_JSON)
        headers = {"Content-Type": "application/json"}
        job = self.jobs.submit("/v2/models/simple/jobs", body, headers)
        self.assertIn(job["state"], ("queued", "running", "succeeded"))
        self.assertEqual(job["model"], "simple")
        done = self.jobs.wait(job["id"])
        self.assertEqual(done["state"], "succeeded")
        self.assertEqual(done["attempts"], 1)
        self.assertEqual(done["status"], 200)
        self.assertLessEqual(done["created_ms"], done["started_ms"])
        self.assertLessEqual(done["started_ms"], done["finished_ms"])
        direct = self.server.request("POST", "/v2/models/simple/predict", body, headers)
        self.assertSameAnswer(self.jobs.result(job["id"]), direct)
        self.assertEqual(direct.json()["OUTPUT0"], [i + 1 for i in range(16)])

    def test_prefer_respond_async_makes_an_infer_request_a_job(self):
        request = harness.simple_request(list(range(16)), [2] * 16)
        headers = {"Content-Type": "application/json"}
        job = self.jobs.submit("/v2/models/simple/infer", json.dumps(request),
                               dict(headers, Prefer="respond-async"))
        self.assertEqual(self.jobs.wait(job["id"])["state"], "succeeded")
        direct = self.server.request("POST", "/v2/models/simple/infer", json.dumps(request),
                                     headers)
        self.assertSameAnswer(self.jobs.result(job["id"]), direct)

    def test_a_binary_kserve_body_runs_as_infer_and_keeps_its_header(self):
        request = {"inputs": [
            {"name": n, "datatype": "INT32", "shape": [1, 16],
             "parameters": {"binary_data_size": 64}} for n in ("INPUT0", "INPUT1")],
            "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]}
        raw = b"".join(int.to_bytes(i, 4, "little") for i in range(16))
        body, json_length = encode_infer(request, [raw, raw])
        headers = {"Inference-Header-Content-Length": str(json_length)}
        job = self.jobs.submit("/v2/models/simple/jobs", body, headers)
        self.assertEqual(self.jobs.wait(job["id"])["state"], "succeeded")
        stored = self.jobs.result(job["id"])
        direct = self.server.request("POST", "/v2/models/simple/infer", body, headers)
        self.assertSameAnswer(stored, direct)
        self.assertEqual(stored.header("Inference-Header-Content-Length"),
                         direct.header("Inference-Header-Content-Length"))

    def test_a_job_the_model_refuses_fails_with_the_error_it_would_have_got(self):
        job = self.jobs.submit("/v2/models/simple/jobs", '{"INPUT0": [1]}',
                               {"Content-Type": "application/json"})
        done = self.jobs.wait(job["id"])
        self.assertEqual(done["state"], "failed")
        self.assertEqual(done["status"], 400)
        self.assertIn("INPUT", done["error"])
        err = self.assertError(self.jobs.result(job["id"]), 400)
        self.assertEqual(err, done["error"])

    def test_an_idempotency_key_returns_the_first_job(self):
        headers = {"Content-Type": "application/json", "Idempotency-Key": "retry-%f" % time.time()}
        first = self.jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON), headers)
        again = self.jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON), headers)
        self.assertEqual(again["id"], first["id"])
        listed = self.server.get_json("/v2/jobs?model=simple&limit=1000")["jobs"]
        self.assertEqual(sum(1 for j in listed if j["id"] == first["id"]), 1)

    def test_cancel_takes_a_queued_job_out_and_stops_a_running_one(self):
        running = self.jobs.submit("/v2/models/sleeps/jobs?seconds=60", b"")
        self.jobs.wait(running["id"], ("running",))
        queued = self.jobs.submit("/v2/models/sleeps/jobs?seconds=60", b"")
        seen = self.jobs.get(queued["id"])
        self.assertEqual((seen["state"], seen["position"]), ("queued", 0))
        err = self.assertError(self.jobs.result(queued["id"]), 409)
        self.assertIn("no result yet", err)

        resp = self.server.request("DELETE", "/v2/jobs/" + queued["id"])
        self.assertEqual(resp.status, 202, repr(resp))
        self.assertEqual(resp.json()["state"], "cancelled")  # at once

        start = time.monotonic()
        resp = self.server.request("DELETE", "/v2/jobs/" + running["id"])
        self.assertEqual(resp.status, 202, repr(resp))
        self.assertTrue(resp.json().get("cancel_requested") or
                        resp.json()["state"] == "cancelled")
        self.assertEqual(self.jobs.wait(running["id"], timeout=15)["state"], "cancelled")
        self.assertLess(time.monotonic() - start, 15)  # far from the 60 s it would have run
        self.assertError(self.jobs.result(running["id"]), 409)
        self.assertError(self.server.request("DELETE", "/v2/jobs/" + running["id"]), 409)
        quick = self.jobs.submit("/v2/models/sleeps/jobs?seconds=0", b"")  # the instance is free
        self.assertEqual(self.jobs.wait(quick["id"], timeout=15)["state"], "succeeded")
        self.assertEqual(self.jobs.result(quick["id"]).json(), {"slept": 0.0})

    def events(self, job_id, timeout=30, after_first=None):
        """The Server-Sent Events of GET /v2/jobs/{id}/events until the server closes the stream:
        (response head, [parsed job of each `state` event], [parsed `progress` events], [parsed
        `partial` events]).
        `after_first` runs once the first event has arrived."""
        conn = self.server.raw(timeout=timeout)
        conn.send(b"GET /v2/jobs/%s/events HTTP/1.1\r\nHost: x\r\n\r\n" % job_id.encode())
        data = b""
        while True:
            if after_first is not None and b"\n\n" in data.partition(b"\r\n\r\n")[2]:
                after_first()
                after_first = None
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.close()
        head, _, body = data.partition(b"\r\n\r\n")
        states, progress, partial = [], [], []
        for event in body.decode().split("\n\n"):
            lines = dict(line.split(": ", 1) for line in event.splitlines() if ": " in line)
            if lines.get("event") == "state":
                states.append(json.loads(lines["data"]))
            elif lines.get("event") == "progress":
                progress.append(json.loads(lines["data"]))
            elif lines.get("event") == "partial":
                partial.append(json.loads(lines["data"]))
        return head.decode(), states, progress, partial

    def test_an_event_stream_without_news_gets_keep_alive_comments(self):
        gate = os.path.join(self._tmp, "keepalive-gate")
        job = self.jobs.submit("/v2/models/steps/jobs?gate=%s" % gate, b"")
        conn = self.server.raw(timeout=30)
        conn.send(b"GET /v2/jobs/%s/events HTTP/1.1\r\nHost: x\r\n\r\n" % job["id"].encode())
        data = b""
        while b"\n: keep-alive\n\n" not in data:  # --job-keepalive-s 1; the job waits
            chunk = conn.sock.recv(65536)
            self.assertTrue(chunk, "the stream ended before a keep-alive: %r" % data)
            data += chunk
        open(gate, "w").close()
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.close()
        self.assertIn(b"event: state\ndata: {\"id\":\"%s\"" % job["id"].encode(), data)
        self.assertEqual(self.jobs.get(job["id"])["state"], "succeeded")

    def test_predict_streams_progress_and_then_its_result_as_events(self):
        gate = os.path.join(self._tmp, "stream-gate")
        target = "/v2/models/steps/predict?gate=" + gate
        status, events = harness.stream_events(self.server, target,
                                               until=lambda e: e[0] == "progress")
        self.assertIn("200", status)
        self.assertEqual(events, [("progress", {"progress": 0.5,
                                                "message": "halfway: waiting for the gate"})])
        # That client left: its request is cancelled (its gate never opens: were it not, it
        # would hold the model's one instance for 60 s), and the instance takes the next one.
        opened = gate + "-open"
        open(opened, "w").close()
        status, events = harness.stream_events(self.server,
                                               "/v2/models/steps/predict?gate=" + opened)
        self.assertIn("200", status)
        self.assertEqual([e for e, _ in events], ["progress", "partial", "progress", "result"])
        self.assertEqual(events[1][1], {"status": 200, "content_type": "application/json",
                                        "body": {"done": False}})
        self.assertEqual(events[2][1], {"progress": 1, "message": "done"})
        self.assertEqual(events[3][1], {"status": 200, "content_type": "application/json",
                                        "body": {"done": True}})
        # An error before any progress is a plain error reply, with its own status.
        resp = self.server.request("POST", "/v2/models/nope/predict", b"",
                                   {"Accept": "text/event-stream"})
        self.assertError(resp, 404)

    def test_server_wide_load_gauges_count_what_runs(self):
        gate = os.path.join(self._tmp, "load-gate")
        job = self.jobs.submit("/v2/models/steps/jobs?gate=%s" % gate, b"")
        harness.wait_until(lambda: "progress" in self.jobs.get(job["id"]), 30,
                           "the job to run")
        metrics = self.server.metrics()
        self.assertEqual(metrics.value("switchyard_server_running_requests"), 1)
        self.assertEqual(metrics.value("switchyard_server_queued_requests"), 0)
        utilization = metrics.value("switchyard_server_utilization")
        self.assertGreater(utilization, 0)  # one of the ready instances executes
        self.assertLess(utilization, 1)     # the others do not
        # An answer carries the same load as an ORCA report when asked.
        for form in ("TEXT", "JSON"):
            resp = self.assertOk(self.server.request(
                "POST", "/v2/models/simple/infer", json.dumps(harness.simple_request(
                    list(range(16)), [1] * 16)).encode(),
                {"Content-Type": "application/json", "endpoint-load-metrics-format": form}))
            report = resp.header("endpoint-load-metrics")
            self.assertIsNotNone(report, form)
            if form == "TEXT":
                fields = dict(kv.split("=") for kv in report[len("TEXT "):].split(", "))
                running = int(fields["named_metrics.running_requests"])
                self.assertGreater(float(fields["application_utilization"]), 0)
            else:
                running = json.loads(report[len("JSON "):])["named_metrics"]["running_requests"]
            self.assertGreaterEqual(running, 1, report)  # the job
        plain = self.server.request("POST", "/v2/models/simple/infer", json.dumps(
            harness.simple_request(list(range(16)), [1] * 16)).encode())
        self.assertIsNone(plain.header("endpoint-load-metrics"))
        open(gate, "w").close()
        self.jobs.wait(job["id"])
        metrics = self.server.metrics()
        self.assertEqual(metrics.value("switchyard_server_running_requests"), 0)
        self.assertEqual(metrics.value("switchyard_server_utilization"), 0)

    def test_a_running_job_shows_its_models_progress(self):
        for model in ("steps", "steps_in_server"):  # a worker process, and in the server
            with self.subTest(model=model):
                gate = os.path.join(self._tmp, model + "-gate")
                job = self.jobs.submit("/v2/models/%s/jobs?gate=%s" % (model, gate), b"")
                seen = harness.wait_until(
                    lambda: (lambda j: j if "progress" in j else None)(self.jobs.get(job["id"])),
                    30, "job %s to report progress" % job["id"])
                self.assertEqual(seen["state"], "running")
                self.assertEqual(seen["progress"], 0.5)
                self.assertEqual(seen["message"], "halfway: waiting for the gate")
                _, states, progress, partial = self.events(
                    job["id"], after_first=lambda: open(gate, "w").close())
                self.assertEqual(partial, [{"id": job["id"], "status": 200,
                                            "content_type": "application/json",
                                            "body": {"done": False}}])
                self.assertEqual((states[0]["state"], states[0]["progress"]), ("running", 0.5))
                self.assertEqual(progress[-1], {"id": job["id"], "progress": 1,
                                                "message": "done"})
                self.assertEqual(states[-1]["state"], "succeeded")
                self.assertNotIn("progress", states[-1])  # a finished job shows no progress
                self.assertEqual(self.jobs.result(job["id"]).json(), {"done": True})

    def test_events_follow_a_job_until_it_ends(self):
        job = self.jobs.submit("/v2/models/sleeps/jobs?seconds=1", b"")
        head, states, _, _ = self.events(job["id"])
        self.assertIn("200 OK", head.splitlines()[0])
        self.assertIn("Content-Type: text/event-stream", head)
        self.assertNotIn("Content-Length", head)
        self.assertEqual(states[-1]["state"], "succeeded")
        self.assertEqual(states[-1]["status"], 200)
        self.assertIn(states[0]["state"], ("queued", "running"))
        self.assertIn("running", [s["state"] for s in states[:-1]])
        self.assertTrue(all(s["id"] == job["id"] for s in states))
        # A job that has ended: its state once, then the stream ends.
        head, states, _, _ = self.events(job["id"])
        self.assertEqual([s["state"] for s in states], ["succeeded"])
        self.assertError(self.server.request("GET", "/v2/jobs/%s/events" % ("0" * 32)), 404)

    def test_a_client_that_leaves_an_event_stream_harms_nothing(self):
        job = self.jobs.submit("/v2/models/sleeps/jobs?seconds=1", b"")
        for _ in range(3):
            conn = self.server.raw()
            conn.send(b"GET /v2/jobs/%s/events HTTP/1.1\r\nHost: x\r\n\r\n" % job["id"].encode())
            conn.close()
        self.assertEqual(self.jobs.wait(job["id"])["state"], "succeeded")

    def test_jobs_beyond_the_bound_are_refused_429(self):
        ids = [self.jobs.submit("/v2/models/sleeps/jobs?seconds=60", b"")["id"]
               for _ in range(6)]
        resp = self.jobs.submit("/v2/models/sleeps/jobs?seconds=0", b"", expect=429)
        self.assertIn("the job queue is full", resp.error_message())
        self.assertEqual(resp.header("Retry-After"), "1")
        for job_id in ids:
            self.assertEqual(self.server.request("DELETE", "/v2/jobs/" + job_id).status, 202)
        for job_id in ids:
            self.jobs.wait(job_id, timeout=15)
        self.jobs.submit("/v2/models/sleeps/jobs?seconds=0", b"")  # room again

    def test_lists_pages_and_errors(self):
        first = self.jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON),
                                 {"Content-Type": "application/json"})
        second = self.jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON),
                                  {"Content-Type": "application/json"})
        self.jobs.wait(second["id"])
        page = self.server.get_json("/v2/jobs?model=simple&after=%s&limit=1" % first["id"])
        self.assertEqual([j["id"] for j in page["jobs"]], [second["id"]])
        self.assertEqual(page["next"], second["id"])
        cancelled = self.server.get_json("/v2/jobs?state=cancelled&model=simple")["jobs"]
        self.assertEqual(cancelled, [])
        self.assertError(self.server.request("GET", "/v2/jobs?state=done"), 400)
        self.assertError(self.server.request("GET", "/v2/jobs?limit=0"), 400)
        self.assertError(self.server.request("GET", "/v2/jobs?colour=red"), 400)
        self.assertError(self.server.request("GET", "/v2/jobs/" + "0" * 32), 404)
        self.assertError(self.server.request("GET", "/v2/jobs/%s/other" % first["id"]), 404)
        self.assertError(self.server.request("POST", "/v2/jobs/" + first["id"], b""), 405)
        self.assertError(self.server.request("POST", "/v2/models/nope/jobs", b""), 404)
        self.assertError(self.server.request("GET", "/v2/models/simple/jobs"), 405)


@unittest.skipUnless(HAS_NUMPY, "/usr/bin/python3 lacks numpy")
class JobRetentionTest(harness.ServerTestCase):
    SERVER_ARGS = ["--job-concurrency", "1", "--job-ttl-s", "1", "--job-storage-mb", "1"]

    @classmethod
    def repository(cls, tmpdir):
        return make_repository(tmpdir)

    def test_the_store_budget_refuses_507_until_bytes_are_freed(self):
        jobs = JobClient(self, self.server)
        big = b"x" * (700 << 10)
        first = jobs.submit("/v2/models/sleeps/jobs?seconds=60", big)
        resp = jobs.submit("/v2/models/sleeps/jobs?seconds=60", big, expect=507)
        self.assertIn("the job store is full", resp.error_message())
        self.assertIn("--job-storage-mb", resp.error_message())
        metrics = self.server.metrics()
        self.assertEqual(metrics.value("switchyard_jobs_refused_total", reason="storage"), 1)
        self.assertGreaterEqual(metrics.value("switchyard_job_storage_bytes"), 700 << 10)
        self.assertEqual(self.server.request("DELETE", "/v2/jobs/" + first["id"]).status, 202)
        jobs.wait(first["id"], timeout=15)
        second = jobs.submit("/v2/models/sleeps/jobs?seconds=0", big)  # its bytes were freed
        jobs.wait(second["id"], timeout=15)

    def test_a_finished_job_is_removed_after_its_time_to_live(self):
        jobs = JobClient(self, self.server)
        job = jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON),
                          {"Content-Type": "application/json"})
        self.assertEqual(jobs.wait(job["id"])["state"], "succeeded")
        harness.wait_until(
            lambda: self.server.request("GET", "/v2/jobs/" + job["id"]).status == 404, 10,
            "the finished job to be removed (--job-ttl-s 1)")
        self.assertError(jobs.result(job["id"]), 404)
        metrics = self.server.metrics()
        self.assertGreaterEqual(metrics.value("switchyard_jobs_finished_total", state="succeeded"),
                                1)
        self.assertEqual(metrics.value("switchyard_jobs", state="running"), 0)


class JobListNeedsTheAdminTokenTest(harness.ServerTestCase):
    SERVER_ARGS = ["--admin-token", "s3cret"]

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, os.path.join(harness.examples_dir(), "simple"))

    def test_the_list_needs_the_token_and_a_job_its_id(self):
        job = JobClient(self, self.server).submit(
            "/v2/models/simple/jobs", json.dumps(SIMPLE_JSON), {"Content-Type": "application/json"})
        self.assertError(self.server.request("GET", "/v2/jobs"), 401)
        listed = self.server.request("GET", "/v2/jobs", headers={"Authorization": "Bearer s3cret"})
        self.assertEqual([j["id"] for j in listed.json()["jobs"]], [job["id"]])
        self.assertEqual(self.server.request("GET", "/v2/jobs/" + job["id"]).status, 200)


@unittest.skipUnless(HAS_NUMPY, "/usr/bin/python3 lacks numpy")
class JobsSurviveAKilledServerTest(unittest.TestCase):
    def test_every_accepted_job_runs_after_kill_9_and_a_restart(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-jobs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        repo = make_repository(tmp)
        write_model(repo, "once", SLEEPS_CONFIG + "idempotent: false\n",
                    {"1/model.py": SLEEPS_MODEL})
        args = ["--state-dir", os.path.join(tmp, "state"), "--job-concurrency", "1"]
        first = harness.Server(repo, args).start()
        self.addCleanup(first.stop)
        jobs = JobClient(self, first)
        running = jobs.submit("/v2/models/sleeps/jobs?seconds=10", b"")
        jobs.wait(running["id"], ("running",))
        not_again = jobs.submit("/v2/models/once/jobs?seconds=60", b"")
        jobs.wait(not_again["id"], ("running",))
        queued = [jobs.submit("/v2/models/sleeps/jobs?seconds=0.%d" % i, b"")["id"]
                  for i in range(1, 4)]
        quick = jobs.submit("/v2/models/simple/jobs", json.dumps(SIMPLE_JSON),
                            {"Content-Type": "application/json"})
        jobs.wait(quick["id"])
        first.proc.kill()  # kill -9: no drain, nothing written at exit
        first.proc.wait()

        second = harness.Server(repo, args).start()
        self.addCleanup(second.stop)
        jobs = JobClient(self, second)
        for job_id, seconds in zip(queued, (0.1, 0.2, 0.3)):
            done = jobs.wait(job_id, timeout=60)
            self.assertEqual((done["state"], done["attempts"]), ("succeeded", 1))
            self.assertEqual(jobs.result(job_id).json(), {"slept": seconds})
        done = jobs.get(quick["id"])  # finished before the kill: not run again
        self.assertEqual((done["state"], done["attempts"]), ("succeeded", 1))
        again = jobs.wait(running["id"], timeout=90)
        self.assertEqual((again["state"], again["attempts"]), ("succeeded", 2))
        self.assertEqual(jobs.result(running["id"]).json(), {"slept": 10.0})
        self.assertIn("unfinished job(s) from the last run queued again", second.log_tail(400))
        # A model that is not idempotent: its interrupted job fails, saying why, and is not run.
        failed = jobs.get(not_again["id"])
        self.assertEqual((failed["state"], failed["attempts"]), ("failed", 1))
        self.assertIn("model 'once' is not idempotent", failed["error"])
        stored = jobs.result(not_again["id"])
        self.assertEqual(stored.status, 500)
        self.assertEqual(stored.json()["error"], failed["error"])


if __name__ == "__main__":
    unittest.main()
