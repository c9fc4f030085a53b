#!/usr/bin/env python3
"""A TorchScript model's offline batch curve on one GPU, with no server: time per batch and
items/s at each batch size, with cuDNN's algorithm search off and on, optionally counting the
host<->device copies a server's batch pays (--host-io: the batch starts in pinned host memory
and its outputs end there). It tells how much a model gains from larger batches, which decides
how G1's fixed 256 clients split over N GPUs can scale (docs/benchmarks.md).

    python3 bench/gpu/offline_curve.py MODEL.pt --input FP16:3,224,224 \\
        --batches 1,16,32,64,96,128 [--iterations 30] [--host-io] [--json-out FILE]

Each point: 3 warm-up batches, then --iterations timed ones (CUDA-synchronised each); the
median and the mean are printed. Inputs are random (FP) or random ids below 1000 (INT).
"""

import argparse
import json
import statistics
import time

import torch

DTYPES = {"FP16": torch.float16, "BF16": torch.bfloat16, "FP32": torch.float32,
          "INT64": torch.int64, "INT32": torch.int32, "UINT8": torch.uint8}


def make_input(dtype, dims, batch, device, pinned):
    shape = [batch] + dims
    if dtype.is_floating_point:
        x = torch.randn(shape, dtype=torch.float32).to(dtype)
    else:
        x = torch.randint(0, 1000, shape).to(dtype)
    return x.pin_memory() if pinned else x.to(device)


def time_batch(model, x, device, host_io, iterations):
    times = []
    with torch.inference_mode():
        for i in range(3 + iterations):
            torch.cuda.synchronize()
            start = time.perf_counter()
            y = model(x.to(device, non_blocking=True) if host_io else x)
            if host_io:
                y = y.to("cpu")
            torch.cuda.synchronize()
            if i >= 3:
                times.append(time.perf_counter() - start)
    return statistics.median(times), statistics.mean(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="TorchScript file")
    parser.add_argument("--input", required=True, help="DATATYPE:d0,d1,... of one item")
    parser.add_argument("--batches", default="1,16,32,64,96,128")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--host-io", action="store_true",
                        help="inputs from pinned host memory, outputs back to the host")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    datatype, dims = args.input.split(":")
    dtype, dims = DTYPES[datatype], [int(d) for d in dims.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    device = torch.device("cuda")
    model = torch.jit.load(args.model, map_location=device).eval()

    rows = []
    print(f"{args.model}: {torch.cuda.get_device_name()}, torch {torch.__version__}, "
          f"host_io {args.host_io}")
    print(f"{'cudnn.benchmark':>15} {'batch':>6} {'p50 ms':>9} {'mean ms':>9} {'items/s':>10}")
    for benchmark in (False, True):
        torch.backends.cudnn.benchmark = benchmark
        for batch in batches:
            x = make_input(dtype, dims, batch, device, pinned=args.host_io)
            p50, mean = time_batch(model, x, device, args.host_io, args.iterations)
            rows.append({"cudnn_benchmark": benchmark, "batch": batch, "p50_ms": p50 * 1e3,
                         "mean_ms": mean * 1e3, "items_per_s": batch / p50})
            print(f"{str(benchmark):>15} {batch:>6} {p50 * 1e3:>9.3f} {mean * 1e3:>9.3f} "
                  f"{batch / p50:>10.1f}", flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"model": args.model, "gpu": torch.cuda.get_device_name(),
                       "host_io": args.host_io, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
