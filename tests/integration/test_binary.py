"""The binary tensor data extension in both directions: Inference-Header-Content-Length,
binary_data_size, binary_data, binary_data_output, the raw-body form (header length 0), BYTES
serialisation, FP16/BF16, and the 400s of malformed binary requests."""

import json
import os
import struct
import unittest

import harness

IN0 = [i * 5 - 33 for i in range(16)]
IN1 = [7 - i for i in range(16)]
SUM = [a + b for a, b in zip(IN0, IN1)]
DIFF = [a - b for a, b in zip(IN0, IN1)]


def binary_input(name, shape, datatype, raw):
    return {"name": name, "shape": shape, "datatype": datatype,
            "parameters": {"binary_data_size": len(raw)}}


class BinaryTest(harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "2"]

    @classmethod
    def repository(cls, tmpdir):
        ex = harness.examples_models()
        return harness.make_repository(
            tmpdir, *[os.path.join(ex, m) for m in ("simple", "simple_string",
                                                     "simple_identity", "sim_batch")],
            harness.test_models("basic", "half_identity"))

    def post(self, model, body, header_length, extra_headers=None):
        headers = {"Inference-Header-Content-Length": str(header_length)}
        headers.update(extra_headers or {})
        return self.server.request("POST", "/v2/models/%s/infer" % model, body, headers)

    def simple_binary(self, outputs=None, parameters=None):
        raw0, raw1 = harness.pack("INT32", IN0), harness.pack("INT32", IN1)
        req = {"inputs": [binary_input("INPUT0", [1, 16], "INT32", raw0),
                          binary_input("INPUT1", [1, 16], "INT32", raw1)]}
        if outputs is not None:
            req["outputs"] = outputs
        if parameters is not None:
            req["parameters"] = parameters
        return harness.encode_infer(req, [raw0, raw1])

    def test_binary_in_binary_out(self):
        body, hlen = self.simple_binary(outputs=[
            {"name": "OUTPUT0", "parameters": {"binary_data": True}},
            {"name": "OUTPUT1", "parameters": {"binary_data": True}}])
        resp = self.assertOk(self.post("simple", body, hlen))
        self.assertIsNotNone(resp.header("Inference-Header-Content-Length"), resp.header_list)
        self.assertEqual(int(resp.header("Content-Length")), len(resp.body))
        header, binary = harness.decode_infer(resp)
        for out in header["outputs"]:
            self.assertNotIn("data", out)
            self.assertEqual(out["parameters"]["binary_data_size"], 64)
            self.assertEqual(out["datatype"], "INT32")
            self.assertEqual(out["shape"], [1, 16])
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT0"]), SUM)
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT1"]), DIFF)

    def test_binary_in_json_out(self):
        body, hlen = self.simple_binary(outputs=[
            {"name": "OUTPUT0", "parameters": {"binary_data": False}},
            {"name": "OUTPUT1"}])
        resp = self.assertOk(self.post("simple", body, hlen))
        hl = resp.header("Inference-Header-Content-Length")
        self.assertTrue(hl is None or int(hl) == len(resp.body), resp.header_list)
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][2], SUM)
        self.assertEqual(outs["OUTPUT1"][2], DIFF)
        self.assertIn("data", resp.json()["outputs"][0])

    def test_binary_data_output_request_parameter(self):
        body, hlen = self.simple_binary(parameters={"binary_data_output": True})
        resp = self.assertOk(self.post("simple", body, hlen))
        header, binary = harness.decode_infer(resp)
        self.assertEqual(sorted(binary), ["OUTPUT0", "OUTPUT1"])
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT0"]), SUM)
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT1"]), DIFF)

    def test_json_in_binary_out(self):
        req = harness.simple_request(IN0, IN1, parameters={"binary_data_output": True})
        resp = self.assertOk(self.server.infer("simple", req))
        _, binary = harness.decode_infer(resp)
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT0"]), SUM)
        self.assertEqual(harness.unpack("INT32", binary["OUTPUT1"]), DIFF)

    def test_mixed_inputs_and_outputs(self):
        # INPUT0 as JSON, INPUT1 binary; OUTPUT0 binary, OUTPUT1 JSON (tritonclient's example).
        raw1 = harness.pack("INT32", IN1)
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": IN0},
                          binary_input("INPUT1", [1, 16], "INT32", raw1)],
               "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}},
                           {"name": "OUTPUT1", "parameters": {"binary_data": False}}]}
        body, hlen = harness.encode_infer(req, [raw1])
        resp = self.assertOk(self.post("simple", body, hlen))
        header, binary = harness.decode_infer(resp)
        self.assertEqual(sorted(binary), ["OUTPUT0"])
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][2], SUM)
        self.assertEqual(outs["OUTPUT1"][2], DIFF)

    def test_requested_output_order(self):
        # Binary outputs follow the order of the response's JSON "outputs".
        body, hlen = self.simple_binary(outputs=[
            {"name": "OUTPUT1", "parameters": {"binary_data": True}},
            {"name": "OUTPUT0", "parameters": {"binary_data": True}}])
        resp = self.assertOk(self.post("simple", body, hlen))
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][2], SUM)
        self.assertEqual(outs["OUTPUT1"][2], DIFF)

    def test_batch_of_binary(self):
        vals = [float(i) / 4 for i in range(16 * 5)]
        raw = harness.pack("FP32", vals)
        req = {"inputs": [binary_input("INPUT0", [5, 16], "FP32", raw)],
               "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]}
        body, hlen = harness.encode_infer(req, [raw])
        resp = self.assertOk(self.post("sim_batch", body, hlen))
        header, binary = harness.decode_infer(resp)
        self.assertEqual(header["outputs"][0]["shape"], [5, 16])
        self.assertEqual(binary["OUTPUT0"], raw)

    def test_bytes_binary_both_ways(self):
        elems = [b"", b"\x00", b"\xff\xfe\x00\x01", b"plain", b"x" * 1000, "\u00e9t\u00e9".encode()]
        raw = harness.pack("BYTES", elems)
        req = {"inputs": [binary_input("INPUT0", [2, 3], "BYTES", raw)],
               "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]}
        body, hlen = harness.encode_infer(req, [raw])
        resp = self.assertOk(self.post("simple_identity", body, hlen))
        header, binary = harness.decode_infer(resp)
        self.assertEqual(header["outputs"][0]["shape"], [2, 3])
        self.assertEqual(header["outputs"][0]["datatype"], "BYTES")
        self.assertEqual(harness.unpack("BYTES", binary["OUTPUT0"]), elems)

    def test_large_bytes_element(self):
        big = bytes(range(256)) * 4096  # 1 MiB
        raw = harness.pack("BYTES", [big])
        req = {"inputs": [binary_input("INPUT0", [1, 1], "BYTES", raw)],
               "parameters": {"binary_data_output": True}}
        body, hlen = harness.encode_infer(req, [raw])
        resp = self.assertOk(self.post("simple_identity", body, hlen))
        _, binary = harness.decode_infer(resp)
        self.assertEqual(harness.unpack("BYTES", binary["OUTPUT0"]), [big])

    def instance_input_bytes(self, model):
        status = self.server.get_json("/v2/status")
        for m in status["models"]:
            if m["name"] == model:
                return [sum(i[key] for i in m["instances"])
                        for key in ("input_bytes_in_place", "input_bytes_copied",
                                    "output_bytes_in_place", "output_bytes_copied")]
        raise AssertionError("no model %s in /v2/status" % model)

    def test_binary_tensors_cross_to_and_from_the_worker_without_copies(self):
        # simple_identity runs in worker processes: its body is received in shared memory that
        # the worker maps, and the worker reads the tensor there; the worker writes its output in
        # its own shared memory, and the server writes it to the socket from there.
        big = bytes(range(256)) * 1024
        raw = harness.pack("BYTES", [big])
        req = {"inputs": [binary_input("INPUT0", [1, 1], "BYTES", raw)],
               "parameters": {"binary_data_output": True}}
        body, hlen = harness.encode_infer(req, [raw])
        before = self.instance_input_bytes("simple_identity")
        for _ in range(3):
            resp = self.assertOk(self.post("simple_identity", body, hlen))
            self.assertEqual(int(resp.header("Content-Length")), len(resp.body))
            _, binary = harness.decode_infer(resp)
            self.assertEqual(harness.unpack("BYTES", binary["OUTPUT0"]), [big])
        after = self.instance_input_bytes("simple_identity")
        delta = [a - b for a, b in zip(after, before)]
        self.assertEqual(delta, [3 * len(raw), 0, 3 * len(raw), 0])

    def test_simple_string_binary(self):
        a = [str(i - 8).encode() for i in range(16)]
        b = [str(i * i).encode() for i in range(16)]
        ra, rb = harness.pack("BYTES", a), harness.pack("BYTES", b)
        req = {"inputs": [binary_input("INPUT0", [1, 16], "BYTES", ra),
                          binary_input("INPUT1", [1, 16], "BYTES", rb)],
               "parameters": {"binary_data_output": True}}
        body, hlen = harness.encode_infer(req, [ra, rb])
        resp = self.assertOk(self.post("simple_string", body, hlen))
        outs = harness.output_values(resp)
        self.assertEqual([int(v) for v in outs["OUTPUT0"][2]],
                         [int(x) + int(y) for x, y in zip(a, b)])
        self.assertEqual([int(v) for v in outs["OUTPUT1"][2]],
                         [int(x) - int(y) for x, y in zip(a, b)])

    def test_fp16_and_bf16_round_trip(self):
        vals = [1.0, -2.5, 0.125, 65504.0, 0.0, -0.0, 3.0, 1024.0]
        r16, rb16 = harness.pack("FP16", vals), harness.pack("BF16", vals)
        req = {"inputs": [binary_input("INPUT0", [2, 4], "FP16", r16),
                          binary_input("INPUT1", [2, 4], "BF16", rb16)],
               "parameters": {"binary_data_output": True}}
        body, hlen = harness.encode_infer(req, [r16, rb16])
        resp = self.assertOk(self.post("half_identity", body, hlen))
        header, binary = harness.decode_infer(resp)
        self.assertEqual({o["name"]: o["datatype"] for o in header["outputs"]},
                         {"OUTPUT0": "FP16", "OUTPUT1": "BF16"})
        self.assertEqual(binary["OUTPUT0"], r16)
        self.assertEqual(binary["OUTPUT1"], rb16)

    # -- raw body: Inference-Header-Content-Length: 0 --

    def test_raw_body_single_input(self):
        vals = [i * 1.5 for i in range(16)]
        raw = harness.pack("FP32", vals)
        resp = self.assertOk(self.post("sim_batch", raw, 0,
                                       {"Content-Type": "application/octet-stream"}))
        header, binary = harness.decode_infer(resp)
        self.assertEqual(header["model_name"], "sim_batch")
        self.assertEqual(len(header["outputs"]), 1)
        self.assertEqual(header["outputs"][0]["name"], "OUTPUT0")
        self.assertEqual(header["outputs"][0]["datatype"], "FP32")
        self.assertEqual(header["outputs"][0]["shape"], [1, 16])
        self.assertEqual(binary["OUTPUT0"], raw, "raw-body outputs come back binary")

    def test_raw_body_wrong_size(self):
        for n in (60, 68, 128, 0):
            resp = self.post("sim_batch", b"\x01" * n, 0)
            self.assertError(resp, 400, "raw body of %d bytes -> %r" % (n, resp))

    def test_raw_body_for_multi_input_model(self):
        self.assertError(self.post("simple", b"\x00" * 128, 0), 400)

    # -- malformed binary requests: 400 --

    def test_truncated_binary_data(self):
        body, hlen = self.simple_binary()
        for cut in (1, 32, 64, 100):
            self.assertError(self.post("simple", body[:-cut], hlen), 400, "cut %d" % cut)

    def test_header_length_beyond_body(self):
        body, hlen = self.simple_binary()
        self.assertError(self.post("simple", body, len(body) + 1), 400)
        self.assertError(self.post("simple", body, len(body) + 1000), 400)

    def test_header_length_not_a_number(self):
        body, hlen = self.simple_binary()
        for value in ("abc", "-5", "12x", ""):
            resp = self.server.request("POST", "/v2/models/simple/infer", body,
                                       {"Inference-Header-Content-Length": value})
            self.assertError(resp, 400, "header length %r -> %r" % (value, resp))

    def test_header_length_cuts_the_json(self):
        body, hlen = self.simple_binary()
        self.assertError(self.post("simple", body, hlen - 5), 400)

    def test_binary_size_does_not_match_shape(self):
        raw0 = harness.pack("INT32", IN0)
        raw1 = harness.pack("INT32", IN1[:15])
        req = {"inputs": [binary_input("INPUT0", [1, 16], "INT32", raw0),
                          binary_input("INPUT1", [1, 16], "INT32", raw1)]}
        body, hlen = harness.encode_infer(req, [raw0, raw1])
        self.assertError(self.post("simple", body, hlen), 400)

    def test_binary_size_missing_for_binary_input(self):
        raw0, raw1 = harness.pack("INT32", IN0), harness.pack("INT32", IN1)
        req = {"inputs": [binary_input("INPUT0", [1, 16], "INT32", raw0),
                          {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32"}]}
        body, hlen = harness.encode_infer(req, [raw0, raw1])
        self.assertError(self.post("simple", body, hlen), 400)

    def test_malformed_bytes_elements(self):
        good = harness.pack("BYTES", [b"abc", b"de"])
        for raw in (struct.pack("<I", 100) + b"abc",       # length beyond the data
                    good[:-1],                              # last element cut
                    good + b"\x01\x00"):                    # a partial length prefix
            req = {"inputs": [binary_input("INPUT0", [1, 2], "BYTES", raw)]}
            body, hlen = harness.encode_infer(req, [raw])
            self.assertError(self.post("simple_identity", body, hlen), 400, repr(raw))
        # Three elements where the shape says two.
        raw = harness.pack("BYTES", [b"a", b"b", b"c"])
        req = {"inputs": [binary_input("INPUT0", [1, 2], "BYTES", raw)]}
        body, hlen = harness.encode_infer(req, [raw])
        self.assertError(self.post("simple_identity", body, hlen), 400)

    def test_server_still_serves_binary_after_errors(self):
        body, hlen = self.simple_binary(parameters={"binary_data_output": True})
        with self.server.raw() as conn:
            bad = conn.request("POST", "/v2/models/simple/infer", body[:-10],
                               {"Inference-Header-Content-Length": str(hlen)})
            self.assertError(bad, 400)
            good = conn.request("POST", "/v2/models/simple/infer", body,
                                {"Inference-Header-Content-Length": str(hlen)})
            self.assertEqual(harness.output_values(self.assertOk(good))["OUTPUT0"][2], SUM)



class BinaryWithoutBodyPoolTest(harness.ServerTestCase):
    """--body-pool-mb 0: bodies go to ordinary memory and inputs are copied to the worker."""
    SERVER_ARGS = ["--body-pool-mb", "0"]

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(
            tmpdir, os.path.join(harness.examples_models(), "simple_identity"))

    def test_inputs_are_copied_and_outputs_still_shared(self):
        raw = harness.pack("BYTES", [bytes(range(256)) * 64])
        req = {"inputs": [binary_input("INPUT0", [1, 1], "BYTES", raw)],
               "parameters": {"binary_data_output": True}}
        body, hlen = harness.encode_infer(req, [raw])
        resp = self.server.request("POST", "/v2/models/simple_identity/infer", body,
                                   {"Inference-Header-Content-Length": str(hlen)})
        self.assertOk(resp)
        _, binary = harness.decode_infer(resp)
        self.assertEqual(binary["OUTPUT0"], raw)
        instance = self.server.get_json("/v2/status")["models"][0]["instances"][0]
        self.assertEqual(instance["input_bytes_in_place"], 0)
        self.assertEqual(instance["input_bytes_copied"], len(raw))
        self.assertEqual(instance["output_bytes_in_place"], len(raw))


if __name__ == "__main__":
    unittest.main()
