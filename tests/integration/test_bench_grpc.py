"""`switchyard bench --protocol grpc` against a real server (issue 19): unary calls and streams,
raw and typed contents; its JSON counts the successes, and the server's errors with their text."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness


class BenchGrpcTest(harness.ServerTestCase):
    SERVER_ARGS = ["--grpc-port", "any"]

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, harness.examples_dir() + "/simple")

    def setUp(self):
        if self.server.grpc_port is None:
            self.skipTest("this build has no gRPC front end")
        self.tmp = tempfile.mkdtemp(prefix="switchyard-bench-grpc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def bench(self, *args, expect_exit=0):
        """Runs the bench briefly (one level, concurrency 2); returns (JSON results, stdout)."""
        out = os.path.join(self.tmp, "results.json")
        command = [harness.switchyard_bin(), "bench", "--protocol", "grpc",
                   "--url", "grpc://127.0.0.1:%d" % self.server.grpc_port, "-m", "simple",
                   "--concurrency", "2", "--threads", "1", "--warmup-s", "0.2",
                   "--window-ms", "300", "--max-windows", "2", "--json-out", out] + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, expect_exit, done.stdout + done.stderr)
        with open(out) as f:
            return json.load(f), done.stdout

    def assertAllSucceeded(self, results, mode, contents):
        self.assertEqual(results["protocol"], "grpc")
        self.assertEqual(results["grpc_mode"], mode)
        self.assertEqual(results["format"], contents)
        level = results["levels"][0]
        self.assertEqual(level["concurrency"], 2)
        self.assertGreater(level["requests"], 0, level)
        self.assertGreater(level["throughput_rps"], 0, level)
        self.assertEqual(level["errors"]["total"], 0, level["errors"])
        self.assertEqual(level["totals"]["successes"], level["totals"]["answered"], level["totals"])
        self.assertEqual(level["totals"]["unanswered"], 0, level["totals"])
        # The server's own split, read with ModelStatistics around the windows.
        self.assertIsNotNone(level["server"])
        self.assertGreater(level["server"]["requests"], 0)

    def test_unary_raw_contents(self):
        results, table = self.bench()
        self.assertAllSucceeded(results, "unary", "raw")
        self.assertIn("gRPC unary calls", table)

    def test_unary_typed_contents(self):
        results, _ = self.bench("--grpc-contents", "typed")
        self.assertAllSucceeded(results, "unary", "typed")

    def test_stream(self):
        results, table = self.bench("--grpc-mode", "stream")
        self.assertAllSucceeded(results, "stream", "raw")
        self.assertIn("gRPC streams", table)

    def test_server_errors_are_counted_with_their_text(self):
        # A batch of 9 exceeds simple's max_batch_size of 8: every request is refused.
        results, table = self.bench("--batch-size", "9", expect_exit=1)
        errors = results["levels"][0]["errors"]
        self.assertEqual(results["levels"][0]["requests"], 0)
        self.assertGreater(errors["by_status"]["INVALID_ARGUMENT"], 0, errors)
        self.assertTrue(errors["first_message_by_status"]["INVALID_ARGUMENT"], errors)
        self.assertIn("gRPC INVALID_ARGUMENT x", table)

    def test_stream_errors_are_counted_with_their_text(self):
        results, _ = self.bench("--grpc-mode", "stream", "--batch-size", "9", expect_exit=1)
        errors = results["levels"][0]["errors"]
        self.assertGreater(errors["by_status"]["STREAM_ERROR"], 0, errors)
        self.assertTrue(errors["first_message_by_status"]["STREAM_ERROR"], errors)

    def test_unknown_model_is_named(self):
        done = subprocess.run(
            [harness.switchyard_bin(), "bench", "--protocol", "grpc",
             "--url", "127.0.0.1:%d" % self.server.grpc_port, "-m", "no_such_model"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("ModelMetadata", done.stderr)
        self.assertIn("no_such_model", done.stderr)


if __name__ == "__main__":
    unittest.main()
