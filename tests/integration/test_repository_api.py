"""The model repository API and graceful draining, against the real binary.

- load/unload need `Authorization: Bearer <token>` when --admin-token is set (401 otherwise).
- unload: the model answers 404, the index lists it UNAVAILABLE "unloaded", its workers exit.
- load: it serves again from fresh workers; load of a loaded model is a reload that drops no
  request sent meanwhile; an unknown model is 404.
- SIGTERM with requests queued: they all finish (200) before the server exits 0; unload drains a
  model's queue the same way.
"""

import os
import tempfile
import threading
import unittest

import harness

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": "Bearer " + TOKEN}


def addsub_request(k):
    return {"inputs": [
        {"name": "INPUT0", "shape": [1, 16], "datatype": "INT32", "data": [k] * 16},
        {"name": "INPUT1", "shape": [1, 16], "datatype": "INT32", "data": [1] * 16}]}


def slow_request(k):
    return {"inputs": [{"name": "INPUT0", "shape": [1], "datatype": "INT32", "data": [k]}]}


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def worker_pids(server, model):
    status = server.get_json("/v2/status")
    found = [m for m in status["models"] if m["name"] == model]
    return [i["pid"] for m in found for i in m["instances"]]


def index_entry(server, model):
    resp = server.request("POST", "/v2/repository/index", b"{}")
    entries = [e for e in resp.json() if e["name"] == model]
    return entries[0] if entries else None


class RepositoryApiTest(harness.ServerTestCase):
    SERVER_ARGS = ["--admin-token", TOKEN, "--drain-timeout-s", "20"]

    @classmethod
    def repository(cls, tmpdir):
        return harness.make_repository(tmpdir, harness.test_models("repository", "addsub"),
                                       harness.test_models("repository", "slow"))

    def post(self, path, headers=AUTH):
        return self.server.request("POST", path, b"", headers)

    def test_management_needs_the_token(self):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            resp = self.post("/v2/repository/models/addsub/unload", headers)
            self.assertError(resp, 401)
        self.assertOk(self.server.infer("addsub", addsub_request(1)))

    def test_unknown_model_and_action(self):
        self.assertError(self.post("/v2/repository/models/nope/load"), 404)
        self.assertError(self.post("/v2/repository/models/nope/unload"), 404)
        self.assertError(self.post("/v2/repository/models/addsub/explode"), 404)
        self.assertError(self.server.request("GET", "/v2/repository/models/addsub/load",
                                             headers=AUTH), 405)

    def test_unload_then_load(self):
        old = worker_pids(self.server, "addsub")
        self.assertEqual(len(old), 2)
        self.assertOk(self.post("/v2/repository/models/addsub/unload"))
        self.assertError(self.server.infer("addsub", addsub_request(1)), 404)
        self.assertEqual(index_entry(self.server, "addsub")["state"], "UNAVAILABLE")
        self.assertEqual(index_entry(self.server, "addsub")["reason"], "unloaded")
        harness.wait_until(lambda: not any(pid_alive(p) for p in old), 10,
                           "the unloaded model's workers to exit")
        self.assertOk(self.post("/v2/repository/models/addsub/load"))
        self.assertEqual(index_entry(self.server, "addsub")["state"], "READY")
        new = worker_pids(self.server, "addsub")
        self.assertEqual(len(new), 2)
        self.assertFalse(set(new) & set(old))
        resp = self.assertOk(self.server.infer("addsub", addsub_request(41)))
        self.assertEqual(resp.json()["outputs"][0]["data"], [42] * 16)

    def test_reload_drops_no_request(self):
        old = worker_pids(self.server, "addsub")
        stop = threading.Event()
        failures = []
        counts = [0]

        def client():
            while not stop.is_set():
                resp = self.server.infer("addsub", addsub_request(2))
                if resp.status != 200:
                    failures.append(resp)
                counts[0] += 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            harness.wait_until(lambda: counts[0] >= 50, 20, "requests to flow")
            self.assertOk(self.post("/v2/repository/models/addsub/load"))
            before = counts[0]
            harness.wait_until(lambda: counts[0] >= before + 50, 20, "requests after the reload")
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(failures, [])
        new = worker_pids(self.server, "addsub")
        self.assertFalse(set(new) & set(old), "a reload starts fresh workers")
        harness.wait_until(lambda: not any(pid_alive(p) for p in old), 10,
                           "the old workers to exit")

    def test_unload_drains_the_queue(self):
        results = [None] * 4

        def send(k):
            results[k] = self.server.infer("slow", slow_request(k))

        threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        harness.wait_until(
            lambda: self.server.metrics().value("switchyard_queue_depth", model="slow") >= 2,
            20, "requests to queue")
        self.assertOk(self.post("/v2/repository/models/slow/unload"))
        for t in threads:
            t.join()
        self.assertEqual([r.status for r in results], [200] * 4, results)
        self.assertOk(self.post("/v2/repository/models/slow/load"))


class DrainOnSigtermTest(unittest.TestCase):
    def test_queued_requests_finish_before_exit(self):
        with tempfile.TemporaryDirectory(prefix="switchyard-repo-") as tmp:
            repo = harness.make_repository(tmp, harness.test_models("repository", "slow"))
            server = harness.Server(repo, ["--drain-timeout-s", "20"]).start()
            try:
                pids = worker_pids(server, "slow")
                results = [None] * 4

                def send(k):
                    results[k] = server.infer("slow", slow_request(k))

                threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
                for t in threads:
                    t.start()
                harness.wait_until(
                    lambda: server.metrics().value("switchyard_queue_depth", model="slow") >= 2,
                    20, "requests to queue")
                server.proc.send_signal(15)
                for t in threads:
                    t.join()
                server.proc.wait(harness.STOP_WAIT_S)
                self.assertEqual([r.status for r in results], [200] * 4, results)
                self.assertEqual(server.proc.returncode, 0, server.log_tail())
                self.assertFalse(any(pid_alive(p) for p in pids), "a worker outlived the server")
            finally:
                server.stop()


if __name__ == "__main__":
    unittest.main()
