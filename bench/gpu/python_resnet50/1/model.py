"""P1's model: eager ResNet-50 on the instance's GPU, batched; numpy in and out. Every 200
batches it logs (stderr, so the server's log) how long its predict calls took and how long the
runner left it waiting between them, in ms: where a served batch's time goes."""

import sys
import time

import numpy as np
import switchyard
import torch

from eager_resnet50 import build, run


class ResNet50:
    def setup(self, ctx):
        self.device = torch.device(ctx.device)
        self.model = build(self.device)
        self.calls, self.busy, self.idle, self.last_end = 0, 0.0, 0.0, None

    def predict(self, batch):
        """`batch`: input dicts, each FP16 [rows, 3, 224, 224]; one output dict per item."""
        start = time.perf_counter()
        arrays = [item["input"] for item in batch]
        # The inputs lie end to end in the shared memory they arrive in: no copy to join them.
        logits = run(self.model, torch.from_numpy(switchyard.stack(arrays)), self.device).numpy()
        bounds = np.cumsum([len(a) for a in arrays])[:-1]
        end = time.perf_counter()
        self._account(start, end)
        return [{"logits": rows} for rows in np.split(logits, bounds)]

    def _account(self, start, end):
        if self.last_end is not None:
            self.idle += start - self.last_end
        self.busy += end - start
        self.last_end = end
        self.calls += 1
        if self.calls % 200 == 0:
            print("predict %.2f ms, between predicts %.2f ms (average of the last 200)" %
                  (self.busy * 5, self.idle * 5), file=sys.stderr, flush=True)
            self.busy = self.idle = 0.0
