"""The eager PyTorch ResNet-50 of the Python-model benchmarks (P1, P2 in BENCHMARKS.md):
torchvision's ResNet-50 with random weights (seeded, no download), FP16, channels-last, in
inference mode. The served model (bench/gpu/python_resnet50), the offline reference
(bench/gpu/python_offline.py) and the common-design baseline (bench/baselines/common_server.py
--eager) all build it here, so they run the same model."""

import torch
import torchvision


def build(device):
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval().half()
    return model.to(device, memory_format=torch.channels_last)


def run(model, batch, device):
    """`batch`: a host FP16 tensor [n, 3, 224, 224] -> host logits [n, 1000] in the model's
    dtype (FP16 as built here)."""
    dtype = next(model.parameters()).dtype
    with torch.inference_mode():
        x = batch.to(device, dtype, non_blocking=True).contiguous(memory_format=torch.channels_last)
        return model(x).to("cpu")
