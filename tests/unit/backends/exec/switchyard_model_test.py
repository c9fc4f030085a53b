"""Unit tests of the Python model API (clients/python/switchyard.py), its runner
(switchyard_runner.py) and the HELLO fields that switchyard_exec.py reads for them: the HTTP
envelopes, Request's accessors, JSON conversion, finding the model's class, and the runner end to
end as the exec plugin starts it (a subprocess speaking the frame protocol on its stdin/stdout).
Run with Debian's python3 (numpy needed)."""

import json
import os
import random
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "clients", "python"))
sys.path.insert(0, CLIENTS)

import numpy as np  # noqa: E402

import switchyard as sy  # noqa: E402
import switchyard_exec as sx  # noqa: E402
import switchyard_runner  # noqa: E402

RUNNER = os.path.join(CLIENTS, "switchyard_runner.py")
IO_TIMEOUT_S = 30


# ---------------------------------------------------------------------------------------------
# Frames, as the plugin writes and reads them (backends/exec/frame_protocol.h)


def u32(n):
    return struct.pack("<I", n)


def wstr(s):
    b = s.encode("utf-8")
    return u32(len(b)) + b


def spec(name, datatype, dims):
    return wstr(name) + wstr(datatype) + u32(len(dims)) + struct.pack("<%dq" % len(dims), *dims)


def frame(kind, body):
    return struct.pack("<IB", len(body) + 1, kind) + body


def hello_body(inputs, outputs, max_batch_size=8, parameters=None, extra=True):
    """A HELLO body; `extra`: with the fields appended after the outputs."""
    body = (b"SYEX" + u32(1) + wstr("m") + struct.pack("<q", 3) + u32(max_batch_size) +
            u32(len(inputs)) + b"".join(spec(*s) for s in inputs) +
            u32(len(outputs)) + b"".join(spec(*s) for s in outputs))
    if extra:
        parameters = parameters or {}
        body += u32(len(parameters))
        body += b"".join(wstr(k) + wstr(v) for k, v in parameters.items())
        body += struct.pack("<iI", 2, 1) + wstr("GPU-1234")
        body += wstr("/models/m") + wstr("/models/m/3")
    return body


ENVELOPE_INPUTS = [("request", "BYTES", [1])]
ENVELOPE_OUTPUTS = [("response", "BYTES", [1])]


def bytes_tensor(elements):
    return b"".join(u32(len(e)) + e for e in elements)


def batch_body(batch_id, requests):
    """requests: [([(name, datatype, shape, data)], [wanted names][, {parameters}])]."""
    body = struct.pack("<QI", batch_id, len(requests))
    for request in requests:
        inputs, wanted = request[:2]
        parameters = request[2] if len(request) > 2 else {}
        body += u32(len(inputs))
        for name, datatype, shape, data in inputs:
            body += wstr(name) + wstr(datatype) + u32(len(shape))
            body += struct.pack("<%dq" % len(shape), *shape) + struct.pack("<Q", len(data)) + data
        body += u32(len(wanted)) + b"".join(wstr(w) for w in wanted)
        body += u32(len(parameters))
        body += b"".join(wstr(k) + wstr(v) for k, v in parameters.items())
    return body


def envelope_request(elements, shape=None):
    """A request of an envelope model: `elements` as its `request` tensor ([k, 1])."""
    shape = shape or [len(elements), 1]
    return ([("request", "BYTES", shape, bytes_tensor(elements))], ["response"])


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        assert self.pos + n <= len(self.data), "truncated RESULT"
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def str(self):
        return self.take(self.unpack("<I")[0]).decode("utf-8")


def parse_result(body):
    """(batch_id, [(status, message or {name: (datatype, shape, data)})], flags): flags is the
    optional byte after the requests (None when absent)."""
    r = Reader(body)
    batch_id, count = r.unpack("<QI")
    requests = []
    for _ in range(count):
        (status,) = r.unpack("<B")
        if status != 0:
            requests.append((status, r.str()))
            continue
        outputs = {}
        for _ in range(r.unpack("<I")[0]):
            name, datatype = r.str(), r.str()
            shape = list(r.unpack("<%dq" % r.unpack("<I")[0]))
            outputs[name] = (datatype, shape, r.take(r.unpack("<Q")[0]))
        requests.append((0, outputs))
    flags = r.unpack("<B")[0] if r.pos == len(body) - 1 else None
    assert r.pos == len(body), "RESULT has trailing bytes"
    return batch_id, requests, flags


def bytes_elements(data):
    r = Reader(data)
    out = []
    while r.pos < len(data):
        out.append(r.take(r.unpack("<I")[0]))
    return out


class RunnerProcess:
    """switchyard_runner.py on a model folder, started as the exec plugin starts it."""

    def __init__(self, test, folder, args=("model.py",)):
        self.test = test
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, SWITCHYARD_EXEC_MODE="persistent", PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen([sys.executable, RUNNER, *args], cwd=folder, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        test.addCleanup(self.close)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.stderr):
            f.close()

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def send(self, kind, body):
        self.proc.stdin.write(frame(kind, body))
        self.proc.stdin.flush()

    def read_exact(self, n):
        """n bytes of stdout, or None at its end; fails the test after IO_TIMEOUT_S."""
        fd, buf = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + IO_TIMEOUT_S
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.test.fail("no answer from the runner within %d s; stderr:\n%s" %
                               (IO_TIMEOUT_S, self.stderr_text()))
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                return None if not buf else self.test.fail("stdout ends inside a frame")
            buf += chunk
        return buf

    def read_frame(self):
        header = self.read_exact(5)
        if header is None:
            return None
        size, kind = struct.unpack("<IB", header)
        return kind, self.read_exact(size - 1) if size > 1 else b""

    def handshake(self, body):
        self.send(sx.HELLO, body)
        got = self.read_frame()
        self.test.assertIsNotNone(got, "the runner ended; stderr:\n" + self.stderr_text())
        # Version 1, and the features: it takes each request's parameters and CANCEL frames,
        # and reads the next batch while it computes one.
        self.test.assertEqual(got, (sx.READY, b"SYEX" + u32(1) + u32(1 | 2 | 8)))

    def batch(self, batch_id, requests, ends=False, cancels=()):
        """The results of a BATCH; `ends`: whether its RESULT must say that the program ends.
        `cancels`: (seconds after the BATCH, batch_id, request index, reason) of CANCEL frames
        to send meanwhile."""
        self.send(sx.BATCH, batch_body(batch_id, requests))
        for delay, cancel_batch, index, reason in cancels:
            time.sleep(delay)
            self.send(sx.CANCEL, struct.pack("<QIB", cancel_batch, index, reason))
        got = self.read_frame()
        self.test.assertIsNotNone(got, "the runner ended; stderr:\n" + self.stderr_text())
        self.test.assertEqual(got[0], sx.RESULT)
        result_id, results, flags = parse_result(got[1])
        self.test.assertEqual(result_id, batch_id)
        self.test.assertEqual(len(results), len(requests))
        self.test.assertEqual(flags, sx.RESULT_FLAG_PROGRAM_ENDS if ends else None)
        return results

    def finish(self):
        """Closes stdin (as the plugin does at unload) and returns the exit status."""
        self.proc.stdin.close()
        try:
            return self.proc.wait(IO_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.test.fail("the runner did not exit; stderr:\n" + self.stderr_text())


# ---------------------------------------------------------------------------------------------
# HELLO


class HelloTest(unittest.TestCase):
    def test_appended_fields(self):
        info = sx._parse_hello(bytearray(hello_body(
            ENVELOPE_INPUTS, ENVELOPE_OUTPUTS, 4, {"k": "3", "decode_threads": "2"})))
        self.assertEqual((info.name, info.version, info.max_batch_size), ("m", 3, 4))
        self.assertEqual(info.parameters, {"k": "3", "decode_threads": "2"})
        self.assertEqual((info.instance, info.gpu_count, info.cuda_visible_devices),
                         (2, 1, "GPU-1234"))
        self.assertEqual((info.model_dir, info.version_dir), ("/models/m", "/models/m/3"))
        ctx = sy.Context.from_model_info(info)
        self.assertEqual((ctx.device, ctx.parameters["k"], ctx.inputs[0].name),
                         ("cuda", "3", "request"))

    def test_old_hello_gets_defaults(self):
        info = sx._parse_hello(bytearray(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS,
                                                    extra=False)))
        self.assertEqual((info.parameters, info.instance, info.gpu_count,
                          info.cuda_visible_devices), ({}, 0, 0, ""))
        self.assertEqual(info.version_dir, os.getcwd())
        self.assertEqual(info.model_dir, os.path.dirname(os.getcwd()))
        self.assertEqual(sy.Context.from_model_info(info).device, "cpu")

    def test_truncated_extra_fields(self):
        body = hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS, parameters={"k": "v"})
        with self.assertRaises(sx.ProtocolError):
            sx._parse_hello(bytearray(body[:-3]))


# ---------------------------------------------------------------------------------------------
# Envelopes


FORM_PARTS = [sy.Part("image", "cat.png", "image/png", b"\x89PNG\x00"),
              sy.Part("caption", "", "", "é".encode()),
              sy.Part("lang", "", "text/plain", b"fr")]


class EnvelopeTest(unittest.TestCase):
    def test_multipart_round_trip(self):
        data = sy.encode_request_envelope("multipart/form-data; boundary=b",
                                          [("q", "1"), ("top", "5"), ("q", "2")], FORM_PARTS)
        self.assertEqual(data[:4], b"SYRQ")
        req = sy.decode_request_envelope(data)
        self.assertFalse(req.raw)
        self.assertEqual(req.content_type, "multipart/form-data; boundary=b")
        self.assertEqual(req.params, {"q": "2", "top": "5"})
        self.assertEqual(req.parts, FORM_PARTS)
        self.assertEqual(req.body, b"")
        self.assertIsNone(req.json)

    def test_body_round_trip(self):
        req = sy.decode_request_envelope(
            sy.encode_request_envelope("application/json", {"v": "1"}, body='{"x": [1, 2]}'))
        self.assertEqual(req.parts, [sy.Part("", "", "application/json", b'{"x": [1, 2]}')])
        self.assertEqual(req.body, b'{"x": [1, 2]}')
        self.assertEqual(req.json, {"x": [1, 2]})
        self.assertEqual((req.files, req.form, req.params), ({}, {}, {"v": "1"}))

    def test_empty_envelope(self):
        req = sy.decode_request_envelope(sy.encode_request_envelope())
        self.assertEqual((req.content_type, req.params, req.parts, req.body), ("", {}, [], b""))

    def test_raw_request(self):
        for data in [b"", b"SY", b"\x00\x01binary", b'{"x": 4}']:
            req = sy.decode_request_envelope(np.array([data], dtype=object)[0])
            self.assertTrue(req.raw)
            self.assertEqual(req.content_type, "application/octet-stream")
            self.assertEqual(req.parts, [sy.Part("", "", "application/octet-stream", data)])
            self.assertEqual(req.body, data)
        self.assertEqual(req.json, {"x": 4})  # a raw body that looks like JSON
        self.assertIsNone(sy.decode_request_envelope(b"plain").json)

    def test_every_truncation_is_a_clear_error(self):
        data = sy.encode_request_envelope("multipart/form-data", {"q": "1"}, FORM_PARTS)
        for n in range(4, len(data)):
            with self.assertRaises(sy.InvalidInput) as ctx:
                sy.decode_request_envelope(data[:n])
            self.assertIn("malformed request envelope: it ends inside", str(ctx.exception))
        with self.assertRaisesRegex(sy.InvalidInput, r"ends inside part 2's data \(2 bytes at "
                                    r"offset \d+, 1 left\)"):
            sy.decode_request_envelope(data[:-1])

    def test_garbage(self):
        huge = b"SYRQ" + u32(1) + u32(0xFFFFFFFF) + b"x"
        with self.assertRaisesRegex(sy.InvalidInput, "inside the content type"):
            sy.decode_request_envelope(huge)
        with self.assertRaisesRegex(sy.InvalidInput, "request envelope version 2"):
            sy.decode_request_envelope(b"SYRQ" + u32(2))
        with self.assertRaisesRegex(sy.InvalidInput, "3 bytes after its end"):
            sy.decode_request_envelope(sy.encode_request_envelope() + b"abc")
        bad_utf8 = b"SYRQ" + u32(1) + u32(2) + b"\xff\xfe" + u32(0) + u32(0)
        with self.assertRaisesRegex(sy.InvalidInput, "the content type is not UTF-8"):
            sy.decode_request_envelope(bad_utf8)

    def test_mutations_never_crash(self):
        data = sy.encode_request_envelope("multipart/form-data", {"q": "1"}, FORM_PARTS)
        rng = random.Random(7)
        for _ in range(2000):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(4, len(mutated))] = rng.randrange(256)
            try:
                sy.decode_request_envelope(bytes(mutated))
            except sy.InvalidInput as exc:
                self.assertIn("request envelope", str(exc))

    def test_response_envelope(self):
        data = sy.encode_response_envelope("text/plain; charset=utf-8", "hé")
        self.assertEqual(data, b"SYRS" + u32(1) + wstr("text/plain; charset=utf-8") +
                         struct.pack("<Q", 3) + "hé".encode())
        resp = sy.decode_response_envelope(data)
        self.assertEqual((resp.content_type, resp.body), ("text/plain; charset=utf-8",
                                                          "hé".encode()))
        with self.assertRaisesRegex(ValueError, "does not start with 'SYRS'"):
            sy.decode_response_envelope(b"hello")
        with self.assertRaisesRegex(ValueError, "it ends inside the body"):
            sy.decode_response_envelope(data[:-1])


# ---------------------------------------------------------------------------------------------
# Request


class RequestTest(unittest.TestCase):
    def test_form_accessors(self):
        req = sy.Request("multipart/form-data; boundary=x", [], FORM_PARTS)
        self.assertEqual(req.files, {"image": FORM_PARTS[0]})
        self.assertEqual(req.form, {"caption": "é", "lang": "fr"})
        self.assertEqual(req["image"], b"\x89PNG\x00")
        self.assertEqual(req["caption"], "é")
        self.assertTrue("lang" in req and "nope" not in req)
        self.assertEqual(req.get("nope", 7), 7)
        self.assertEqual(req.get("lang"), "fr")

    def test_missing_field_names_it_and_lists_the_others(self):
        req = sy.Request("multipart/form-data", [], FORM_PARTS)
        with self.assertRaises(sy.InvalidInput) as ctx:
            req["text"]
        self.assertEqual(str(ctx.exception), "the request has no field 'text' "
                         "(it has 'image', 'caption', 'lang')")
        self.assertEqual(ctx.exception.code, sx.INVALID_ARGUMENT)
        with self.assertRaisesRegex(sy.InvalidInput, r"no field 'x' \(it has no fields\)"):
            sy.decode_request_envelope(b"raw")["x"]

    def test_json(self):
        body = sy.Part("", "", "application/vnd.api+json", b'{"a": 1, "b": [true]}')
        req = sy.Request("application/vnd.api+json", [], [body])
        self.assertEqual((req["a"], req["b"]), (1, [True]))
        with self.assertRaisesRegex(sy.InvalidInput, r"no field 'c' \(it has 'a', 'b'\)"):
            req["c"]
        self.assertIsNone(sy.Request("text/plain", [], [sy.Part("", "", "", b"hi")]).json)
        self.assertEqual(sy.Request("", [], [sy.Part("", "", "", b" [1]")]).json, [1])

    def test_invalid_json_is_invalid_input(self):
        for body, message in [(b'{"a": ', "not valid JSON"), (b"", "empty"),
                              (b"\xff\xfe{", "not valid JSON")]:
            req = sy.Request("application/json", [], [sy.Part("", "", "", body)])
            with self.assertRaisesRegex(sy.InvalidInput, "the request body is " + message):
                req.json
            with self.assertRaises(sy.InvalidInput):
                req["a"]

    def test_form_field_not_utf8(self):
        req = sy.Request("multipart/form-data", [], [sy.Part("name", "", "", b"\xff")])
        with self.assertRaisesRegex(sy.InvalidInput, "form field 'name' is not UTF-8"):
            req.form
        self.assertEqual(req.files, {})

    def test_urlencoded_form(self):
        req = sy.Request("application/x-www-form-urlencoded", [],
                         [sy.Part("", "", "", b"a=1&b=h%C3%A9+x&c=")])
        self.assertEqual(req.form, {"a": "1", "b": "hé x", "c": ""})
        self.assertEqual(req["b"], "hé x")


# ---------------------------------------------------------------------------------------------
# Results -> responses


class FakeTensor:
    """Quacks like a torch tensor on a GPU: tolist only after detach() and cpu()."""

    def __init__(self, values, stage="gpu"):
        self.values, self.stage = values, stage

    def detach(self):
        return FakeTensor(self.values, "detached")

    def cpu(self):
        assert self.stage == "detached", "cpu() before detach()"
        return FakeTensor(self.values, "cpu")

    def tolist(self):
        assert self.stage == "cpu", "tolist() on the GPU"
        return self.values


class StackTest(unittest.TestCase):
    def test_arrays_end_to_end_in_one_buffer_are_joined_without_a_copy(self):
        region = memoryview(bytearray(6 * 4 * 2 + 64))
        values = np.frombuffer(region, np.float32, 12, 64).reshape(6, 2)
        values[:] = np.arange(12).reshape(6, 2)
        # As _parse_batch makes them: each request's tensor a view of a slice of the region.
        parts = [np.frombuffer(region[64 + 8 * start:64 + 8 * stop], np.float32).reshape(-1, 2)
                 for start, stop in ((0, 1), (1, 3), (3, 6))]
        joined = sy.stack(parts)
        self.assertEqual(joined.shape, (6, 2))
        self.assertEqual(joined.tolist(), np.concatenate(parts).tolist())
        self.assertTrue(np.shares_memory(joined, parts[1]))

    def test_anything_else_is_concatenated(self):
        region = memoryview(bytearray(64))
        a = np.frombuffer(region[0:8], np.float32).reshape(1, 2)
        gap = np.frombuffer(region[16:24], np.float32).reshape(1, 2)   # not right after a
        owned = np.ones((1, 2), np.float32)
        for parts in ([a, gap], [a, owned], [owned, owned], [a, a]):
            joined = sy.stack(parts)
            self.assertEqual(joined.tolist(), np.concatenate(parts).tolist())
            self.assertFalse(any(np.shares_memory(joined, p) for p in parts))
        with self.assertRaises(ValueError):
            sy.stack([])


class PinTest(unittest.TestCase):
    def test_nothing_is_pinned_without_a_region_a_gpu_or_torch(self):
        region = memoryview(bytearray(4096))
        self.assertFalse(switchyard_runner.pin_for_cuda(None, sy.Context(gpu_count=1,
                                                                         cuda_visible_devices="GPU-1")))
        self.assertFalse(switchyard_runner.pin_for_cuda(region, sy.Context()))  # a CPU instance

    def test_pin_shared_memory_takes_auto_or_false(self):
        runner = switchyard_runner.Runner(type("M", (), {"predict": lambda self, b: b})())
        info = sx.ModelInfo("m", 1, 0, [], [], {"pin_shared_memory": "yes"})
        with self.assertRaisesRegex(ValueError, "pin_shared_memory must be auto or false"):
            runner.setup(info)


class ResponseTest(unittest.TestCase):
    def test_json_conversion(self):
        value = {"a": np.arange(3, dtype=np.int32), "b": np.float32(1.5), "c": np.int64(7),
                 "d": np.bool_(True), "e": (np.float64(0.25), None, "é"),
                 "f": np.array([[1.0, 2.0]], np.float16), "t": FakeTensor([[1, 2]])}
        resp = sy.to_response(value)
        self.assertEqual(resp.content_type, "application/json")
        self.assertEqual(json.loads(resp.body), {"a": [0, 1, 2], "b": 1.5, "c": 7, "d": True,
                                                 "e": [0.25, None, "é"], "f": [[1.0, 2.0]],
                                                 "t": [[1, 2]]})
        self.assertEqual(sy.to_json(np.array([1, 2])), b"[1,2]")
        self.assertEqual(sy.to_json(np.float32(2.0)), b"2.0")

    def test_not_json(self):
        with self.assertRaisesRegex(TypeError, "bytes cannot be sent as JSON"):
            sy.to_response({"a": b"x"})
        with self.assertRaisesRegex(TypeError, "a value of type object cannot be sent as JSON"):
            sy.to_json([object()])

    def test_bytes_str_and_response(self):
        self.assertEqual(vars(sy.to_response(b"\x00")),
                         {"body": b"\x00", "content_type": "application/octet-stream"})
        self.assertEqual(vars(sy.to_response("hé")),
                         {"body": "hé".encode(), "content_type": "text/plain; charset=utf-8"})
        resp = sy.Response("<b>x</b>", "text/html")
        self.assertIs(sy.to_response(resp), resp)
        self.assertEqual(resp.body, b"<b>x</b>")
        with self.assertRaisesRegex(TypeError, "a Response's body is bytes or str"):
            sy.Response({"a": 1})


# ---------------------------------------------------------------------------------------------
# Finding the model's class


class ModelFolder:
    """A temporary version folder with the given files (name -> source)."""

    def __init__(self, test, files):
        self.path = tempfile.mkdtemp(prefix="switchyard-model-test-")
        test.addCleanup(shutil.rmtree, self.path)
        for name, source in files.items():
            with open(os.path.join(self.path, name), "w") as f:
                f.write(textwrap.dedent(source))


class FindClassTest(unittest.TestCase):
    def module(self, source):
        name = "find_class_%d.py" % id(source)
        folder = ModelFolder(self, {name: source})
        return switchyard_runner.import_model(os.path.join(folder.path, name))

    def test_the_one_class_with_predict(self):
        module = self.module("""
            from switchyard import Request   # imported classes do not count
            class Helper: pass
            class Model:
                def predict(self, batch): return batch
            """)
        self.assertIs(switchyard_runner.find_model_class(module), module.Model)

    def test_named_class(self):
        module = self.module("""
            class A:
                def predict(self, batch): return batch
            class B(A): pass
            class C: pass
            """)
        self.assertIs(switchyard_runner.find_model_class(module, "B"), module.B)
        with self.assertRaisesRegex(switchyard_runner.ModelError,
                                    r"defines 2 classes with a predict method \(A, B\): name the "
                                    "one to serve with the python_class parameter"):
            switchyard_runner.find_model_class(module)
        with self.assertRaisesRegex(switchyard_runner.ModelError,
                                    r"has no class 'D' \(its classes with a predict method: A, B"):
            switchyard_runner.find_model_class(module, "D")
        with self.assertRaisesRegex(switchyard_runner.ModelError, "class C in .* has no predict"):
            switchyard_runner.find_model_class(module, "C")

    def test_no_class(self):
        module = self.module("""
            class Helper: pass
            def predict(batch): return batch
            """)
        with self.assertRaisesRegex(switchyard_runner.ModelError,
                                    r"defines no class with a predict method \(classes defined "
                                    r"there: Helper\)"):
            switchyard_runner.find_model_class(module)

    def test_missing_file(self):
        with self.assertRaisesRegex(switchyard_runner.ModelError, "does not exist"):
            switchyard_runner.import_model("/nonexistent/model.py")


# ---------------------------------------------------------------------------------------------
# The runner end to end


ENVELOPE_MODEL = """
    print("model.py imported", flush=True)   # stdout: must land in stderr, not in the protocol
    import numpy as np
    import switchyard
    from helper import K   # a sibling in the version folder

    class Doubler:
        def setup(self, ctx):
            print("setup", ctx.name, ctx.device, ctx.instance, ctx.max_batch_size, flush=True)
            self.k = int(ctx.parameters.get("k", K))
            self.short = ctx.parameters.get("short") == "1"

        def decode(self, request):
            if "bad" in request.params:
                raise switchyard.InvalidInput("bad request: " + request.params["bad"])
            if "boom" in request.params:
                raise ValueError("decode exploded")
            return request["x"]

        def predict(self, batch):
            print("predict on", len(batch), "items")
            outputs = [(x * self.k, len(batch)) for x in batch]
            return outputs[:-1] if self.short else outputs

        def encode(self, output):
            value, size = output
            if value == 0:
                return switchyard.Response("zero", "text/x-zero")
            return {"y": np.int64(value), "batch": size, "arr": np.arange(2)}
    """

TENSOR_MODEL = """
    import numpy as np

    class Adder:
        def decode(self, inputs):
            return inputs["A"].astype(np.int64), inputs["B"]

        def predict(self, batch):
            return [(a + b, a - b) for a, b in batch]

        def encode(self, output):
            total, diff = output
            return {"SUM": total, "DIFF": diff}
    """


def json_request(x, **params):
    return sy.encode_request_envelope("application/json", params, body=json.dumps({"x": x}))


class RunnerTest(unittest.TestCase):
    def start(self, files, args=("model.py",)):
        folder = ModelFolder(self, files)
        return RunnerProcess(self, folder.path, args)

    def envelope_runner(self, max_batch_size=8, **parameters):
        proc = self.start({"model.py": ENVELOPE_MODEL, "helper.py": "K = 2\n"})
        proc.handshake(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS, max_batch_size, parameters))
        return proc

    def response(self, result):
        status, outputs = result
        self.assertEqual(status, 0, outputs)
        datatype, shape, data = outputs["response"]
        self.assertEqual(datatype, "BYTES")
        return shape, [e if e[:4] != b"SYRS" else sy.decode_response_envelope(e)
                       for e in bytes_elements(data)]

    def test_batched_predict(self):
        proc = self.envelope_runner()
        results = proc.batch(1, [envelope_request([json_request(x)]) for x in (1, 2, 3)])
        for x, result in zip((1, 2, 3), results):
            shape, (resp,) = self.response(result)
            self.assertEqual(shape, [1, 1])
            self.assertEqual(resp.content_type, "application/json")
            self.assertEqual(json.loads(resp.body), {"y": 2 * x, "batch": 3, "arr": [0, 1]})
        # Items: a request of two elements, a raw (non-envelope) element, a Response.
        results = proc.batch(2, [envelope_request([json_request(5), json_request(0)]),
                                 envelope_request([b'{"x": 7}'])])
        shape, (five, zero) = self.response(results[0])
        self.assertEqual(shape, [2, 1])
        self.assertEqual(json.loads(five.body)["batch"], 3)
        self.assertEqual((zero.content_type, zero.body), ("text/x-zero", b"zero"))
        shape, (raw,) = self.response(results[1])
        self.assertEqual(json.loads(raw), {"y": 14, "batch": 3, "arr": [0, 1]})
        self.assertEqual(proc.finish(), 0)
        stderr = proc.stderr_text()
        self.assertIn("model.py imported", stderr)
        self.assertIn("setup m cuda 2 8", stderr)
        self.assertIn("predict on 3 items", stderr)

    def test_predict_batches_of_max_batch_size(self):
        proc = self.envelope_runner(max_batch_size=2, k="10")
        results = proc.batch(5, [envelope_request([json_request(x)]) for x in (1, 2, 3)])
        bodies = [json.loads(self.response(r)[1][0].body) for r in results]
        self.assertEqual(bodies, [{"y": 10, "batch": 2, "arr": [0, 1]},
                                  {"y": 20, "batch": 2, "arr": [0, 1]},
                                  {"y": 30, "batch": 1, "arr": [0, 1]}])
        self.assertEqual(proc.finish(), 0)

    def test_decode_error_fails_that_request_only(self):
        proc = self.envelope_runner()
        results = proc.batch(3, [envelope_request([json_request(1)]),
                                 envelope_request([json_request(2, bad="no x")]),
                                 envelope_request([json_request(3)]),
                                 envelope_request([json_request(4, boom="1")]),
                                 envelope_request([b"SYRQ\x01\x00"]),
                                 envelope_request([sy.encode_request_envelope(body=b"[]")])])
        self.assertEqual(results[1], (sx.INVALID_ARGUMENT, "bad request: no x"))
        self.assertEqual(results[3], (sx.INTERNAL, "ValueError: decode exploded"))
        self.assertEqual(results[4][0], sx.INVALID_ARGUMENT)
        self.assertIn("malformed request envelope", results[4][1])
        self.assertEqual(results[5], (sx.INVALID_ARGUMENT,
                                      "the request has no field 'x' (it has no fields)"))
        for i, x in [(0, 1), (2, 3)]:
            body = json.loads(self.response(results[i])[1][0].body)
            self.assertEqual((body["y"], body["batch"]), (2 * x, 2))
        self.assertEqual(proc.finish(), 0)
        self.assertIn("Traceback", proc.stderr_text())  # the ValueError's, in the log
        self.assertIn("ValueError: decode exploded", proc.stderr_text())

    def test_predict_returning_the_wrong_length_fails_the_batch(self):
        proc = self.envelope_runner(short="1")
        results = proc.batch(4, [envelope_request([json_request(x)]) for x in (1, 2, 3)])
        self.assertEqual(results, [(sx.INTERNAL, "predict returned 2 outputs for a batch of 3 "
                                    "inputs")] * 3)
        # The runner carries on.
        results = proc.batch(5, [envelope_request([json_request(1)])])
        self.assertEqual(results, [(sx.INTERNAL, "predict returned 0 outputs for a batch of 1 "
                                    "inputs")])
        self.assertEqual(proc.finish(), 0)

    def test_cuda_out_of_memory_answers_503_and_ends_the_program(self):
        proc = self.start({"model.py": """
            class OutOfMemoryError(RuntimeError):   # as torch.cuda names it
                pass

            class Model:
                def predict(self, batch):
                    if any(b"oom" in item.body for item in batch):
                        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
                    return [b"ok"] * len(batch)
            """})
        proc.handshake(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS))
        self.assertEqual(self.response(proc.batch(1, [envelope_request([b"fine"])])[0])[1],
                         [b"ok"])
        results = proc.batch(2, [envelope_request([b"oom"]), envelope_request([b"fine"])],
                             ends=True)
        for status, message in results:
            self.assertEqual(status, sx.UNAVAILABLE)
            self.assertIn("CUDA out of memory in predict (the model's program restarts", message)
            self.assertIn("Tried to allocate 2.00 GiB", message)
        # The answer said so; then the program ends by itself (the plugin starts a new one).
        self.assertIsNone(proc.read_frame())
        self.assertEqual(proc.proc.wait(IO_TIMEOUT_S), 0)

    def test_request_parameters_reach_decode(self):
        proc = self.start({"model.py": """
            import numpy as np

            class Params:
                def decode(self, request):
                    params = getattr(request, "parameters", None)
                    if params is None:          # an envelope model's Request
                        params = request.params
                    return params

                def predict(self, batch):
                    return batch

                def encode(self, params):
                    return {"OUT": np.array([[repr(sorted(params.items()))]], dtype=object)}
            """})
        proc.handshake(hello_body([("IN", "INT32", [1])], [("OUT", "BYTES", [1])]))
        tensor = ([("IN", "INT32", [1, 1], struct.pack("<i", 1))], ["OUT"])
        results = proc.batch(1, [tensor + ({"lang": "en", "n": "3"},), tensor])
        self.assertEqual([bytes_elements(r[1]["OUT"][2]) for r in results],
                         [[b"[('lang', 'en'), ('n', '3')]"], [b"[]"]])
        self.assertEqual(proc.finish(), 0)

        # An envelope model: a raw element's request gets them as its params; an envelope's
        # own query parameters win over them.
        proc = self.start({"model.py": """
            class Params:
                def decode(self, request):
                    return request.params

                def predict(self, batch):
                    return [repr(sorted(p.items())) for p in batch]
            """})
        proc.handshake(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS))
        enveloped = sy.encode_request_envelope("text/plain", {"lang": "de"}, body=b"x")
        results = proc.batch(2, [envelope_request([b"raw"]) + ({"lang": "en"},),
                                 envelope_request([enveloped]) + ({"lang": "en", "k": "v"},)])
        self.assertEqual(self.response(results[0])[1], [b"[('lang', 'en')]"])
        resp = self.response(results[1])[1][0]
        self.assertEqual(resp.body, b"[('k', 'v'), ('lang', 'de')]")
        self.assertEqual(proc.finish(), 0)

    def test_predict_stops_when_its_requests_are_cancelled(self):
        proc = self.start({"model.py": """
            import sys, time
            import switchyard

            class Waits:
                def setup(self, ctx):
                    self.ctx = ctx

                def decode(self, request):
                    if request.body == b"slow":
                        time.sleep(0.5)        # the test cancels the others meanwhile
                    return request.body

                def predict(self, batch):
                    give_up = time.monotonic() + 20
                    while b"wait" in batch and time.monotonic() < give_up:
                        if self.ctx.cancelled():
                            print("predict stopped", batch, file=sys.stderr)
                            raise switchyard.Cancelled("stopped early")
                        time.sleep(0.01)
                    return batch
            """})
        proc.handshake(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS))
        # Both requests of the predict call cancelled (one of them twice): it stops early. A
        # CANCEL of another batch changes nothing.
        results = proc.batch(7, [envelope_request([b"wait"]), envelope_request([b"wait"])],
                             cancels=[(0.2, 6, 0, sx.CLIENT_GONE), (0.1, 7, 0, sx.CLIENT_GONE),
                                      (0.2, 7, 0, sx.CLIENT_GONE),
                                      (0.2, 7, 1, sx.TIMEOUT_PASSED)])
        self.assertEqual(results, [(sx.UNAVAILABLE, "stopped early")] * 2)
        self.assertIn("predict stopped [b'wait', b'wait']", proc.stderr_text())
        # A request cancelled while the batch decodes is not predicted; the others are.
        results = proc.batch(8, [envelope_request([b"gone"]), envelope_request([b"slow"])],
                             cancels=[(0.1, 8, 0, sx.TIMEOUT_PASSED)])
        self.assertEqual(results[0], (sx.UNAVAILABLE, "the request was cancelled before "
                                                      "predict: its timeout passed"))
        self.assertEqual(self.response(results[1])[1], [b"slow"])
        # Nothing cancelled: the loop ends by itself only for inputs without "wait".
        self.assertEqual(self.response(proc.batch(9, [envelope_request([b"x"])])[0])[1], [b"x"])
        # Pipelined: the next BATCH arrives while one is computed, and a CANCEL of the batch
        # being computed still reaches it after that.
        proc.send(sx.BATCH, batch_body(10, [envelope_request([b"wait"])]))
        proc.send(sx.BATCH, batch_body(11, [envelope_request([b"next"])]))
        time.sleep(0.2)
        proc.send(sx.CANCEL, struct.pack("<QIB", 10, 0, sx.CLIENT_GONE))
        for batch_id, expected in ((10, (sx.UNAVAILABLE, "stopped early")), (11, None)):
            kind, body = proc.read_frame()
            result_id, results, _ = parse_result(body)
            self.assertEqual((kind, result_id), (sx.RESULT, batch_id))
            if expected:
                self.assertEqual(results, [expected])
            else:
                self.assertEqual(self.response(results[0])[1], [b"next"])
        self.assertEqual(proc.finish(), 0)

    def test_setup_failure_exits_with_a_traceback(self):
        proc = self.start({"model.py": """
            class Model:
                def setup(self, ctx):
                    raise RuntimeError("no weights in " + ctx.version_dir)
                def predict(self, batch):
                    return batch
            """})
        proc.send(sx.HELLO, hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS))
        self.assertIsNone(proc.read_frame())
        self.assertEqual(proc.proc.wait(IO_TIMEOUT_S), 1)
        stderr = proc.stderr_text()
        self.assertIn("Traceback (most recent call last)", stderr)
        self.assertIn("RuntimeError: no weights in /models/m/3", stderr)

    def test_class_errors_exit_with_a_message(self):
        proc = self.start({"model.py": "class A:\n    pass\n"})
        self.assertIsNone(proc.read_frame())
        self.assertEqual(proc.proc.wait(IO_TIMEOUT_S), 1)
        self.assertIn("defines no class with a predict method (classes defined there: A)",
                      proc.stderr_text())

    def test_print_does_not_corrupt_the_stream(self):
        proc = self.start({"model.py": """
            import os, subprocess, sys
            print("at import")
            sys.stdout.write("x" * 100000)
            class Noisy:
                def setup(self, ctx):
                    print("in setup")
                    os.write(1, b"raw fd 1 write\\n")
                    subprocess.run(["echo", "from a child"], check=True)
                def predict(self, batch):
                    print("in predict", batch)
                    return [b"ok"] * len(batch)
            """})
        proc.handshake(hello_body(ENVELOPE_INPUTS, ENVELOPE_OUTPUTS))
        results = proc.batch(1, [envelope_request([sy.encode_request_envelope(body=b"a")]),
                                 envelope_request([b"raw"])])
        resp = self.response(results[0])[1][0]
        self.assertEqual((resp.content_type, resp.body), ("application/octet-stream", b"ok"))
        self.assertEqual(self.response(results[1])[1], [b"ok"])
        self.assertEqual(proc.finish(), 0)
        stderr = proc.stderr_text()
        for text in ["at import", "in setup", "raw fd 1 write", "from a child", "in predict"]:
            self.assertIn(text, stderr)

    def test_tensor_mode(self):
        proc = self.start({"model.py": TENSOR_MODEL})
        inputs = [("A", "INT32", [2]), ("B", "INT32", [2])]
        outputs = [("SUM", "INT32", [2]), ("DIFF", "INT32", [2])]
        proc.handshake(hello_body(inputs, outputs, max_batch_size=4))

        def request(a, b, wanted):
            return ([("A", "INT32", [1, 2], struct.pack("<2i", *a)),
                     ("B", "INT32", [1, 2], struct.pack("<2i", *b))], wanted)

        results = proc.batch(8, [request((1, 2), (10, 20), ["SUM", "DIFF"]),
                                 request((5, 5), (1, 2), ["DIFF"]),
                                 request((0, 0), (0, 0), ["PRODUCT"])])
        self.assertEqual(results[0], (0, {"SUM": ("INT32", [1, 2], struct.pack("<2i", 11, 22)),
                                          "DIFF": ("INT32", [1, 2], struct.pack("<2i", -9, -18))}))
        self.assertEqual(results[1], (0, {"DIFF": ("INT32", [1, 2], struct.pack("<2i", 4, 3))}))
        self.assertEqual(results[2], (sx.INTERNAL, "encode did not return the requested output "
                                      "'PRODUCT' (it returned 'SUM', 'DIFF')"))
        self.assertEqual(proc.finish(), 0)

    def test_tensor_mode_without_batching(self):
        proc = self.start({"model.py": """
            class Negate:
                def predict(self, inputs):   # max_batch_size 0: one request's inputs
                    return {"OUT": -inputs["IN"]}
            """})
        proc.handshake(hello_body([("IN", "INT32", [3])], [("OUT", "INT32", [3])], 0))
        results = proc.batch(1, [([("IN", "INT32", [3], struct.pack("<3i", 1, -2, 3))],
                                  ["OUT"])])
        self.assertEqual(results, [(0, {"OUT": ("INT32", [3], struct.pack("<3i", -1, 2, -3))})])
        self.assertEqual(proc.finish(), 0)


if __name__ == "__main__":
    unittest.main()
