"""Runs the image-to-3D command-line tool (to3d_cli.py) once per request and answers its output
file. The tool's progress lines ("to3d:  40% carving") go to the server's log, tagged with this
instance, and become the request's progress (ctx.progress), which a job shows. When the
request is cancelled (its client went away, or its `?timeout_ms` passed) the tool is stopped, so
the instance is free for the next request instead of finishing work nobody waits for."""

import os
import re
import subprocess
import sys
import tempfile
import threading

import switchyard

MAX_SECONDS = 600
POLL_S = 0.2  # how often a running tool is checked for cancellation
STOP_GRACE_S = 5  # how long a cancelled tool has to exit after SIGTERM before SIGKILL
PROGRESS_LINE = re.compile(r"to3d:\s*(\d+)%\s*(.*)")


class ImageTo3D:
    def setup(self, ctx):
        self.ctx = ctx
        self.cli = os.path.join(ctx.version_dir, "to3d_cli.py")

    def decode(self, request):
        if "image" not in request.files and not request.body:
            raise switchyard.InvalidInput("send the image as the form field `image`")
        data = request.files["image"].data if "image" in request.files else request.body
        try:
            seconds = float(request.params.get("seconds", "20"))
        except ValueError:
            raise switchyard.InvalidInput("seconds: expected a number") from None
        if not 0 <= seconds <= MAX_SECONDS:
            raise switchyard.InvalidInput("seconds: expected 0 to %d" % MAX_SECONDS)
        return data, seconds

    def predict(self, item):
        data, seconds = item
        with tempfile.TemporaryDirectory(prefix="to3d-") as work:
            image = os.path.join(work, "input")
            mesh = os.path.join(work, "mesh.obj")
            with open(image, "wb") as f:
                f.write(data)
            with open(os.path.join(work, "stderr"), "w+") as errors:
                status = self.run_tool(["--image", image, "--out", mesh,
                                        "--seconds", str(seconds)], errors)
                errors.seek(0)
                message = errors.read().strip()
            if status == 2:  # the tool's own verdict on its input
                raise switchyard.InvalidInput((message.splitlines() or ["not an image"])[-1])
            if status != 0:
                raise switchyard.InferError("to3d_cli.py failed (status %d): %s" %
                                            (status, message[-500:]))
            with open(mesh, "rb") as f:
                return f.read()

    def run_tool(self, arguments, errors):
        """Runs the tool to its end and returns its exit status, or stops it and raises
        switchyard.Cancelled once the request is cancelled."""
        tool = subprocess.Popen([sys.executable, self.cli] + arguments, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        reader = threading.Thread(target=self.follow, args=(tool.stdout,), daemon=True)
        reader.start()
        try:
            while True:
                try:
                    return tool.wait(timeout=POLL_S)
                except subprocess.TimeoutExpired:
                    pass
                if self.ctx.cancelled():
                    tool.terminate()
                    try:
                        tool.wait(timeout=STOP_GRACE_S)
                    except subprocess.TimeoutExpired:
                        tool.kill()
                        tool.wait()
                    raise switchyard.Cancelled("to3d_cli.py stopped: the request was cancelled")
        finally:
            reader.join()

    def follow(self, lines):
        """Passes the tool's output to the log, and its progress lines to ctx.progress."""
        for line in lines:
            print(line, end="", file=sys.stderr, flush=True)
            match = PROGRESS_LINE.match(line)
            if match:
                self.ctx.progress(int(match.group(1)) / 100, match.group(2).strip())

    def encode(self, mesh):
        return switchyard.Response(mesh, "model/obj")
