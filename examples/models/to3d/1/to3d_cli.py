#!/usr/bin/env python3
"""A stand-in for an image-to-3D tool: reads an image, "reconstructs" a height-field mesh from
its brightness in stages that take --seconds in all, printing progress lines as it goes, and
writes the mesh as a Wavefront OBJ file.

    to3d_cli.py --image page.png --out mesh.obj --seconds 20

Exit status 2: the input is not an image.
"""

import argparse
import sys
import time

from PIL import Image, UnidentifiedImageError

GRID = 48
STAGES = ["loading", "estimating depth", "meshing", "smoothing", "writing"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    try:
        image = Image.open(args.image).convert("L").resize((GRID, GRID), Image.BILINEAR)
    except (UnidentifiedImageError, OSError) as exc:
        print("not an image: %s" % exc, file=sys.stderr)
        return 2
    heights = list(image.getdata())
    started = time.monotonic()
    for i, stage in enumerate(STAGES):
        print("to3d: %3d%% %s" % (100 * i // len(STAGES), stage), flush=True)
        time.sleep(max(0.0, started + args.seconds * (i + 1) / len(STAGES) - time.monotonic()))
    with open(args.out, "w") as out:
        out.write("# to3d_cli.py: %dx%d height field\n" % (GRID, GRID))
        for y in range(GRID):
            for x in range(GRID):
                out.write("v %g %g %g\n" % (x / GRID, y / GRID, heights[y * GRID + x] / 1020))
        for y in range(GRID - 1):
            for x in range(GRID - 1):
                a = y * GRID + x + 1
                out.write("f %d %d %d\nf %d %d %d\n" % (a, a + 1, a + GRID,
                                                       a + 1, a + GRID + 1, a + GRID))
    print("to3d: 100% done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
