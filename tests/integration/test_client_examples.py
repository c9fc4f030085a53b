"""Triton's HTTP client examples, ported to kserve_client (which sends what tritonclient.http
sends), run unchanged in logic against switchyard serving examples/models:
simple_http_infer_client.py, simple_http_health_metadata.py, simple_http_string_infer_client.py
(including its simple_identity part) and reuse_infer_objects_client.py's HTTP half.
Adaptation: the server-name check expects "switchyard" where the example expects "triton"."""

import unittest

import harness
import kserve_client as httpclient
from kserve_client import InferenceServerException


class ClientExamplesTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()

    def setUp(self):
        self.client = httpclient.InferenceServerClient("127.0.0.1:%d" % self.server.port)

    def tearDown(self):
        self.client.close()
        super().tearDown()

    # -- the client itself sends what tritonclient sends --

    def test_request_bytes_match_tritonclient(self):
        inputs = [httpclient.InferInput("INPUT0", [1, 2], "INT32"),
                  httpclient.InferInput("INPUT1", [1, 2], "INT32")]
        inputs[0].set_data_from_list([0, 1], binary_data=False)
        inputs[1].set_data_from_list([-1, -1], binary_data=True)
        outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True),
                   httpclient.InferRequestedOutput("OUTPUT1", binary_data=False)]
        body, json_size = httpclient.get_inference_request(inputs, outputs=outputs)
        expected_json = (
            b'{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"INT32","data":[0,1]},'
            b'{"name":"INPUT1","shape":[1,2],"datatype":"INT32",'
            b'"parameters":{"binary_data_size":8}}],'
            b'"outputs":[{"name":"OUTPUT0","parameters":{"binary_data":true}},'
            b'{"name":"OUTPUT1","parameters":{"binary_data":false}}]}')
        self.assertEqual(body, expected_json + b"\xff" * 8)
        self.assertEqual(json_size, len(expected_json))
        wire = self.client.request_bytes(
            "POST", "v2/models/simple/infer", body,
            {"Inference-Header-Content-Length": json_size}, {"test_1": 1, "test_2": 2})
        self.assertEqual(wire, (
            "POST /v2/models/simple/infer?test_1=1&test_2=2 HTTP/1.1\r\n"
            "User-Agent: %s\r\nInference-Header-Content-Length: %d\r\n"
            "Host: 127.0.0.1:%d\r\nContent-Length: %d\r\n\r\n" %
            (httpclient.USER_AGENT, json_size, self.server.port, len(body))).encode() + body)

    # -- simple_http_infer_client.py --

    def run_simple(self, model_name, input0_data, input1_data, with_outputs=True):
        inputs = [httpclient.InferInput("INPUT0", [1, 16], "INT32"),
                  httpclient.InferInput("INPUT1", [1, 16], "INT32")]
        inputs[0].set_data_from_list(input0_data, binary_data=False)
        inputs[1].set_data_from_list(input1_data, binary_data=True)
        outputs = None
        if with_outputs:
            outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True),
                       httpclient.InferRequestedOutput("OUTPUT1", binary_data=False)]
        return self.client.infer(model_name, inputs, outputs=outputs,
                                 query_params={"test_1": 1, "test_2": 2})

    def check_simple(self, results, input0_data, input1_data):
        output0_data = results.as_list("OUTPUT0")
        output1_data = results.as_list("OUTPUT1")
        self.assertEqual(results.shape("OUTPUT0"), [1, 16])
        self.assertEqual(results.shape("OUTPUT1"), [1, 16])
        for i in range(16):
            self.assertEqual(input0_data[i] + input1_data[i], output0_data[i],
                             "sync infer error: incorrect sum")
            self.assertEqual(input0_data[i] - input1_data[i], output1_data[i],
                             "sync infer error: incorrect difference")

    def test_simple_http_infer_client(self):
        input0_data = list(range(16))
        input1_data = [-1] * 16
        results = self.run_simple("simple", input0_data, input1_data)
        statistics = self.client.get_inference_statistics(model_name="simple")
        self.assertEqual(len(statistics["model_stats"]), 1, "FAILED: Inference Statistics")
        self.check_simple(results, input0_data, input1_data)
        # OUTPUT0 was asked for in binary, OUTPUT1 as JSON.
        self.assertIn("binary_data_size", results.get_output("OUTPUT0").get("parameters", {}))
        self.assertIn("data", results.get_output("OUTPUT1"))

        results = self.run_simple("simple", input0_data, input1_data, with_outputs=False)
        self.check_simple(results, input0_data, input1_data)
        for name in ("OUTPUT0", "OUTPUT1"):  # binary_data_output: true
            self.assertIn("binary_data_size", results.get_output(name).get("parameters", {}))

    def test_simple_http_infer_client_wrong_model_name(self):
        with self.assertRaises(InferenceServerException) as ctx:
            self.run_simple("wrong_model_name", list(range(16)), [-1] * 16)
        self.assertEqual(ctx.exception.status(), "404")
        self.assertTrue(ctx.exception.message().startswith("Request for unknown model"),
                        "improper error message for wrong model name: %r" %
                        ctx.exception.message())

    # -- simple_http_health_metadata.py --

    def test_simple_http_health_metadata(self):
        self.assertTrue(self.client.is_server_live(query_params={"test_1": 1, "test_2": 2}),
                        "FAILED : is_server_live")
        self.assertTrue(self.client.is_server_ready(), "FAILED : is_server_ready")
        self.assertTrue(self.client.is_model_ready("simple"), "FAILED : is_model_ready")
        self.assertTrue(self.client.is_model_ready("simple", "1"))
        self.assertFalse(self.client.is_model_ready("wrong_model_name"))
        metadata = self.client.get_server_metadata()
        self.assertEqual(metadata["name"], "switchyard", "FAILED : get_server_metadata")
        metadata = self.client.get_model_metadata("simple", query_params={"test_1": 1,
                                                                          "test_2": 2})
        self.assertEqual(metadata["name"], "simple", "FAILED : get_model_metadata")
        config = self.client.get_model_config("simple")
        self.assertEqual(config["max_batch_size"], 8)
        index = self.client.get_model_repository_index()
        self.assertIn("simple", [m["name"] for m in index])

    def test_simple_http_health_metadata_wrong_model_name(self):
        with self.assertRaises(InferenceServerException) as ctx:
            self.client.get_model_metadata("wrong_model_name")
        self.assertIn("Request for unknown model", ctx.exception.message(),
                      "FAILED : get_model_metadata wrong_model_name")

    # -- simple_http_string_infer_client.py --

    def test_simple_string_inference(self):
        in0 = list(range(16))
        in1 = [1] * 16
        expected_sum = [a + b for a, b in zip(in0, in1)]
        expected_diff = [a - b for a, b in zip(in0, in1)]
        input0_data = [str(x).encode("utf-8") for x in in0]
        input1_data = [str(x).encode("utf-8") for x in in1]
        inputs = [httpclient.InferInput("INPUT0", [1, 16], "BYTES"),
                  httpclient.InferInput("INPUT1", [1, 16], "BYTES")]
        inputs[0].set_data_from_list(input0_data, binary_data=True)
        inputs[1].set_data_from_list(input1_data, binary_data=False)
        outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=True),
                   httpclient.InferRequestedOutput("OUTPUT1", binary_data=False)]
        results = self.client.infer(model_name="simple_string", inputs=inputs, outputs=outputs)
        output0_data = results.as_list("OUTPUT0")
        output1_data = results.as_list("OUTPUT1")
        self.assertEqual(results.shape("OUTPUT0"), [1, 16])
        for i in range(16):
            self.assertEqual(expected_sum[i], int(output0_data[i]), "error: incorrect sum")
            self.assertEqual(expected_diff[i], int(output1_data[i]),
                             "error: incorrect difference")

    def identity_inference(self, data, binary_data):
        inputs = [httpclient.InferInput("INPUT0", [1, 16], "BYTES")]
        inputs[0].set_data_from_list(data, binary_data=binary_data)
        outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary_data)]
        results = self.client.infer(model_name="simple_identity", inputs=inputs,
                                    outputs=outputs)
        self.assertEqual(results.shape("OUTPUT0"), [1, 16])
        got = results.as_list("OUTPUT0")
        if binary_data:
            self.assertEqual(got, data, "error: incorrect output")
        else:
            self.assertEqual([s.encode("utf-8") for s in got], data, "error: incorrect output")

    def test_identity_null_chars(self):
        null_chars = [b"he\x00llo"] * 16
        self.identity_inference(null_chars, True)
        self.identity_inference(null_chars, False)

    def test_identity_binary_blobs(self):
        blobs = [b"\x00\x01\x02\x03"] * 16
        self.identity_inference(blobs, True)
        self.identity_inference(blobs, False)

    # -- reuse_infer_objects_client.py (HTTP): the same objects, several requests --

    def test_reuse_infer_objects(self):
        inputs = [httpclient.InferInput("INPUT0", [1, 16], "INT32"),
                  httpclient.InferInput("INPUT1", [1, 16], "INT32")]
        outputs = [httpclient.InferRequestedOutput("OUTPUT0"),
                   httpclient.InferRequestedOutput("OUTPUT1")]
        for round_ in range(4):
            in0 = [i * round_ for i in range(16)]
            in1 = [round_ - i for i in range(16)]
            inputs[0].set_data_from_list(in0, binary_data=bool(round_ % 2))
            inputs[1].set_data_from_list(in1, binary_data=not round_ % 2)
            results = self.client.infer("simple", inputs, outputs=outputs,
                                        request_id=str(round_), model_version="1")
            self.assertEqual(results.get_response().get("id"), str(round_))
            self.check_simple(results, in0, in1)


if __name__ == "__main__":
    unittest.main()
