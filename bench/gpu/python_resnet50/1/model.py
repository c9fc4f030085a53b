"""P1's model: eager ResNet-50 on the instance's GPU, batched; numpy in and out."""

import numpy as np
import switchyard
import torch

from eager_resnet50 import build, run


class ResNet50:
    def setup(self, ctx):
        self.device = torch.device(ctx.device)
        self.model = build(self.device)

    def predict(self, batch):
        """`batch`: input dicts, each FP16 [rows, 3, 224, 224]; one output dict per item."""
        arrays = [item["input"] for item in batch]
        # The inputs lie end to end in the shared memory they arrive in: no copy to join them.
        logits = run(self.model, torch.from_numpy(switchyard.stack(arrays)), self.device).numpy()
        bounds = np.cumsum([len(a) for a in arrays])[:-1]
        return [{"logits": rows} for rows in np.split(logits, bounds)]
