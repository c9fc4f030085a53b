"""exec_add_sub: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (INT32 [batch, 16]).

Run by switchyard's exec backend (config.yaml: command "/usr/bin/python3 model.py", run in this
folder). The helper module lives in clients/python of the switchyard checkout, found from this
file's location; a PYTHONPATH naming another copy of it works too.
"""
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "..", "..", "clients", "python"))
from switchyard_exec import serve  # noqa: E402


def infer(inputs):
    a, b = inputs["INPUT0"], inputs["INPUT1"]
    return {"OUTPUT0": a + b, "OUTPUT1": a - b}


serve(infer)
