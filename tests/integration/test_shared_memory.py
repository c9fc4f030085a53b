"""The system shared-memory extension (`serve --allow-shared-memory`): a client registers a
POSIX shared-memory object, infer requests take inputs from it and write outputs into it, and
every misuse is a clear 4xx, never a crash. Off by default; with an admin token, its calls need
the token."""

import glob
import json
import mmap
import os
import struct
import subprocess
import unittest

import harness
import kserve_client as httpclient


class ShmObject:
    """A POSIX shared-memory object made the way shm_open does (a file in /dev/shm)."""

    def __init__(self, size):
        self.key = "/switchyard-test-%d-%d" % (os.getpid(), id(self))
        self.path = "/dev/shm" + self.key
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.ftruncate(fd, size)
            self.map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    def write_int32(self, offset, values):
        self.map[offset:offset + 4 * len(values)] = struct.pack("<%di" % len(values), *values)

    def read_int32(self, offset, count):
        return list(struct.unpack("<%di" % count, self.map[offset:offset + 4 * count]))

    def close(self):
        self.map.close()
        os.unlink(self.path)


def run_bench(server, *args):
    """`switchyard bench --format shm` against `server`, briefly; (exit code, stdout, stderr)."""
    command = [harness.switchyard_bin(), "bench", "--url", "http://127.0.0.1:%d" % server.port,
               "-m", "simple", "--format", "shm", "--concurrency", "2", "--threads", "1",
               "--warmup-s", "0.2", "--window-ms", "300", "--max-windows", "2"] + list(args)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def shm_params(region, byte_size, offset=None):
    params = {"shared_memory_region": region, "shared_memory_byte_size": byte_size}
    if offset is not None:
        params["shared_memory_offset"] = offset
    return params


def shm_input(name, region, offset):
    return {"name": name, "datatype": "INT32", "shape": [1, 16],
            "parameters": shm_params(region, 64, offset)}


class SharedMemoryTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--allow-shared-memory"]

    def setUp(self):
        self.shm = ShmObject(4096)
        self.addCleanup(self.shm.close)
        self.addCleanup(self.server.request, "POST", "/v2/systemsharedmemory/unregister")

    def register(self, name, key=None, offset=0, byte_size=1024, headers=None):
        body = {"key": key or self.shm.key, "offset": offset, "byte_size": byte_size}
        return self.server.request("POST", "/v2/systemsharedmemory/region/%s/register" % name,
                                   json.dumps(body), headers)

    def test_metadata_names_the_extension(self):
        self.assertIn("system_shared_memory", self.server.get_json("/v2")["extensions"])

    def test_inputs_from_and_outputs_into_shared_memory(self):
        # The region starts 512 bytes into the object: offsets below are the region's.
        self.assertOk(self.register("io", offset=512, byte_size=1024))
        self.assertEqual(self.server.get_json("/v2/systemsharedmemory/status"),
                         [{"name": "io", "key": self.shm.key, "offset": 512,
                           "byte_size": 1024}])
        in0, in1 = list(range(16)), [100 + i for i in range(16)]
        self.shm.write_int32(512 + 0, in0)
        self.shm.write_int32(512 + 64, in1)
        request = {
            "inputs": [shm_input("INPUT0", "io", None), shm_input("INPUT1", "io", 64)],
            "outputs": [{"name": "OUTPUT0", "parameters": shm_params("io", 64, 128)},
                        {"name": "OUTPUT1", "parameters": shm_params("io", 64, 192)}],
        }
        request["inputs"][0]["parameters"].pop("shared_memory_offset", None)
        resp = self.assertOk(self.server.infer("simple", request))
        outputs = {o["name"]: o for o in resp.json()["outputs"]}
        self.assertNotIn("data", outputs["OUTPUT0"])
        self.assertEqual(outputs["OUTPUT0"]["parameters"],
                         {"shared_memory_region": "io", "shared_memory_byte_size": 64,
                          "shared_memory_offset": 128})
        self.assertEqual(outputs["OUTPUT0"]["shape"], [1, 16])
        self.assertEqual(self.shm.read_int32(512 + 128, 16), [a + b for a, b in zip(in0, in1)])
        self.assertEqual(self.shm.read_int32(512 + 192, 16), [a - b for a, b in zip(in0, in1)])

    def test_shared_memory_mixes_with_json_tensors(self):
        self.assertOk(self.register("mixed"))
        self.shm.write_int32(0, [7] * 16)
        request = {
            "inputs": [shm_input("INPUT0", "mixed", 0),
                       {"name": "INPUT1", "datatype": "INT32", "shape": [1, 16],
                        "data": list(range(16))}],
            "outputs": [{"name": "OUTPUT0", "parameters": shm_params("mixed", 64, 64)},
                        {"name": "OUTPUT1"}],
        }
        outputs = {o["name"]: o for o in self.assertOk(
            self.server.infer("simple", request)).json()["outputs"]}
        self.assertEqual(outputs["OUTPUT1"]["data"], [7 - i for i in range(16)])
        self.assertEqual(self.shm.read_int32(64, 16), [7 + i for i in range(16)])

    def test_region_status_and_unregister(self):
        self.assertOk(self.register("a"))
        self.assertOk(self.register("b", offset=1024, byte_size=2048))
        metrics = self.server.metrics()
        self.assertEqual(metrics.value("switchyard_shared_memory_regions"), 2)
        self.assertEqual(metrics.value("switchyard_shared_memory_bytes"), 1024 + 2048)
        self.assertEqual([r["name"] for r in self.server.get_json(
            "/v2/systemsharedmemory/status")], ["a", "b"])
        self.assertEqual(self.server.get_json("/v2/systemsharedmemory/region/b/status"),
                         [{"name": "b", "key": self.shm.key, "offset": 1024, "byte_size": 2048}])
        self.assertOk(self.server.request("POST", "/v2/systemsharedmemory/region/a/unregister"))
        self.assertError(self.server.request("GET", "/v2/systemsharedmemory/region/a/status"), 404)
        resp = self.server.infer("simple", {"inputs": [shm_input("INPUT0", "a", 0),
                                                       shm_input("INPUT1", "a", 64)]})
        self.assertIn("no shared-memory region 'a'", self.assertError(resp, 404))
        self.assertOk(self.server.request("POST", "/v2/systemsharedmemory/unregister"))
        self.assertEqual(self.server.get_json("/v2/systemsharedmemory/status"), [])

    def test_bad_registrations_are_refused(self):
        self.assertOk(self.register("taken"))
        cases = [
            (self.register("taken"), 409, "already registered"),
            (self.register("missing", key="/switchyard-no-such-object"), 404, "cannot open"),
            (self.register("badkey", key="/etc/passwd"), 400, "without '/'"),
            (self.register("relative", key="input"), 400, "must be '/'"),
            (self.register("past", offset=4000, byte_size=100), 400, "past the end"),
            (self.register("empty", byte_size=0), 400, "at least 1"),
            (self.register("bad%20name"), 400, "must be 1-128 characters"),
            (self.server.request("POST", "/v2/systemsharedmemory/region/x/register", "[1]"),
             400, "JSON object"),
            (self.server.request("POST", "/v2/systemsharedmemory/region/x/register",
                                 json.dumps({"key": self.shm.key, "byte_size": -1})),
             400, "non-negative integer"),
            (self.server.request("GET", "/v2/systemsharedmemory/region/x/register"), 405,
             "use POST"),
            (self.server.request("POST", "/v2/systemsharedmemory/region/nobody/unregister"), 404,
             "no shared-memory region"),
        ]
        for resp, status, text in cases:
            self.assertIn(text, self.assertError(resp, status))

    def test_bad_references_in_infer_requests_are_refused(self):
        self.assertOk(self.register("small", byte_size=96))
        cases = [
            ({"inputs": [shm_input("INPUT0", "small", 64), shm_input("INPUT1", "small", 0)]},
             400, "past the end of region 'small'"),
            ({"inputs": [dict(shm_input("INPUT0", "small", 0), data=[1] * 16),
                         shm_input("INPUT1", "small", 0)]}, 400, "has no data"),
            ({"inputs": [{"name": "INPUT0", "datatype": "INT32", "shape": [1, 16],
                          "parameters": {"shared_memory_region": "small"}},
                         shm_input("INPUT1", "small", 0)]}, 400, "go together"),
            ({"inputs": [{"name": "INPUT0", "datatype": "INT32", "shape": [1, 8],
                          "parameters": shm_params("small", 64)},
                         shm_input("INPUT1", "small", 0)]}, 400, "got 64 bytes"),
            ({"inputs": [shm_input("INPUT0", "small", 0), shm_input("INPUT1", "small", 0)],
              "outputs": [{"name": "OUTPUT0", "parameters": shm_params("small", 32, 0)}]},
             400, "do not fit"),
        ]
        for request, status, text in cases:
            self.assertIn(text, self.assertError(self.server.infer("simple", request), status))


class ShmClientExampleTest(harness.ServerTestCase):
    """Triton's simple_http_shm_client.py, ported to kserve_client (which sends what
    tritonclient.http sends), with ShmObject standing in for tritonclient.utils.shared_memory."""
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--allow-shared-memory"]

    def test_simple_http_shm_client(self):
        client = httpclient.InferenceServerClient("127.0.0.1:%d" % self.server.port)
        self.addCleanup(client.close)
        client.unregister_system_shared_memory()
        input0_data = list(range(16))
        input1_data = [1] * 16
        input_byte_size = 64
        output_byte_size = 64
        shm_op = ShmObject(output_byte_size * 2)
        self.addCleanup(shm_op.close)
        client.register_system_shared_memory("output_data", shm_op.key, output_byte_size * 2)
        shm_ip = ShmObject(input_byte_size * 2)
        self.addCleanup(shm_ip.close)
        shm_ip.write_int32(0, input0_data)
        shm_ip.write_int32(input_byte_size, input1_data)
        client.register_system_shared_memory("input_data", shm_ip.key, input_byte_size * 2)

        inputs = [httpclient.InferInput("INPUT0", [1, 16], "INT32"),
                  httpclient.InferInput("INPUT1", [1, 16], "INT32")]
        inputs[0].set_shared_memory("input_data", input_byte_size)
        inputs[1].set_shared_memory("input_data", input_byte_size, offset=input_byte_size)
        outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True),
                   httpclient.InferRequestedOutput("OUTPUT1", binary_data=True)]
        outputs[0].set_shared_memory("output_data", output_byte_size)
        outputs[1].set_shared_memory("output_data", output_byte_size, offset=output_byte_size)
        results = client.infer(model_name="simple", inputs=inputs, outputs=outputs)

        output0 = results.get_output("OUTPUT0")
        self.assertEqual((output0["datatype"], output0["shape"]), ("INT32", [1, 16]))
        self.assertIsNone(output0.get("data"))
        output0_data = shm_op.read_int32(0, 16)
        output1_data = shm_op.read_int32(output_byte_size, 16)
        for i in range(16):
            self.assertEqual(input0_data[i] + input1_data[i], output0_data[i])
            self.assertEqual(input0_data[i] - input1_data[i], output1_data[i])

        self.assertEqual(sorted(r["name"] for r in client.get_system_shared_memory_status()),
                         ["input_data", "output_data"])
        client.unregister_system_shared_memory()
        self.assertEqual(client.get_system_shared_memory_status(), [])
        with self.assertRaises(httpclient.InferenceServerException) as refused:
            client.infer(model_name="simple", inputs=inputs, outputs=outputs)
        self.assertEqual(refused.exception.status(), "404")


class BenchWithSharedMemoryTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--allow-shared-memory"]

    def test_bench_sends_inputs_through_a_region_it_cleans_up(self):
        before = self.server.model_stats("simple")["inference_count"]
        objects = set(glob.glob("/dev/shm/switchyard-bench-*"))
        rc, out, err = run_bench(self.server)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("shm", out)
        self.assertGreater(self.server.model_stats("simple")["inference_count"], before)
        self.assertEqual(self.server.get_json("/v2/systemsharedmemory/status"), [])
        self.assertEqual(set(glob.glob("/dev/shm/switchyard-bench-*")), objects)


class SharedMemoryOffTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()

    def test_calls_and_references_are_refused_naming_the_flag(self):
        self.assertNotIn("system_shared_memory", self.server.get_json("/v2")["extensions"])
        resp = self.server.request("GET", "/v2/systemsharedmemory/status")
        self.assertIn("--allow-shared-memory", self.assertError(resp, 403))
        resp = self.server.infer("simple", {"inputs": [shm_input("INPUT0", "r", 0),
                                                       shm_input("INPUT1", "r", 64)]})
        self.assertIn("--allow-shared-memory", self.assertError(resp, 400))

    def test_bench_says_why_it_cannot_use_shared_memory(self):
        objects = set(glob.glob("/dev/shm/switchyard-bench-*"))
        rc, out, err = run_bench(self.server)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("--allow-shared-memory", err)
        self.assertEqual(set(glob.glob("/dev/shm/switchyard-bench-*")), objects)


class SharedMemoryTokenTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--allow-shared-memory", "--admin-token", "s3cret"]

    def test_registration_needs_the_admin_token(self):
        shm = ShmObject(4096)
        self.addCleanup(shm.close)
        body = json.dumps({"key": shm.key, "byte_size": 128})
        path = "/v2/systemsharedmemory/region/t/register"
        self.assertError(self.server.request("POST", path, body), 401)
        self.assertError(self.server.request("GET", "/v2/systemsharedmemory/status"), 401)
        auth = {"Authorization": "Bearer s3cret"}
        self.assertOk(self.server.request("POST", path, body, auth))
        shm.write_int32(0, [1] * 16)
        shm.write_int32(64, [2] * 16)
        resp = self.server.infer("simple", {"inputs": [shm_input("INPUT0", "t", 0),
                                                       shm_input("INPUT1", "t", 64)]})
        self.assertEqual(self.assertOk(resp).json()["outputs"][0]["data"], [3] * 16)
        self.assertOk(self.server.request("POST", "/v2/systemsharedmemory/unregister", None,
                                          auth))


if __name__ == "__main__":
    unittest.main()
