"""The exec backend end to end (docs/exec-backend.md): the example model exec_add_sub (a Python
program behind the exec plugin) served over HTTP in persistent mode from a worker process and
from the server process, and in per_request mode; a program's per-request errors (400/500), an
output of the wrong shape, a program that dies mid-batch and is restarted; and exec models that
cannot load (unknown parameter, missing program, no handshake, exit at start): not ready, with
the plugin's reason in /v2/status, while the server keeps serving.

Needs /usr/bin/python3 with numpy (the programs' interpreter; the test itself is standard
library only) and the exec plugin built next to the binary (build/backends).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import simple_request

PYTHON = "/usr/bin/python3"
CLIENTS_DIR = os.path.join(harness.SOURCE_DIR, "clients", "python")
EXAMPLE = os.path.join(harness.examples_models(), "exec_add_sub")

IN0 = list(range(16))
IN1 = [3 * i - 20 for i in range(16)]

# A model program with failures on demand, chosen by INPUT0's first element.
FAULTY_PROGRAM = '''
import os
import sys
from switchyard_exec import InvalidInput, serve

def infer(inputs):
    a, b = inputs["INPUT0"], inputs["INPUT1"]
    marker = int(a.reshape(-1)[0])
    if marker == -1:
        raise InvalidInput("negative marker")
    if marker == -2:
        raise ValueError("the model broke")
    if marker == -3:
        print("dying on purpose", file=sys.stderr, flush=True)
        os._exit(3)
    if marker == -5:
        return {"OUTPUT0": (a + b)[..., :3], "OUTPUT1": a - b}
    return {"OUTPUT0": a + b, "OUTPUT1": a - b}

serve(infer)
'''

FAULTY_CONFIG = '''
backend: exec
max_batch_size: 4
inputs:
  - {name: INPUT0, datatype: INT32, shape: [16]}
  - {name: INPUT1, datatype: INT32, shape: [16]}
outputs:
  - {name: OUTPUT0, datatype: INT32, shape: [16]}
  - {name: OUTPUT1, datatype: INT32, shape: [16]}
instances: {devices: cpu, per_device: 1}
batching: {max_queue_delay_us: 0}
warmup: {requests: 1}
parameters: {command: "%s faulty.py"}
''' % PYTHON


def have_numpy():
    try:
        return subprocess.run([PYTHON, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


HAVE_NUMPY = have_numpy()


def example_variant(repo, name, replacements):
    """A copy of exec_add_sub named `name`, its config.yaml edited by `replacements`."""
    dst = os.path.join(repo, name)
    os.makedirs(os.path.join(dst, "1"))
    with open(os.path.join(EXAMPLE, "config.yaml")) as f:
        config = f.read()
    for old, new in replacements:
        if old not in config:
            raise AssertionError("exec_add_sub/config.yaml no longer contains %r" % old)
        config = config.replace(old, new)
    with open(os.path.join(dst, "config.yaml"), "w") as f:
        f.write(config)
    with open(os.path.join(EXAMPLE, "1", "model.py")) as f:
        program = f.read()
    with open(os.path.join(dst, "1", "model.py"), "w") as f:
        f.write(program)


def write_model(repo, name, config, files):
    os.makedirs(os.path.join(repo, name, "1"))
    with open(os.path.join(repo, name, "config.yaml"), "w") as f:
        f.write(config)
    for filename, text in files.items():
        with open(os.path.join(repo, name, "1", filename), "w") as f:
            f.write(text)


class ExecEnvironment:
    """The copies of the models live outside the checkout, where model.py cannot find
    clients/python from its own location: the server (and so the programs) gets PYTHONPATH."""

    @classmethod
    def set_pythonpath(cls):
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = CLIENTS_DIR
        if old is None:
            cls.addClassCleanup(os.environ.pop, "PYTHONPATH", None)
        else:
            cls.addClassCleanup(os.environ.__setitem__, "PYTHONPATH", old)


@unittest.skipUnless(HAVE_NUMPY, "%s with numpy is needed to run exec models" % PYTHON)
class ExecBackendTest(ExecEnvironment, harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "2"]
    # The example as it is (isolation: process, the default: the plugin runs in a worker), in
    # the server process (isolation: thread), and in per_request mode.
    MODELS = ("exec_add_sub", "exec_add_sub_thread", "exec_add_sub_per_request")

    @classmethod
    def setUpClass(cls):
        cls.set_pythonpath()
        super().setUpClass()

    @classmethod
    def repository(cls, tmpdir):
        repo = harness.make_repository(tmpdir, EXAMPLE)
        example_variant(repo, "exec_add_sub_per_request",
                        [("mode: persistent", "mode: per_request")])
        example_variant(repo, "exec_add_sub_thread",
                        [("per_device: 1}", "per_device: 1, isolation: thread}")])
        write_model(repo, "exec_faulty", FAULTY_CONFIG, {"faulty.py": FAULTY_PROGRAM})
        return repo

    def check_add_sub(self, resp, model, in0, in1, batch=1, names=("OUTPUT0", "OUTPUT1")):
        self.assertOk(resp)
        self.assertEqual(harness.decode_infer(resp)[0]["model_name"], model)
        outs = harness.output_values(resp)
        self.assertEqual(sorted(outs), sorted(names))
        expect = {"OUTPUT0": [a + b for a, b in zip(in0, in1)],
                  "OUTPUT1": [a - b for a, b in zip(in0, in1)]}
        for name in names:
            dt, shape, values = outs[name]
            self.assertEqual(dt, "INT32")
            self.assertEqual(shape, [batch, 16])
            self.assertEqual(values, expect[name], "%s of %s" % (name, model))

    # -- serving --

    def test_every_variant_is_ready(self):
        for model in self.MODELS + ("exec_faulty",):
            resp = self.server.request("GET", "/v2/models/%s/ready" % model)
            self.assertEqual(resp.status, 200, "%s: %r" % (model, resp))

    def test_single_request(self):
        for model in self.MODELS:
            self.check_add_sub(self.server.infer(model, simple_request(IN0, IN1)), model, IN0,
                               IN1)

    def test_batch_of_three(self):
        in0 = [i * 7 - 100 for i in range(48)]
        in1 = [(-1) ** i * i for i in range(48)]
        for model in self.MODELS:
            resp = self.server.infer(model, simple_request(in0, in1, batch=3, nested=True))
            self.check_add_sub(resp, model, in0, in1, batch=3)

    def test_requested_output_subset(self):
        for model in self.MODELS:
            req = simple_request(IN0, IN1, outputs=[{"name": "OUTPUT1"}])
            self.check_add_sub(self.server.infer(model, req), model, IN0, IN1,
                               names=("OUTPUT1",))

    def test_binary_tensors(self):
        req = {"inputs": [
            {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32",
             "parameters": {"binary_data_size": 64}},
            {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32",
             "parameters": {"binary_data_size": 64}}],
            "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}},
                        {"name": "OUTPUT1", "parameters": {"binary_data": True}}]}
        resp = self.server.infer("exec_add_sub", req, binary_inputs=[
            harness.pack("INT32", IN0), harness.pack("INT32", IN1)])
        self.check_add_sub(resp, "exec_add_sub", IN0, IN1)

    def test_concurrent_requests(self):
        def one(i):
            in0 = [i * 100 + k for k in range(16)]
            in1 = [k - i for k in range(16)]
            return in0, in1, self.server.infer("exec_add_sub", simple_request(in0, in1))
        for in0, in1, resp in harness.run_in_threads(one, [(i,) for i in range(16)]):
            self.check_add_sub(resp, "exec_add_sub", in0, in1)

    # -- failures --

    def faulty(self, marker):
        return self.server.infer("exec_faulty", simple_request([marker] + IN0[1:], IN1))

    def test_invalid_input_from_the_program_is_400(self):
        err = self.assertError(self.faulty(-1), 400)
        self.assertIn("negative marker", err)

    def test_exception_in_the_program_is_500(self):
        err = self.assertError(self.faulty(-2), 500)
        self.assertIn("ValueError: the model broke", err)

    def test_output_of_the_wrong_shape_is_500(self):
        err = self.assertError(self.faulty(-5), 500)
        self.assertIn("output 'OUTPUT0'", err)
        self.assertIn("shape [1, 3]", err)

    def test_program_that_dies_is_reported_and_restarted(self):
        err = self.assertError(self.faulty(-3), 500)
        self.assertIn("exited with status 3", err)
        self.assertIn("dying on purpose", err)
        # The next batch starts the program again.
        self.check_add_sub(self.faulty(0), "exec_faulty", [0] + IN0[1:], IN1)
        self.check_add_sub(self.faulty(5), "exec_faulty", [5] + IN0[1:], IN1)


def bad_config(parameters):
    return FAULTY_CONFIG.replace('parameters: {command: "%s faulty.py"}' % PYTHON,
                                 "parameters: " + parameters)


@unittest.skipUnless(HAVE_NUMPY, "%s with numpy is needed to run exec models" % PYTHON)
class ExecEnvironmentAndCoresTest(ExecEnvironment, harness.ServerTestCase):
    """A model's `environment` reaches its programs; two CPU instances split the server's cores
    (thread caps and disjoint affinity) instead of each taking all of them."""

    @classmethod
    def repository(cls, tmpdir):
        cls.set_pythonpath()
        cls.seen = os.path.join(tmpdir, "seen")
        os.makedirs(cls.seen)
        repo = os.path.join(tmpdir, "repository")
        os.makedirs(repo)
        start = ('echo "omp=$OMP_NUM_THREADS greeting=$GREETING '
                 '$(grep Cpus_allowed_list /proc/self/status)" > "$SEEN/$SWITCHYARD_INSTANCE_INDEX"\n'
                 'exec %s faulty.py\n' % PYTHON)
        config = FAULTY_CONFIG.replace(
            "instances: {devices: cpu, per_device: 1}",
            "instances: {devices: cpu, per_device: 2}\n"
            "environment: {GREETING: hello, SEEN: %s}" % cls.seen).replace(
                'parameters: {command: "%s faulty.py"}' % PYTHON,
                'parameters: {command: "/bin/sh start.sh"}')
        write_model(repo, "pinned", config, {"faulty.py": FAULTY_PROGRAM, "start.sh": start})
        return repo

    def test_programs_get_the_environment_and_a_share_of_the_cores(self):
        cores = sorted(os.sched_getaffinity(0))
        share = max(1, len(cores) // 2)
        seen = {}
        for index in ("0", "1"):
            with open(os.path.join(self.seen, index)) as f:
                seen[index] = f.read()
            self.assertIn("omp=%d " % share, seen[index])
            self.assertIn("greeting=hello", seen[index])
        allowed = [set(parse_cpu_list(seen[i].split("Cpus_allowed_list:")[1])) for i in "01"]
        for cpus in allowed:
            self.assertEqual(len(cpus), share, seen)
        if len(cores) >= 2:
            self.assertFalse(allowed[0] & allowed[1], "the instances share cores: %r" % seen)
        resp = self.server.infer("pinned", simple_request(IN0, IN1))
        self.assertOk(resp)


def parse_cpu_list(text):
    """[0, 2, 3] for "0,2-3" (the Cpus_allowed_list format)."""
    cpus = []
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


class ExecConfigErrorTest(ExecEnvironment, unittest.TestCase):
    """An exec config the backend refuses (an unknown key, a program that does not exist) is the
    operator's mistake: `serve` exits non-zero naming it instead of serving without the model."""

    CONFIG_ERRORS = {
        "exec_unknown_key": ('{command: "/bin/true", comand: x}',
                             ["exec_unknown_key", "unknown key 'comand'", "known: command, mode"]),
        "exec_missing": ('{command: "./no_such_program --flag"}',
                         ["exec_missing", "no_such_program does not exist"]),
    }

    def test_startup_fails_naming_the_model_and_the_mistake(self):
        for name, (parameters, needles) in self.CONFIG_ERRORS.items():
            with tempfile.TemporaryDirectory(prefix="switchyard-repo-") as tmp:
                repo = os.path.join(tmp, "repository")
                os.makedirs(repo)
                write_model(repo, name, bad_config(parameters), {"faulty.py": FAULTY_PROGRAM})
                proc = subprocess.run(
                    [harness.switchyard_bin(), "serve", "--model-repository", repo, "--host",
                     "127.0.0.1", "--http-port", "0", "--grpc-port", "0"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    timeout=60, preexec_fn=harness._die_with_parent)
                err = proc.stderr.decode("utf-8", "replace")
                self.assertGreater(proc.returncode, 0, "%s: startup should fail; %s" % (name, err))
                for needle in needles:
                    self.assertIn(needle, err, name)


class ExecBadModelTest(ExecEnvironment, harness.ServerTestCase):
    """Exec models whose program cannot come up: the server keeps serving, the model is not ready
    (503), and /v2/status gives the plugin's reason."""

    BAD_MODELS = {
        "exec_not_protocol": ('{command: "/bin/sh -c \'echo I am not a model; sleep 3600\'"}',
                              ["failed the exec protocol handshake", "I am not a model"]),
        "exec_dies_at_start": ('{command: "/bin/sh -c \'echo cannot load weights >&2; exit 7\'"}',
                               ["exited with status 7", "cannot load weights"]),
    }

    @classmethod
    def setUpClass(cls):
        cls.set_pythonpath()
        cls._tmp = tempfile.mkdtemp(prefix="switchyard-repo-")
        cls.addClassCleanup(shutil.rmtree, cls._tmp, True)
        repo = harness.make_repository(cls._tmp, EXAMPLE)
        for name, (parameters, _) in cls.BAD_MODELS.items():
            write_model(repo, name, bad_config(parameters), {"faulty.py": FAULTY_PROGRAM})
        cls.server = harness.Server(repo, ["--http-threads", "2"], wait_ready=False)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def status_of(self, model):
        for entry in self.server.get_json("/v2/status")["models"]:
            if entry["name"] == model:
                return entry
        raise AssertionError("%s missing from /v2/status" % model)

    def test_bad_models_are_not_ready_and_say_why(self):
        for name, (_, needles) in self.BAD_MODELS.items():
            reason = harness.wait_until(lambda: self.status_of(name).get("reason"), 60,
                                        "a reason for %s in /v2/status" % name)
            for needle in needles:
                self.assertIn(needle, reason, name)
            resp = self.server.request("GET", "/v2/models/%s/ready" % name)
            self.assertEqual(resp.status, 503, "%s: %r" % (name, resp))

    @unittest.skipUnless(HAVE_NUMPY, "%s with numpy is needed to run exec models" % PYTHON)
    def test_good_model_next_to_them_serves(self):
        harness.wait_until(
            lambda: self.server.request("GET", "/v2/models/exec_add_sub/ready").status == 200, 60,
            "exec_add_sub to be ready")
        resp = self.server.infer("exec_add_sub", simple_request(IN0, IN1))
        self.assertOk(resp)
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][2], [a + b for a, b in zip(IN0, IN1)])


if __name__ == "__main__":
    unittest.main()
