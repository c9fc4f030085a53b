"""`vram_mb: measure` on simulated GPUs: the server loads one instance of a measured model first,
its worker reports the device memory the instance holds after load and a warm-up at max batch
(the sim backend: parameters memory_mb + memory_mb_per_item x the largest batch it ran), and
placement plans with that need (`auto` gives a sim model one instance per GPU: a simulated GPU
runs one batch at a time); a need larger than every GPU's budget stops startup with a message naming the model, the measured need and every GPU's
free memory.

Worked out by hand with the default reserve of 1024 MiB: a 5 GB GPU has a budget of 4096 MiB."""

import os
import re
import shutil
import tempfile
import unittest

import harness
from test_placement import parse_plan_models, placement_of, run_command, \
    run_serve_expecting_failure

SPEC = "2x5GB"


class MeasuredPlacementTest(harness.ServerTestCase):
    REPOSITORY = harness.test_models("measure")
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", SPEC]

    def test_placement_plans_with_the_measured_need(self):
        status = self.server.get_json("/v2/status")
        self.assertTrue(status["ready"], status)
        # warm: 1800 MiB measured (warm-up at batch 8); cold: no warm-up, 1000 MiB measured.
        self.assertEqual(placement_of(status), {"warm": {"GPU0": 1}, "cold": {"GPU1": 1}})
        models = {m["name"]: m for m in status["models"]}
        self.assertEqual((models["warm"]["vram_need_mb"], models["warm"]["vram_need"]),
                         (1800, "measured"))
        self.assertEqual((models["cold"]["vram_need_mb"], models["cold"]["vram_need"]),
                         (1000, "measured"))
        self.assertEqual([d["planned_mb"] for d in status["devices"]], [1800, 1000])
        # The first instance, which measured, serves as instance 0: nothing was restarted and
        # the names are model/0..n-1.
        for m in status["models"]:
            self.assertEqual(sorted(i["name"] for i in m["instances"]),
                             ["%s/%d" % (m["name"], k) for k in range(len(m["instances"]))])
            for i in m["instances"]:
                self.assertEqual((i["state"], i["restarts"]), ("READY", 0), i)
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "INT32",
                           "data": [3, 4]}]}
        for model in ("warm", "cold"):
            resp = self.server.infer(model, req)
            self.assertOk(resp)

    def test_plan_estimates_without_loading(self):
        # `plan` starts no worker: for a sim model it estimates what a warm-up at max batch
        # would report (1800 MiB for both), where serve measured 1000 MiB for cold (it has no
        # warm-up).
        rc, out, err = run_command(["plan", "--model-repository", self.server.repository,
                                    "--simulate-gpus", SPEC])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(parse_plan_models(out), {"cold": 1, "warm": 1}, out)
        self.assertRegex(out, r"(?m)^warm\s+1\s+1800 estimated\s+GPU0\s")
        self.assertRegex(out, r"(?m)^cold\s+1\s+1800 estimated\s+GPU1\s")


def fake_nvml_library():
    """The fake NVML built next to the binary (tests/unit/devices/fake_nvml.cc), or None."""
    path = os.path.join(os.path.dirname(os.path.dirname(harness.switchyard_bin())), "tests",
                        "fake_nvml", "libfake_nvml.so")
    return path if os.path.exists(path) else None


class MeasuredWithNvmlTest(unittest.TestCase):
    """A backend may report only its own allocations (the torch plugin: its caching allocator);
    NVML also counts the worker's CUDA context. The server takes the larger figure. One fake GPU
    of 8000 MiB (budget 6976 MiB)."""

    def serve_on_the_fake_gpu(self, repository):
        """A server on one fake GPU of 8000 MiB whose NVML counts 2500 MiB for every process the
        server started (its workers and what they started)."""
        library = fake_nvml_library()
        if library is None:
            self.skipTest("the fake NVML is not built in this build folder")
        tmp = tempfile.mkdtemp(prefix="switchyard-nvml-")
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, "nvml.txt")
        with open(config, "w") as f:
            f.write("device\nuuid GPU-11111111-2222-3333-4444-555555555555\nname Fake GPU\n"
                    "memory_total_mb 8000\nmemory_used_mb 0\nprocess children 2500\n")
        saved = {k: os.environ.get(k) for k in ("SWITCHYARD_NVML_LIBRARY", "FAKE_NVML_CONFIG",
                                                "CUDA_VISIBLE_DEVICES")}
        os.environ.update(SWITCHYARD_NVML_LIBRARY=library, FAKE_NVML_CONFIG=config)
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        try:
            server = harness.Server(repository, ["--http-threads", "2"])
            self.addCleanup(server.stop)
            server.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return server

    def test_the_need_is_what_nvml_counts_for_the_worker(self):
        server = self.serve_on_the_fake_gpu(harness.test_models("measure_nvml"))
        status = server.get_json("/v2/status")
        model = status["models"][0]
        self.assertEqual((model["vram_need_mb"], model["vram_need"]), (2500, "measured"), model)
        self.assertEqual(placement_of(status), {"nvml": {"GPU0": 1}})
        self.assertIn("the backend reported 1000 MiB, NVML 2500 MiB for the worker process and its programs",
                      server.log_tail(200))


    def test_a_python_models_program_counts_with_its_worker(self):
        server = self.serve_on_the_fake_gpu(harness.test_models("measure_nvml_python"))
        status = server.get_json("/v2/status")
        model = status["models"][0]
        self.assertEqual((model["vram_need_mb"], model["vram_need"]), (5000, "measured"), model)
        self.assertEqual(placement_of(status), {"prog": {"GPU0": 1}})
        self.assertIn("NVML 5000 MiB for the worker process and its programs",
                      server.log_tail(200))


class MeasuredNeedTooLargeTest(unittest.TestCase):
    def test_startup_fails_naming_the_need_and_every_gpu(self):
        rc, out, err = run_serve_expecting_failure(harness.test_models("measure_too_big"),
                                                   ["--simulate-gpus", SPEC + ",5GB:used=2048"])
        shown = "stderr:\n%s\nstdout:\n%s" % (err, out)
        self.assertGreater(rc, 0, shown)
        self.assertIn("cannot place model 'huge': needs 4160 MiB (measured) on each of 1 GPU; "
                      "free: GPU0 4096 MiB, GPU1 4096 MiB, GPU2 2048 MiB (reserve 1024 MiB each)",
                      err, shown)


if __name__ == "__main__":
    unittest.main()
