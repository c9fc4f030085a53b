"""Test model for exec_plugin_test: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (INT32).

INPUT0's first element selects a misbehaviour:
  -1  raise InvalidInput (that request fails with INVALID_ARGUMENT)
  -2  raise ValueError (that request fails with INTERNAL)
  -3  write "dying on purpose" to stderr and exit with status 3 in the middle of the batch
  -4  sleep for an hour
  -5  return OUTPUT0 with a wrong shape
In per_request mode it first prints "exec dir: <folder>" to stderr. A request parameter `add`
(an integer) is added to OUTPUT0.
"""
import os
import sys
import time

from switchyard_exec import InvalidInput, serve

print("add_sub starting, pid %d" % os.getpid(), file=sys.stderr, flush=True)
print("this goes to stderr too: stdout is not the protocol stream")
if "SWITCHYARD_EXEC_DIR" in os.environ:
    print("exec dir: %s" % os.environ["SWITCHYARD_EXEC_DIR"], file=sys.stderr, flush=True)


def infer(inputs):
    a, b = inputs["INPUT0"], inputs["INPUT1"]
    marker = int(a.reshape(-1)[0])
    if marker == -1:
        raise InvalidInput("negative marker")
    if marker == -2:
        raise ValueError("the model broke")
    if marker == -3:
        print("dying on purpose", file=sys.stderr, flush=True)
        os._exit(3)
    if marker == -4:
        time.sleep(3600)
    if marker == -5:
        return {"OUTPUT0": (a + b).reshape(-1)[:3], "OUTPUT1": a - b}
    return {"OUTPUT0": a + b + int(inputs.parameters.get("add", "0")), "OUTPUT1": a - b}


serve(infer)
