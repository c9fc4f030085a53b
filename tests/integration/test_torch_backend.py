"""The torch backend end to end: TorchScript models (made by Debian's python3-torch at test time)
served by the real server on CPU instances, in process and in a worker process; batching of
concurrent requests, FP16 binary tensors, client errors, and a config the backend refuses.

Skipped, saying why, when the torch plugin was not built next to the server binary
(<build>/backends/libswitchyard_backend_torch.so) or /usr/bin/python3 cannot import torch."""

import os
import shutil
import subprocess
import tempfile
import unittest

import harness

TORCH_PYTHON = "/usr/bin/python3"
MAKE_TEST_MODELS = os.path.join(harness.SOURCE_DIR, "tests", "unit", "backends", "torch",
                                "make_test_models.py")


def plugin_path():
    build = os.path.dirname(os.path.dirname(os.path.abspath(harness.switchyard_bin())))
    return os.path.join(build, "backends", "libswitchyard_backend_torch.so")


def skip_reason():
    if not os.path.isfile(plugin_path()):
        return "the torch plugin is not built (%s missing)" % plugin_path()
    if not os.access(TORCH_PYTHON, os.X_OK):
        return "%s missing" % TORCH_PYTHON
    probe = subprocess.run([TORCH_PYTHON, "-c", "import torch"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        return "%s cannot import torch (install python3-torch)" % TORCH_PYTHON
    return None


ADD_SUB_CONFIG = """\
backend: torch
max_batch_size: 8
inputs:
  - {name: INPUT0, datatype: FP32, shape: [16]}
  - {name: INPUT1, datatype: FP32, shape: [16]}
outputs:
  - {name: OUTPUT0, datatype: FP32, shape: [16]}
  - {name: OUTPUT1, datatype: FP32, shape: [16]}
instances: {devices: cpu, per_device: 1, isolation: %s}
batching: {max_queue_delay_us: 2000}
warmup: {requests: 1}
parameters: {inference_mode: true}
"""

HALF_CONFIG = """\
backend: torch
max_batch_size: 4
inputs: [{name: x, datatype: FP16, shape: [-1]}]
outputs: [{name: y, datatype: FP16, shape: [-1]}]
instances: {devices: cpu, per_device: 1, isolation: thread}
warmup: {requests: 0}
parameters: {model_file: half_scale.pt}
"""


def write_model(repo, name, config, model_files):
    folder = os.path.join(repo, name)
    os.makedirs(os.path.join(folder, "1"))
    with open(os.path.join(folder, "config.yaml"), "w") as f:
        f.write(config)
    for source, target in model_files:
        shutil.copyfile(source, os.path.join(folder, "1", target))


def make_test_models(tmpdir):
    out = os.path.join(tmpdir, "pt")
    subprocess.run([TORCH_PYTHON, MAKE_TEST_MODELS, out], check=True)
    return out


def add_sub_request(in0, in1, batch):
    return {"inputs": [
        {"name": "INPUT0", "shape": [batch, 16], "datatype": "FP32", "data": in0},
        {"name": "INPUT1", "shape": [batch, 16], "datatype": "FP32", "data": in1},
    ]}


class TorchBackendTest(harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "2"]

    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()

    @classmethod
    def repository(cls, tmpdir):
        pt = make_test_models(tmpdir)
        repo = os.path.join(tmpdir, "repository")
        add_sub = [(os.path.join(pt, "add_sub.pt"), "model.pt")]
        write_model(repo, "torch_add_sub", ADD_SUB_CONFIG % "thread", add_sub)
        write_model(repo, "torch_add_sub_worker", ADD_SUB_CONFIG % "process", add_sub)
        write_model(repo, "torch_half", HALF_CONFIG,
                    [(os.path.join(pt, "half_scale.pt"), "half_scale.pt")])
        return repo

    def check_add_sub(self, model, batch, offset=0):
        in0 = [float(i + offset) for i in range(16 * batch)]
        in1 = [float(3 * i - 20) / 4 for i in range(16 * batch)]
        resp = self.server.infer(model, add_sub_request(in0, in1, batch))
        self.assertOk(resp)
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][:2], ("FP32", [batch, 16]))
        self.assertEqual(outs["OUTPUT0"][2], [a + b for a, b in zip(in0, in1)])
        self.assertEqual(outs["OUTPUT1"][2], [a - b for a, b in zip(in0, in1)])

    def test_add_sub_in_process(self):
        self.check_add_sub("torch_add_sub", 1)
        self.check_add_sub("torch_add_sub", 3)

    def test_add_sub_in_a_worker_process(self):
        self.check_add_sub("torch_add_sub_worker", 2)

    def test_concurrent_requests_of_different_batch_sizes_get_their_own_rows(self):
        # Whether the batcher puts them in one batch or several, each answer must be its own.
        args = [("torch_add_sub", 1 + i % 3, 1000 * i) for i in range(12)]
        harness.run_in_threads(self.check_add_sub, args)

    def test_fp16_binary_with_variable_dimensions(self):
        for length in (2, 5):
            values = [float(i) for i in range(length)]
            request = {"inputs": [{"name": "x", "shape": [1, length], "datatype": "FP16",
                                   "parameters": {"binary_data_size": 2 * length}}],
                       "outputs": [{"name": "y", "parameters": {"binary_data": True}}]}
            resp = self.server.infer("torch_half", request,
                                     binary_inputs=[harness.pack("FP16", values)])
            self.assertOk(resp)
            dt, shape, out = harness.output_values(resp)["y"]
            self.assertEqual((dt, shape), ("FP16", [1, length]))
            self.assertEqual(out, [2 * v + 1 for v in values])

    def test_wrong_shape_is_a_client_error(self):
        request = add_sub_request([1.0] * 8, [1.0] * 8, 1)
        request["inputs"][0]["shape"] = [1, 8]
        request["inputs"][1]["shape"] = [1, 8]
        self.assertError(self.server.infer("torch_add_sub", request), 400)

    def test_model_metadata(self):
        meta = self.server.get_json("/v2/models/torch_add_sub")
        self.assertEqual([i["name"] for i in meta["inputs"]], ["INPUT0", "INPUT1"])


class TorchBadConfigTest(unittest.TestCase):
    def test_unknown_parameter_fails_startup_naming_it(self):
        reason = skip_reason()
        if reason:
            self.skipTest(reason)
        with tempfile.TemporaryDirectory(prefix="switchyard-torch-") as tmp:
            pt = make_test_models(tmp)
            repo = os.path.join(tmp, "repository")
            config = (ADD_SUB_CONFIG % "thread").replace(
                'parameters: {inference_mode: true}',
                'parameters: {inference_mode: true, precision: fp16}')
            write_model(repo, "torch_bad_parameter", config,
                        [(os.path.join(pt, "add_sub.pt"), "model.pt")])
            port_file = os.path.join(tmp, "port")
            proc = subprocess.run(
                [harness.switchyard_bin(), "serve", "--model-repository", repo, "--host",
                 "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--port-file",
                 port_file],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=60, preexec_fn=harness._die_with_parent)
            err = proc.stderr.decode("utf-8", "replace")
            self.assertGreater(proc.returncode, 0, err)
            self.assertIn("torch_bad_parameter", err)
            self.assertIn("unknown key 'precision'", err)
            self.assertIn("input_binding", err)  # the known keys are listed


if __name__ == "__main__":
    unittest.main()
