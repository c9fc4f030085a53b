"""Test model for exec_plugin_test: every input X comes back as output OUT_X, through numpy
(decoded to an array and encoded again), so all datatypes make the round trip. Each request
logs where its first input's bytes were ("inputs in mmap": the shared region; "inputs in
bytearray": the BATCH frame)."""
import sys

import numpy as np

from switchyard_exec import serve


def holder(array):
    """The object whose memory a numpy array views."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return getattr(array, "obj", array)


def infer(inputs):
    first = next(iter(inputs.values()))
    print("inputs in %s" % type(holder(first)).__name__, file=sys.stderr, flush=True)
    return {"OUT_" + name: value for name, value in inputs.items()}


serve(infer)
