"""The gRPC front end (inference.GRPCInferenceService and grpc.health.v1.Health), end to end:
the real binary with `--grpc-port any`, python3-grpcio and the stubs generated at build time
from src/frontend/grpc/proto (SWITCHYARD_GRPC_PYTHON; default build/python_grpc). Every call,
typed and raw contents, streaming in order, each error code, cancellation, health, and many
calls on one channel. Skipped, with the reason, when grpcio or the stubs are missing (a build
without gRPC).
"""

import glob
import os
import queue
import struct
import sys
import threading
import unittest

import harness

# python3-grpcio is a Debian package. An interpreter of the same version that is not Debian's
# (pyenv's, when it runs the tests) can load it from Debian's folder.
DEBIAN_PACKAGES = "/usr/lib/python3/dist-packages"
if glob.glob(os.path.join(DEBIAN_PACKAGES, "grpc", "_cython", "cygrpc.cpython-%d%d-*.so" %
                          sys.version_info[:2])) and DEBIAN_PACKAGES not in sys.path:
    sys.path.append(DEBIAN_PACKAGES)

STUBS = os.environ.get("SWITCHYARD_GRPC_PYTHON") or os.path.join(harness.SOURCE_DIR, "build",
                                                                  "python_grpc")
SKIP = None
try:
    import grpc
    sys.path.insert(0, STUBS)
    import grpc_service_pb2 as pb
    import grpc_service_pb2_grpc as pb_grpc
    import health_pb2
    import health_pb2_grpc
    import model_config_pb2
except ImportError as e:
    SKIP = "gRPC not testable here (%s; stubs looked for in %s): build with " \
           "SWITCHYARD_WITH_GRPC and install python3-grpcio" % (e, STUBS)

TOKEN = "grpc-secret"
MODELS = [harness.examples_dir() + "/" + m for m in ("simple", "simple_string")] + [
    harness.test_models("grpc", m)
    for m in ("grpc_slow", "grpc_full", "grpc_delay", "grpc_types", "grpc_halves",
              "grpc_failing", "grpc_decoupled")]

# The fixed-size datatypes of grpc_types: (name, struct format, typed contents field, values).
TYPES = [
    ("BOOL", "?", "bool_contents", [True, False, True]),
    ("UINT8", "B", "uint_contents", [0, 7, 255]),
    ("UINT16", "H", "uint_contents", [0, 300, 65535]),
    ("UINT32", "I", "uint_contents", [0, 70000, 4294967295]),
    ("UINT64", "Q", "uint64_contents", [0, 1, 2**64 - 1]),
    ("INT8", "b", "int_contents", [-128, 0, 127]),
    ("INT16", "h", "int_contents", [-32768, 1, 32767]),
    ("INT32", "i", "int_contents", [-2**31, 5, 2**31 - 1]),
    ("INT64", "q", "int64_contents", [-2**63, 6, 2**63 - 1]),
    ("FP32", "f", "fp32_contents", [1.5, -0.25, 3.0]),
    ("FP64", "d", "fp64_contents", [1e300, -2.5, 0.0]),
]


def pack(fmt, values):
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def bytes_elements(elements):
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def unpack_bytes(raw):
    out, at = [], 0
    while at < len(raw):
        (n,) = struct.unpack_from("<I", raw, at)
        out.append(raw[at + 4:at + 4 + n])
        at += 4 + n
    return out


def int32_request(model, value, request_id="", **parameters):
    request = pb.ModelInferRequest(model_name=model, id=request_id)
    tensor = request.inputs.add(name="INPUT0", datatype="INT32", shape=[1])
    tensor.contents.int_contents.append(value)
    for key, v in parameters.items():
        request.parameters[key].int64_param = v
    return request


def simple_request(in0, in1, raw=False):
    request = pb.ModelInferRequest(model_name="simple")
    for name, values in (("INPUT0", in0), ("INPUT1", in1)):
        tensor = request.inputs.add(name=name, datatype="INT32", shape=[1, 16])
        if raw:
            request.raw_input_contents.append(pack("i", values))
        else:
            tensor.contents.int_contents.extend(values)
    return request


def outputs_by_name(response):
    """{name: raw bytes} of a ModelInferResponse (one raw entry per output, in order)."""
    assert len(response.raw_output_contents) == len(response.outputs), response
    return {o.name: raw for o, raw in zip(response.outputs, response.raw_output_contents)}


class GrpcTestCase(harness.ServerTestCase):
    """A server with gRPC on a free port; self.stub / self.health on one channel per class."""

    SERVER_ARGS = ["--grpc-port", "any"]

    @classmethod
    def setUpClass(cls):
        if SKIP:
            raise unittest.SkipTest(SKIP)
        super().setUpClass()
        if cls.server.grpc_port is None:
            raise AssertionError("the port file names no grpc= port")
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.server.grpc_port)
        cls.addClassCleanup(cls.channel.close)
        cls.stub = pb_grpc.GRPCInferenceServiceStub(cls.channel)
        cls.health = health_pb2_grpc.HealthStub(cls.channel)

    def assertCode(self, code, call, *args, **kwargs):
        """`call(*args)` fails with gRPC status `code` and a message; returns the message."""
        with self.assertRaises(grpc.RpcError) as caught:
            call(*args, timeout=kwargs.pop("timeout", harness.IO_TIMEOUT_S), **kwargs)
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        self.assertTrue(caught.exception.details(), "empty error message")
        return caught.exception.details()


class GrpcServerTest(GrpcTestCase):
    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, *MODELS)

    SERVER_ARGS = ["--grpc-port", "any", "--admin-token", TOKEN, "--allow-shared-memory",
                   "--max-request-body-mb", "1"]

    # -- health and metadata --

    def test_live_ready_and_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="simple")).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="simple",
                                                                  version="1")).ready)
        meta = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(meta.name, "switchyard")
        self.assertIn("system_shared_memory", meta.extensions)
        model = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="simple"))
        self.assertEqual(model.name, "simple")
        self.assertEqual(list(model.versions), ["1"])
        self.assertEqual(model.platform, "sim")
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in model.inputs],
                         [("INPUT0", "INT32", [-1, 16]), ("INPUT1", "INT32", [-1, 16])])
        self.assertEqual([t.name for t in model.outputs], ["OUTPUT0", "OUTPUT1"])

    def test_unknown_model_is_not_found(self):
        for call, request in ((self.stub.ModelReady, pb.ModelReadyRequest(name="nope")),
                              (self.stub.ModelMetadata, pb.ModelMetadataRequest(name="nope")),
                              (self.stub.ModelConfig, pb.ModelConfigRequest(name="nope")),
                              (self.stub.ModelStatistics, pb.ModelStatisticsRequest(name="nope")),
                              (self.stub.ModelInfer, int32_request("nope", 1))):
            self.assertCode(grpc.StatusCode.NOT_FOUND, call, request)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.stub.ModelMetadata,
                        pb.ModelMetadataRequest(name="simple", version="9"))
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.stub.ModelMetadata,
                        pb.ModelMetadataRequest(name="simple", version="one"))

    def test_model_config_has_what_perf_analyzer_reads(self):
        config = self.stub.ModelConfig(pb.ModelConfigRequest(name="simple")).config
        self.assertEqual(config.name, "simple")
        self.assertEqual(config.backend, "sim")
        self.assertEqual(config.max_batch_size, 8)
        self.assertEqual([(i.name, i.data_type, list(i.dims)) for i in config.input],
                         [("INPUT0", model_config_pb2.TYPE_INT32, [16]),
                          ("INPUT1", model_config_pb2.TYPE_INT32, [16])])
        self.assertEqual([o.name for o in config.output], ["OUTPUT0", "OUTPUT1"])
        self.assertTrue(config.HasField("dynamic_batching"))
        strings = self.stub.ModelConfig(pb.ModelConfigRequest(name="simple_string")).config
        self.assertEqual(strings.input[0].data_type, model_config_pb2.TYPE_STRING)

    def test_health_service(self):
        Serving = health_pb2.HealthCheckResponse
        self.assertEqual(self.health.Check(health_pb2.HealthCheckRequest()).status,
                         Serving.SERVING)
        self.assertEqual(self.health.Check(health_pb2.HealthCheckRequest(service="simple")).status,
                         Serving.SERVING)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.health.Check,
                        health_pb2.HealthCheckRequest(service="nope"))
        watch = self.health.Watch(health_pb2.HealthCheckRequest(), timeout=harness.IO_TIMEOUT_S)
        with self.assertRaises(grpc.RpcError) as caught:
            next(watch)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    # -- inference --

    def test_typed_and_raw_int32(self):
        in0, in1 = list(range(16)), [3] * 16
        for raw in (False, True):
            response = self.stub.ModelInfer(simple_request(in0, in1, raw=raw))
            self.assertEqual(response.model_name, "simple")
            self.assertEqual(response.model_version, "1")
            self.assertEqual([(o.name, o.datatype, list(o.shape)) for o in response.outputs],
                             [("OUTPUT0", "INT32", [1, 16]), ("OUTPUT1", "INT32", [1, 16])])
            self.assertFalse(response.outputs[0].HasField("contents"))
            out = outputs_by_name(response)
            self.assertEqual(list(struct.unpack("<16i", out["OUTPUT0"])), [v + 3 for v in in0])
            self.assertEqual(list(struct.unpack("<16i", out["OUTPUT1"])), [v - 3 for v in in0])

    def test_requested_outputs_in_the_order_asked(self):
        request = simple_request([1] * 16, [1] * 16)
        request.id = "ask-7"
        request.outputs.add(name="OUTPUT1")
        response = self.stub.ModelInfer(request)
        self.assertEqual(response.id, "ask-7")
        self.assertEqual([o.name for o in response.outputs], ["OUTPUT1"])
        self.assertEqual(struct.unpack("<16i", response.raw_output_contents[0]), (0,) * 16)

    def test_bytes_typed_and_raw(self):
        in0 = [str(i).encode() for i in range(16)]
        in1 = [b"2"] * 16
        for raw in (False, True):
            request = pb.ModelInferRequest(model_name="simple_string")
            for name, values in (("INPUT0", in0), ("INPUT1", in1)):
                tensor = request.inputs.add(name=name, datatype="BYTES", shape=[1, 16])
                if raw:
                    request.raw_input_contents.append(bytes_elements(values))
                else:
                    tensor.contents.bytes_contents.extend(values)
            out = outputs_by_name(self.stub.ModelInfer(request))
            self.assertEqual(unpack_bytes(out["OUTPUT0"]), [str(i + 2).encode() for i in range(16)])
            self.assertEqual(unpack_bytes(out["OUTPUT1"]), [str(i - 2).encode() for i in range(16)])

    def test_every_datatype_typed_and_raw(self):
        strings = [b"a", b"", b"\xff\x00binary"]
        for raw in (False, True):
            request = pb.ModelInferRequest(model_name="grpc_types")
            for name, fmt, field, values in TYPES:
                tensor = request.inputs.add(name=name, datatype=name, shape=[3])
                if raw:
                    request.raw_input_contents.append(pack(fmt, values))
                else:
                    getattr(tensor.contents, field).extend(values)
            tensor = request.inputs.add(name="BYTES", datatype="BYTES", shape=[3])
            if raw:
                request.raw_input_contents.append(bytes_elements(strings))
            else:
                tensor.contents.bytes_contents.extend(strings)
            out = outputs_by_name(self.stub.ModelInfer(request))
            for name, fmt, _, values in TYPES:
                self.assertEqual(list(struct.unpack("<3" + fmt, out["OUT_" + name])), values,
                                 (name, raw))
            self.assertEqual(unpack_bytes(out["OUT_BYTES"]), strings)

    def test_fp16_and_bf16_travel_raw(self):
        halves = pack("e", [1.0, -2.0, 0.5])
        bf16 = b"\x80\x3f\x00\xc0\x00\x3f"  # 1.0, -2.0, 0.5
        request = pb.ModelInferRequest(model_name="grpc_halves")
        request.inputs.add(name="FP16", datatype="FP16", shape=[3])
        request.inputs.add(name="BF16", datatype="BF16", shape=[3])
        request.raw_input_contents.extend([halves, bf16])
        out = outputs_by_name(self.stub.ModelInfer(request))
        self.assertEqual(out, {"OUT_FP16": halves, "OUT_BF16": bf16})
        typed = pb.ModelInferRequest(model_name="grpc_halves")
        typed.inputs.add(name="FP16", datatype="FP16", shape=[3]).contents.fp32_contents.extend(
            [1.0, -2.0, 0.5])
        self.assertIn("raw_input_contents", self.assertCode(grpc.StatusCode.INVALID_ARGUMENT,
                                                            self.stub.ModelInfer, typed))

    def test_invalid_requests(self):
        bad_shape = int32_request("simple", 1)
        self.assertIn("INPUT0", self.assertCode(grpc.StatusCode.INVALID_ARGUMENT,
                                                self.stub.ModelInfer, bad_shape))
        too_few = simple_request([1] * 16, [1] * 16)
        too_few.inputs[0].contents.int_contents.pop()
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.stub.ModelInfer, too_few)
        short_raw = simple_request([1] * 16, [1] * 16, raw=True)
        short_raw.raw_input_contents[1] = b"\0" * 60
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.stub.ModelInfer, short_raw)
        unknown_type = int32_request("grpc_slow", 1)
        unknown_type.inputs[0].datatype = "INT33"
        self.assertCode(grpc.StatusCode.INVALID_ARGUMENT, self.stub.ModelInfer, unknown_type)
        mixed = simple_request([1] * 16, [1] * 16)
        mixed.raw_input_contents.extend([pack("i", [1] * 16)] * 2)
        self.assertIn("together", self.assertCode(grpc.StatusCode.INVALID_ARGUMENT,
                                                  self.stub.ModelInfer, mixed))

    def test_message_larger_than_the_body_limit(self):
        request = simple_request([1] * 16, [1] * 16, raw=True)
        request.raw_input_contents[0] = b"\0" * (2 << 20)
        self.assertCode(grpc.StatusCode.RESOURCE_EXHAUSTED, self.stub.ModelInfer, request)

    def test_backend_failure_is_internal(self):
        self.assertCode(grpc.StatusCode.INTERNAL, self.stub.ModelInfer,
                        int32_request("grpc_failing", 1))

    def wait_running(self, model, count):
        """Until `model` has `count` requests queued or executing (its statistics cannot tell
        yet: they count finished requests)."""
        def busy():
            m = self.server.metrics()
            return (m.value("switchyard_queue_depth", model=model) +
                    m.value("switchyard_inflight_requests", model=model)) >= count
        harness.wait_until(busy, 20, "%d requests of %s admitted" % (count, model))

    def test_full_queue_is_resource_exhausted(self):
        running = self.stub.ModelInfer.future(int32_request("grpc_full", 1), timeout=60)
        self.wait_running("grpc_full", 1)
        queued = self.stub.ModelInfer.future(int32_request("grpc_full", 2), timeout=60)
        self.wait_running("grpc_full", 2)
        self.assertIn("full", self.assertCode(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                              self.stub.ModelInfer, int32_request("grpc_full", 3))
                      .lower())
        self.assertEqual(struct.unpack("<i", running.result().raw_output_contents[0]), (1,))
        self.assertEqual(struct.unpack("<i", queued.result().raw_output_contents[0]), (2,))

    def test_deadlines_and_cancellation(self):
        stats = lambda: self.stub.ModelStatistics(  # noqa: E731
            pb.ModelStatisticsRequest(name="grpc_slow")).model_stats[0].inference_stats
        before = stats()
        blocker = self.stub.ModelInfer.future(int32_request("grpc_slow", 1), timeout=60)
        self.wait_running("grpc_slow", 1)
        # The `timeout` parameter (µs), as HTTP reads it: expires in the queue.
        self.assertCode(grpc.StatusCode.DEADLINE_EXCEEDED, self.stub.ModelInfer,
                        int32_request("grpc_slow", 2, timeout=100000))
        # The call's own deadline.
        self.assertCode(grpc.StatusCode.DEADLINE_EXCEEDED, self.stub.ModelInfer,
                        int32_request("grpc_slow", 3), timeout=0.2)
        # A client that cancels its call: the queued request is dropped, never executed.
        victim = self.stub.ModelInfer.future(int32_request("grpc_slow", 4), timeout=60)
        self.wait_running("grpc_slow", 2)
        self.assertTrue(victim.cancel())
        self.assertEqual(struct.unpack("<i", blocker.result().raw_output_contents[0]), (1,))
        harness.wait_until(lambda: self.server.metrics().value(
            "switchyard_queue_depth", model="grpc_slow") == 0, 20, "grpc_slow's queue to empty")
        after = stats()
        self.assertEqual(after.success.count - before.success.count, 1,
                         "only the blocker may have executed: %r" % after)
        self.assertEqual(victim.code(), grpc.StatusCode.CANCELLED)

    def test_stream_answers_in_order_and_goes_on_after_errors(self):
        requests = []
        for i in range(30):
            if i % 10 == 0:
                request = int32_request("grpc_delay", i)  # 50 ms: the ones after finish first
            elif i == 15:
                request = int32_request("nope", i)  # errors mid-stream
            elif i == 25:
                request = int32_request("grpc_failing", i)
            else:
                request = simple_request([i] * 16, [0] * 16)
            request.id = "r%d" % i
            requests.append(request)
        responses = list(self.stub.ModelStreamInfer(iter(requests), timeout=60))
        self.assertEqual(len(responses), 30)
        for i, response in enumerate(responses):
            self.assertEqual(response.infer_response.id, "r%d" % i, "answers out of order")
            if i in (15, 25):
                self.assertTrue(response.error_message, "request %d must fail" % i)
                continue
            self.assertEqual(response.error_message, "", i)
            first = response.infer_response.raw_output_contents[0]
            self.assertEqual(struct.unpack_from("<i", first)[0], i)

    def test_stream_gives_each_response_of_a_decoupled_model_marking_the_final_one(self):
        requests = [int32_request("grpc_decoupled", 7, "a"), simple_request([1] * 16, [0] * 16),
                    int32_request("grpc_decoupled", 8, "c")]
        requests[1].id = "b"
        responses = list(self.stub.ModelStreamInfer(iter(requests), timeout=60))
        seen = [(r.infer_response.id, r.infer_response.parameters["triton_final_response"]
                 .bool_param) for r in responses]
        self.assertEqual(seen, [("a", False), ("a", False), ("a", True), ("b", True),
                                ("c", False), ("c", False), ("c", True)])
        for response in responses:
            self.assertEqual(response.error_message, "")
            value = struct.unpack_from("<i", response.infer_response.raw_output_contents[0])[0]
            self.assertEqual(value, {"a": 7, "b": 1, "c": 8}[response.infer_response.id])
        # A unary call takes the final response only.
        answer = self.stub.ModelInfer(int32_request("grpc_decoupled", 9), timeout=60)
        self.assertEqual(struct.unpack_from("<i", answer.raw_output_contents[0])[0], 9)

    def test_a_channel_that_pings_while_idle_keeps_working(self):
        # tritonclient's KeepAliveOptions with pings every second, also without calls: a server
        # that answered them with GOAWAY (too_many_pings) would close the connection, and the
        # stream held open across the idle time would fail.
        options = [("grpc.keepalive_time_ms", 1000), ("grpc.keepalive_timeout_ms", 20000),
                   ("grpc.keepalive_permit_without_calls", 1),
                   ("grpc.http2.max_pings_without_data", 0)]
        channel = grpc.insecure_channel("127.0.0.1:%d" % self.server.grpc_port, options=options)
        self.addCleanup(channel.close)
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        outbox = queue.Queue()
        responses = stub.ModelStreamInfer(iter(outbox.get, None), timeout=60)
        for i in range(2):
            outbox.put(simple_request([i] * 16, [1] * 16, raw=True))
            response = next(responses)
            self.assertEqual(response.error_message, "")
            self.assertEqual(response.infer_response.raw_output_contents[0], pack("i", [i + 1] * 16))
            if i == 0:  # the scenario is the idle time itself: pings flow meanwhile
                threading.Event().wait(3.5)
        outbox.put(None)
        self.assertEqual(list(responses), [])

    def test_ten_thousand_calls_on_one_channel(self):
        request = simple_request(list(range(16)), [1] * 16, raw=True)
        expected = pack("i", [v + 1 for v in range(16)])
        done = 0
        for _ in range(100):
            futures = [self.stub.ModelInfer.future(request, timeout=60) for _ in range(100)]
            for future in futures:
                self.assertEqual(future.result().raw_output_contents[0], expected)
                done += 1
        self.assertEqual(done, 10000)
        stats = self.stub.ModelStatistics(pb.ModelStatisticsRequest(name="simple"))
        self.assertGreaterEqual(stats.model_stats[0].inference_stats.success.count, 10000)

    # -- statistics and repository --

    def test_statistics_and_index(self):
        self.stub.ModelInfer(simple_request([1] * 16, [1] * 16))
        stats = self.stub.ModelStatistics(pb.ModelStatisticsRequest(name="simple", version="1"))
        self.assertEqual([(s.name, s.version) for s in stats.model_stats], [("simple", "1")])
        self.assertGreaterEqual(stats.model_stats[0].inference_count, 1)
        every = self.stub.ModelStatistics(pb.ModelStatisticsRequest())
        self.assertIn("grpc_types", [s.name for s in every.model_stats])
        index = self.stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True))
        self.assertEqual({(m.name, m.state) for m in index.models if m.name == "simple"},
                         {("simple", "READY")})

    def test_repository_load_and_unload_need_the_token(self):
        auth = (("authorization", "Bearer " + TOKEN),)
        wrong = (("authorization", "Bearer nope"),)
        unload = pb.RepositoryModelUnloadRequest(model_name="grpc_failing")
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.stub.RepositoryModelUnload, unload)
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.stub.RepositoryModelUnload, unload,
                        metadata=wrong)
        self.stub.RepositoryModelUnload(unload, metadata=auth, timeout=60)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.stub.ModelInfer,
                        int32_request("grpc_failing", 1))
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.stub.RepositoryModelUnload, unload,
                        metadata=auth)
        self.stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="grpc_failing"),
                                      metadata=auth, timeout=60)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="grpc_failing")).ready)

    def test_system_shared_memory(self):
        from multiprocessing import shared_memory
        region = shared_memory.SharedMemory(create=True, size=4096)
        self.addCleanup(region.unlink)
        self.addCleanup(region.close)
        auth = (("authorization", "Bearer " + TOKEN),)
        register = pb.SystemSharedMemoryRegisterRequest(name="in0", key="/" + region.name,
                                                        offset=0, byte_size=4096)
        self.assertCode(grpc.StatusCode.UNAUTHENTICATED, self.stub.SystemSharedMemoryRegister,
                        register)
        self.stub.SystemSharedMemoryRegister(register, metadata=auth)
        self.assertCode(grpc.StatusCode.ALREADY_EXISTS, self.stub.SystemSharedMemoryRegister,
                        register, metadata=auth)
        status = self.stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest(),
                                                    metadata=auth)
        self.assertEqual(status.regions["in0"].key, "/" + region.name)
        self.assertEqual(status.regions["in0"].byte_size, 4096)
        self.stub.SystemSharedMemoryUnregister(pb.SystemSharedMemoryUnregisterRequest(name="in0"),
                                               metadata=auth)
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.stub.SystemSharedMemoryStatus,
                        pb.SystemSharedMemoryStatusRequest(name="in0"), metadata=auth)

    def test_infer_reads_inputs_from_and_writes_outputs_to_shared_memory(self):
        from multiprocessing import shared_memory
        region = shared_memory.SharedMemory(create=True, size=4096)
        self.addCleanup(region.unlink)
        self.addCleanup(region.close)
        auth = (("authorization", "Bearer " + TOKEN),)
        self.stub.SystemSharedMemoryRegister(pb.SystemSharedMemoryRegisterRequest(
            name="io", key="/" + region.name, offset=0, byte_size=4096), metadata=auth)
        self.addCleanup(self.stub.SystemSharedMemoryUnregister,
                        pb.SystemSharedMemoryUnregisterRequest(name="io"), metadata=auth)
        region.buf[0:64] = pack("i", list(range(16)))

        def request(output_size=64):
            message = pb.ModelInferRequest(model_name="simple", id="shm")
            in0 = message.inputs.add(name="INPUT0", datatype="INT32", shape=[1, 16])
            in0.parameters["shared_memory_region"].string_param = "io"
            in0.parameters["shared_memory_byte_size"].int64_param = 64
            message.inputs.add(name="INPUT1", datatype="INT32", shape=[1, 16])
            message.raw_input_contents.append(pack("i", [10] * 16))  # INPUT1's only
            out0 = message.outputs.add(name="OUTPUT0")
            out0.parameters["shared_memory_region"].string_param = "io"
            out0.parameters["shared_memory_byte_size"].int64_param = output_size
            out0.parameters["shared_memory_offset"].int64_param = 128
            message.outputs.add(name="OUTPUT1")
            return message

        for call in ("unary", "stream"):
            with self.subTest(call=call):
                region.buf[128:192] = bytes(64)
                if call == "unary":
                    response = self.stub.ModelInfer(request(), timeout=30)
                else:
                    (streamed,) = self.stub.ModelStreamInfer(iter([request()]), timeout=30)
                    self.assertEqual(streamed.error_message, "")
                    response = streamed.infer_response
                self.assertEqual([o.name for o in response.outputs], ["OUTPUT0", "OUTPUT1"])
                params = response.outputs[0].parameters
                self.assertEqual(params["shared_memory_region"].string_param, "io")
                self.assertEqual(params["shared_memory_byte_size"].int64_param, 64)
                self.assertEqual(params["shared_memory_offset"].int64_param, 128)
                self.assertEqual(response.raw_output_contents[0], b"")  # it is in the region
                self.assertEqual(bytes(region.buf[128:192]), pack("i", [v + 10 for v in range(16)]))
                self.assertEqual(response.raw_output_contents[1],
                                 pack("i", [v - 10 for v in range(16)]))
        self.assertIn("do not fit", self.assertCode(
            grpc.StatusCode.INVALID_ARGUMENT, self.stub.ModelInfer, request(output_size=32)))
        unknown = request()
        unknown.inputs[0].parameters["shared_memory_region"].string_param = "nope"
        self.assertCode(grpc.StatusCode.NOT_FOUND, self.stub.ModelInfer, unknown)

    def test_calls_not_served_are_unimplemented(self):
        for call, request in (
                (self.stub.CudaSharedMemoryStatus, pb.CudaSharedMemoryStatusRequest()),
                (self.stub.CudaSharedMemoryRegister, pb.CudaSharedMemoryRegisterRequest()),
                (self.stub.CudaSharedMemoryUnregister, pb.CudaSharedMemoryUnregisterRequest()),
                (self.stub.TraceSetting, pb.TraceSettingRequest()),
                (self.stub.LogSettings, pb.LogSettingsRequest())):
            self.assertIn("not served", self.assertCode(grpc.StatusCode.UNIMPLEMENTED, call,
                                                        request))


class GrpcWithoutSharedMemoryTest(GrpcTestCase):
    REPOSITORY = None

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, harness.examples_dir() + "/simple")

    def test_shared_memory_calls_name_the_flag(self):
        message = self.assertCode(grpc.StatusCode.FAILED_PRECONDITION,
                                  self.stub.SystemSharedMemoryStatus,
                                  pb.SystemSharedMemoryStatusRequest())
        self.assertIn("--allow-shared-memory", message)
        meta = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertNotIn("system_shared_memory", meta.extensions)


@unittest.skipIf(SKIP, SKIP)
class GrpcNotReadyTest(unittest.TestCase):
    """A server whose model never gets ready: UNAVAILABLE for its requests, NOT_SERVING."""

    def test_not_ready(self):
        tmp = harness.tempfile.mkdtemp(prefix="switchyard-grpc-")
        self.addCleanup(harness.shutil.rmtree, tmp, True)
        repo = harness.make_repository(tmp, harness.test_models("unready", "never_ready"))
        server = harness.Server(repo, ["--grpc-port", "any"], wait_ready=False)
        self.addCleanup(server.stop)
        server.start()
        self.assertIsNotNone(server.grpc_port)
        with grpc.insecure_channel("127.0.0.1:%d" % server.grpc_port) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            timeout = harness.IO_TIMEOUT_S
            self.assertTrue(stub.ServerLive(pb.ServerLiveRequest(), timeout=timeout).live)
            self.assertFalse(stub.ServerReady(pb.ServerReadyRequest(), timeout=timeout).ready)
            self.assertFalse(stub.ModelReady(pb.ModelReadyRequest(name="never_ready"),
                                             timeout=timeout).ready)
            NotServing = health_pb2.HealthCheckResponse.NOT_SERVING
            self.assertEqual(health.Check(health_pb2.HealthCheckRequest(), timeout=timeout).status,
                             NotServing)
            self.assertEqual(health.Check(health_pb2.HealthCheckRequest(service="never_ready"),
                                          timeout=timeout).status, NotServing)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.ModelInfer(int32_request("never_ready", 1), timeout=timeout)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
