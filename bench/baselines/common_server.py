#!/usr/bin/env python3
"""The B6 reference: a KServe v2 inference server built the common way, in one Python process.

aiohttp serves the HTTP API; every infer request goes onto one bounded asyncio queue (full: 429);
a dispatcher takes requests off the queue, waits for a slot of an asyncio semaphore sized to the
number of instances, and binds the request to the next instance in turn (round robin, blind to
load). An instance stands for one model copy: an asyncio lock held while the request executes,
i.e. while the model function is computed in Python and the model's service time a + b*1 passes
(asyncio.sleep; batch 1, no batching). This is the design switchyard's DESIGN.md sets out to beat.

With --torchscript (bench/baselines/torch_model.py, the G3 reference on GPUs) an instance is one
copy of a TorchScript model on each of --devices, run on a thread pool, and requests may use
the binary tensor data extension. --eager does the same with the eager ResNet-50 of
bench/models/eager_resnet50.py (the P2 reference).

Endpoints (KServe v2 JSON, the ones `switchyard bench` needs): GET /v2/health/live|ready,
GET /v2/models/{m}, GET /v2/models/{m}/ready, POST /v2/models/{m}/infer. Anything else is 404
(so the bench reports no server-side split). One model per process, described on the command
line. Python standard library and aiohttp (Debian: python3-aiohttp) only; torch for
--torchscript.

    common_server.py --model simple --function add_sub --datatype INT32 --dims 16 \\
        --instances 1 --port 0 --port-file /tmp/port
    common_server.py --model resnet50 --torchscript model.pt --devices cuda:0,cuda:1 \\
        --input input:FP16:3,224,224 --output logits:FP16:1000
"""

import argparse
import asyncio
import itertools
import json
import socket

from aiohttp import web

FUNCTIONS = ("identity", "add_sub")


class Instance:
    """One model copy: a request holds its lock while it executes."""

    def __init__(self, index):
        self.index = index
        self.lock = asyncio.Lock()
        self.executed = 0


class SimModel:
    """The sim workloads: a model function in Python, then the service time a + b*1."""

    def __init__(self, args):
        self.name = args.model
        self.function = args.function
        self.datatype = args.datatype
        self.dims = args.dims
        self.service_s = (args.service_us + args.per_item_us * 1) / 1e6  # batch 1
        count = 2 if args.function == "add_sub" else 1
        self.inputs = [f"INPUT{i}" for i in range(count)]
        self.outputs = [f"OUTPUT{i}" for i in range(count)]
        self.instances = args.instances

    def instance_count(self):
        return self.instances

    def metadata(self):
        def tensor(name):
            return {"name": name, "datatype": self.datatype, "shape": [-1, self.dims]}

        return {"name": self.name, "versions": ["1"], "platform": "python",
                "inputs": [tensor(n) for n in self.inputs],
                "outputs": [tensor(n) for n in self.outputs]}

    def parse(self, body, headers):
        """The input data lists by name from a KServe v2 JSON infer request; ValueError if bad."""
        body = json.loads(body)
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            raise ValueError("the request has no 'inputs' list")
        data = {}
        for tensor in body["inputs"]:
            name = tensor.get("name")
            if name not in self.inputs:
                raise ValueError(f"unknown input '{name}'")
            if tensor.get("shape") != [1, self.dims] or tensor.get("datatype") != self.datatype:
                raise ValueError(f"input '{name}' must be {self.datatype} [1, {self.dims}]")
            values = tensor.get("data")
            if isinstance(values, list) and values and isinstance(values[0], list):
                values = [v for row in values for v in row]
            if not isinstance(values, list) or len(values) != self.dims:
                raise ValueError(f"input '{name}' needs {self.dims} values")
            data[name] = values
        if set(data) != set(self.inputs):
            raise ValueError(f"inputs {self.inputs} are required")
        return data

    def compute(self, data):
        """The model function, in Python, on one batch item."""
        if self.function == "add_sub":
            x, y = data["INPUT0"], data["INPUT1"]
            return {"OUTPUT0": [a + b for a, b in zip(x, y)],
                    "OUTPUT1": [a - b for a, b in zip(x, y)]}
        return {"OUTPUT0": list(data["INPUT0"])}

    async def execute(self, instance, data):
        outputs = self.compute(data)
        if self.service_s > 0:
            await asyncio.sleep(self.service_s)
        return outputs

    def respond(self, web, outputs):
        return web.json_response({
            "model_name": self.name, "model_version": "1",
            "outputs": [{"name": name, "datatype": self.datatype, "shape": [1, self.dims],
                         "data": values} for name, values in outputs.items()]})


class Server:
    def __init__(self, args):
        if args.torchscript or args.eager:
            from torch_model import TorchModel  # torch only where it is needed
            self.model = TorchModel(args)
        else:
            self.model = SimModel(args)
        self.instances = [Instance(i) for i in range(self.model.instance_count())]
        self.max_queue = args.max_queue
        self.queue = None  # made on the event loop
        self.slots = None
        self.tasks = set()

    async def start(self, app):
        self.queue = asyncio.Queue(maxsize=self.max_queue)
        self.slots = asyncio.Semaphore(len(self.instances))
        self.tasks.add(asyncio.get_running_loop().create_task(self.dispatch()))

    async def stop(self, app):
        for task in list(self.tasks):
            task.cancel()

    async def dispatch(self):
        turn = itertools.cycle(self.instances)
        while True:
            data, future = await self.queue.get()
            await self.slots.acquire()
            task = asyncio.get_running_loop().create_task(self.execute(next(turn), data, future))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def execute(self, instance, data, future):
        try:
            async with instance.lock:
                outputs = await self.model.execute(instance, data)
                instance.executed += 1
            if not future.done():
                future.set_result(outputs)
        except Exception as error:  # answered as 500 by the handler
            if not future.done():
                future.set_exception(error)
        finally:
            self.slots.release()

    def known(self, request):
        if request.match_info["model"] != self.model.name:
            raise web.HTTPNotFound(text='{"error": "unknown model"}',
                                   content_type="application/json")

    async def live(self, request):
        return web.json_response({"live": True})

    async def metadata(self, request):
        self.known(request)
        return web.json_response(self.model.metadata())

    async def model_ready(self, request):
        self.known(request)
        return web.json_response({"name": self.model.name, "ready": True})

    async def infer(self, request):
        self.known(request)
        try:
            data = self.model.parse(await request.read(), request.headers)
        except ValueError as error:  # json.JSONDecodeError is a ValueError
            return web.json_response({"error": str(error)}, status=400)
        future = asyncio.get_running_loop().create_future()
        try:
            self.queue.put_nowait((data, future))
        except asyncio.QueueFull:
            return web.json_response({"error": "queue full"}, status=429,
                                     headers={"Retry-After": "1"})
        try:
            outputs = await future
        except Exception as error:
            return web.json_response({"error": str(error)}, status=500)
        return self.model.respond(web, outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model name")
    parser.add_argument("--function", choices=FUNCTIONS, default="identity")
    parser.add_argument("--datatype", default="FP32", help="KServe datatype of every tensor")
    parser.add_argument("--dims", type=int, default=16, help="elements per tensor (batch 1)")
    parser.add_argument("--service-us", type=float, default=0, help="service time a, us")
    parser.add_argument("--per-item-us", type=float, default=0, help="service time b per item, us")
    parser.add_argument("--instances", type=int, default=1, help="model copies (round robin)")
    parser.add_argument("--torchscript", help="serve this TorchScript file instead (torch_model.py)")
    parser.add_argument("--eager", action="store_true",
                        help="serve bench/models/eager_resnet50.py's eager ResNet-50 instead "
                             "(torch_model.py; P2), needs bench/models on PYTHONPATH")
    parser.add_argument("--devices", default="cuda:0",
                        help="with --torchscript: one model copy per device, comma-separated")
    parser.add_argument("--input", action="append", default=[],
                        help="with --torchscript: NAME:DATATYPE:d0,d1,... (repeat per input)")
    parser.add_argument("--output", action="append", default=[],
                        help="with --torchscript: NAME:DATATYPE:d0,d1,... (repeat per output)")
    parser.add_argument("--max-queue", type=int, default=512, help="queue bound; full: 429")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0: an ephemeral port")
    parser.add_argument("--port-file", help="write 'http=PORT' here once listening")
    args = parser.parse_args()
    if args.instances < 1 or args.max_queue < 1 or args.dims < 1:
        parser.error("--instances, --max-queue and --dims must be >= 1")

    try:
        server = Server(args)
    except (ValueError, RuntimeError) as error:
        parser.error(str(error))
    app = web.Application()
    app.on_startup.append(server.start)
    app.on_cleanup.append(server.stop)
    app.add_routes([
        web.get("/v2/health/live", server.live),
        web.get("/v2/health/ready", server.live),
        web.get("/v2/models/{model}", server.metadata),
        web.get("/v2/models/{model}/ready", server.model_ready),
        web.post("/v2/models/{model}/infer", server.infer),
    ])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(f"http={sock.getsockname()[1]}\n")
    web.run_app(app, sock=sock, access_log=None, print=None, backlog=1024)


if __name__ == "__main__":
    main()
