#!/usr/bin/python3
"""Writes the tiny TorchScript models the torch backend's tests run (CPU, any libtorch >= 1.13).

    /usr/bin/python3 make_test_models.py OUT_DIR

Each model is OUT_DIR/<name>.pt; the tests write the config (a SyModelDesc) themselves.
  add_sub      forward(INPUT0, INPUT1) -> (INPUT0 + INPUT1, INPUT0 - INPUT1)   tuple, any dtype
  named_args   forward(b, a) -> {"difference": a - b, "sum": a + b}             dict output
  identity     forward(x) -> x.clone()                                           any dtype/shape
  half_scale   forward(x: FP16) -> [x * 2 + 1]                                   list output
  int64_ids    forward(ids: INT64) -> (ids + 1, ids.sum(dim=1, keepdim=True))    INT64
  fails_on_negative  forward(x) -> x, raises when any element of x is negative
Exits with status 2 (and a message) when torch cannot be imported.
"""

import os
import sys
from typing import Dict, List, Tuple

try:
    import torch
except ImportError as error:  # the tests are skipped with this reason
    print("make_test_models.py: cannot import torch (%s)" % error, file=sys.stderr)
    sys.exit(2)


class AddSub(torch.nn.Module):
    def forward(self, INPUT0: torch.Tensor, INPUT1: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return INPUT0 + INPUT1, INPUT0 - INPUT1


class NamedArgs(torch.nn.Module):
    def forward(self, b: torch.Tensor, a: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"difference": a - b, "sum": a + b}


class Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


class HalfScale(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x * 2 + 1]


class Int64Ids(torch.nn.Module):
    def forward(self, ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return ids + 1, ids.sum(dim=1, keepdim=True)


class FailsOnNegative(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise RuntimeError("negative input")
        return x.clone()


MODELS = {
    "add_sub": AddSub,
    "named_args": NamedArgs,
    "identity": Identity,
    "half_scale": HalfScale,
    "int64_ids": Int64Ids,
    "fails_on_negative": FailsOnNegative,
}


def main():
    if len(sys.argv) != 2:
        print("usage: make_test_models.py OUT_DIR", file=sys.stderr)
        return 1
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, cls in MODELS.items():
        module = torch.jit.script(cls().eval())
        path = os.path.join(out_dir, name + ".pt")
        module.save(path + ".tmp")
        os.replace(path + ".tmp", path)
    # Not a TorchScript archive: the "bad model file" test loads it.
    with open(os.path.join(out_dir, "not_a_model.pt"), "w") as f:
        f.write("this is not a TorchScript archive\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
