"""The G3 reference model for bench/baselines/common_server.py: one TorchScript model copy per
device (the common design on GPUs: one Python process, one copy per GPU, round robin, batch 1,
a thread pool running the copies).

Requests are KServe v2 infer requests, JSON or with the binary tensor data extension
(`Inference-Header-Content-Length`, `binary_data_size`); each input must have the shape
[1, *dims] of its --input spec. Outputs come back binary when the request asks for it
(`binary_data_output`, or `binary_data` on a requested output), else as JSON data (FP16/BF16
cannot travel as JSON: 400, as the protocol says).
"""

import asyncio
import concurrent.futures
import json

import torch

DTYPES = {
    "BOOL": torch.bool, "UINT8": torch.uint8, "INT8": torch.int8, "INT16": torch.int16,
    "INT32": torch.int32, "INT64": torch.int64, "FP16": torch.float16, "BF16": torch.bfloat16,
    "FP32": torch.float32, "FP64": torch.float64,
}
NOT_JSON = ("FP16", "BF16")


def on_device(path, device):
    """The TorchScript file at `path` loaded onto `device`, runnable there.

    map_location moves parameters and buffers, but a trace also records the device of tensors the
    model made with device=... as graph constants (BERT's attention mask in transformers'
    masking_utils: `cuda:0`), so a copy loaded onto cuda:1 mixes devices. Such a model is frozen
    (one inlined graph) and its device constants are replaced by `device`. switchyard's workers
    never need this: each sees its own GPU as cuda:0."""
    def foreign_devices(graph):
        return [n for n in graph.findAllNodes("prim::Constant")
                if n.output().type().kind() == "DeviceObjType" and n.output().toIValue() != device]

    module = torch.jit.load(path, map_location=device).eval()
    inlined = module.inlined_graph  # a new graph: its nodes live as long as this reference
    if not foreign_devices(inlined):
        return module
    frozen = torch.jit.freeze(module)
    graph = frozen.graph
    for node in foreign_devices(graph):
        with graph.insert_point_guard(node):
            replacement = graph.insertConstant(device)
        node.output().replaceAllUsesWith(replacement)
        node.destroy()
    return frozen


class TensorSpec:
    """NAME:DATATYPE:d0,d1,... (the dims of one batch item)."""

    def __init__(self, text):
        parts = text.split(":")
        if len(parts) != 3 or parts[1] not in DTYPES:
            raise ValueError(f"bad tensor spec '{text}' (NAME:DATATYPE:d0,d1,...; datatypes "
                             f"{', '.join(DTYPES)})")
        self.name, self.datatype = parts[0], parts[1]
        self.dims = [int(d) for d in parts[2].split(",") if d]
        self.dtype = DTYPES[self.datatype]
        self.nbytes = torch.tensor([], dtype=self.dtype).element_size()
        for d in self.dims:
            self.nbytes *= d

    def metadata(self):
        return {"name": self.name, "datatype": self.datatype, "shape": [-1] + self.dims}


class TorchModel:
    def __init__(self, args):
        self.name = args.model
        self.eager = bool(args.eager)
        self.inputs = [TensorSpec(t) for t in args.input]
        self.outputs = [TensorSpec(t) for t in args.output]
        if not self.inputs or not self.outputs:
            raise ValueError("--input and --output are required with --torchscript or --eager")
        self.devices = [torch.device(d) for d in args.devices.split(",") if d]
        if args.eager:  # bench/models/eager_resnet50.py: the model P2 serves
            from eager_resnet50 import build
            self.copies = [build(d) for d in self.devices]
        else:
            self.copies = [on_device(args.torchscript, d) for d in self.devices]
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(self.copies))
        for index, device in enumerate(self.devices):  # fail at start, not on every request
            try:
                self.run(index, {t.name: torch.zeros([1] + t.dims, dtype=t.dtype)
                                 for t in self.inputs})
            except RuntimeError as error:
                raise ValueError(f"the model fails on {device}: {error}") from error

    def instance_count(self):
        return len(self.copies)

    def metadata(self):
        platform = "pytorch_eager" if self.eager else "pytorch_torchscript"
        return {"name": self.name, "versions": ["1"], "platform": platform,
                "inputs": [t.metadata() for t in self.inputs],
                "outputs": [t.metadata() for t in self.outputs]}

    def parse(self, body, headers):
        """Host tensors by input name, and whether outputs go back binary; ValueError if bad."""
        header_length = int(headers.get("Inference-Header-Content-Length", len(body)))
        if header_length < 0 or header_length > len(body):
            raise ValueError("Inference-Header-Content-Length exceeds the body")
        request = json.loads(body[:header_length])
        binary = memoryview(body)[header_length:]
        if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
            raise ValueError("the request has no 'inputs' list")
        specs = {t.name: t for t in self.inputs}
        tensors, offset = {}, 0
        for tensor in request["inputs"]:
            spec = specs.get(tensor.get("name"))
            if spec is None:
                raise ValueError(f"unknown input '{tensor.get('name')}'")
            if tensor.get("shape") != [1] + spec.dims or tensor.get("datatype") != spec.datatype:
                raise ValueError(f"input '{spec.name}' must be {spec.datatype} {[1] + spec.dims}")
            size = (tensor.get("parameters") or {}).get("binary_data_size")
            if size is not None:
                if size != spec.nbytes or offset + size > len(binary):
                    raise ValueError(f"input '{spec.name}': binary_data_size must be "
                                     f"{spec.nbytes} and within the body")
                data = torch.frombuffer(bytearray(binary[offset:offset + size]), dtype=spec.dtype)
                offset += size
            else:
                if spec.datatype in NOT_JSON:
                    raise ValueError(f"{spec.datatype} needs binary data")
                data = torch.tensor(tensor.get("data"), dtype=spec.dtype)
            tensors[spec.name] = data.reshape([1] + spec.dims)
        if set(tensors) != set(specs):
            raise ValueError(f"inputs {list(specs)} are required")
        wants_binary = bool((request.get("parameters") or {}).get("binary_data_output"))
        for output in request.get("outputs") or []:
            wants_binary |= bool((output.get("parameters") or {}).get("binary_data"))
        for spec in self.outputs:  # refused before it runs, not after
            if spec.datatype in NOT_JSON and not wants_binary:
                raise ValueError(f"{spec.datatype} output needs binary data")
        return tensors, wants_binary

    def run(self, index, tensors):
        """Runs copy `index` on one request (on a pool thread); host output tensors."""
        device = self.devices[index]
        with torch.inference_mode():
            args = [tensors[t.name].to(device, non_blocking=False) for t in self.inputs]
            result = self.copies[index](*args)
            if isinstance(result, torch.Tensor):
                result = (result,)
            return [r.to("cpu") for r in result]

    async def execute(self, instance, parsed):
        tensors, wants_binary = parsed
        loop = asyncio.get_running_loop()
        outputs = await loop.run_in_executor(self.pool, self.run, instance.index, tensors)
        return outputs, wants_binary

    def respond(self, web, result):
        outputs, wants_binary = result
        described, raw = [], []
        for spec, tensor in zip(self.outputs, outputs):
            entry = {"name": spec.name, "datatype": spec.datatype, "shape": list(tensor.shape)}
            if wants_binary:
                data = tensor.contiguous().view(torch.uint8).numpy().tobytes() \
                    if tensor.numel() else b""
                entry["parameters"] = {"binary_data_size": len(data)}
                raw.append(data)
            else:
                entry["data"] = tensor.flatten().tolist()
            described.append(entry)
        header = json.dumps({"model_name": self.name, "model_version": "1",
                             "outputs": described}).encode()
        if not wants_binary:
            return web.Response(body=header, content_type="application/json")
        return web.Response(body=header + b"".join(raw), content_type="application/octet-stream",
                            headers={"Inference-Header-Content-Length": str(len(header))})
