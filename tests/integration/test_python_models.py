"""Python models end to end (docs/python-models.md): the example models classify, vqa and to3d
(eager PyTorch and a per-request CLI behind `backend: python`) and this suite's own models,
served by the real binary, called over plain HTTP (POST .../predict with multipart forms, JSON
and raw bodies) and over KServe /infer; batching, parameters, warm-up samples, per-request
errors, and models that cannot load.

Needs /usr/bin/python3 with numpy; the examples also need python3-torch, python3-torchvision and
python3-pil (`./dev` installs them): those tests are skipped, saying why, without them.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness

PYTHON = "/usr/bin/python3"
EXAMPLES = harness.examples_dir()
IMAGE = os.path.join(EXAMPLES, "classify", "warmup", "image.png")


def python_has(*modules):
    code = "import " + ", ".join(modules)
    return subprocess.run([PYTHON, "-c", code], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


HAS_TORCHVISION = python_has("torch", "torchvision", "PIL")


def multipart(fields):
    """(body, content type) of a multipart/form-data form: fields maps a name to str (a text
    field) or to (filename, content type, bytes) (a file)."""
    boundary = "----switchyard-test-" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(("--%s\r\n" % boundary).encode())
        if isinstance(value, str):
            out.append(('Content-Disposition: form-data; name="%s"\r\n\r\n' % name).encode())
            out.append(value.encode())
        else:
            filename, content_type, data = value
            out.append(('Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                        'Content-Type: %s\r\n\r\n' % (name, filename, content_type)).encode())
            out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def image_bytes():
    with open(IMAGE, "rb") as f:
        return f.read()


# Echoes what it received, and how it was batched. setup() records its context.
ECHO_MODEL = '''
import os
import time
import switchyard

class Echo:
    def setup(self, ctx):
        self.ctx = ctx
        self.first_form = None  # the form of the first request decoded: the warm-up's

    def decode(self, request):
        if self.first_form is None:
            self.first_form = dict(request.form)
        if request.params.get("fail") == "decode":
            raise switchyard.InvalidInput("asked to fail in decode")
        return {
            "content_type": request.content_type,
            "params": request.params,
            "files": {n: [p.filename, p.content_type, len(p.data)]
                      for n, p in request.files.items()},
            "form": request.form,
            "json": request.json if request.json is not None else None,
            "raw": request.raw,
            "body": request.body.decode("latin-1") if request.raw else None,
        }

    def predict(self, batch):
        if any(item["params"].get("fail") == "predict" for item in batch):
            raise RuntimeError("asked to fail in predict")
        return [dict(item, batch=len(batch)) for item in batch]

    def encode(self, output):
        if output["params"].get("answer") == "bytes":
            return switchyard.Response(b"\\x00\\x01binary", "application/x-test")
        if output["raw"]:
            return "raw:" + output["body"]
        output["context"] = {"instance": self.ctx.instance, "device": self.ctx.device,
                             "parameters": self.ctx.parameters,
                             "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
                             "threads": os.environ.get("OMP_NUM_THREADS"),
                             "first_form": self.first_form}
        return output
'''

ECHO_CONFIG = '''
backend: python
max_batch_size: 8
instances: {devices: cpu, per_device: 1}
batching: {max_queue_delay_us: 200000}
parameters: {python: /usr/bin/python3, colour: blue}
'''

# Declares its tensors: /predict maps JSON keys to them, /infer works as for any model.
TENSOR_MODEL = '''
class Scale:
    def decode(self, inputs):  # the request parameter `factor` (default 2)
        return inputs["x"] * int(inputs.parameters.get("factor", "2"))

    def predict(self, batch):
        return batch

    def encode(self, output):
        return {"y": output}
'''

TENSOR_CONFIG = '''
backend: python
max_batch_size: 4
inputs: [{name: x, datatype: INT32, shape: [3]}]
outputs: [{name: y, datatype: INT32, shape: [3]}]
instances: {devices: cpu, per_device: 1}
parameters: {python: /usr/bin/python3}
'''


def write_model(repo, name, config, files):
    os.makedirs(os.path.join(repo, name, "1"))
    with open(os.path.join(repo, name, "config.yaml"), "w") as f:
        f.write(config)
    for path, text in files.items():
        full = os.path.join(repo, name, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)


class PythonModelTest(harness.ServerTestCase):
    """The suite's own Python models: how requests reach a model and answers come back."""

    @classmethod
    def repository(cls, tmpdir):
        repo = os.path.join(tmpdir, "repository")
        write_model(repo, "echo", ECHO_CONFIG,
                    {"1/model.py": ECHO_MODEL, "warmup/question.txt": "warm?"})
        write_model(repo, "scale", TENSOR_CONFIG, {"1/model.py": TENSOR_MODEL})
        return repo

    def predict(self, model, body=b"", content_type=None, query=""):
        headers = {"Content-Type": content_type} if content_type else {}
        return self.server.request("POST", "/v2/models/%s/predict%s" % (model, query), body,
                                   headers)

    def test_a_form_reaches_the_model_with_files_and_fields(self):
        body, content_type = multipart({"image": ("page.png", "image/png", b"\x89PNG..."),
                                        "question": "what is it?"})
        resp = self.assertOk(self.predict("echo", body, content_type, "?lang=en&x=a%20b"))
        self.assertEqual(resp.header("Content-Type"), "application/json")
        got = resp.json()
        self.assertEqual(got["files"], {"image": ["page.png", "image/png", 7]})
        self.assertEqual(got["form"], {"question": "what is it?"})
        self.assertEqual(got["params"], {"lang": "en", "x": "a b"})
        self.assertTrue(got["content_type"].startswith("multipart/form-data; boundary="))

    def test_a_json_body_arrives_parsed_and_the_context_has_the_models_parameters(self):
        resp = self.assertOk(self.predict("echo", b'{"text": "hello", "n": [1, 2]}',
                                          "application/json"))
        got = resp.json()
        self.assertEqual(got["json"], {"text": "hello", "n": [1, 2]})
        self.assertEqual(got["context"]["parameters"], {"colour": "blue"})
        self.assertEqual(got["context"]["instance"], 0)
        self.assertEqual(got["context"]["device"], "cpu")
        self.assertEqual(got["context"]["visible"], "")
        self.assertIsNotNone(got["context"]["threads"])

    def test_the_model_chooses_the_content_type_of_its_answer(self):
        resp = self.assertOk(self.predict("echo", b"{}", "application/json", "?answer=bytes"))
        self.assertEqual(resp.header("Content-Type"), "application/x-test")
        self.assertEqual(resp.body, b"\x00\x01binary")

    def test_concurrent_requests_are_batched(self):
        def one(i):
            return self.predict("echo", json.dumps({"i": i}).encode(), "application/json")
        results = harness.run_in_threads(one, [(i,) for i in range(8)])
        batches = [self.assertOk(r).json()["batch"] for r in results]
        self.assertGreater(max(batches), 1, batches)
        self.assertEqual(sorted(r.json()["json"]["i"] for r in results), list(range(8)))

    def test_errors_in_decode_and_predict_are_the_clients_answer(self):
        err = self.assertError(self.predict("echo", b"{}", "application/json", "?fail=decode"),
                               400)
        self.assertIn("asked to fail in decode", err)
        err = self.assertError(self.predict("echo", b"{}", "application/json", "?fail=predict"),
                               500)
        self.assertIn("asked to fail in predict", err)
        self.assertOk(self.predict("echo", b"{}", "application/json"))

    def test_bad_requests_are_refused_before_the_model(self):
        self.assertError(self.predict("echo", b"--x\r\n", "multipart/form-data; boundary=x"), 400)
        self.assertError(self.predict("echo", b"{}", "application/json", "?priority=-1"), 400)
        self.assertError(self.predict("echo", b"{}", "application/json", "?x=%zz"), 400)
        self.assertError(self.predict("nope", b"{}", "application/json"), 404)
        self.assertEqual(self.server.request("GET", "/v2/models/echo/predict").status, 405)

    def test_a_tensor_client_sends_raw_bytes_through_infer(self):
        request = {"inputs": [{"name": "request", "datatype": "BYTES", "shape": [1, 1],
                               "data": ["plain text"]}]}
        resp = self.assertOk(self.server.infer("echo", request))
        output = resp.json()["outputs"][0]
        self.assertEqual(output["name"], "response")
        self.assertEqual(output["data"], ["raw:plain text"])

    def test_a_model_with_declared_tensors_takes_json_keys_and_kserve(self):
        resp = self.assertOk(self.predict("scale", b'{"x": [1, 2, 3]}', "application/json"))
        self.assertEqual(resp.json(), {"y": [2, 4, 6]})
        body, content_type = multipart({"x": "[4, 5, 6]"})
        self.assertEqual(self.assertOk(self.predict("scale", body, content_type)).json(),
                         {"y": [8, 10, 12]})
        # A key that names no input is a parameter: the input is then missing.
        err = self.assertError(self.predict("scale", b'{"z": 1}', "application/json"), 400)
        self.assertIn("missing input 'x'", err)
        request = {"inputs": [{"name": "x", "datatype": "INT32", "shape": [1, 3],
                               "data": [7, 8, 9]}]}
        self.assertEqual(self.assertOk(self.server.infer("scale", request)).json()["outputs"][0]
                         ["data"], [14, 16, 18])

    def test_request_parameters_reach_the_model(self):
        # KServe parameters, a /predict query parameter, a JSON key that names no input.
        request = {"inputs": [{"name": "x", "datatype": "INT32", "shape": [1, 3],
                               "data": [1, 2, 3]}], "parameters": {"factor": 5}}
        self.assertEqual(self.assertOk(self.server.infer("scale", request)).json()["outputs"][0]
                         ["data"], [5, 10, 15])
        self.assertEqual(self.assertOk(self.predict("scale", b'{"x": [1, 2, 3]}',
                                                    "application/json", "?factor=3")).json(),
                         {"y": [3, 6, 9]})
        self.assertEqual(self.assertOk(self.predict("scale", b'{"x": [1, 2, 3], "factor": 4}',
                                                    "application/json")).json(),
                         {"y": [4, 8, 12]})
        # An envelope model called over /infer with a raw element finds them in request.params.
        request = {"inputs": [{"name": "request", "datatype": "BYTES", "shape": [1, 1],
                               "data": ["x"]}], "parameters": {"answer": "bytes"}}
        output = self.assertOk(self.server.infer("echo", request)).json()["outputs"][0]
        self.assertEqual(output["data"], ["\x00\x01binary"])  # what `answer=bytes` asks for

    def test_the_warmup_sample_was_the_first_request_the_model_decoded(self):
        got = self.assertOk(self.predict("echo", b"{}", "application/json")).json()
        self.assertEqual(got["context"]["first_form"], {"question": "warm?"})


class PythonModelLoadFailureTest(unittest.TestCase):
    """Models that cannot load are not ready, with the reason, while the server serves the rest."""

    def test_each_load_failure_is_named(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-py-")
        self.addCleanup(shutil.rmtree, tmp, True)
        repo = os.path.join(tmp, "repository")
        write_model(repo, "echo", ECHO_CONFIG, {"1/model.py": ECHO_MODEL})
        write_model(repo, "broken_setup", ECHO_CONFIG.replace("colour: blue", "colour: red"),
                    {"1/model.py": "class M:\n    def setup(self, ctx):\n"
                                   "        raise RuntimeError('no weights here')\n"
                                   "    def predict(self, x):\n        return x\n"})
        write_model(repo, "no_class", ECHO_CONFIG, {"1/model.py": "x = 1\n"})
        server = harness.Server(repo, wait_ready=False)
        self.addCleanup(server.stop)
        server.start()
        harness.wait_until(lambda: server.request("GET", "/v2/models/echo/ready").status == 200,
                           harness.READY_WAIT_S, "echo ready")

        def reason(model):
            resp = server.request("POST", "/v2/models/%s/predict" % model, b"{}",
                                  {"Content-Type": "application/json"})
            self.assertNotEqual(resp.status, 200, model)
            return resp.error_message() or ""

        harness.wait_until(lambda: "no weights here" in reason("broken_setup"),
                           harness.READY_WAIT_S, "broken_setup's reason")
        self.assertIn("predict", reason("no_class"))

    def test_a_config_error_stops_startup_naming_the_model(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-py-")
        self.addCleanup(shutil.rmtree, tmp, True)
        repo = os.path.join(tmp, "repository")
        write_model(repo, "no_samples", ECHO_CONFIG + "warmup: {requests: 2}\n",
                    {"1/model.py": ECHO_MODEL})
        write_model(repo, "no_file", ECHO_CONFIG, {"1/other.py": ECHO_MODEL})
        for model, expected in (("no_samples", "no_samples/warmup/, and there are none"),
                                ("no_file", "model.py does not exist")):
            run = subprocess.run([harness.switchyard_bin(), "serve", "--model-repository", repo, "--host", "127.0.0.1",
                                  "--http-port", "0", "--grpc-port", "0"],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=60)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn(expected, run.stdout + run.stderr)
            shutil.rmtree(os.path.join(repo, model))


@unittest.skipUnless(HAS_TORCHVISION, "/usr/bin/python3 lacks torch, torchvision or PIL "
                     "(python3-torchvision, python3-pil; ./dev installs them)")
class ExampleModelsTest(harness.ServerTestCase):
    """examples/models/classify, vqa and to3d with the requests their READMEs show."""

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, *(os.path.join(EXAMPLES, m)
                                                 for m in ("classify", "vqa", "to3d")))

    def test_classify_answers_the_top_classes_of_an_image(self):
        body, content_type = multipart({"image": ("image.png", "image/png", image_bytes())})
        resp = self.assertOk(self.server.request("POST", "/v2/models/classify/predict", body,
                                                 {"Content-Type": content_type}))
        top = resp.json()["top"]
        self.assertEqual(len(top), 5)
        self.assertTrue(all(isinstance(t["class"], str) and 0 <= t["score"] <= 1 for t in top))
        scores = [t["score"] for t in top]
        self.assertEqual(scores, sorted(scores, reverse=True))
        raw = self.assertOk(self.server.request("POST", "/v2/models/classify/predict",
                                                image_bytes(), {"Content-Type": "image/png"}))
        self.assertEqual(raw.json(), resp.json())  # the same image, raw body or form
        err = self.assertError(self.server.request("POST", "/v2/models/classify/predict",
                                                   b"not an image",
                                                   {"Content-Type": "image/png"}), 400)
        self.assertIn("not an image", err)

    def test_vqa_answers_a_question_about_an_image(self):
        body, content_type = multipart({"image": ("image.png", "image/png", image_bytes()),
                                        "question": "what colour is it?"})
        resp = self.assertOk(self.server.request("POST", "/v2/models/vqa/predict", body,
                                                 {"Content-Type": content_type}))
        got = resp.json()
        self.assertEqual(got["question"], "what colour is it?")
        self.assertIsInstance(got["answer"], str)
        body, content_type = multipart({"question": "and now?"})
        self.assertError(self.server.request("POST", "/v2/models/vqa/predict", body,
                                             {"Content-Type": content_type}), 400)

    def test_to3d_runs_its_cli_and_answers_the_mesh_file(self):
        body, content_type = multipart({"image": ("image.png", "image/png", image_bytes())})
        resp = self.assertOk(self.server.request("POST", "/v2/models/to3d/predict?seconds=1",
                                                 body, {"Content-Type": content_type}))
        self.assertEqual(resp.header("Content-Type"), "model/obj")
        lines = resp.body.decode().splitlines()
        self.assertEqual(sum(1 for line in lines if line.startswith("v ")), 48 * 48)
        self.assertEqual(sum(1 for line in lines if line.startswith("f ")), 2 * 47 * 47)
        harness.wait_until(lambda: "to3d: 100% done" in self.server.log_tail(200), 10,
                           "the CLI's progress lines in the server log")
        self.assertError(self.server.request("POST", "/v2/models/to3d/predict?seconds=-1",
                                             body, {"Content-Type": content_type}), 400)

    def test_to3d_stops_its_cli_when_the_request_is_cancelled(self):
        body, content_type = multipart({"image": ("image.png", "image/png", image_bytes())})
        start = time.monotonic()
        err = self.assertError(self.server.request(
            "POST", "/v2/models/to3d/predict?seconds=600&timeout_ms=1500", body,
            {"Content-Type": content_type}), 504)
        self.assertIn("to3d_cli.py stopped", err)
        self.assertLess(time.monotonic() - start, 60)  # far below the 600 s of the run
        harness.wait_until(lambda: not cli_runs("600.0"), 10, "the timed-out CLI run to end")

        conn = self.server.raw()
        conn.send(b"POST /v2/models/to3d/predict?seconds=599 HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n" %
                  (content_type.encode(), len(body)) + body)
        harness.wait_until(lambda: cli_runs("599.0"), 30, "the CLI to start")
        conn.close()
        harness.wait_until(lambda: not cli_runs("599.0"), 30,
                           "the CLI run of a client that went away to be stopped")
        quick = self.server.request("POST", "/v2/models/to3d/predict?seconds=0", body,
                                    {"Content-Type": content_type})
        self.assertEqual(self.assertOk(quick).header("Content-Type"), "model/obj")


    def test_a_to3d_job_shows_the_progress_of_its_cli(self):
        body, content_type = multipart({"image": ("image.png", "image/png", image_bytes())})
        resp = self.server.request("POST", "/v2/models/to3d/jobs?seconds=600", body,
                                   {"Content-Type": content_type})
        self.assertEqual(resp.status, 202, repr(resp))
        job = resp.json()
        # The CLI prints "to3d:   0% loading" at once, then its next stage after 120 s.
        seen = harness.wait_until(
            lambda: (lambda j: j if "progress" in j else None)(
                self.server.get_json("/v2/jobs/" + job["id"])),
            30, "the job to show its CLI's progress")
        self.assertEqual(seen["state"], "running")
        self.assertEqual(seen["progress"], 0)
        self.assertEqual(seen["message"], "loading")
        self.assertEqual(self.server.request("DELETE", "/v2/jobs/" + job["id"]).status, 202)
        harness.wait_until(lambda: self.server.get_json("/v2/jobs/" + job["id"])["state"] ==
                           "cancelled", 30, "the job to be cancelled")
        harness.wait_until(lambda: not cli_runs("600.0"), 30, "the cancelled job's CLI to end")


def cli_runs(seconds):
    """Whether a to3d_cli.py process asked to work `seconds` runs on this machine."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"to3d_cli.py") for a in argv) and seconds.encode() in argv:
            return True
    return False


if __name__ == "__main__":
    unittest.main()
