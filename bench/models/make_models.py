#!/usr/bin/env python3
"""Makes the GPU benchmark models (docs/benchmarks.md, BENCHMARKS.md) as a switchyard model
repository, with random weights (nothing is downloaded):

    python3 bench/models/make_models.py OUT_REPOSITORY [--models resnet50,bert]
        [--cuda-graphs 1,8,32] [--cudnn-benchmark] [--channels-last] [--freeze]
        [--device cuda]

  resnet50  torchvision ResNet-50 (weights=None), FP16, input  "input"     FP16  [3,224,224],
            output "logits" FP16 [1000], max_batch_size 128.
  bert      a BERT-base-sized encoder from transformers' BertConfig (12 layers, hidden 768,
            12 heads, vocabulary 30522), FP16, input "input_ids" INT64 [128] (attention mask all
            ones), output "pooled" FP16 [768] (the pooler output), max_batch_size 64.

Each model is traced with torch.jit.trace on the device in FP16 and written as
OUT_REPOSITORY/<name>/1/model.pt next to OUT_REPOSITORY/<name>/config.yaml (backend: torch).
The script then loads each file back and checks it against the eager model on one batch.
--channels-last stores ResNet-50's weights in channels-last (NHWC) order, which TorchScript keeps:
its convolutions then run NHWC kernels on the same NCHW input. --cuda-graphs and
--cudnn-benchmark become the torch backend's parameters of the same names in config.yaml.
Needs torch, torchvision and transformers (the GPU machine's pip environment has them).
"""

import argparse
import os
import sys
import time

import torch

RESNET50_CONFIG = """\
# torchvision ResNet-50, random weights, TorchScript FP16 (bench/models/make_models.py).
backend: torch
max_batch_size: 128
inputs:
  - {{name: input, datatype: FP16, shape: [3, 224, 224]}}
outputs:
  - {{name: logits, datatype: FP16, shape: [1000]}}
{parameters}"""

BERT_CONFIG = """\
# A BERT-base-sized encoder (12 x 768, 128 tokens), random weights, TorchScript FP16
# (bench/models/make_models.py). Output: the pooler output.
backend: torch
max_batch_size: 64
inputs:
  - {{name: input_ids, datatype: INT64, shape: [128]}}
outputs:
  - {{name: pooled, datatype: FP16, shape: [768]}}
{parameters}"""

SEQUENCE_LENGTH = 128


class BertPooled(torch.nn.Module):
    """input_ids [batch, 128] -> pooler output [batch, 768].

    The trace records the device of tensors BertModel makes with device=..., so the file runs
    only on the GPU index it was traced on (cuda:0): fine for switchyard's workers, which each see
    their GPU as cuda:0, but a process that loads copies on cuda:0 and cuda:1 fails on the second
    (seen with transformers on the GPU machine, 2026-11-23)."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids):
        attention_mask = torch.ones_like(input_ids)
        outputs = self.bert(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)
        return outputs[1]


def make_resnet50(device):
    import torchvision
    model = torchvision.models.resnet50(weights=None)
    example = torch.randn(8, 3, 224, 224, device=device, dtype=torch.float16)
    return model, example


def make_bert(device):
    import transformers
    config = transformers.BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                     intermediate_size=3072, vocab_size=30522,
                                     max_position_embeddings=512, torchscript=True)
    try:
        bert = transformers.BertModel(config, add_pooling_layer=True, attn_implementation="eager")
    except TypeError:  # older transformers take the attention implementation from the config
        config._attn_implementation = "eager"
        bert = transformers.BertModel(config, add_pooling_layer=True)
    example = torch.randint(0, config.vocab_size, (8, SEQUENCE_LENGTH), device=device,
                            dtype=torch.int64)
    return BertPooled(bert), example


MODELS = {
    "resnet50": (make_resnet50, RESNET50_CONFIG),
    "bert": (make_bert, BERT_CONFIG),
}


def parameters_block(cuda_graphs, cudnn_benchmark, max_batch):
    lines = []
    sizes = [s for s in cuda_graphs if s <= max_batch]
    if sizes:
        lines.append("  cuda_graph_batch_sizes: \"%s\"" % ",".join(str(s) for s in sizes))
    if cudnn_benchmark:
        lines.append("  cudnn_benchmark: true")
    return "parameters:\n" + "\n".join(lines) + "\n" if lines else ""


def make(name, out_dir, args, cuda_graphs):
    device = args.device
    factory, config_template = MODELS[name]
    torch.manual_seed(0)
    model, example = factory(device)
    model = model.eval().to(device=device, dtype=torch.float16)
    if args.channels_last and example.dim() == 4:
        model = model.to(memory_format=torch.channels_last)
    start = time.time()
    with torch.no_grad():
        traced = torch.jit.trace(model, example, check_trace=False)
        if args.freeze:
            traced = torch.jit.freeze(traced)
        expected = model(example)
    model_dir = os.path.join(out_dir, name)
    os.makedirs(os.path.join(model_dir, "1"), exist_ok=True)
    path = os.path.join(model_dir, "1", "model.pt")
    traced.save(path + ".tmp")
    os.replace(path + ".tmp", path)
    max_batch = 128 if name == "resnet50" else 64
    with open(os.path.join(model_dir, "config.yaml"), "w") as f:
        f.write(config_template.format(
            parameters=parameters_block(cuda_graphs, args.cudnn_benchmark, max_batch)))

    # The saved file, loaded back as the plugin loads it, must agree with the eager model.
    loaded = torch.jit.load(path, map_location=device).eval()
    with torch.no_grad():
        actual = loaded(example)
    error = (actual.float() - expected.float()).abs().max().item()
    scale = expected.float().abs().max().item()
    print("%s: wrote %s (%.1f MB) in %.1f s; output %s %s, max |traced - eager| %.3g (max |eager| %.3g)"
          % (name, path, os.path.getsize(path) / 1e6, time.time() - start,
             list(actual.shape), actual.dtype, error, scale))
    if actual.dtype != torch.float16 or error > 0.05 * max(scale, 1.0):
        raise SystemExit("%s: the traced model does not match the eager one" % name)



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repository", help="output model repository folder")
    parser.add_argument("--models", default="resnet50,bert", help="comma-separated: resnet50,bert")
    parser.add_argument("--cuda-graphs", default="",
                        help="batch sizes for parameters.cuda_graph_batch_sizes, e.g. 1,8,32")
    parser.add_argument("--cudnn-benchmark", action="store_true",
                        help="parameters.cudnn_benchmark: true in config.yaml")
    parser.add_argument("--channels-last", action="store_true",
                        help="store 4-D models' weights channels-last (NHWC)")
    parser.add_argument("--freeze", action="store_true", help="torch.jit.freeze the traced models")
    parser.add_argument("--device", default="cuda", help="device to trace on (default cuda)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available (use --device cpu to make the files anyway)")
    cuda_graphs = [int(s) for s in args.cuda_graphs.split(",") if s.strip()]
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if name not in MODELS:
            raise SystemExit("unknown model '%s' (known: %s)" % (name, ", ".join(MODELS)))
        make(name, args.repository, args, cuda_graphs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
