"""Test model for exec_plugin_test: reports each request's progress (0.25 "a quarter", then
a report closer than PROGRESS_INTERVAL that is dropped, then 1 "done"), then answers
OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1."""
from switchyard_exec import serve_batches


def infer_batch(requests, progress):
    for index in range(len(requests)):
        progress.report(index, 0.25, "a quarter")
        progress.report(index, 0.5, "dropped: too soon after the last")
        progress.report(index, 7, "done")  # clamped to 1
    return [{"OUTPUT0": r["INPUT0"] + r["INPUT1"], "OUTPUT1": r["INPUT0"] - r["INPUT1"]}
            for r in requests]


serve_batches(infer_batch, with_progress=True)
