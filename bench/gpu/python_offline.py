#!/usr/bin/env python3
"""P1's reference (BENCHMARKS.md): the eager ResNet-50 of bench/models/eager_resnet50.py run
offline in Python on one GPU, host numpy in and out, at each batch size given; prints one JSON
line per batch size ({"batch", "img_per_s", "ms_per_batch"}) and the best last.

    python3 bench/gpu/python_offline.py [--device cuda:0] [--seconds 10] [--batches 16,32,64,128]

Each iteration converts a host FP16 numpy batch to a tensor, copies it to the GPU, runs the
model, copies the logits back and converts them to numpy: what a server's predict does with
numpy inputs, without a server."""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from eager_resnet50 import build, run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batches", default="16,32,64,128")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = build(device)
    results = []
    for batch in [int(b) for b in args.batches.split(",")]:
        host = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float16)
        for _ in range(3):  # warm-up (cuDNN picks its algorithms)
            run(model, torch.from_numpy(host), device).numpy()
        torch.cuda.synchronize(device)
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            run(model, torch.from_numpy(host), device).numpy()
            count += 1
        elapsed = time.perf_counter() - started
        result = {"batch": batch, "img_per_s": round(count * batch / elapsed, 1),
                  "ms_per_batch": round(elapsed / count * 1e3, 3)}
        results.append(result)
        print(json.dumps(result), flush=True)
    best = max(results, key=lambda r: r["img_per_s"])
    print(json.dumps({"best": best}), flush=True)


if __name__ == "__main__":
    main()
