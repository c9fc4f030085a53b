"""Runs the image-to-3D command-line tool (to3d_cli.py) once per request and answers its output
file. The tool's progress lines go to the server's log, tagged with this instance."""

import os
import subprocess
import sys
import tempfile

import switchyard

MAX_SECONDS = 600


class ImageTo3D:
    def setup(self, ctx):
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
            run = subprocess.run(
                [sys.executable, self.cli, "--image", image, "--out", mesh,
                 "--seconds", str(seconds)],
                stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
            if run.returncode == 2:  # the tool's own verdict on its input
                raise switchyard.InvalidInput(run.stderr.strip().splitlines()[-1])
            if run.returncode != 0:
                raise switchyard.InferError("to3d_cli.py failed (status %d): %s" %
                                            (run.returncode, run.stderr.strip()[-500:]))
            with open(mesh, "rb") as f:
                return f.read()

    def encode(self, mesh):
        return switchyard.Response(mesh, "model/obj")
