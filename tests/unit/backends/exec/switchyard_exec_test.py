"""Unit tests of clients/python/switchyard_exec.py (the Python helper of the exec backend):
datatype mapping, tensor encoding, the frame parsers, and run_once's per_request folder.
The persistent protocol end to end is covered by exec_plugin_test (C++), which runs programs
built on this module. Run with Debian's python3 (numpy needed)."""

import json
import os
import shutil
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "clients", "python"))

import numpy as np  # noqa: E402

import switchyard_exec as sx  # noqa: E402


def bytes_elements(*elements):
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


class TensorTest(unittest.TestCase):
    def test_numeric_round_trip(self):
        for dt, values in [("INT32", [1, -2, 2**31 - 1]), ("UINT16", [0, 65535, 7]),
                           ("FP64", [0.5, -1e300, 3.0]), ("BOOL", [True, False, True]),
                           ("INT8", [-128, 127, 0]), ("FP16", [1.0, -2.0, 0.5])]:
            arr = np.array(values, dtype=sx.numpy_dtype(dt)).reshape(1, 3)
            shape, data = sx.encode_tensor("x", dt, arr)
            self.assertEqual(shape, [1, 3])
            back = sx.decode_tensor(dt, shape, bytearray(data))
            np.testing.assert_array_equal(back, arr)

    def test_decoded_arrays_are_writable_when_the_buffer_is(self):
        arr = sx.decode_tensor("INT32", [2], bytearray(8))
        arr += 1
        self.assertEqual(arr.tolist(), [1, 1])

    def test_bytes(self):
        data = bytes_elements(b"", b"hello", b"\x00\xff")
        arr = sx.decode_tensor("BYTES", [3], data)
        self.assertEqual(arr.dtype, object)
        self.assertEqual(list(arr), [b"", b"hello", b"\x00\xff"])
        shape, out = sx.encode_tensor("s", "BYTES", np.array([b"a", "é", 7], dtype=object))
        self.assertEqual(shape, [3])
        self.assertEqual(out, bytes_elements(b"a", "é".encode(), b"7"))
        with self.assertRaises(sx.ProtocolError):
            sx.decode_tensor("BYTES", [1], data)  # extra bytes

    def test_wrong_size_is_an_error(self):
        with self.assertRaises(sx.ProtocolError):
            sx.decode_tensor("INT32", [2], bytearray(7))

    def test_same_kind_conversion_only(self):
        shape, data = sx.encode_tensor("o", "INT32", np.array([1, 2], dtype=np.int64))
        self.assertEqual(data, struct.pack("<2i", 1, 2))
        shape, data = sx.encode_tensor("o", "FP32", [1.5, 2])
        self.assertEqual(data, struct.pack("<2f", 1.5, 2.0))
        with self.assertRaises(TypeError) as ctx:
            sx.encode_tensor("o", "INT32", np.array([1.5]))
        self.assertIn("cannot convert float64 values to INT32", str(ctx.exception))

    def test_bf16(self):
        values = np.array([1.0, -2.5, 3.140625], dtype=np.float32)
        bits = sx.float32_to_bf16(values)
        self.assertEqual(bits.dtype, np.uint16)
        self.assertEqual(bits.tolist(), [0x3F80, 0xC020, 0x4049])
        np.testing.assert_array_equal(sx.bf16_to_float32(bits), values)
        # Round to nearest even: 1 + 2^-8 is halfway between two BF16 values.
        self.assertEqual(sx.float32_to_bf16(np.array([1.00390625], np.float32)).tolist(), [0x3F80])
        shape, data = sx.encode_tensor("b", "BF16", values)
        self.assertEqual(data, bits.tobytes())


class FrameTest(unittest.TestCase):
    def test_hello_and_batch_parsing(self):
        w = sx._Writer()
        w.parts.append(sx.MAGIC)
        w.u32(1)
        w.str("m")
        w.parts.append(struct.pack("<q", 3))
        w.u32(8)
        w.u32(1)
        w.str("IN")
        w.str("INT32")
        w.u32(1)
        w.parts.append(struct.pack("<q", -1))
        w.u32(0)
        frame = w.frame(sx.HELLO)
        size, kind = struct.unpack_from("<IB", frame)
        self.assertEqual((size, kind), (len(frame) - 4, sx.HELLO))
        info = sx._parse_hello(bytearray(frame[5:]))
        self.assertEqual((info.name, info.version, info.max_batch_size), ("m", 3, 8))
        self.assertEqual(info.inputs[0].shape, [-1])

        b = sx._Writer()
        b.u64(9)
        b.u32(1)
        b.u32(1)
        b.tensor("IN", "INT32", [1, 2], struct.pack("<2i", 5, 6))
        b.u32(1)
        b.str("OUT")
        b.u32(1)  # the request's parameters (this module asks for them in READY)
        b.str("lang")
        b.str("en")
        batch_id, requests = sx._parse_batch(bytearray(b.frame(sx.BATCH)[5:]))
        self.assertEqual(batch_id, 9)
        inputs, wanted = requests[0]
        self.assertEqual(inputs["IN"].tolist(), [[5, 6]])
        self.assertEqual(inputs.parameters, {"lang": "en"})
        self.assertEqual(wanted, ["OUT"])

    def test_inputs_in_the_shared_region_are_views_of_it(self):
        region = bytearray(256)
        region[64:72] = struct.pack("<2i", 7, 8)
        shared = memoryview(region)

        def batch(size_field, offset):
            b = sx._Writer()
            b.u64(4)
            b.u32(1)
            b.u32(1)
            b.str("IN")
            b.str("INT32")
            b.u32(2)
            b.parts.append(struct.pack("<2q", 1, 2))
            b.u64(size_field)
            b.u64(offset)
            b.u32(0)  # no outputs wanted
            b.u32(0)  # no parameters
            return bytearray(b.frame(sx.BATCH)[5:])

        _, requests = sx._parse_batch(batch(8 | sx.SHARED_TENSOR_BIT, 64), shared)
        array = requests[0][0]["IN"]
        self.assertEqual(array.tolist(), [[7, 8]])
        region[64:68] = struct.pack("<i", 9)  # a view, not a copy
        self.assertEqual(array.tolist(), [[9, 8]])
        with self.assertRaisesRegex(sx.ProtocolError, "names 8 bytes at 252 of a shared region "
                                    "of 256"):
            sx._parse_batch(batch(8 | sx.SHARED_TENSOR_BIT, 252), shared)
        with self.assertRaisesRegex(sx.ProtocolError, "of a shared region of 0"):
            sx._parse_batch(batch(8 | sx.SHARED_TENSOR_BIT, 64))  # the program has none

    def test_version_mismatch(self):
        w = sx._Writer()
        w.parts.append(sx.MAGIC)
        w.u32(2)
        with self.assertRaises(sx.ProtocolError):
            sx._parse_hello(bytearray(w.frame(sx.HELLO)[5:]))


class RunOnceTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        with open(os.path.join(self.dir, "input0.bin"), "wb") as f:
            f.write(struct.pack("<3i", 1, 2, 3))
        request = {"protocol": 1, "model": "m", "model_version": 1, "max_batch_size": 0,
                   "inputs": [{"name": "A", "datatype": "INT32", "shape": [3],
                               "file": "input0.bin"}],
                   "outputs": [{"name": "B", "datatype": "INT64", "file": "output1.bin"}]}
        with open(os.path.join(self.dir, "request.json"), "w") as f:
            json.dump(request, f)

    def response(self):
        with open(os.path.join(self.dir, "response.json")) as f:
            return json.load(f)

    def test_writes_requested_outputs(self):
        status = sx.run_once(lambda x: {"B": x["A"] * 2, "C": 0}, self.dir)
        self.assertEqual(status, 0)
        self.assertEqual(self.response(), {"outputs": [{"name": "B", "shape": [3]}]})
        with open(os.path.join(self.dir, "output1.bin"), "rb") as f:
            self.assertEqual(f.read(), struct.pack("<3q", 2, 4, 6))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "output2.bin")))

    def test_exception_becomes_the_error(self):
        def infer(inputs):
            raise sx.InvalidInput("A must be positive")
        self.assertEqual(sx.run_once(infer, self.dir), 1)
        self.assertEqual(self.response(), {"error": "A must be positive",
                                           "code": "INVALID_ARGUMENT"})

    def test_missing_output_is_an_error(self):
        self.assertEqual(sx.run_once(lambda x: {}, self.dir), 1)
        self.assertEqual(self.response()["code"], "INTERNAL")
        self.assertIn("'B'", self.response()["error"])


if __name__ == "__main__":
    unittest.main()
