"""Test model for exec_plugin_test: every input X comes back as output OUT_X, through numpy
(decoded to an array and encoded again), so all datatypes make the round trip."""
from switchyard_exec import serve


def infer(inputs):
    return {"OUT_" + name: value for name, value in inputs.items()}


serve(infer)
