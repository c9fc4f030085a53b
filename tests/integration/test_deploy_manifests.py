"""deploy/kubernetes: every manifest parses and has what its kind needs, the names line up
(Service -> the Deployment's ports and labels, ServiceMonitor -> the Service, HPA -> the
Deployment, InferencePool -> the pods and the HTTP port), and the Deployment's container
arguments start a real server whose probes answer on the ports they name and whose /metrics has
the gauge the HPA scales on. Needs PyYAML (Debian's python3-yaml)."""

import glob
import os
import shutil
import signal
import sys
import tempfile
import unittest

import harness

# python3-yaml is a Debian package; an interpreter of the same version that is not Debian's
# (pyenv's, when it runs the tests) can load it from Debian's folder.
DEBIAN_PACKAGES = "/usr/lib/python3/dist-packages"
try:
    import yaml
except ImportError:
    if os.path.isdir(os.path.join(DEBIAN_PACKAGES, "yaml")):
        sys.path.append(DEBIAN_PACKAGES)
    try:
        import yaml
    except ImportError:
        yaml = None

MANIFESTS = os.path.join(harness.SOURCE_DIR, "deploy", "kubernetes")
PROBE_PATHS = {"/v2/health/live", "/v2/health/ready"}
# The arguments a test server takes from this harness instead of the manifest.
REPLACED = {"--model-repository", "--host", "--http-port", "--grpc-port", "--state-dir"}


def flags_of(args):
    """{--flag: value} of `serve` arguments written as --flag=value."""
    flags = {}
    for arg in args:
        assert arg.startswith("--") and "=" in arg, "write serve flags as --flag=value: %r" % arg
        key, value = arg.split("=", 1)
        flags[key] = value
    return flags


@unittest.skipIf(yaml is None, "PyYAML is not installed (Debian: python3-yaml)")
class KubernetesManifestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = []
        for path in sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml"))):
            with open(path) as f:
                cls.docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f) if d]

    def one(self, kind):
        found = [d for _, d in self.docs if d["kind"] == kind]
        self.assertEqual(len(found), 1, "expected one %s" % kind)
        return found[0]

    def deployment(self):
        deployment = self.one("Deployment")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        return deployment, container

    def test_every_manifest_has_its_identity(self):
        self.assertTrue(self.docs, "no manifest in %s" % MANIFESTS)
        for name, doc in self.docs:
            for field in ("apiVersion", "kind", "metadata"):
                self.assertIn(field, doc, name)
            self.assertTrue(doc["metadata"].get("name"), name)

    def test_the_names_line_up(self):
        deployment, container = self.deployment()
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(deployment["spec"]["selector"]["matchLabels"], labels)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        flags = flags_of(container["args"][1:])
        self.assertEqual(container["args"][0], "serve")
        self.assertEqual(int(flags["--http-port"]), ports["http"])
        self.assertEqual(int(flags["--grpc-port"]), ports["grpc"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            spec = container[probe]
            if "httpGet" in spec:
                self.assertIn(spec["httpGet"]["path"], PROBE_PATHS, probe)
                self.assertIn(spec["httpGet"]["port"], ports, probe)
            else:
                self.assertEqual(spec["grpc"]["port"], ports["grpc"], probe)
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        self.assertGreater(grace, int(flags["--shutdown-grace-s"]) + int(flags["--drain-timeout-s"]))
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts["models"], flags["--model-repository"])
        self.assertEqual(mounts["state"], flags["--state-dir"])
        self.assertIn("nvidia.com/gpu", container["resources"]["limits"])

        service = self.one("Service")
        self.assertEqual(service["spec"]["selector"], labels)
        for port in service["spec"]["ports"]:
            self.assertIn(port["targetPort"], ports, port)
        monitor = self.one("ServiceMonitor")
        self.assertEqual(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
        service_ports = {p["name"] for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            self.assertIn(endpoint["port"], service_ports)
            self.assertEqual(endpoint["path"], "/metrics")
        hpa = self.one("HorizontalPodAutoscaler")
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"])
        pool = self.one("InferencePool")
        self.assertEqual(pool["spec"]["selector"], labels)
        self.assertEqual(pool["spec"]["targetPortNumber"], ports["http"])

    def test_the_container_arguments_serve_and_the_probes_answer(self):
        _, container = self.deployment()
        kept = [a for a in container["args"][1:] if a.split("=", 1)[0] not in REPLACED]
        server = harness.Server(harness.make_repository(
            self.tmp(), os.path.join(harness.examples_dir(), "simple")), kept)
        server.start()
        self.addCleanup(server.stop)
        # Stopped with SIGINT, which skips the manifest's --shutdown-grace-s.
        self.addCleanup(lambda: server.proc.send_signal(signal.SIGINT))
        for path in PROBE_PATHS:
            self.assertEqual(server._status(path), 200, path)
        hpa = self.one("HorizontalPodAutoscaler")
        for metric in hpa["spec"]["metrics"]:
            name = metric["pods"]["metric"]["name"]
            self.assertIsNotNone(server.metrics().value(name), name)

    def tmp(self):
        path = tempfile.mkdtemp(prefix="switchyard-deploy-")
        self.addCleanup(shutil.rmtree, path, True)
        return path


if __name__ == "__main__":
    unittest.main()
