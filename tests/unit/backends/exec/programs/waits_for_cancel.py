"""Test model for exec_plugin_test (persistent mode, same tensors as add_sub.py): each batch
waits (up to 60 s) until every request of it is cancelled, then fails each with a message that
names the reasons of all: "stopped: request 0 reason 2, request 1 reason 1". A batch whose
INPUT0 starts with 0 is answered at once, with OUTPUT0 = OUTPUT1 = INPUT0.
"""
import time

import switchyard_exec as sx


def infer_batch(requests, cancellation):
    if all(int(inputs["INPUT0"].reshape(-1)[0]) == 0 for inputs, _ in requests):
        return [{"OUTPUT0": inputs["INPUT0"], "OUTPUT1": inputs["INPUT0"]}
                for inputs, _ in requests]
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        if all(i in cancellation for i in range(len(requests))):
            break
        time.sleep(0.01)
    text = "stopped: " + ", ".join("request %d reason %d" % (i, cancellation.reason(i))
                                   for i in range(len(requests)))
    return [sx.Cancelled(text)] * len(requests)


sx.serve_batches(infer_batch, with_wanted=True, with_cancellation=True)
