"""Inference with JSON tensors (nested and flat), and every client error an infer request can
make: each answers its status with {"error": ...}, and the server keeps serving afterwards."""

import json
import os
import unittest

import harness
from harness import simple_request

IN0 = list(range(16))
IN1 = [3 * i - 20 for i in range(16)]


class InferJsonTest(harness.ServerTestCase):
    SERVER_ARGS = ["--http-threads", "2"]

    @classmethod
    def repository(cls, tmpdir):
        ex = harness.examples_models()
        return harness.make_repository(
            tmpdir, *[os.path.join(ex, m) for m in ("simple", "simple_string",
                                                     "simple_identity", "sim_batch")],
            *[harness.test_models("basic", m) for m in ("half_identity", "versioned",
                                                         "nobatch")])

    def check_simple(self, resp, in0, in1, batch=1, names=("OUTPUT0", "OUTPUT1")):
        self.assertOk(resp)
        body = resp.json()
        self.assertEqual(body["model_name"], "simple")
        if "model_version" in body:
            self.assertEqual(body["model_version"], "1")
        outs = harness.output_values(resp)
        self.assertEqual(sorted(outs), sorted(names))
        expect = {"OUTPUT0": [a + b for a, b in zip(in0, in1)],
                  "OUTPUT1": [a - b for a, b in zip(in0, in1)]}
        for name in names:
            dt, shape, values = outs[name]
            self.assertEqual(dt, "INT32")
            self.assertEqual(shape, [batch, 16])
            self.assertEqual(values, expect[name], name)

    # -- success --

    def test_flat_data(self):
        self.check_simple(self.server.infer("simple", simple_request(IN0, IN1)), IN0, IN1)

    def test_nested_data(self):
        self.check_simple(self.server.infer("simple", simple_request(IN0, IN1, nested=True)),
                          IN0, IN1)

    def test_batch_of_three_nested_and_flat(self):
        in0 = [i * 7 - 100 for i in range(48)]
        in1 = [(-1) ** i * i for i in range(48)]
        for nested in (False, True):
            resp = self.server.infer("simple", simple_request(in0, in1, batch=3, nested=nested))
            self.check_simple(resp, in0, in1, batch=3)

    def test_max_batch_size_is_accepted(self):
        in0 = list(range(128))
        in1 = [1] * 128
        self.check_simple(self.server.infer("simple", simple_request(in0, in1, batch=8)),
                          in0, in1, batch=8)

    def test_int32_extremes(self):
        in0 = [2**31 - 1, -2**31, 0, -1] * 4
        in1 = [0, 0, 2**31 - 1, -2**31 + 1] * 4
        self.check_simple(self.server.infer("simple", simple_request(in0, in1)), in0, in1)

    def test_explicit_version(self):
        self.check_simple(self.server.infer("simple", simple_request(IN0, IN1), version=1),
                          IN0, IN1)

    def test_request_id_is_echoed(self):
        resp = self.server.infer("simple", simple_request(IN0, IN1, id="req-42"))
        self.check_simple(resp, IN0, IN1)
        self.assertEqual(resp.json().get("id"), "req-42")

    def test_requested_output_subset(self):
        req = simple_request(IN0, IN1, outputs=[{"name": "OUTPUT1"}])
        self.check_simple(self.server.infer("simple", req), IN0, IN1, names=("OUTPUT1",))
        req = simple_request(IN0, IN1, outputs=[{"name": "OUTPUT0",
                                                  "parameters": {"binary_data": False}}])
        self.check_simple(self.server.infer("simple", req), IN0, IN1, names=("OUTPUT0",))

    def test_unknown_request_parameters_are_ignored(self):
        req = simple_request(IN0, IN1, parameters={"my_param": "x", "other": 3, "flag": True})
        self.check_simple(self.server.infer("simple", req), IN0, IN1)

    def test_generous_timeout_and_priority(self):
        req = simple_request(IN0, IN1, parameters={"timeout": 60000000, "priority": 1})
        self.check_simple(self.server.infer("simple", req), IN0, IN1)

    def test_simple_string(self):
        a = [str(i * 11 - 50) for i in range(16)]
        b = [str(-i) for i in range(16)]
        req = {"inputs": [
            {"name": "INPUT0", "shape": [1, 16], "datatype": "BYTES", "data": a},
            {"name": "INPUT1", "shape": [1, 16], "datatype": "BYTES", "data": [b]}]}
        resp = self.assertOk(self.server.infer("simple_string", req))
        outs = harness.output_values(resp)
        self.assertEqual(outs["OUTPUT0"][0], "BYTES")
        self.assertEqual(outs["OUTPUT0"][1], [1, 16])
        self.assertEqual([int(v) for v in outs["OUTPUT0"][2]],
                         [int(x) + int(y) for x, y in zip(a, b)])
        self.assertEqual([int(v) for v in outs["OUTPUT1"][2]],
                         [int(x) - int(y) for x, y in zip(a, b)])

    def test_identity_strings_round_trip(self):
        words = ["", "hello", "h\u00e9llo w\u00f6rld", "he\x00llo", "tab\tquote\"back\\slash",
                 "\u2603\U0001F600"]
        req = {"inputs": [{"name": "INPUT0", "shape": [2, 3], "datatype": "BYTES",
                           "data": [words[:3], words[3:]]}]}
        resp = self.assertOk(self.server.infer("simple_identity", req))
        dt, shape, values = harness.output_values(resp)["OUTPUT0"]
        self.assertEqual((dt, shape), ("BYTES", [2, 3]))
        self.assertEqual(values, [w.encode("utf-8") for w in words])

    def test_fp32_identity(self):
        vals = [0.5 * i - 3.25 for i in range(32)]
        req = {"inputs": [{"name": "INPUT0", "shape": [2, 16], "datatype": "FP32",
                           "data": vals}]}
        resp = self.assertOk(self.server.infer("sim_batch", req))
        dt, shape, values = harness.output_values(resp)["OUTPUT0"]
        self.assertEqual((dt, shape, values), ("FP32", [2, 16], vals))

    def test_model_without_batch_dimension(self):
        req = {"inputs": [{"name": "INPUT0", "shape": [2, 3], "datatype": "INT32",
                           "data": [[1, 2, 3], [4, 5, 6]]}]}
        resp = self.assertOk(self.server.infer("nobatch", req))
        self.assertEqual(harness.output_values(resp)["OUTPUT0"],
                         ("INT32", [2, 3], [1, 2, 3, 4, 5, 6]))
        # A batch dimension is a shape error for this model.
        req["inputs"][0]["shape"] = [1, 2, 3]
        self.assertError(self.server.infer("nobatch", req), 400)

    def test_versions(self):
        meta = self.server.get_json("/v2/models/versioned")
        self.assertIn("3", meta["versions"])
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "INT32",
                           "data": [7, 8]}]}
        resp = self.assertOk(self.server.infer("versioned", req))
        self.assertEqual(resp.json()["model_version"], "3")
        self.assertOk(self.server.infer("versioned", req, version=3))
        self.assertError(self.server.infer("versioned", req, version=5), 404)
        resp = self.server.infer("versioned", req, version="abc")
        self.assertError(resp, 404 if resp.status != 400 else 400)

    # -- client errors: 400 --

    def assertBadRequest(self, body, model="simple", headers=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        resp = self.server.request("POST", "/v2/models/%s/infer" % model, body, hdrs)
        return self.assertError(resp, 400, "body %r -> %r" % (body[:200], resp))

    def test_bad_json(self):
        for body in (b'{"inputs": [', b"not json at all", b"", b"[1, 2, 3]", b"null", b'"str"',
                     b'{"inputs": [}', b"\xff\xfe\x00garbage", b'{"inputs": 5}',
                     b'{"inputs": [5]}', b'{"inputs": [{"name": 1}]}'):
            self.assertBadRequest(body)

    def test_missing_fields(self):
        self.assertBadRequest({})
        self.assertBadRequest({"inputs": []})
        for field in ("name", "shape", "datatype", "data"):
            req = simple_request(IN0, IN1)
            del req["inputs"][0][field]
            self.assertBadRequest(req)

    def test_wrong_datatype(self):
        for dt in ("FP32", "INT64", "BYTES", "INT33", "int32", ""):
            req = simple_request(IN0, IN1)
            req["inputs"][1]["datatype"] = dt
            self.assertBadRequest(req)

    def test_wrong_shape(self):
        for shape, n in (([1, 15], 15), ([1, 17], 17), ([16], 16), ([1, 1, 16], 16),
                         ([2, 8], 16), ([-1, 16], 16)):
            req = simple_request(IN0, IN1)
            req["inputs"][0]["shape"] = shape
            req["inputs"][0]["data"] = list(range(n))
            self.assertBadRequest(req)

    def test_batch_larger_than_max_batch_size(self):
        self.assertBadRequest(simple_request(list(range(144)), [0] * 144, batch=9))

    def test_data_count_does_not_match_shape(self):
        for n in (15, 17, 0, 32):
            req = simple_request(IN0, IN1)
            req["inputs"][1]["data"] = list(range(n))
            self.assertBadRequest(req)
        req = simple_request(IN0, IN1, batch=2, nested=False)  # shape [2,16], 16 values
        self.assertBadRequest(req)

    def test_wrong_element_types(self):
        for bad in ("7", None, {"a": 1}, 1.5, 2**40, True):
            req = simple_request(IN0, IN1)
            req["inputs"][0]["data"] = IN0[:15] + [bad]
            self.assertBadRequest(req)
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "BYTES",
                           "data": ["a", 5]}]}
        self.assertBadRequest(req, model="simple_identity")

    def test_wrong_input_name(self):
        req = simple_request(IN0, IN1)
        req["inputs"][1]["name"] = "INPUT9"
        self.assertBadRequest(req)
        req = simple_request(IN0, IN1)
        req["inputs"][0]["name"] = "input0"  # names are case-sensitive
        self.assertBadRequest(req)

    def test_extra_or_duplicate_input(self):
        req = simple_request(IN0, IN1)
        req["inputs"].append(dict(req["inputs"][0], name="INPUT2"))
        self.assertBadRequest(req)
        req = simple_request(IN0, IN1)
        req["inputs"].append(dict(req["inputs"][0]))
        self.assertBadRequest(req)

    def test_missing_input(self):
        req = simple_request(IN0, IN1)
        del req["inputs"][1]
        self.assertBadRequest(req)

    def test_inputs_with_different_batch_sizes(self):
        req = simple_request(IN0, IN1)
        req["inputs"][1]["shape"] = [2, 16]
        req["inputs"][1]["data"] = IN1 + IN1
        self.assertBadRequest(req)

    def test_unknown_requested_output(self):
        self.assertBadRequest(simple_request(IN0, IN1, outputs=[{"name": "OUTPUT7"}]))
        self.assertBadRequest(simple_request(IN0, IN1, outputs=[{"nom": "OUTPUT0"}]))

    def test_fp16_and_bf16_in_json_are_refused(self):
        req = {"inputs": [
            {"name": "INPUT0", "shape": [1, 4], "datatype": "FP16", "data": [1.0, 2.0, 3, 4]},
            {"name": "INPUT1", "shape": [1, 4], "datatype": "BF16",
             "parameters": {"binary_data_size": 8}}]}
        body, hlen = harness.encode_infer(req, [harness.pack("BF16", [1.0, 2.0, 3.0, 4.0])])
        resp = self.server.request("POST", "/v2/models/half_identity/infer", body,
                                   {"Inference-Header-Content-Length": str(hlen)})
        err = self.assertError(resp, 400)
        self.assertIn("binary", err.lower(), "the error should tell the client to use binary "
                      "data: %r" % err)
        req = {"inputs": [
            {"name": "INPUT0", "shape": [1, 4], "datatype": "FP16",
             "parameters": {"binary_data_size": 8}},
            {"name": "INPUT1", "shape": [1, 4], "datatype": "BF16", "data": [1.0, 2.0, 3, 4]}]}
        body, hlen = harness.encode_infer(req, [harness.pack("FP16", [1.0, 2.0, 3.0, 4.0])])
        resp = self.server.request("POST", "/v2/models/half_identity/infer", body,
                                   {"Inference-Header-Content-Length": str(hlen)})
        err = self.assertError(resp, 400)
        self.assertIn("binary", err.lower(), err)

    def test_fp16_output_in_json_is_refused_or_binary(self):
        # Asking for an FP16 output as JSON cannot be honoured: either a 400 telling the client to
        # use binary data, or the output comes back binary anyway.
        vals = [1.0, -2.5, 0.125, 65504.0]
        req = {"inputs": [
            {"name": "INPUT0", "shape": [1, 4], "datatype": "FP16",
             "parameters": {"binary_data_size": 8}},
            {"name": "INPUT1", "shape": [1, 4], "datatype": "BF16",
             "parameters": {"binary_data_size": 8}}],
            "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": False}}]}
        body, hlen = harness.encode_infer(req, [harness.pack("FP16", vals),
                                                harness.pack("BF16", vals)])
        resp = self.server.request("POST", "/v2/models/half_identity/infer", body,
                                   {"Inference-Header-Content-Length": str(hlen)})
        if resp.status == 400:
            self.assertIn("binary", self.assertError(resp, 400).lower())
        else:
            self.assertOk(resp)
            _, binary = harness.decode_infer(resp)
            self.assertIn("OUTPUT0", binary, "an FP16 output cannot travel as JSON")
            self.assertEqual(harness.unpack("FP16", binary["OUTPUT0"]), vals)

    # -- 404 --

    def test_unknown_model_and_version(self):
        req = simple_request(IN0, IN1)
        self.assertError(self.server.infer("no_such_model", req), 404)
        self.assertError(self.server.infer("simple", req, version=2), 404)
        self.assertError(self.server.infer("no_such_model", req, version=1), 404)

    # -- the server and the connection survive client errors --

    def test_keep_alive_survives_client_errors(self):
        with self.server.raw() as conn:
            for body, status in ((b"{bad", 400), (json.dumps(simple_request(IN0, IN1)), 200),
                                 (json.dumps({"inputs": []}), 400),
                                 (json.dumps(simple_request(IN0, IN1)), 200)):
                resp = conn.request("POST", "/v2/models/simple/infer", body,
                                    {"Content-Type": "application/json"})
                self.assertEqual(resp.status, status, resp)
            resp = conn.request("POST", "/v2/models/nope/infer", b"{}")
            self.assertError(resp, 404)
            self.check_simple(conn.request("POST", "/v2/models/simple/infer",
                                           json.dumps(simple_request(IN0, IN1))), IN0, IN1)


if __name__ == "__main__":
    unittest.main()
