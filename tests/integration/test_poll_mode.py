"""`serve --poll-us`: HTTP threads, result readers and workers that poll before they sleep
answer like threads that sleep at once (concurrent clients, worker processes), and the server
still ends cleanly on SIGTERM, polling threads included."""

import json
import unittest

import harness


class PollModeTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--http-threads", "2", "--poll-us", "2000"]

    def test_concurrent_clients_get_their_own_answers(self):
        def client(k):
            answers = []
            for i in range(20):
                in0 = [k * 100 + i] * 16
                in1 = list(range(16))
                resp = self.server.infer("simple", harness.simple_request(in0, in1))
                self.assertOk(resp)
                outputs = {o["name"]: o["data"] for o in json.loads(resp.body)["outputs"]}
                answers.append(outputs["OUTPUT0"] == [a + b for a, b in zip(in0, in1)] and
                               outputs["OUTPUT1"] == [a - b for a, b in zip(in0, in1)])
            return answers
        for answers in harness.run_in_threads(client, [(k,) for k in range(4)]):
            self.assertEqual(answers, [True] * 20)

    def test_workers_are_started_polling_too(self):
        models = {m["name"]: m for m in self.server.get_json("/v2/status")["models"]}
        for instance in models["simple"]["instances"]:
            with open("/proc/%d/cmdline" % instance["pid"], "rb") as f:
                argv = f.read().split(b"\0")
            self.assertIn(b"--poll-us", argv)
            self.assertEqual(argv[argv.index(b"--poll-us") + 1], b"2000")


class PollModeStopTest(unittest.TestCase):
    def test_sigterm_ends_a_polling_server(self):
        server = harness.Server(harness.examples_models(),
                                ["--http-threads", "2", "--poll-us", "200000"])
        server.start()
        try:
            resp = server.infer("simple", harness.simple_request([1] * 16, [2] * 16))
            self.assertEqual(resp.status, 200, resp)
        finally:
            code = server.stop()
        self.assertEqual(code, 0, "the server did not end on SIGTERM by itself")


if __name__ == "__main__":
    unittest.main()
