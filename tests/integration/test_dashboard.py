"""The dashboard at /: one self-contained HTML page (no external assets) whose every fetch answers
200, and the /v2/status fields it reads exist (a renamed field would blank a column)."""

import re
import unittest

import harness

# Fields of /v2/status the page reads: devices, models, instances, queue.
DEVICE_FIELDS = ("index", "uuid", "name", "health", "health_detail", "speed", "total_mb",
                 "used_by_others_mb", "reserve_mb", "planned_mb", "instances")
MODEL_FIELDS = ("name", "version", "state", "reason", "routing", "instances", "queue")
INSTANCE_FIELDS = ("name", "device", "state", "inflight_batches", "outstanding_items", "batches",
                   "items", "average_batch_ms")
QUEUE_FIELDS = ("depth", "max_size", "oldest_wait_ms")


class DashboardTest(harness.ServerTestCase):
    REPOSITORY = harness.examples_models()
    SERVER_ARGS = ["--http-threads", "2", "--simulate-gpus", "2x80GB,40GB:speed=0.5"]

    def page(self):
        resp = self.assertOk(self.server.request("GET", "/"))
        self.assertIn("text/html", resp.header("Content-Type", ""))
        return resp.body.decode("utf-8")

    def test_page_is_self_contained(self):
        page = self.page()
        self.assertIn("<script>", page)
        for pattern in (r"<script[^>]*\bsrc=", r"<link\b", r"<img\b", r"@import", r"://",
                        r"url\((?!#)"):
            self.assertIsNone(re.search(pattern, page), "external asset: %s" % pattern)

    def test_every_fetch_answers(self):
        page = self.page()
        fetches = re.findall(r"fetch\('([^']+)'(?:,\s*\{method:\s*'(\w+)')?", page)
        self.assertIn("/v2/status", [path for path, _ in fetches], "the page reads /v2/status")
        for path, method in fetches:
            with self.subTest(path=path):
                resp = self.server.request(method or "GET", path,
                                           b"{}" if method == "POST" else None)
                self.assertOk(resp)
                if path != "/metrics":
                    resp.json()
        self.assertIn("setInterval(poll, 1000)", page, "polls once a second")

    def test_status_has_the_fields_the_page_reads(self):
        page = self.page()
        status = self.server.get_json("/v2/status")
        self.assertEqual(len(status["devices"]), 3)
        for fields, objects in ((DEVICE_FIELDS, status["devices"]),
                                (MODEL_FIELDS, status["models"]),
                                (INSTANCE_FIELDS, [i for m in status["models"]
                                                   for i in m["instances"]]),
                                (QUEUE_FIELDS, [m["queue"] for m in status["models"]])):
            self.assertTrue(objects)
            for field in fields:
                self.assertTrue("." + field in page, "the page does not read %s" % field)
                for obj in objects:
                    self.assertIn(field, obj)


if __name__ == "__main__":
    unittest.main()
