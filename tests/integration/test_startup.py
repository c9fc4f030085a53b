"""Process life cycle: the port file, SIGTERM (exit 0, executing requests finish), startup
failures for invalid repositories (non-zero exit, stderr naming the file and field), and a model
that never becomes ready (503)."""

import os
import subprocess
import tempfile
import unittest

import harness


def run_serve(repository, timeout=20):
    """Runs `switchyard serve` on a repository expected to be invalid; returns
    (rc, stderr, stdout)."""
    with tempfile.TemporaryDirectory(prefix="switchyard-it-") as tmp:
        port_file = os.path.join(tmp, "port")
        cmd = [harness.switchyard_bin(), "serve", "--model-repository", repository,
               "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--port-file",
               port_file]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout,
                                  preexec_fn=harness._die_with_parent)
        except subprocess.TimeoutExpired:
            raise AssertionError("switchyard serve %s still running after %ss; it should have "
                                 "refused the repository" % (repository, timeout))
        return (proc.returncode, proc.stderr.decode("utf-8", "replace"),
                proc.stdout.decode("utf-8", "replace"))


class BadRepositoryTest(unittest.TestCase):
    def check(self, repo, *needles, any_of=()):
        rc, err, out = run_serve(harness.test_models(repo))
        shown = "stderr:\n%s\nstdout:\n%s" % (err, out)
        self.assertNotEqual(rc, 0, "startup should fail for %s; %s" % (repo, shown))
        self.assertGreater(rc, 0, "exit by signal %d is a crash, not a refusal; %s" % (-rc, shown))
        for needle in needles:
            self.assertIn(needle, err, "stderr should name %r; %s" % (needle, shown))
        if any_of:
            self.assertTrue(any(n in err for n in any_of),
                            "stderr should name one of %r; %s" % (any_of, shown))
        return err

    def test_unknown_key(self):
        self.check("bad_unknown_key", "model_with_unknown_key", "config.yaml",
                   "colour_of_the_bikeshed")

    def test_bad_datatype(self):
        self.check("bad_datatype", "model_with_bad_datatype", "config.yaml", "INT33")

    def test_negative_dimension(self):
        self.check("bad_negative_dim", "model_with_negative_dim", "config.yaml",
                   any_of=("shape", "dims"))

    def test_missing_version_folder(self):
        err = self.check("bad_missing_version", "model_without_version")
        self.assertIn("version", err.lower())

    def test_exec_command_misspelt(self):
        self.check("bad_exec_parameters_misspelt_command", "model_with_misspelt_command",
                   "comand")

    def test_exec_command_missing(self):
        self.check("bad_exec_parameters_missing_command", "model_with_missing_command",
                   "command")

    def test_yaml_syntax_error(self):
        self.check("bad_yaml", "model_with_bad_yaml", "config.yaml")

    def test_unknown_backend(self):
        self.check("bad_backend", "model_with_unknown_backend", "no_such_backend")

    def test_missing_repository(self):
        missing = os.path.join(tempfile.gettempdir(), "switchyard-no-such-repository-%d" %
                               os.getpid())
        rc, err, out = run_serve(missing)
        self.assertGreater(rc, 0, err + out)
        self.assertIn(missing, err, "stderr should name the folder; stderr:\n%s\nstdout:\n%s" %
                      (err, out))


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()

    def start(self, repository, args=(), wait_ready=True):
        srv = harness.Server(repository, args, wait_ready)
        self.servers.append(srv)
        return srv.start()

    def test_port_file_and_sigterm_exit_zero(self):
        srv = self.start(harness.examples_models(), ["--http-threads", "1"])
        with open(srv.port_file) as f:
            lines = f.read().splitlines()
        self.assertIn("http=%d" % srv.port, lines)
        self.assertGreater(srv.port, 0)
        # One HTTP thread still serves several concurrent clients.
        def work(i):
            return srv.request("GET", "/v2/models/simple/ready").status
        self.assertEqual(harness.run_in_threads(work, [(i,) for i in range(8)]), [200] * 8)
        self.assertEqual(srv.stop(), 0, srv.log_tail())

    def test_sigterm_lets_executing_request_finish(self):
        with tempfile.TemporaryDirectory(prefix="switchyard-repo-") as tmp:
            repo = harness.make_repository(tmp, harness.test_models("backpressure",
                                                                    "slow_cancel"))
            srv = self.start(repo)
            conn = srv.raw(timeout=60)
            try:
                conn.send(harness.build_request(
                    "POST", "/v2/models/slow_cancel/infer",
                    b'{"inputs":[{"name":"INPUT0","shape":[1],"datatype":"INT32","data":[3]}]}'))

                def executing():
                    m = srv.metrics()
                    return (m.value("switchyard_inflight_requests", model="slow_cancel") >= 1 and
                            m.value("switchyard_queue_depth", model="slow_cancel") == 0)
                harness.wait_until(executing, 20, "the request to be executing")
                srv.proc.send_signal(15)
                try:
                    resp = conn.read_response()
                except (harness.ConnectionClosed, ConnectionResetError) as e:
                    srv.proc.wait(harness.STOP_WAIT_S)
                    self.fail("SIGTERM closed the connection of an executing request without "
                              "answering it (%s); exit %s; log:\n%s" %
                              (e, srv.proc.returncode, srv.log_tail(10)))
                self.assertEqual(resp.status, 200, "an executing request should complete on "
                                 "SIGTERM: %r" % resp)
            finally:
                conn.close()
            srv.proc.wait(harness.STOP_WAIT_S)
            self.assertEqual(srv.proc.returncode, 0, srv.log_tail())

    def test_model_that_never_gets_ready(self):
        srv = self.start(harness.test_models("unready"), wait_ready=False)
        self.assertEqual(srv.request("GET", "/v2/health/live").status, 200)
        self.assertEqual(srv.request("GET", "/v2/health/ready").status, 503)
        resp = srv.request("GET", "/v2/models/never_ready/ready")
        self.assertIn(resp.status, (503, 400), resp)
        harness.wait_until(lambda: srv.request("GET", "/v2/models/fast/ready").status == 200,
                           harness.READY_WAIT_S, "model fast to be ready")
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT32", "data": [4]}]}
        resp = srv.infer("never_ready", req)
        self.assertEqual(resp.status, 503, resp)
        self.assertIsNotNone(resp.error_message(), resp)
        resp = srv.infer("fast", req)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(harness.output_values(resp)["OUTPUT0"][2], [4])
        self.assertEqual(srv.request("GET", "/v2/health/ready").status, 503)


if __name__ == "__main__":
    unittest.main()
