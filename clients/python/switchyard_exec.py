"""Write a switchyard `exec` backend model in a few lines of Python.

The exec backend runs a program of yours as a model instance and talks to it over its
stdin/stdout (docs/exec-backend.md). This module speaks that protocol, so a model is::

    from switchyard_exec import serve

    def infer(inputs):
        return {"OUTPUT0": inputs["INPUT0"] * 2}

    serve(infer)

`infer` gets one request's inputs as a dict of name -> numpy array (with the batch dimension
first when the model's max_batch_size > 0; its `parameters` attribute holds the client's
request parameters) and returns a dict of name -> array-like. In persistent mode the input
arrays are views of a shared-memory region the plugin fills for each batch (no copy): they
are valid until the request is answered; copy what you keep longer. An
exception raised by `infer` becomes that request's error (HTTP 500; raise `InvalidInput` for a
400), never a crash of the program. Outputs the client did not ask for are dropped; a value is
converted to the output's configured datatype when numpy can do so without changing its kind
(int64 -> INT32 is fine, float -> INT32 is an error).

Datatypes map to numpy as: BOOL bool, UINTn/INTn the same, FP16 float16, FP32 float32,
FP64 float64, BF16 uint16 (the raw bits; see `bf16_to_float32` and `float32_to_bf16`), BYTES an
object array of `bytes` (outputs may hold `bytes` or `str`, encoded as UTF-8).

`serve` works in both modes of the backend: with `mode: persistent` it answers batches until
the plugin closes its stdin; with `mode: per_request` (environment SWITCHYARD_EXEC_MODE) it
runs `run_once` instead.

In persistent mode, importing this module moves the protocol stream off fds 0 and 1 and points
fd 1 at stderr: whatever the program prints after the import goes to stderr, which the server
logs. Import it before printing anything (output flushed to stdout earlier corrupts the
handshake).

Standard library and numpy only.
"""

import json
import mmap
import os
import queue
import struct
import sys
import threading
import time
import traceback

import numpy as np

__all__ = [
    "serve", "serve_batches", "run_once", "InferError", "InvalidInput", "Unavailable",
    "Cancelled", "Cancellation", "Progress", "Partials", "CLIENT_GONE", "TIMEOUT_PASSED", "ModelInfo", "shared_region", "TensorSpec", "Inputs", "bf16_to_float32", "float32_to_bf16", "log_exception",
    "PROTOCOL_VERSION",
]

PROTOCOL_VERSION = 1
MAGIC = b"SYEX"

# Frame kinds.
HELLO, READY, BATCH, RESULT, CANCEL, PROGRESS, PARTIAL = 1, 2, 3, 4, 5, 6, 7

# The most tensor bytes one partial response (a PARTIAL frame) may carry.
MAX_PARTIAL_BYTES = 65536

# Progress reports of one request closer together than this (seconds) are dropped, except the
# one that says it is done (fraction 1).
PROGRESS_INTERVAL = 0.05

# READY features (an optional u32 after the version): BATCH carries each request's parameters;
# the program takes CANCEL frames.
FEATURE_REQUEST_PARAMETERS = 1
FEATURE_CANCEL = 2
FEATURE_SHARED_INPUTS = 4
FEATURE_PIPELINED = 8

# In a BATCH tensor's size: its bytes lie in the shared input region (at the u64 offset that
# follows), not in the frame.
SHARED_TENSOR_BIT = 1 << 63

# Why a request was cancelled (a CANCEL frame's reason).
CLIENT_GONE, TIMEOUT_PASSED = 1, 2

# RESULT flags (an optional byte after the requests): the program ends after this answer.
RESULT_FLAG_PROGRAM_ENDS = 1

# Request status codes of a RESULT frame (the plugin's SyErrorCode values).
OK, INVALID_ARGUMENT, INTERNAL, UNAVAILABLE, UNSUPPORTED = 0, 1, 2, 3, 4
_CODE_NAMES = {INVALID_ARGUMENT: "INVALID_ARGUMENT", INTERNAL: "INTERNAL",
               UNAVAILABLE: "UNAVAILABLE", UNSUPPORTED: "UNSUPPORTED"}

_NUMPY_TYPES = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"), "UINT16": np.dtype("<u2"), "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"), "INT16": np.dtype("<i2"), "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"), "BF16": np.dtype("<u2"), "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype(object),
}


class Inputs(dict):
    """One request's inputs: a dict of input name -> numpy array, and in `parameters` the
    client's request parameters (name -> text: a KServe request's `parameters` other than those
    the server reads; a JSON string's contents, another value's JSON text)."""

    def __init__(self, *args, parameters=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parameters = dict(parameters or {})


class InferError(Exception):
    """Fails one request with this message. `code` picks the client's status (500)."""
    code = INTERNAL


class InvalidInput(InferError):
    """The request's inputs are unacceptable: the client gets HTTP 400."""
    code = INVALID_ARGUMENT


class Unavailable(InferError):
    """The model cannot serve this now: the client gets HTTP 503."""
    code = UNAVAILABLE


class Cancelled(Unavailable):
    """Raise it to stop a request that was cancelled (see `Cancellation`): its client went away
    (nothing is sent) or its timeout passed (the client gets HTTP 504)."""

    def __init__(self, message="the request was cancelled"):
        super().__init__(message)


class Cancellation:
    """Which requests of one batch were cancelled while it is computed, as the plugin's CANCEL
    frames say: `reason(i)` is 0 while request i is wanted, else CLIENT_GONE or TIMEOUT_PASSED;
    `i in cancellation` is whether it was cancelled. Written by the thread that reads the
    plugin's frames, read from any thread."""

    def __init__(self, batch_id):
        self.batch_id = batch_id
        self._reasons = {}

    def reason(self, index):
        return self._reasons.get(index, 0)

    def __contains__(self, index):
        return index in self._reasons

    def _set(self, index, reason):
        self._reasons.setdefault(index, reason)


class Progress:
    """Reports how far the requests of one batch have come, as PROGRESS frames: `report(index,
    fraction, message="")` for request `index` of the batch, `fraction` from 0 to 1 (clamped)
    and a short message (cut at 1 KiB). The server shows the latest report of a request to
    whoever follows it (a job's status and events). Reports of one request closer together than
    PROGRESS_INTERVAL are dropped, except one with fraction 1. Any thread, while the batch is
    computed."""

    def __init__(self, batch_id, write):
        self.batch_id = batch_id
        self._write = write  # writes one whole frame to the plugin
        self._last = {}  # request index -> when its last report was sent (time.monotonic)
        self._lock = threading.Lock()

    def report(self, index, fraction, message=""):
        fraction = float(fraction)
        if fraction != fraction:  # NaN
            return
        fraction = min(1.0, max(0.0, fraction))
        now = time.monotonic()
        with self._lock:
            last = self._last.get(index)
            if last is not None and fraction < 1 and now - last < PROGRESS_INTERVAL:
                return
            self._last[index] = now
        text = str(message).encode("utf-8", "replace")[:1024].decode("utf-8", "ignore")
        w = _Writer()
        w.u64(self.batch_id)
        w.u32(index)
        w.f64(fraction)
        w.str(text)
        self._write(w.frame(PROGRESS))


class Partials:
    """Sends responses for the requests of one batch ahead of their final ones, as PARTIAL
    frames: `send(index, outputs)` for request `index` of the batch, `outputs` a dict of output
    name -> array-like (any of the model's outputs, converted as infer's results are). Whoever
    streams the request (POST .../predict with Accept: text/event-stream) gets each, in order,
    before the final answer; a client that takes one answer gets the final one only. At most
    MAX_PARTIAL_BYTES of tensor data each (ValueError otherwise). Any thread, while the batch is
    computed."""

    def __init__(self, batch_id, model, write):
        self.batch_id = batch_id
        self._model = model
        self._write = write  # writes one whole frame to the plugin

    def send(self, index, outputs):
        tensors = _outputs_for(self._model, outputs, list(outputs))
        size = sum(len(data) for _, _, _, data in tensors)
        if size > MAX_PARTIAL_BYTES:
            raise ValueError("a partial response carries at most %d bytes of outputs, not %d "
                             "(the final response has no such cap)" % (MAX_PARTIAL_BYTES, size))
        w = _Writer()
        w.u64(self.batch_id)
        w.u32(index)
        w.u32(len(tensors))
        for name, datatype, shape, data in tensors:
            w.tensor(name, datatype, shape, data)
        self._write(w.frame(PARTIAL))


class ProtocolError(Exception):
    """The plugin sent something this module does not understand (a bug or a version skew)."""


class TensorSpec:
    """An input or output as config.yaml declares it: name, datatype (KServe name) and shape
    without the batch dimension (-1 for a variable dimension)."""

    def __init__(self, name, datatype, shape):
        self.name, self.datatype, self.shape = name, datatype, list(shape)

    def __repr__(self):
        return "TensorSpec(%r, %r, %r)" % (self.name, self.datatype, self.shape)


class ModelInfo:
    """What the plugin says about the model in its HELLO frame: name, version,
    max_batch_size, inputs and outputs (TensorSpec lists); and the model's own config
    parameters (dict str -> str), the instance's index, its GPU count and CUDA_VISIBLE_DEVICES,
    the model and version folders. A plugin that predates the last six sends none of them: they
    are then {}, 0, 0, "", and the folders that the working directory implies."""

    def __init__(self, name, version, max_batch_size, inputs, outputs, parameters=None,
                 instance=0, gpu_count=0, cuda_visible_devices="", model_dir=None,
                 version_dir=None):
        self.name, self.version, self.max_batch_size = name, version, max_batch_size
        self.inputs, self.outputs = inputs, outputs
        self.parameters = {} if parameters is None else parameters
        self.instance, self.gpu_count = instance, gpu_count
        self.cuda_visible_devices = cuda_visible_devices
        self.version_dir = os.getcwd() if version_dir is None else version_dir
        self.model_dir = os.path.dirname(self.version_dir) if model_dir is None else model_dir

    def output(self, name):
        for spec in self.outputs:
            if spec.name == name:
                return spec
        return None


# ---------------------------------------------------------------------------------------------
# Tensors


def numpy_dtype(datatype):
    """The numpy dtype for a KServe datatype name (BF16 -> uint16 bits, BYTES -> object)."""
    try:
        return _NUMPY_TYPES[datatype]
    except KeyError:
        raise ValueError("unknown datatype %r" % datatype) from None


def bf16_to_float32(bits):
    """BF16 bit patterns (uint16 array) -> float32 array."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def float32_to_bf16(values):
    """float32 values -> BF16 bit patterns (uint16), rounded to nearest even."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def decode_tensor(datatype, shape, data):
    """A numpy array from KServe-layout bytes (a bytes-like object; not copied when writable)."""
    dtype = numpy_dtype(datatype)
    count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    if datatype != "BYTES":
        if len(data) != count * dtype.itemsize:
            raise ProtocolError("%s tensor of shape %s has %d bytes" % (datatype, shape, len(data)))
        return np.frombuffer(data, dtype=dtype, count=count).reshape(shape)
    out = np.empty(count, dtype=object)
    view = memoryview(data)
    pos = 0
    for i in range(count):
        (n,) = struct.unpack_from("<I", view, pos)
        pos += 4
        out[i] = bytes(view[pos:pos + n])
        pos += n
    if pos != len(data):
        raise ProtocolError("BYTES tensor of shape %s has %d extra bytes" %
                            (shape, len(data) - pos))
    return out.reshape(shape)


def _element_bytes(x):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, np.bytes_):
        return bytes(x)
    if isinstance(x, str):
        return x.encode("utf-8")
    return str(x).encode("utf-8")


def encode_tensor(name, datatype, value):
    """(shape, bytes) of `value` as a tensor of `datatype` in the KServe layout. Raises
    TypeError when `value` cannot become that datatype without changing its kind."""
    if datatype == "BYTES":
        arr = np.asarray(value, dtype=object)
        parts = []
        for x in arr.reshape(-1):
            b = _element_bytes(x)
            parts.append(struct.pack("<I", len(b)))
            parts.append(b)
        return list(arr.shape), b"".join(parts)
    target = numpy_dtype(datatype)
    arr = np.asarray(value)
    if datatype == "BF16" and arr.dtype.kind == "f":
        arr = float32_to_bf16(arr).reshape(arr.shape)
    elif arr.dtype != target:
        if not np.can_cast(arr.dtype, target, casting="same_kind"):
            raise TypeError("output %r: cannot convert %s values to %s" % (name, arr.dtype,
                                                                          datatype))
        arr = arr.astype(target)
    return list(arr.shape), np.ascontiguousarray(arr, dtype=target).tobytes()


# ---------------------------------------------------------------------------------------------
# Frames


class _Reader:
    """Reads little-endian fields from one frame's body."""

    def __init__(self, buf):
        self.buf, self.view, self.pos = buf, memoryview(buf), 0

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise ProtocolError("truncated frame")
        v = self.view[self.pos:self.pos + n]
        self.pos += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i32(self):
        return struct.unpack("<i", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def i64(self):
        return struct.unpack("<q", self.take(8))[0]

    def str(self):
        return bytes(self.take(self.u32())).decode("utf-8")

    def spec(self):
        name, datatype = self.str(), self.str()
        return TensorSpec(name, datatype, [self.i64() for _ in range(self.u32())])


class _Writer:
    def __init__(self):
        self.parts = []

    def u8(self, v):
        self.parts.append(struct.pack("<B", v))

    def u32(self, v):
        self.parts.append(struct.pack("<I", v))

    def u64(self, v):
        self.parts.append(struct.pack("<Q", v))

    def str(self, s):
        b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        self.u32(len(b))
        self.parts.append(b)

    def tensor(self, name, datatype, shape, data):
        self.str(name)
        self.str(datatype)
        self.u32(len(shape))
        self.parts.append(struct.pack("<%dq" % len(shape), *shape))
        self.u64(len(data))
        self.parts.append(data)

    def f64(self, v):
        self.parts.append(struct.pack("<d", v))

    def frame(self, kind):
        body = b"".join(self.parts)
        return struct.pack("<IB", len(body) + 1, kind) + body


def _read_exact(stream, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            return None if got == 0 else _truncated(got, n)
        got += k
    return buf


def _truncated(got, n):
    raise ProtocolError("the plugin closed the stream after %d of %d bytes" % (got, n))


def _read_frame(stream):
    """(kind, body bytearray), or None at a clean end of stream."""
    header = _read_exact(stream, 5)
    if header is None:
        return None
    size, kind = struct.unpack("<IB", header)
    body = _read_exact(stream, size - 1) if size > 1 else bytearray()
    if body is None:
        raise ProtocolError("the plugin closed the stream inside a frame")
    return kind, body


def _parse_hello(body):
    r = _Reader(body)
    if bytes(r.take(4)) != MAGIC:
        raise ProtocolError("HELLO without the SYEX magic")
    version = r.u32()
    if version != PROTOCOL_VERSION:
        raise ProtocolError("the plugin speaks protocol %d, this module %d" %
                            (version, PROTOCOL_VERSION))
    name, model_version, max_batch = r.str(), r.i64(), r.u32()
    inputs = [r.spec() for _ in range(r.u32())]
    outputs = [r.spec() for _ in range(r.u32())]
    info = ModelInfo(name, model_version, max_batch, inputs, outputs)
    if r.pos == len(body):
        return info  # a plugin that sends nothing after the outputs
    for _ in range(r.u32()):
        key = r.str()
        info.parameters[key] = r.str()
    info.instance, info.gpu_count = r.i32(), r.u32()
    info.cuda_visible_devices, info.model_dir, info.version_dir = r.str(), r.str(), r.str()
    return info


def _tensor_data(r, shared):
    """A BATCH tensor's bytes: the next ones of the frame, or a view of the shared region."""
    n = r.u64()
    if not n & SHARED_TENSOR_BIT:
        return r.take(n)
    n &= ~SHARED_TENSOR_BIT
    offset = r.u64()
    if shared is None or offset + n > len(shared):
        raise ProtocolError("BATCH names %d bytes at %d of a shared region of %d" %
                            (n, offset, 0 if shared is None else len(shared)))
    return shared[offset:offset + n]


def _parse_batch(body, shared=None):
    """(batch_id, [(Inputs, wanted output names)]). This module announces
    FEATURE_REQUEST_PARAMETERS in READY, so each request's parameters follow its wanted
    outputs; with `shared` (the shared input region, a memoryview) FEATURE_SHARED_INPUTS too,
    and inputs that lie there are numpy views of it."""
    r = _Reader(body)
    batch_id = r.u64()
    requests = []
    for _ in range(r.u32()):
        inputs = Inputs()
        for _ in range(r.u32()):
            name, datatype = r.str(), r.str()
            shape = [r.i64() for _ in range(r.u32())]
            inputs[name] = decode_tensor(datatype, shape, _tensor_data(r, shared))
        wanted = [r.str() for _ in range(r.u32())]
        for _ in range(r.u32()):
            key = r.str()
            inputs.parameters[key] = r.str()
        requests.append((inputs, wanted))
    if r.pos != len(body):
        raise ProtocolError("BATCH frame has %d bytes after its last request" %
                            (len(body) - r.pos))
    return batch_id, requests


def _parse_cancel(body):
    """(batch_id, request index, reason) of a CANCEL frame."""
    r = _Reader(body)
    batch_id, index, reason = r.u64(), r.u32(), r.u8()
    if r.pos != len(body):
        raise ProtocolError("CANCEL frame of %d bytes, expected 13" % len(body))
    return batch_id, index, reason


class _FrameReader(threading.Thread):
    """Reads the plugin's frames on a thread of its own, so that a CANCEL is heard while a batch
    is computed, and the next batch arrives meanwhile (FEATURE_PIPELINED): BATCH frames are
    queued for the main loop as (batch_id, requests, Cancellation), then None at the end of the
    stream or the exception that ended reading; each CANCEL marks the Cancellation of the batch
    it names (one of a batch already answered is ignored: the main loop calls answered())."""

    def __init__(self, stream, shared):
        super().__init__(name="switchyard-frames", daemon=True)
        self.stream, self.shared = stream, shared
        self.batches = queue.Queue()
        self.open = {}  # batch_id -> Cancellation, for the batches not answered yet

    def answered(self, batch_id):
        self.open.pop(batch_id, None)

    def run(self):
        try:
            while True:
                frame = _read_frame(self.stream)
                if frame is None:
                    self.batches.put(None)
                    return
                kind, body = frame
                if kind == BATCH:
                    batch_id, requests = _parse_batch(body, self.shared)
                    cancellation = self.open[batch_id] = Cancellation(batch_id)
                    self.batches.put((batch_id, requests, cancellation))
                elif kind == CANCEL:
                    batch_id, index, reason = _parse_cancel(body)
                    cancellation = self.open.get(batch_id)
                    if cancellation is not None:
                        cancellation._set(index, reason)
                else:
                    raise ProtocolError("expected a BATCH or CANCEL frame, got kind %d" % kind)
        except BaseException as exc:  # noqa: BLE001 - handed to the main loop
            self.batches.put(exc)


def _error_text(exc):
    """The message of a request's error: an InferError's own text; for other exceptions the
    type too ("ValueError: ...")."""
    text = str(exc)
    if isinstance(exc, InferError) and text:
        return text
    return "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def _outputs_for(model, result, wanted):
    """[(name, datatype, shape, bytes)] of the wanted outputs in `result` (a dict)."""
    if not isinstance(result, dict):
        raise TypeError("infer must return a dict of output name -> array, not %s" %
                        type(result).__name__)
    out = []
    for name in wanted:
        if name not in result:
            raise InferError("infer did not return the requested output %r" % name)
        spec = model.output(name)
        datatype = spec.datatype if spec is not None else "BYTES"
        shape, data = encode_tensor(name, datatype, result[name])
        out.append((name, datatype, shape, data))
    return out


def log_exception(exc):
    """Prints the traceback of `exc` to stderr (the server's log), unless it is an InferError
    (an expected error, whose message the client gets)."""
    if not isinstance(exc, InferError):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# Persistent mode


_PROTOCOL_STREAMS = None


def _protocol_streams():
    """Takes fds 0 and 1 for the protocol and points fd 1 at stderr (and fd 0 at /dev/null), so
    that print() and child processes cannot corrupt the stream. Idempotent. Output that
    sys.stdout had buffered but not yet written goes to stderr."""
    global _PROTOCOL_STREAMS
    if _PROTOCOL_STREAMS is None:
        proto_in = os.dup(0)
        proto_out = os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)
        _PROTOCOL_STREAMS = (os.fdopen(proto_in, "rb", buffering=1 << 16),
                             os.fdopen(proto_out, "wb", buffering=1 << 16))
    return _PROTOCOL_STREAMS


# Started by the plugin in persistent mode: move the protocol off fds 0/1 at import, so that
# whatever the program prints from here on lands in stderr (the server's log).
if os.environ.get("SWITCHYARD_EXEC_MODE") == "persistent":
    _protocol_streams()


_SHARED_REGION = []  # the mapped region (or None), once mapped


def shared_region():
    """The shared input region the plugin passed (SWITCHYARD_EXEC_SHM_FD and _BYTES), mapped
    once, as a memoryview; None without one (per_request mode, shared_memory_mb: 0)."""
    if not _SHARED_REGION:
        fd = os.environ.get("SWITCHYARD_EXEC_SHM_FD")
        size = int(os.environ.get("SWITCHYARD_EXEC_SHM_BYTES", "0"))
        mapped = None
        if fd is not None and size > 0:
            mapped = memoryview(mmap.mmap(int(fd), size, mmap.MAP_SHARED))
        _SHARED_REGION.append(mapped)
    return _SHARED_REGION[0]


def _batches_in_order(stream_in, with_cancellation, shared):
    """Yields (batch_id, requests, Cancellation or None) for each BATCH until the stream ends.
    With `with_cancellation` a thread reads the frames (CANCELs arrive during a batch)."""
    if not with_cancellation:
        while True:
            frame = _read_frame(stream_in)
            if frame is None:
                return
            kind, body = frame
            if kind != BATCH:
                raise ProtocolError("expected a BATCH frame, got kind %d" % kind)
            yield _parse_batch(body, shared) + (None,)
    reader = _FrameReader(stream_in, shared)
    reader.start()
    while True:
        item = reader.batches.get()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
        reader.answered(item[0])


def serve_batches(infer_batch, setup=None, with_wanted=False, keep_serving=None,
                  with_cancellation=False, with_progress=False, with_partials=False):
    """Answers batches until the plugin closes the stream (persistent mode), or until
    `keep_serving()`, asked after each batch is computed, returns false: that batch's RESULT
    then says the program ends (flag bit 0), and it returns once the RESULT is sent (the plugin
    starts a new program for the next batch).

    `infer_batch(requests)` gets a list of input dicts (one per request) and returns a list of
    the same length whose items are output dicts or exception instances (that request's error).
    With `with_wanted=True` each item of `requests` is an (input dict, wanted output names) pair
    instead. An exception raised by `infer_batch` itself fails every request of the batch.
    `setup(model)`, if given, is called once with the ModelInfo before the handshake is answered
    (load weights there: the instance is ready only after it returns).

    With `with_cancellation=True` the program announces FEATURE_CANCEL and `infer_batch` is
    called as infer_batch(requests, cancellation): a Cancellation that marks the requests whose
    client goes away or whose timeout passes while the batch is computed. A thread then reads
    the plugin's frames, so the program also announces FEATURE_PIPELINED: the next batch is
    received while this one is computed (batches are still computed one at a time, in order).

    With `with_progress=True`, `infer_batch` also gets the batch's `Progress` as its next
    argument, to report how far each request has come; with `with_partials=True`, the batch's
    `Partials` after it, to send responses ahead of the final ones."""
    stream_in, stream_out = _protocol_streams()
    frame = _read_frame(stream_in)
    if frame is None or frame[0] != HELLO:
        raise ProtocolError("expected a HELLO frame from the plugin")
    model = _parse_hello(frame[1])
    if setup is not None:
        setup(model)
    w = _Writer()
    w.parts.append(MAGIC)
    w.u32(PROTOCOL_VERSION)
    shared = shared_region()
    # With its own reader thread it takes CANCELs and reads the next batch while it computes.
    w.u32(FEATURE_REQUEST_PARAMETERS |
          (FEATURE_CANCEL | FEATURE_PIPELINED if with_cancellation else 0) |
          (FEATURE_SHARED_INPUTS if shared is not None else 0))
    write_lock = threading.Lock()  # a PROGRESS may come from any thread of the model

    def write(frame):
        with write_lock:
            stream_out.write(frame)
            stream_out.flush()

    write(w.frame(READY))
    for batch_id, requests, cancellation in _batches_in_order(stream_in, with_cancellation,
                                                              shared):
        try:
            args = [requests if with_wanted else [inputs for inputs, _ in requests]]
            if with_cancellation:
                args.append(cancellation)
            if with_progress:
                args.append(Progress(batch_id, write))
            if with_partials:
                args.append(Partials(batch_id, model, write))
            results = infer_batch(*args)
            if len(results) != len(requests):
                raise InferError("infer_batch returned %d results for %d requests" %
                                 (len(results), len(requests)))
        except Exception as exc:  # noqa: BLE001 - the batch's error, not a crash
            log_exception(exc)
            results = [exc] * len(requests)
        w = _Writer()
        w.u64(batch_id)
        w.u32(len(requests))
        for (inputs, wanted), result in zip(requests, results):
            try:
                if isinstance(result, BaseException):
                    raise result
                outputs = _outputs_for(model, result, wanted)
            except Exception as exc:  # noqa: BLE001
                if exc is not result:
                    log_exception(exc)
                w.u8(getattr(exc, "code", INTERNAL) if isinstance(exc, InferError) else INTERNAL)
                w.str(_error_text(exc))
                continue
            w.u8(OK)
            w.u32(len(outputs))
            for name, datatype, shape, data in outputs:
                w.tensor(name, datatype, shape, data)
        ending = keep_serving is not None and not keep_serving()
        if ending:
            w.u8(RESULT_FLAG_PROGRAM_ENDS)
        write(w.frame(RESULT))
        if ending:
            return


def serve(infer, setup=None):
    """Serves `infer(inputs) -> outputs` (one request at a time) in whichever mode the plugin
    started this program: persistent (answers batches until the stream ends) or per_request
    (`run_once`). See the module docstring."""
    if os.environ.get("SWITCHYARD_EXEC_MODE") == "per_request":
        sys.exit(run_once(infer))

    def infer_batch(requests):
        results = []
        for inputs in requests:
            try:
                results.append(infer(inputs))
            except Exception as exc:  # noqa: BLE001 - this request's error
                log_exception(exc)
                results.append(exc)
        return results

    serve_batches(infer_batch, setup)


# ---------------------------------------------------------------------------------------------
# per_request mode


def run_once(infer, directory=None):
    """Answers the one request of a per_request run: reads request.json and the input files in
    `directory` (default $SWITCHYARD_EXEC_DIR), calls `infer(inputs)`, writes the requested
    outputs and response.json. Returns the exit status to use (0, or 1 after writing the error
    to response.json)."""
    directory = directory or os.environ["SWITCHYARD_EXEC_DIR"]
    response = os.path.join(directory, "response.json")
    try:
        with open(os.path.join(directory, "request.json")) as f:
            request = json.load(f)
        inputs = Inputs(parameters=request.get("parameters"))
        for spec in request["inputs"]:
            with open(os.path.join(directory, spec["file"]), "rb") as f:
                data = bytearray(f.read())
            inputs[spec["name"]] = decode_tensor(spec["datatype"], spec["shape"], data)
        result = infer(inputs)
        if not isinstance(result, dict):
            raise TypeError("infer must return a dict of output name -> array, not %s" %
                            type(result).__name__)
        listed = []
        for spec in request["outputs"]:
            name = spec["name"]
            if name not in result:
                raise InferError("infer did not return the requested output %r" % name)
            shape, data = encode_tensor(name, spec["datatype"], result[name])
            with open(os.path.join(directory, spec["file"]), "wb") as f:
                f.write(data)
            listed.append({"name": name, "shape": shape})
        with open(response, "w") as f:
            json.dump({"outputs": listed}, f)
        return 0
    except Exception as exc:  # noqa: BLE001 - reported through response.json
        log_exception(exc)
        code = exc.code if isinstance(exc, InferError) else INTERNAL
        with open(response, "w") as f:
            json.dump({"error": _error_text(exc), "code": _CODE_NAMES.get(code, "INTERNAL")}, f)
        return 1
