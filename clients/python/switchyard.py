"""Write a switchyard model as a Python class: `backend: python` in config.yaml, and a model.py
in the version folder (served by switchyard_runner.py, which imports it)::

    import switchyard

    class Scaler:                           # any name: the one class here with `predict`
        def setup(self, ctx):               # optional; once, before the instance is ready
            self.k = float(ctx.parameters.get("k", "2"))     # config.yaml's parameters
        def decode(self, request):          # optional; per request, on a thread pool
            return float(request["x"])      # a file's bytes, a form field or a JSON key
        def predict(self, batch):           # required: a list of decoded items ->
            return [x * self.k for x in batch]   # one output per item, in order
        def encode(self, output):           # optional; per output, on the thread pool
            return {"y": output}            # dicts, lists, numbers, arrays -> JSON

A model whose config.yaml declares no inputs/outputs answers HTTP requests: `decode` gets a
`Request` (content type, query `params`, multipart `files` and `form`, `body`, `json`), and
`encode` returns a `Response(body, content_type)`, bytes (application/octet-stream), str
(text/plain) or anything JSON can hold (numpy arrays and scalars, torch tensors included). A
model that declares its own inputs/outputs gets each request's inputs as a dict of name -> numpy
array (switchyard_exec's conventions) and its `encode` returns a dict of name -> array-like.

With max_batch_size > 0, `predict` gets lists of up to max_batch_size items; with 0, one item
and returns one output. Raise `InvalidInput` (HTTP 400), `Unavailable` (503) or `InferError`
(500) to fail a request with that message; any other exception is a 500 with its traceback in
the server's log. An exception in decode or encode fails that request only; one in predict, or
predict returning the wrong number of outputs, fails the requests of that call.

`ctx` (a `Context`): name, version, instance, gpu_count, cuda_visible_devices, device ("cuda"
or "cpu"), model_dir, version_dir, parameters (str -> str), max_batch_size, inputs, outputs,
`cancelled()`: True once every request of the running predict call was cancelled (clients
gone, timeouts passed); a long predict may check it and raise `Cancelled`; and
`progress(fraction, message="")`: how far the running predict call has come (a job's status
shows it); and `send(output, item=None)`: a response ahead of the final one, which a streaming
client sees (`event: partial`). Requests cancelled before decode or predict are not computed. Parameter
`decode_threads` sizes the decode/encode pool (default min(8, usable CPUs)).

`encode_request_envelope` and `decode_response_envelope` build and read the BYTES elements that
such a model exchanges, for clients and tests that call it through the tensor API.

`stack(arrays)` joins a batch's input arrays without a copy where they lie end to end (they do
in the shared memory the runner receives them in).

Standard library and numpy only.
"""

import json
import os
import struct
import urllib.parse
from collections import namedtuple

import numpy as np

from switchyard_exec import Cancelled, InferError, InvalidInput, TensorSpec, Unavailable

__all__ = [
    "Context", "Request", "Part", "Response", "InferError", "InvalidInput", "Unavailable",
    "Cancelled", "stack",
    "TensorSpec", "decode_request_envelope", "encode_request_envelope",
    "encode_response_envelope", "decode_response_envelope", "to_response", "to_json",
]

REQUEST_MAGIC, RESPONSE_MAGIC = b"SYRQ", b"SYRS"
ENVELOPE_VERSION = 1

OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain; charset=utf-8"
APPLICATION_JSON = "application/json"


class Context:
    """What a model's `setup(ctx)` learns about itself: the model's name, version and config
    parameters (str -> str), max_batch_size, inputs and outputs (TensorSpec lists), the
    instance's index, GPUs (gpu_count, cuda_visible_devices, device: "cuda" when it has any,
    else "cpu"), and the model and version folders (absolute paths)."""

    def __init__(self, name="", version=1, *, instance=0, gpu_count=0, cuda_visible_devices="",
                 model_dir=None, version_dir=None, parameters=None, max_batch_size=0,
                 inputs=(), outputs=()):
        self.name, self.version, self.instance = name, version, instance
        self.gpu_count, self.cuda_visible_devices = gpu_count, cuda_visible_devices
        self.version_dir = os.getcwd() if version_dir is None else version_dir
        self.model_dir = os.path.dirname(self.version_dir) if model_dir is None else model_dir
        self.parameters = {} if parameters is None else dict(parameters)
        self.max_batch_size = max_batch_size
        self.inputs, self.outputs = list(inputs), list(outputs)
        self._cancelled = lambda: False  # the runner's, while it serves
        self._progress = lambda fraction, message: None  # likewise
        self._send = lambda output, item: None  # likewise

    def cancelled(self):
        """Whether every request of the `predict` call running now was cancelled: their clients
        went away or their timeouts passed. A long predict may check it now and then and raise
        `Cancelled` to stop early (its requests are answered with that error; a client that
        went away gets nothing). False outside predict."""
        return self._cancelled()

    def progress(self, fraction, message=""):
        """Reports how far the `predict` call running now has come: `fraction` from 0 to 1 and
        a short message ("page 3 of 12"). A job's status and its event stream show the latest
        report of each of its requests. Cheap: reports closer together than 50 ms are dropped
        (except fraction 1). Ignored outside predict."""
        self._progress(fraction, message)

    def send(self, output, item=None):
        """Sends a response ahead of the final one (a page parsed, a stage's preview): `output`
        is what predict would return for one item, and goes through `encode` like it. It is for
        the request of item `item` of the running predict call (its position in the batch), or
        for every request of the call when None (the one request when max_batch_size is 0). A
        client that streams the request (POST .../predict with Accept: text/event-stream) gets
        each as an `event: partial`, in order, before the result; a client that takes one
        answer gets the final one only. At most 64 KiB of outputs each (ValueError otherwise).
        Ignored outside predict."""
        self._send(output, item)

    @classmethod
    def from_model_info(cls, info):
        """The Context of a switchyard_exec.ModelInfo (what the plugin's HELLO says)."""
        return cls(info.name, info.version, instance=info.instance, gpu_count=info.gpu_count,
                   cuda_visible_devices=info.cuda_visible_devices, model_dir=info.model_dir,
                   version_dir=info.version_dir, parameters=info.parameters,
                   max_batch_size=info.max_batch_size, inputs=info.inputs, outputs=info.outputs)

    @property
    def device(self):
        """"cuda" when the instance has GPUs this process can see (CUDA_VISIBLE_DEVICES names
        them; a simulated GPU names none), else "cpu"."""
        return "cuda" if self.gpu_count > 0 and self.cuda_visible_devices else "cpu"

    def __repr__(self):
        return "Context(%r, version=%r, instance=%r, device=%r)" % (
            self.name, self.version, self.instance, self.device)


class Part(namedtuple("Part", "name filename content_type data")):
    """One part of a request: a multipart form field (`filename` "" for a plain field, else an
    uploaded file), or the whole body of a request that is not a form (`name` "")."""

    __slots__ = ()

    def __repr__(self):
        return "Part(name=%r, filename=%r, content_type=%r, %d bytes)" % (
            self.name, self.filename, self.content_type, len(self.data))


_NOT_PARSED = object()


class Request:
    """One HTTP request as the model's `decode` gets it.

    `content_type` (the Content-Type header, "" if none), `params` (query parameters, dict str
    -> str, the last of repeated ones), `parts` (list of Part), and views of the parts: `files`
    (name -> Part, the parts with a filename), `form` (name -> str, the other fields), `body`
    (the bytes of a request that is not a form; b"" for a form), `json` (the body parsed, when
    it is JSON; None otherwise). `request[name]` is a file's bytes, a form value or a key of the
    JSON object, in that order of precedence; a missing one raises InvalidInput (HTTP 400)
    naming it; `get(name, default)` returns `default` instead. `raw` is True when the element
    was not an envelope (a tensor client sent the bytes directly: they are the body); its
    answer is then the response body alone."""

    def __init__(self, content_type="", params=(), parts=(), raw=False):
        self.content_type = content_type
        self.params = dict(params)
        self.parts = list(parts)
        self.raw = raw
        self._form = None
        self._json = _NOT_PARSED

    def __repr__(self):
        return "Request(%r, params=%r, parts=%r)" % (self.content_type, self.params, self.parts)

    def _media_type(self):
        return self.content_type.split(";", 1)[0].strip().lower()

    def _is_form(self):
        """Multipart: a multipart content type, or parts other than one unnamed body."""
        if self._media_type().startswith("multipart/") or len(self.parts) != 1:
            return True
        return bool(self.parts[0].name or self.parts[0].filename)

    @property
    def body(self):
        return b"" if self._is_form() else self.parts[0].data

    @property
    def files(self):
        if not self._is_form():
            return {}
        return {part.name: part for part in self.parts if part.filename}

    @property
    def form(self):
        """name -> str: the fields of a multipart form that are not files, or of an
        application/x-www-form-urlencoded body. Text that is not UTF-8 raises InvalidInput."""
        if self._form is None:
            self._form = self._parse_form()
        return self._form

    def _parse_form(self):
        if self._media_type() == "application/x-www-form-urlencoded" and not self._is_form():
            try:
                text = self.parts[0].data.decode("utf-8")
                return dict(urllib.parse.parse_qsl(text, keep_blank_values=True,
                                                   errors="strict"))
            except UnicodeDecodeError as exc:
                raise InvalidInput("the form body is not UTF-8 text: %s" % exc) from None
        if not self._is_form():
            return {}
        form = {}
        for part in self.parts:
            if not part.filename:
                try:
                    form[part.name] = part.data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidInput("form field %r is not UTF-8 text: %s" %
                                       (part.name, exc)) from None
        return form

    @property
    def json(self):
        """The body parsed as JSON when the content type is application/json or */*+json, or
        the body starts with { or [; else None. Invalid JSON raises InvalidInput."""
        if self._json is _NOT_PARSED:
            self._json = self._parse_json()
        return self._json

    def _parse_json(self):
        media, body = self._media_type(), self.body
        if not (media == APPLICATION_JSON or media.endswith("+json") or
                body.lstrip()[:1] in (b"{", b"[")):
            return None
        try:
            return json.loads(body)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            what = "empty" if not body.strip() else "not valid JSON (%s)" % exc
            raise InvalidInput("the request body is %s" % what) from None

    def _fields(self):
        """(files, form, JSON object or {}) to look names up in."""
        body = self.json
        return self.files, self.form, body if isinstance(body, dict) else {}

    def __getitem__(self, name):
        files, form, body = self._fields()
        if name in files:
            return files[name].data
        if name in form:
            return form[name]
        if name in body:
            return body[name]
        present = list(files) + [k for k in form if k not in files]
        present += [k for k in body if k not in files and k not in form]
        raise InvalidInput("the request has no field %r (%s)" % (
            name, "it has " + ", ".join(repr(k) for k in present) if present
            else "it has no fields"))

    def __contains__(self, name):
        return any(name in fields for fields in self._fields())

    def get(self, name, default=None):
        return self[name] if name in self else default


class Response:
    """What `encode` returns for full control of the HTTP answer: the body (bytes, or str sent
    as UTF-8) and its content type (default application/octet-stream for bytes, text/plain;
    charset=utf-8 for str)."""

    def __init__(self, body, content_type=None):
        if isinstance(body, str):
            self.body, default = body.encode("utf-8"), TEXT_PLAIN
        elif isinstance(body, (bytes, bytearray, memoryview)):
            self.body, default = bytes(body), OCTET_STREAM
        else:
            raise TypeError("a Response's body is bytes or str, not %s (return the value itself "
                            "from encode to send it as JSON)" % type(body).__name__)
        self.content_type = default if content_type is None else content_type

    def __repr__(self):
        return "Response(%d bytes, %r)" % (len(self.body), self.content_type)


# ---------------------------------------------------------------------------------------------
# Batches


def _memory_of(array):
    """(the buffer object an array views, the address of its first byte), or (None, 0) for an
    array that owns its memory."""
    base = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    base = getattr(base, "obj", base)  # a memoryview's exporter (the shared region's mmap)
    if isinstance(base, np.ndarray) or base is None:
        return None, 0
    return base, np.frombuffer(base, np.uint8).ctypes.data


def stack(arrays):
    """`arrays` (numpy, one dtype, equal shapes after the first axis) joined along the first
    axis, as np.concatenate does, but without copying when they lie end to end in one buffer:
    a batch's inputs do (the runner receives them in shared memory, one after another), so
    `stack([item["input"] for item in batch])` costs nothing there. The result is then a view
    of that memory, valid as long as the inputs are (until the batch is answered)."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("stack of no arrays")
    first = arrays[0]
    buffer, origin = _memory_of(first)
    contiguous = buffer is not None and all(
        a.dtype == first.dtype and a.shape[1:] == first.shape[1:] and a.flags.c_contiguous
        for a in arrays)
    if contiguous:
        address = first.ctypes.data
        for a in arrays:
            if a.ctypes.data != address or _memory_of(a)[0] is not buffer:
                contiguous = False
                break
            address += a.nbytes
    if not contiguous:
        return np.concatenate(arrays)
    rows = sum(len(a) for a in arrays)
    return np.ndarray((rows,) + first.shape[1:], first.dtype, buffer=buffer,
                      offset=first.ctypes.data - origin)


# ---------------------------------------------------------------------------------------------
# Results -> HTTP bodies


def _json_default(value):
    """JSON for the values json does not know: arrays and tensors (anything with .tolist(),
    torch tensors detached and moved to the CPU first) and numpy scalars."""
    if hasattr(value, "tolist"):
        if hasattr(value, "detach"):
            value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        return value.tolist()
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("bytes cannot be sent as JSON: decode them to str, or return bytes or "
                        "a Response from encode to send them as they are")
    raise TypeError("a value of type %s cannot be sent as JSON" % type(value).__name__)


def to_json(value):
    """`value` as UTF-8 JSON bytes, with numpy arrays and scalars and torch tensors as lists and
    numbers. TypeError for what JSON cannot hold."""
    return json.dumps(value, default=_json_default, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def to_response(value):
    """The Response for what `encode` returned: a Response as it is, bytes as
    application/octet-stream, str as text/plain, anything else as JSON (application/json)."""
    if isinstance(value, Response):
        return value
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return Response(value)
    return Response(to_json(value), APPLICATION_JSON)


# ---------------------------------------------------------------------------------------------
# Envelopes


class _EnvelopeReader:
    """Reads little-endian fields of an envelope; `error` (an exception class) for a malformed
    one, with `what` ("request envelope") in the message."""

    def __init__(self, data, what, error):
        self.view, self.pos, self.what, self.error = memoryview(data), 0, what, error

    def fail(self, message):
        raise self.error("malformed %s: %s" % (self.what, message))

    def take(self, n, field):
        if n > len(self.view) - self.pos:
            self.fail("it ends inside %s (%d bytes at offset %d, %d left)" %
                      (field, n, self.pos, len(self.view) - self.pos))
        v = self.view[self.pos:self.pos + n]
        self.pos += n
        return v

    def u32(self, field):
        return struct.unpack("<I", self.take(4, field))[0]

    def u64(self, field):
        return struct.unpack("<Q", self.take(8, field))[0]

    def str(self, field):
        data = self.take(self.u32(field), field)
        try:
            return str(data, "utf-8")
        except UnicodeDecodeError:
            self.fail("%s is not UTF-8" % field)

    def header(self, magic):
        if bytes(self.take(4, "the magic")) != magic:
            self.fail("it does not start with %r" % magic.decode())
        version = self.u32("the version")
        if version != ENVELOPE_VERSION:
            raise self.error("%s version %d; this switchyard.py reads version %d" %
                             (self.what, version, ENVELOPE_VERSION))

    def end(self):
        if self.pos != len(self.view):
            self.fail("%d bytes after its end" % (len(self.view) - self.pos))


def _u32(n):
    return struct.pack("<I", n)


def _str(s):
    b = s.encode("utf-8")
    return _u32(len(b)) + b


def decode_request_envelope(element):
    """The Request in one element of the `request` input. An element that does not start with
    "SYRQ" is a raw request: one part, the element, as application/octet-stream. A malformed
    envelope raises InvalidInput saying where it breaks."""
    data = bytes(element)
    if data[:4] != REQUEST_MAGIC:
        return Request(OCTET_STREAM, (), [Part("", "", OCTET_STREAM, data)], raw=True)
    r = _EnvelopeReader(data, "request envelope", InvalidInput)
    r.header(REQUEST_MAGIC)
    content_type = r.str("the content type")
    params = []
    for i in range(r.u32("the parameter count")):
        key = r.str("parameter %d's name" % i)
        params.append((key, r.str("parameter %d's value" % i)))
    parts = []
    for i in range(r.u32("the part count")):
        name = r.str("part %d's name" % i)
        filename = r.str("part %d's filename" % i)
        part_type = r.str("part %d's content type" % i)
        parts.append(Part(name, filename, part_type, bytes(r.take(r.u64("part %d's size" % i),
                                                                   "part %d's data" % i))))
    r.end()
    return Request(content_type, params, parts)


def _as_bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def encode_request_envelope(content_type="", params=(), parts=(), body=None):
    """One `request` element: `params` a dict or (key, value) pairs, `parts` Parts (or
    (name, filename, content_type, data) tuples); or `body` (bytes or str) for a request that
    is not a form, as the one part the server makes of it."""
    if body is not None:
        if parts:
            raise ValueError("give either parts or body, not both")
        parts = [Part("", "", content_type, body)]
    params = list(params.items() if isinstance(params, dict) else params)
    out = [REQUEST_MAGIC, _u32(ENVELOPE_VERSION), _str(content_type), _u32(len(params))]
    for key, value in params:
        out += [_str(str(key)), _str(str(value))]
    parts = list(parts)
    out.append(_u32(len(parts)))
    for name, filename, part_type, data in parts:
        data = _as_bytes(data)
        out += [_str(name), _str(filename), _str(part_type), struct.pack("<Q", len(data)), data]
    return b"".join(out)


def encode_response_envelope(content_type, body):
    """One `response` element for an envelope request: the body (bytes, or str as UTF-8) and
    its content type."""
    body = _as_bytes(body)
    return b"".join([RESPONSE_MAGIC, _u32(ENVELOPE_VERSION), _str(content_type),
                     struct.pack("<Q", len(body)), body])


def decode_response_envelope(element):
    """The Response in one `response` element (ValueError when it is not a well-formed
    envelope: a raw request's answer is the body alone)."""
    r = _EnvelopeReader(bytes(element), "response envelope", ValueError)
    r.header(RESPONSE_MAGIC)
    content_type = r.str("the content type")
    body = bytes(r.take(r.u64("the body size"), "the body"))
    r.end()
    return Response(body, content_type)
