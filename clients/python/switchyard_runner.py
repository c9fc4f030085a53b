"""Serves a switchyard Python model (a class with `predict`; see switchyard.py) over the exec
backend's persistent protocol. The exec plugin starts it for a `backend: python` model as::

    python3 switchyard_runner.py <model_file> [<class_name>]

in the version folder, with SWITCHYARD_EXEC_MODE=persistent. It imports <model_file> (its
folder is on sys.path, so the model can import its siblings), picks the class (<class_name>, or
the one class defined in the file that has a `predict` method), instantiates it, answers the
plugin's HELLO after `setup(ctx)` returns, then answers batches until the plugin closes its
stdin. The model is an *envelope model* when its only input is `request` and its only output
`response`, both BYTES (each element an HTTP request / answer: switchyard.py's envelopes);
otherwise its `decode` gets each request's inputs as a dict of name -> numpy array.

Exit status: 0 when the plugin closed the stream, 1 when the model could not be loaded or set
up (the reason, with its traceback, is on stderr), 2 for a wrong command line.
"""

# First: in persistent mode this moves the protocol off fds 0 and 1, so that nothing the model
# prints (from its import on) can corrupt the stream.
import switchyard_exec as sx

import concurrent.futures
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback

import numpy as np

import switchyard

USAGE = "usage: switchyard_runner.py <model_file> [<class_name>]"


class ModelError(Exception):
    """The model's file or class cannot be served (the message says why)."""


def import_model(path):
    """Imports the Python file at `path` as a module named after it (registered in
    sys.modules, so that the model's siblings can import it back)."""
    if not os.path.isfile(path):
        raise ModelError("the model file %s does not exist" % path)
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:  # model.py named like a module already loaded (json.py, ...)
        name = "switchyard_user_model"
    loader = importlib.machinery.SourceFileLoader(name, path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def _has_predict(cls):
    return callable(getattr(cls, "predict", None))


def find_model_class(module, class_name=None):
    """The class to serve: `class_name` from `module`, or else the one class defined in
    `module` that has a `predict` method. ModelError, listing the candidates, otherwise."""
    defined = [obj for obj in vars(module).values()
               if inspect.isclass(obj) and obj.__module__ == module.__name__]
    candidates = [cls.__name__ for cls in defined if _has_predict(cls)]
    where = module.__file__
    if class_name:
        cls = getattr(module, class_name, None)
        if not inspect.isclass(cls):
            raise ModelError("%s has no class %r (its classes with a predict method: %s)" %
                             (where, class_name, ", ".join(candidates) or "none"))
        if not _has_predict(cls):
            raise ModelError("class %s in %s has no predict method" % (class_name, where))
        return cls
    if len(candidates) == 1:
        return getattr(module, candidates[0])
    if not candidates:
        raise ModelError("%s defines no class with a predict method (classes defined there: %s)"
                         % (where, ", ".join(cls.__name__ for cls in defined) or "none"))
    raise ModelError("%s defines %d classes with a predict method (%s): name the one to serve "
                     "with the python_class parameter in config.yaml" %
                     (where, len(candidates), ", ".join(candidates)))


def is_envelope_model(info):
    """True when the model's only input is `request` and its only output `response`, BYTES."""
    return ([(s.name, s.datatype) for s in info.inputs] == [("request", "BYTES")] and
            [(s.name, s.datatype) for s in info.outputs] == [("response", "BYTES")])


def pool_size(parameters):
    """Threads for decode/encode: parameter decode_threads, 0 (default) = min(8, usable CPUs)."""
    text = parameters.get("decode_threads", "0")
    try:
        threads = int(text)
    except ValueError:
        threads = -1
    if threads < 0:
        raise ValueError("parameter decode_threads must be a whole number >= 0, not %r" % text)
    return threads or min(8, len(os.sched_getaffinity(0)))


class _Failed:
    """An item's failure: the exception that ends its request."""

    __slots__ = ("exc",)

    def __init__(self, exc):
        self.exc = exc


def _attempt(fn, value):
    """fn(value), or _Failed with the exception it raised (its traceback logged unless it is
    an InferError)."""
    try:
        return fn(value)
    except Exception as exc:  # noqa: BLE001 - that item's error, not a crash
        sx.log_exception(exc)
        return _Failed(exc)


def _out_of_device_memory(exc):
    """Whether `exc` is a CUDA out-of-memory error (torch.cuda.OutOfMemoryError and the
    RuntimeError of older torch versions)."""
    return type(exc).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(exc)


class Runner:
    """Runs a model instance's decode -> predict -> encode for the batches of the plugin.

    A CUDA out-of-memory error in predict fails its requests with Unavailable (503) and ends the
    program once the batch is answered (`restart_requested`): the plugin starts a fresh one, with
    its device memory back, before the next batch."""

    def __init__(self, model):
        self.model = model
        # Without the method, the item passes through as it is, without the pool's round trip.
        self.pool_decode = callable(getattr(model, "decode", None))
        self.pool_encode = callable(getattr(model, "encode", None))
        self.decode = model.decode if self.pool_decode else (lambda item: item)
        self.encode = model.encode if self.pool_encode else (lambda output: output)
        self.context = None
        self.envelope = False
        self.pool = None
        self.restart_requested = False
        self.cancellation = None  # of the batch being computed
        self.progress = None      # of the batch being computed (sx.Progress)
        self.partials = None      # of the batch being computed (sx.Partials)
        self.predicting = ()      # the request index of each item of the predict call running now

    def setup(self, info):
        """Called with the HELLO's ModelInfo: the model's setup(ctx), the shared input memory
        page-locked for CUDA if the model uses it (pin_for_cuda), then the pool."""
        self.context = switchyard.Context.from_model_info(info)
        self.context._cancelled = self._predict_cancelled
        self.context._progress = self._predict_progress
        self.context._send = self._predict_send
        self.envelope = is_envelope_model(info)
        threads = pool_size(self.context.parameters)
        pin = self.context.parameters.get("pin_shared_memory", "auto")
        if pin not in ("auto", "false"):
            raise ValueError("parameter pin_shared_memory must be auto or false, not %r" % pin)
        if hasattr(self.model, "setup"):
            self.model.setup(self.context)
        if pin == "auto":
            pin_for_cuda(sx.shared_region(), self.context)
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, "switchyard-codec")

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()

    def _each(self, fn, values, pooled):
        """[_attempt(fn, v) for v in values], on the pool when `pooled` and there are several."""
        if not pooled or len(values) <= 1:
            return [_attempt(fn, v) for v in values]
        return list(self.pool.map(lambda v: _attempt(fn, v), values))

    def _decode_item(self, item):
        """(raw, decoded): `raw` when the answer is a bare body (a non-envelope element). An
        envelope model's item is (element, the request's KServe parameters): they join the
        request's params (the envelope's own query parameters win)."""
        if not self.envelope:
            return False, self.decode(item)
        element, parameters = item
        request = switchyard.decode_request_envelope(element)
        for key, value in parameters.items():
            request.params.setdefault(key, value)
        return request.raw, self.decode(request)

    def _encode_item(self, item):
        """A `response` element (envelope model) or an output dict."""
        raw, output = item
        result = self.encode(output)
        if not self.envelope:
            if not isinstance(result, dict):
                raise TypeError("encode must return a dict of output name -> array, not %s" %
                                type(result).__name__)
            return result
        response = switchyard.to_response(result)
        if raw:
            return response.body
        return switchyard.encode_response_envelope(response.content_type, response.body)

    def _predict_call(self, batch):
        """predict(batch) as a list with one output per item of `batch`."""
        outputs = self.model.predict(batch)
        if isinstance(outputs, (dict, str, bytes, bytearray)) or not hasattr(outputs, "__len__"):
            raise TypeError("predict must return a sequence with one output per input (a list, "
                            "tuple, array or tensor), not %s" % type(outputs).__name__)
        if len(outputs) != len(batch):
            raise sx.InferError("predict returned %d outputs for a batch of %d inputs" %
                                (len(outputs), len(batch)))
        return list(outputs)

    def _attempt_predict(self, fn, value):
        """_attempt(fn, value), with a CUDA out-of-memory error turned into Unavailable and a
        restart of the program."""
        result = _attempt(fn, value)
        if isinstance(result, _Failed) and _out_of_device_memory(result.exc):
            self.restart_requested = True
            first_line = (str(result.exc).splitlines() or [type(result.exc).__name__])[0]
            result = _Failed(sx.Unavailable(
                "CUDA out of memory in predict (the model's program restarts to free its GPU "
                "memory): %s" % first_line))
        return result

    def _predict_cancelled(self):
        """ctx.cancelled(): whether every request of the running predict call was cancelled."""
        cancellation = self.cancellation
        return (cancellation is not None and bool(self.predicting) and
                all(index in cancellation for index in self.predicting))

    def _predict_progress(self, fraction, message):
        """ctx.progress(): reports `fraction` and `message` for each request of the running
        predict call."""
        progress = self.progress
        if progress is None:
            return
        for index in dict.fromkeys(self.predicting):
            progress.report(index, fraction, message)

    def _predict_send(self, output, item):
        """ctx.send(): `output`, encoded as predict's outputs are, as a partial response of the
        request of item `item` of the running predict call (every request of it when None)."""
        partials = self.partials
        if partials is None or not self.predicting:
            return
        owners = self.predicting if item is None else (self.predicting[item],)
        encoded = self._encode_item((False, output))
        if self.envelope:  # one element, with the batch dimension when the model batches
            rank = 2 if self.context.max_batch_size > 0 else 1
            element = np.empty(1, dtype=object)
            element[0] = encoded
            encoded = {"response": element.reshape((1,) * rank)}
        for index in dict.fromkeys(owners):
            partials.send(index, encoded)

    def _predict(self, owners, items):
        """One output (or _Failed) per decoded item (owners[i] is item i's request): predict on
        each, or on batches of up to max_batch_size items."""
        max_batch = self.context.max_batch_size
        step = max_batch or 1
        outputs = []
        try:
            for start in range(0, len(items), step):
                self.predicting = tuple(owners[start:start + step])
                if max_batch == 0:
                    outputs.append(self._attempt_predict(self.model.predict, items[start]))
                    continue
                batch = items[start:start + max_batch]
                result = self._attempt_predict(self._predict_call, batch)
                outputs += [result] * len(batch) if isinstance(result, _Failed) else result
        finally:
            self.predicting = ()
        return outputs

    def _drop_cancelled(self, owners, values, failed):
        """Records the requests cancelled by now in `failed` (switchyard.Cancelled) and returns
        (owners, values) of the items of the others."""
        cancellation = self.cancellation
        if cancellation is None:
            return owners, values
        for index in set(owners):
            if index in cancellation:
                failed.setdefault(index, sx.Cancelled(
                    "the request was cancelled before predict: %s" %
                    _CANCEL_REASONS.get(cancellation.reason(index), "it was cancelled")))
        return _survivors(owners, values, failed)

    def infer_batch(self, requests, cancellation=None, progress=None, partials=None):
        """The plugin's batch ((inputs, wanted) per request) -> an output dict or an exception
        per request. Each element of an envelope model's `request` is an item; each request of
        a tensor model is one. A request cancelled (`cancellation`) before its items are
        decoded, or before predict, is answered switchyard.Cancelled without that work.
        ctx.progress() reports through `progress` (an sx.Progress) and ctx.send() through
        `partials` (an sx.Partials) while predict runs."""
        self.cancellation = cancellation
        self.progress = progress
        self.partials = partials
        owners, items = [], []  # the request index of each item, the items
        for index, (inputs, _) in enumerate(requests):
            parameters = getattr(inputs, "parameters", {})
            values = ([(element, parameters) for element in inputs["request"].reshape(-1)]
                      if self.envelope else [inputs])
            owners += [index] * len(values)
            items += values
        failed = {}  # request index -> the exception that fails it
        owners, items = self._drop_cancelled(owners, items, failed)
        decoded = self._each(self._decode_item, items, self.pool_decode)
        owners, decoded = _survivors(owners, decoded, failed)
        owners, decoded = self._drop_cancelled(owners, decoded, failed)
        outputs = self._predict(owners, [value for _, value in decoded])
        outputs = [out if isinstance(out, _Failed) else (raw, out)
                   for (raw, _), out in zip(decoded, outputs)]
        owners, outputs = _survivors(owners, outputs, failed)
        encoded = self._each(self._encode_item, outputs, self.pool_encode)
        owners, encoded = _survivors(owners, encoded, failed)
        values = {}
        for index, value in zip(owners, encoded):
            values.setdefault(index, []).append(value)
        return [failed[index] if index in failed else self._answer(inputs, wanted, values[index])
                for index, (inputs, wanted) in enumerate(requests)]

    def _answer(self, inputs, wanted, values):
        """A request's output dict from its encoded items."""
        if self.envelope:
            elements = np.empty(len(values), dtype=object)
            elements[:] = values
            return {"response": elements.reshape(inputs["request"].shape)}
        (result,) = values
        missing = [name for name in wanted if name not in result]
        if missing:
            return sx.InferError("encode did not return the requested output %r (it returned %s)"
                                 % (missing[0], ", ".join(map(repr, result)) or "none"))
        return result


_CANCEL_REASONS = {sx.CLIENT_GONE: "its client went away",
                   sx.TIMEOUT_PASSED: "its timeout passed"}


def pin_for_cuda(region, ctx):
    """Page-locks the shared input region for CUDA (cudaHostRegister) when the model runs on a
    GPU with PyTorch (its setup imported torch, and CUDA is available): copies of its inputs
    to the device then run as direct DMA, and `.to(device, non_blocking=True)` overlaps. True
    when it did; it logs either way when it tried."""
    torch = sys.modules.get("torch")
    if region is None or ctx.device != "cuda" or torch is None or not torch.cuda.is_available():
        return False
    array = np.frombuffer(region, np.uint8)
    error = torch.cuda.cudart().cudaHostRegister(array.ctypes.data, len(array), 0)
    pinned = error == torch.cuda.cudart().cudaError.success
    print("switchyard_runner.py: %s %d MiB of shared input memory for CUDA%s" % (
        "page-locked" if pinned else "could not page-lock", len(array) >> 20,
        "" if pinned else " (%s); inputs are copied to the GPU from pageable memory" % error),
        file=sys.stderr, flush=True)
    return pinned


def _survivors(owners, results, failed):
    """Records the failures among `results` (one per item; owners[i] is item i's request) in
    `failed`, then returns (owners, results) of the items whose request has not failed."""
    for index, result in zip(owners, results):
        if isinstance(result, _Failed):
            failed.setdefault(index, result.exc)
    kept = [(index, result) for index, result in zip(owners, results) if index not in failed]
    return [index for index, _ in kept], [result for _, result in kept]


def main(argv):
    if len(argv) not in (2, 3):
        print(USAGE, file=sys.stderr)
        return 2
    if os.environ.get("SWITCHYARD_EXEC_MODE") != "persistent":
        print("switchyard_runner.py speaks the exec backend's persistent protocol only: the "
              "plugin starts it with SWITCHYARD_EXEC_MODE=persistent", file=sys.stderr)
        return 2
    path = os.path.abspath(argv[1])
    sys.path.insert(1, os.path.dirname(path))  # after this folder (switchyard.py's)
    runner = None
    try:
        cls = find_model_class(import_model(path), argv[2] if len(argv) == 3 else None)
        runner = Runner(cls())
        sx.serve_batches(runner.infer_batch, runner.setup, with_wanted=True,
                         keep_serving=lambda: not runner.restart_requested,
                         with_cancellation=True, with_progress=True, with_partials=True)
    except ModelError as exc:
        print("switchyard_runner.py: %s" % exc, file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - the model's import, constructor or setup failed
        traceback.print_exc(file=sys.stderr)
        return 1
    finally:
        if runner is not None:
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
