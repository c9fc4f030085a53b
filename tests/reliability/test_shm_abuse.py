"""Shared-memory abuse (`serve --allow-shared-memory`): a client registers a POSIX shared-memory
object as a region, then truncates the object to 0 bytes (os.ftruncate) behind the server's back,
and names the region in an infer request, as an input, and (another region) as an output.

Judged by: the server survives (touching a mapping past the end of its object raises SIGBUS);
the infer is answered with a 4xx/5xx JSON error; later infers naming the region are answered 400;
the truncated regions can be unregistered; a fresh region works; the server answers live and an
infer on `simple` afterwards."""

import json
import mmap
import os
import struct
import unittest

import rharness
from rharness import report

SIZE = 4096


class ShmObject:
    """A POSIX shared-memory object made the way shm_open does (a file in /dev/shm)."""

    def __init__(self, tag):
        self.key = "/switchyard-rel-%d-%s" % (os.getpid(), tag)
        self.path = "/dev/shm" + self.key
        self.fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.ftruncate(self.fd, SIZE)
        self.map = mmap.mmap(self.fd, SIZE)

    def write_int32(self, offset, values):
        self.map[offset:offset + 4 * len(values)] = struct.pack("<%di" % len(values), *values)

    def read_int32(self, offset, count):
        return list(struct.unpack("<%di" % count, self.map[offset:offset + 4 * count]))

    def truncate(self):
        self.map.close()  # our own mapping would fault past the end too
        self.map = None
        os.ftruncate(self.fd, 0)

    def close(self):
        if self.map is not None:
            self.map.close()
        os.close(self.fd)
        os.unlink(self.path)


def shm_params(region, byte_size, offset):
    return {"shared_memory_region": region, "shared_memory_byte_size": byte_size,
            "shared_memory_offset": offset}


def shm_input(name, region, offset):
    return {"name": name, "datatype": "INT32", "shape": [1, 16],
            "parameters": shm_params(region, 64, offset)}


class SharedMemoryAbuseTest(rharness.ReliabilityCase):
    SERVER_ARGS = ["--http-threads", "2", "--allow-shared-memory"]
    SERVER_PER_TEST = True  # a SIGBUS kills the server: the next test starts a fresh one

    def register(self, name, shm):
        body = json.dumps({"key": shm.key, "offset": 0, "byte_size": 1024})
        resp = self.server.request("POST", "/v2/systemsharedmemory/region/%s/register" % name,
                                   body)
        self.assertOk(resp)

    def new_object(self, tag):
        shm = ShmObject(tag)
        self.addCleanup(shm.close)
        return shm

    def infer(self, request):
        return self.server.infer("simple", request)

    def assertFreshRegionWorks(self):
        fresh = self.new_object("fresh")
        self.register("fresh", fresh)
        fresh.write_int32(0, list(range(16)))
        fresh.write_int32(64, [5] * 16)
        resp = self.infer({
            "inputs": [shm_input("INPUT0", "fresh", 0), shm_input("INPUT1", "fresh", 64)],
            "outputs": [{"name": "OUTPUT0", "parameters": shm_params("fresh", 64, 128)},
                        {"name": "OUTPUT1"}]})
        self.assertOk(resp)
        self.assertEqual(fresh.read_int32(128, 16), [i + 5 for i in range(16)])

    def assertRefusedCleanly(self, resp, statuses, what):
        self.assertTrue(self.server.alive(), "%s: the server died (exit %s)\n%s" %
                        (what, self.server.proc.returncode, self.server.log_tail(20)))
        self.assertIn(resp.status, statuses, "%s: %r" % (what, resp))
        self.assertIsNotNone(resp.error_message(), "%s: not a JSON error: %r" % (what, resp))
        report(self, "%s: %d %s" % (what, resp.status, resp.error_message()))

    def test_input_region_truncated_to_zero(self):
        shm = self.new_object("in")
        self.register("victim", shm)
        shm.write_int32(0, [1] * 16)
        shm.write_int32(64, [2] * 16)
        request = {"inputs": [shm_input("INPUT0", "victim", 0),
                              shm_input("INPUT1", "victim", 64)]}
        resp = self.assertOk(self.infer(request))
        self.assertEqual(resp.json()["outputs"][0]["data"], [3] * 16)
        shm.truncate()
        try:
            resp = self.infer(request)
        except OSError as e:
            self.fail("infer on a truncated input region: %s; server alive: %s\n%s" %
                      (e, self.server.alive(), self.server.log_tail(20)))
        self.assertRefusedCleanly(resp, range(400, 600), "first infer after the truncation")
        for k in range(3):
            self.assertRefusedCleanly(self.infer(request), (400,), "infer %d after it" % (k + 2))
        self.assertOk(self.server.request("POST",
                                          "/v2/systemsharedmemory/region/victim/unregister"))
        self.assertFreshRegionWorks()
        self.assertServerHealthy()

    def test_output_region_truncated_to_zero(self):
        out = self.new_object("out")
        self.register("victim_out", out)
        out.truncate()
        request = {"inputs": [{"name": "INPUT0", "datatype": "INT32", "shape": [1, 16],
                               "data": list(range(16))},
                              {"name": "INPUT1", "datatype": "INT32", "shape": [1, 16],
                               "data": [1] * 16}],
                   "outputs": [{"name": "OUTPUT0",
                                "parameters": shm_params("victim_out", 64, 0)}]}
        try:
            resp = self.infer(request)
        except OSError as e:
            self.fail("infer into a truncated output region: %s; server alive: %s\n%s" %
                      (e, self.server.alive(), self.server.log_tail(20)))
        self.assertRefusedCleanly(resp, range(400, 600), "first infer into the truncated region")
        self.assertRefusedCleanly(self.infer(request), (400,), "second infer into it")
        self.assertFreshRegionWorks()
        self.assertServerHealthy()


if __name__ == "__main__":
    unittest.main()
