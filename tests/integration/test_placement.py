"""Placement on simulated GPUs: /v2/status and /v2/devices report the placement each model's
`instances` block asks for (fixed per_device counts; auto, which gives a sim model one instance
per GPU because a simulated GPU runs one batch at a time; device lists, gpus_per_instance), and
the memory planned on every device; `switchyard plan` prints the same placement and why each
model got its count; a repository that cannot be placed is refused
(serve and plan) with a message naming the model, its need and the free memory of every GPU;
`switchyard devices` lists the simulated GPUs; bad --simulate-gpus specs are refused.

The expected placements below are worked out by hand from the rules in docs/configuration.md
("Placement rules"), with the default reserve of 1024 MiB: a budget of 80896 MiB per 80 GB GPU."""

import collections
import os
import re
import subprocess
import tempfile
import unittest

import harness

BUDGET_80GB = 80 * 1024 - 1024

# models/placement on 4x80GB. Fixed counts first (fixed2, listed, pair), then auto models in
# name order: each is a sim model, so auto gives it one instance per GPU whatever its
# max_per_device (auto_capped on every GPU, auto_memory (25000 MiB) on GPU2 and GPU3, auto_share
# (20000 MiB) on GPU3).
PLACEMENT_4 = {
    "auto_capped": {"GPU0": 1, "GPU1": 1, "GPU2": 1, "GPU3": 1},
    "auto_memory": {"GPU2": 1, "GPU3": 1},
    "auto_share": {"GPU3": 1},
    "cpu_pair": {"cpu": 2},
    "fixed2": {"GPU0": 2, "GPU1": 2, "GPU2": 2, "GPU3": 2},
    "listed": {"GPU1": 1},
    "pair": {"GPU0+GPU1": 1, "GPU2+GPU3": 1},
}
PLANNED_4 = [2 * 10000 + 5000,                       # fixed2, pair
             2 * 10000 + 1000 + 5000,                # fixed2, listed, pair
             2 * 10000 + 5000 + 25000,               # fixed2, pair, auto_memory
             2 * 10000 + 5000 + 25000 + 20000]       # fixed2, pair, auto_memory, auto_share

# models/placement8 on 8x80GB: tp3 (fixed, triples: GPU6 and GPU7 left over) and tp_listed
# (fixed, pairs of the sorted list 1,3,5,7) first; then tp2 (auto, 30000 MiB on each GPU of a
# pair) fits once per pair because GPU1/3/5/7 hold 25000 MiB of tp_listed.
PLACEMENT_8 = {
    "tp2": {"GPU0+GPU1": 1, "GPU2+GPU3": 1, "GPU4+GPU5": 1, "GPU6+GPU7": 1},
    "tp3": {"GPU0+GPU1+GPU2": 1, "GPU3+GPU4+GPU5": 1},
    "tp_listed": {"GPU1+GPU3": 1, "GPU5+GPU7": 1},
}
PLANNED_8 = [31000, 56000, 31000, 56000, 31000, 56000, 30000, 55000]


def run_command(args, timeout=20):
    """Runs `switchyard ARGS`; returns (rc, stdout, stderr)."""
    try:
        proc = subprocess.run([harness.switchyard_bin()] + list(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              preexec_fn=harness._die_with_parent)
    except subprocess.TimeoutExpired:
        raise AssertionError("switchyard %s still running after %ss" % (" ".join(args), timeout))
    return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"))


def run_serve_expecting_failure(repository, args=(), timeout=20):
    """Runs `switchyard serve` that should refuse to start; returns (rc, stdout, stderr)."""
    with tempfile.TemporaryDirectory(prefix="switchyard-it-") as tmp:
        port_file = os.path.join(tmp, "port")
        try:
            return run_command(["serve", "--model-repository", repository, "--host", "127.0.0.1",
                                "--http-port", "0", "--grpc-port", "0", "--port-file",
                                port_file] + list(args),
                               timeout)
        except AssertionError as e:
            raise AssertionError("%s; it should have refused to start" % e)


def placement_of(status):
    """{model: Counter(device label -> instances)} from /v2/status."""
    return {m["name"]: dict(collections.Counter(i["device"] for i in m["instances"]))
            for m in status["models"]}


def instance_devices(status):
    """{instance name: device label} from /v2/status."""
    return {i["name"]: i["device"] for m in status["models"] for i in m["instances"]}


def label_gpus(label):
    """"GPU0+GPU1" -> {0, 1}; "cpu" -> set()."""
    if label == "cpu":
        return set()
    return {int(part[3:]) for part in label.split("+")}


def parse_plan_devices(text):
    """{instance name: set of GPU indices (empty for CPU)} from the device table of
    `switchyard plan`."""
    where = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+|CPU)\s{2,}", line)
        if not m:
            continue
        fields = re.split(r"\s{2,}", line.strip())
        last = fields[-1]
        if "/" not in last:
            continue  # a GPU without instances
        for name in last.split(", "):
            gpus = where.setdefault(name, set())
            if m.group(1) != "CPU":
                gpus.add(int(m.group(1)))
    return where


def plan_model_rows(text):
    """The rows of the model table of `switchyard plan`, as lists of fields."""
    rows = []
    in_table = False
    for line in text.splitlines():
        if re.match(r"^model\s+instances\s+need MiB\s+on\s+why\s*$", line):
            in_table = True
            continue
        if in_table and line.strip():
            rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def parse_plan_models(text):
    """{model: instance count} from the model table of `switchyard plan`."""
    return {fields[0]: int(fields[1]) for fields in plan_model_rows(text)}


class PlacementCase(harness.ServerTestCase):
    """Shared checks of a served placement."""

    GPUS = 0
    EXPECTED = {}
    PLANNED = []

    def status(self):
        return self.server.get_json("/v2/status")

    def check_placement(self):
        status = self.status()
        self.assertTrue(status["ready"], status)
        self.assertEqual(placement_of(status), self.EXPECTED)
        devices = status["devices"]
        self.assertEqual([d["index"] for d in devices], list(range(self.GPUS)))
        self.assertEqual([d["planned_mb"] for d in devices], self.PLANNED)
        for d in devices:
            self.assertEqual(d["uuid"], "SIM-GPU-%d" % d["index"])
            self.assertTrue(d["simulated"])
            self.assertEqual(d["speed"], 1)
            self.assertEqual(d["total_mb"], 80 * 1024)
            self.assertEqual(d["used_by_others_mb"], 0)
            self.assertEqual(d["reserve_mb"], 1024)
            self.assertLessEqual(d["planned_mb"], BUDGET_80GB)
        # Every GPU instance is listed on each device it spans, and only there.
        listed = collections.defaultdict(set)
        for d in devices:
            self.assertEqual(len(d["instances"]), len(set(d["instances"])), d)
            for name in d["instances"]:
                listed[name].add(d["index"])
        where = instance_devices(status)
        self.assertEqual(dict(listed), {n: label_gpus(l) for n, l in where.items()
                                        if l != "cpu"})
        for m in status["models"]:
            names = [i["name"] for i in m["instances"]]
            self.assertEqual(sorted(names), sorted("%s/%d" % (m["name"], k)
                                                   for k in range(len(names))), names)
            for i in m["instances"]:
                self.assertEqual(i["state"], "READY", i)
        # /v2/devices is the devices part of /v2/status.
        self.assertEqual(self.server.get_json("/v2/devices")["devices"], devices)
        return status

    def check_plan_matches(self, spec):
        rc, out, err = run_command(["plan", "--model-repository", self.server.repository,
                                    "--simulate-gpus", spec])
        self.assertEqual(rc, 0, "plan failed: %s%s" % (out, err))
        status = self.status()
        served = {n: label_gpus(l) for n, l in instance_devices(status).items()}
        self.assertEqual(parse_plan_devices(out), served, out)
        self.assertEqual(parse_plan_models(out),
                         {m["name"]: len(m["instances"]) for m in status["models"]}, out)
        for d in status["devices"]:
            row = [l for l in out.splitlines() if re.match(r"^\s*%d\s{2,}" % d["index"], l)]
            self.assertEqual(len(row), 1, out)
            self.assertIn(" %d " % d["planned_mb"], row[0], "planned MiB of GPU%d" % d["index"])

    def check_serves_everywhere(self):
        """Every instance of every model answers (requests spread by the scheduler); a smoke
        check that the placed instances are real."""
        req = {"inputs": [{"name": "INPUT0", "shape": [1, 2], "datatype": "INT32",
                           "data": [5, 6]}]}
        for model in self.EXPECTED:
            resp = self.server.infer(model, req)
            self.assertOk(resp)
            self.assertEqual(harness.output_values(resp)["OUTPUT0"][2], [5, 6])


class FourGpuPlacementTest(PlacementCase):
    REPOSITORY = harness.test_models("placement")
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", "4x80GB"]
    GPUS = 4
    EXPECTED = PLACEMENT_4
    PLANNED = PLANNED_4

    def test_status_reports_the_configured_placement(self):
        status = self.check_placement()
        cpu = [i for m in status["models"] for i in m["instances"] if i["device"] == "cpu"]
        self.assertEqual(sorted(i["name"] for i in cpu), ["cpu_pair/0", "cpu_pair/1"])

    def test_plan_prints_the_served_placement(self):
        self.check_plan_matches("4x80GB")

    def test_plan_says_why_each_model_got_its_count(self):
        rc, out, err = run_command(["plan", "--model-repository", self.server.repository,
                                    "--simulate-gpus", "4x80GB"])
        self.assertEqual(rc, 0, out + err)
        why = {fields[0]: fields[-1] for fields in plan_model_rows(out)}
        self.assertEqual(why["auto_capped"], "auto: 1 per GPU, its device runs one batch at a time")
        self.assertEqual(why["fixed2"], "per_device: 2")
        self.assertEqual(why["cpu_pair"], "devices: cpu, per_device: 2")

    def test_devices_command_with_repository_shows_the_plan(self):
        rc, out, err = run_command(["devices", "--simulate-gpus", "4x80GB",
                                    "--model-repository", self.server.repository])
        self.assertEqual(rc, 0, out + err)
        status = self.status()
        for d in status["devices"]:
            row = [l for l in out.splitlines() if re.match(r"^\s*%d\s{2,}" % d["index"], l)]
            self.assertEqual(len(row), 1, out)
            self.assertIn(" %d " % d["planned_mb"], row[0], out)
            shown = set(re.split(r"\s{2,}", row[0].strip())[-1].split(", "))
            self.assertEqual(shown, set(d["instances"]), out)
        self.assertIn("CPU: 2 instances", out)

    def test_instances_serve(self):
        self.check_serves_everywhere()

    def test_reserve_changes_the_plan(self):
        # With 30000 MiB kept free on every GPU, auto_memory gets one instance on GPU2 and one
        # on GPU3 (1920 MiB left on each) and auto_share fits nowhere.
        rc, out, err = run_command(["plan", "--model-repository", self.server.repository,
                                    "--simulate-gpus", "4x80GB", "--vram-reserve-mb", "30000"])
        self.assertEqual(rc, 1, out + err)
        for needle in ("'auto_share'", "20000 MiB", "GPU2 1920 MiB", "GPU3 1920 MiB",
                       "reserve 30000 MiB"):
            self.assertIn(needle, err)


class EightGpuPlacementTest(PlacementCase):
    REPOSITORY = harness.test_models("placement8")
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", "8x80GB"]
    GPUS = 8
    EXPECTED = PLACEMENT_8
    PLANNED = PLANNED_8

    def test_status_reports_the_configured_placement(self):
        status = self.check_placement()
        gpus = {d["index"]: set(d["instances"]) for d in status["devices"]}
        self.assertEqual(gpus[6], {"tp2/3"}, "tp3 leaves GPU6 and GPU7 over")

    def test_plan_prints_the_served_placement(self):
        self.check_plan_matches("8x80GB")

    def test_instances_serve(self):
        self.check_serves_everywhere()


class DeviceSpecTest(harness.ServerTestCase):
    """The spec's sizes, speeds, memory used by others and the reserve flag reach /v2/devices;
    sim models with default `instances` get one instance on every GPU."""

    REPOSITORY = harness.test_models("basic")
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", "80GB,40GB:speed=0.5:used=2048",
                   "--vram-reserve-mb", "512"]

    def test_devices_report_the_spec(self):
        devices = self.server.get_json("/v2/devices")["devices"]
        self.assertEqual([(d["index"], d["uuid"], d["name"], d["speed"], d["total_mb"],
                           d["used_by_others_mb"], d["reserve_mb"], d["planned_mb"])
                          for d in devices],
                         [(0, "SIM-GPU-0", "simulated GPU (80 GiB)", 1, 81920, 0, 512, 0),
                          (1, "SIM-GPU-1", "simulated GPU (40 GiB)", 0.5, 40960, 2048, 512, 0)])
        status = self.server.get_json("/v2/status")
        self.assertEqual(status["devices"], devices)
        for model in ("half_identity", "nobatch", "versioned"):
            self.assertEqual(placement_of(status)[model], {"GPU0": 1, "GPU1": 1}, model)


class UnplaceableTest(unittest.TestCase):
    """A repository that cannot be placed: serve exits non-zero with the reason on stderr, plan
    exits 1 with the same reason."""

    def check(self, repo, needles, gpus="4x80GB"):
        path = harness.test_models(repo)
        rc, out, err = run_serve_expecting_failure(path, ["--simulate-gpus", gpus])
        shown = "stderr:\n%s\nstdout:\n%s" % (err, out)
        self.assertGreater(rc, 0, "serve should refuse %s; %s" % (repo, shown))
        for needle in needles:
            self.assertIn(needle, err, shown)
        rc, out, perr = run_command(["plan", "--model-repository", path, "--simulate-gpus",
                                     gpus])
        shown = "stderr:\n%s\nstdout:\n%s" % (perr, out)
        self.assertEqual(rc, 1, shown)
        for needle in needles:
            self.assertIn(needle, perr, shown)
        self.assertNotIn("placement:", out, "no plan is printed when placement fails")
        return err

    def test_auto_model_that_fits_nowhere(self):
        # filler takes 50000 MiB of GPU0 and GPU1 first; needy (memory_mb 40000) may only use
        # those two. Every GPU's free memory is named, not only the eligible ones.
        self.check("unplaceable_auto", ["'needy'", "40000 MiB", "GPU0 30896 MiB",
                                        "GPU1 30896 MiB", "GPU2 80896 MiB", "GPU3 80896 MiB"])

    def test_fixed_count_that_does_not_fit(self):
        self.check("unplaceable_fixed", ["'triple'", "30000 MiB", "GPU0 80896 MiB",
                                         "GPU1 80896 MiB", "GPU2 80896 MiB", "GPU3 80896 MiB"])

    def test_device_that_does_not_exist(self):
        self.check("unplaceable_device", ["'nowhere'", "4", "0-3"])

    def test_gpus_per_instance_beyond_the_devices(self):
        # placement8's triples need 3 GPUs; two GPUs are not enough.
        err = self.check("placement8", ["'tp3'", "gpus_per_instance"], gpus="2x80GB")
        self.assertIn("3", err)


class DevicesCommandTest(unittest.TestCase):
    def test_lists_the_simulated_devices(self):
        rc, out, err = run_command(["devices", "--simulate-gpus",
                                    "2x80GB,40GB:speed=0.5:used=2048", "--vram-reserve-mb", "512"])
        self.assertEqual(rc, 0, out + err)
        rows = {}
        for line in out.splitlines():
            fields = re.split(r"\s{2,}", line.strip())
            if fields and fields[0].isdigit():
                rows[int(fields[0])] = fields
        self.assertEqual(sorted(rows), [0, 1, 2], out)
        # GPU, uuid, name, total, others, reserve, free, speed
        self.assertEqual(rows[0][1:], ["SIM-GPU-0", "simulated GPU (80 GiB)", "81920", "0", "512",
                                       "81408", "1"])
        self.assertEqual(rows[1][1], "SIM-GPU-1")
        self.assertEqual(rows[2][1:], ["SIM-GPU-2", "simulated GPU (40 GiB)", "40960", "2048",
                                       "512", "38400", "0.5"])

    def test_no_gpus(self):
        rc, out, err = run_command(["devices"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("no GPUs", out)

    def test_bad_specs_are_refused(self):
        cases = {
            "4x": "4x",
            "0x80GB": "0x80GB",
            "80TB": "80TB",
            "80": "80",
            "80GB:speed=0": "speed",
            "80GB:speed=abc": "speed",
            "80GB:speed=101": "speed",
            "80GB:used=81920": "used",
            "80GB:colour=red": "colour",
            "65x1GB": "64",
            "80GB,,80GB": "empty",
            "80GB:speed=0.5:speed=1": "twice",
        }
        for spec, needle in cases.items():
            with self.subTest(spec=spec):
                for command in (["devices"], ["plan", "--model-repository",
                                              harness.test_models("placement")]):
                    rc, out, err = run_command(command + ["--simulate-gpus", spec])
                    self.assertEqual(rc, 1, "%s %s: %s%s" % (command[0], spec, out, err))
                    self.assertIn("simulated GPU spec", err)
                    self.assertIn(needle, err)
                    self.assertEqual(out, "")

    def test_serve_refuses_a_bad_spec(self):
        rc, out, err = run_serve_expecting_failure(harness.test_models("placement"),
                                                   ["--simulate-gpus", "80GB:speed=-1"])
        self.assertGreater(rc, 0, out + err)
        self.assertIn("80GB:speed=-1", err)
        self.assertIn("speed", err)


if __name__ == "__main__":
    unittest.main()
