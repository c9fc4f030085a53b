"""Test program for exec_plugin_test: add/sub like add_sub.py, persistent mode only. A batch
whose first request's INPUT0 starts with -6 is answered with the RESULT flag that says the
program ends, and then it ends (as the Python runner does after a CUDA out-of-memory error)."""
import os
import sys

from switchyard_exec import serve_batches

print("ends_after_batch starting, pid %d" % os.getpid(), file=sys.stderr, flush=True)
ending = []


def infer_batch(requests):
    results = []
    for inputs in requests:
        a, b = inputs["INPUT0"], inputs["INPUT1"]
        if int(a.reshape(-1)[0]) == -6:
            ending.append(True)
        results.append({"OUTPUT0": a + b, "OUTPUT1": a - b})
    return results


serve_batches(infer_batch, keep_serving=lambda: not ending)
