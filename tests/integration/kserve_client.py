"""A minimal, standard-library stand-in for `tritonclient.http.InferenceServerClient`.

tritonclient cannot be installed where these tests run, so this module sends the same bytes it
sends (tritonclient 2.x over geventhttpclient), so that tests written with it show that standard
KServe v2 clients work against switchyard unchanged. What it reproduces:

Requests
  * Request line `METHOD /<path>[?query] HTTP/1.1`; query parameters joined as `k=v&...` with
    urllib's quote_plus; the model name quoted with urllib's quote.
  * Headers in geventhttpclient's order: `User-Agent: python/gevent-http-client-<version>`, then
    the caller's headers (for infer: `Inference-Header-Content-Length: <json length>` when at least
    one input is binary), then `Host: <host>:<port>`, then `Content-Length` (POST always, GET
    never). No Content-Type, no Accept-Encoding, no Connection header.
  * Infer body: compact JSON (python-rapidjson's dumps: no spaces, non-ASCII escaped) of
    {"id"?, "inputs": [{"name", "shape", "datatype", "parameters"?, "data"?}], "outputs"?:
    [{"name", "parameters": {"binary_data": bool}}], "parameters"?}, followed by the raw bytes of
    the binary inputs in input order. An input set with binary_data=True (the default of
    set_data_from_numpy) has parameters {"binary_data_size": N} and no "data"; with
    binary_data=False it has "data" (flat) and no parameters. When no outputs are requested the
    request parameters carry {"binary_data_output": true}. BYTES elements travel as a 4-byte
    little-endian length followed by the bytes.
  * One persistent keep-alive connection (tritonclient's default concurrency=1).

Responses
  * A non-200 answer raises InferenceServerException(msg=body["error"], status="<code>").
  * An infer response with `Inference-Header-Content-Length` is a JSON header followed by the
    outputs that have parameters.binary_data_size, in the order they appear in the header.

System shared memory (tritonclient.http's register_system_shared_memory, ..._status,
unregister_...; InferInput/InferRequestedOutput.set_shared_memory): the same paths and
parameters ("shared_memory_offset" only when not 0; an output's "binary_data" is dropped).

Numpy is replaced by flat, row-major Python lists: `InferInput.set_data_from_list(values)` and
`InferResult.as_list(name)` (BYTES: bytes for binary outputs, str for JSON ones, as tritonclient's
as_numpy gives them).
"""

import http.client
import json
import socket
import struct
from urllib.parse import quote, quote_plus

USER_AGENT = "python/gevent-http-client-2.3.1"

_FORMATS = {"BOOL": "?", "UINT8": "B", "UINT16": "H", "UINT32": "I", "UINT64": "Q", "INT8": "b",
            "INT16": "h", "INT32": "i", "INT64": "q", "FP16": "e", "FP32": "f", "FP64": "d"}


class InferenceServerException(Exception):
    def __init__(self, msg, status=None):
        super().__init__(msg)
        self._msg = msg
        self._status = status

    def message(self):
        return self._msg

    def status(self):
        return self._status

    def __str__(self):
        return "[%s] %s" % (self._status, self._msg) if self._status else self._msg


def serialize_bytes(values):
    """BYTES elements (bytes or str) as tritonclient's serialize_byte_tensor lays them out."""
    out = []
    for v in values:
        if isinstance(v, str):
            v = v.encode("utf-8")
        out.append(struct.pack("<I", len(v)) + v)
    return b"".join(out)


def deserialize_bytes(data):
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack_from("<I", data, i)
        out.append(bytes(data[i + 4:i + 4 + n]))
        i += 4 + n
    return out


class InferInput:
    def __init__(self, name, shape, datatype):
        self._name = name
        self._shape = list(shape)
        self._datatype = datatype
        self._parameters = {}
        self._data = None
        self._raw_data = None

    def name(self):
        return self._name

    def set_data_from_list(self, values, binary_data=True):
        """`values`: the tensor's elements, flat and row-major."""
        count = 1
        for d in self._shape:
            count *= d
        if len(values) != count:
            raise InferenceServerException("got %d values for shape %s" % (len(values),
                                                                            self._shape))
        if not binary_data:
            self._parameters.pop("binary_data_size", None)
            self._raw_data = None
            if self._datatype in ("FP16", "BF16"):
                # tritonclient refuses BF16 here; FP16 it would send as JSON numbers.
                self._data = [float(v) for v in values]
            elif self._datatype == "BYTES":
                self._data = [v.decode("utf-8") if isinstance(v, bytes) else str(v)
                              for v in values]
            else:
                self._data = list(values)
        else:
            self._data = None
            if self._datatype == "BYTES":
                self._raw_data = serialize_bytes(values)
            elif self._datatype == "BF16":
                self._raw_data = b"".join(struct.pack("<f", v)[2:] for v in values)
            else:
                self._raw_data = struct.pack("<%d%s" % (len(values), _FORMATS[self._datatype]),
                                             *values)
            self._parameters["binary_data_size"] = len(self._raw_data)

    def set_shared_memory(self, region_name, byte_size, offset=0):
        """The input's bytes lie in registered region `region_name` (no data is sent)."""
        self._data = None
        self._raw_data = None
        self._parameters.pop("binary_data_size", None)
        self._parameters["shared_memory_region"] = region_name
        self._parameters["shared_memory_byte_size"] = byte_size
        if offset != 0:
            self._parameters["shared_memory_offset"] = offset

    def _get_tensor(self):
        tensor = {"name": self._name, "shape": self._shape, "datatype": self._datatype}
        if self._parameters:
            tensor["parameters"] = self._parameters
        if self._raw_data is None and self._data is not None:
            tensor["data"] = self._data
        return tensor


class InferRequestedOutput:
    def __init__(self, name, binary_data=True):
        self._name = name
        self._parameters = {"binary_data": binary_data}

    def set_shared_memory(self, region_name, byte_size, offset=0):
        """The server writes the output into registered region `region_name`."""
        self._parameters.pop("binary_data", None)
        self._parameters["shared_memory_region"] = region_name
        self._parameters["shared_memory_byte_size"] = byte_size
        if offset != 0:
            self._parameters["shared_memory_offset"] = offset

    def _get_tensor(self):
        return {"name": self._name, "parameters": self._parameters}


class InferResult:
    def __init__(self, headers, body):
        header_length = headers.get("inference-header-content-length")
        self._buffers = {}
        if header_length is None:
            self._result = json.loads(body)
            return
        header_length = int(header_length)
        self._result = json.loads(body[:header_length])
        offset = header_length
        for output in self._result.get("outputs", []):
            size = (output.get("parameters") or {}).get("binary_data_size")
            if size is not None:
                self._buffers[output["name"]] = body[offset:offset + size]
                offset += size

    def get_response(self):
        return self._result

    def get_output(self, name):
        for output in self._result.get("outputs", []):
            if output["name"] == name:
                return output
        return None

    def shape(self, name):
        return self.get_output(name)["shape"]

    def as_list(self, name):
        """The output's elements, flat and row-major; None if there is no such output."""
        output = self.get_output(name)
        if output is None:
            return None
        datatype = output["datatype"]
        if name in self._buffers:
            raw = self._buffers[name]
            if datatype == "BYTES":
                return deserialize_bytes(raw)
            if datatype == "BF16":
                return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0]
                        for i in range(0, len(raw), 2)]
            fmt = _FORMATS[datatype]
            return list(struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw))
        return _flatten(output["data"])


def _flatten(data):
    if not isinstance(data, list):
        return [data]
    out = []
    for item in data:
        out.extend(_flatten(item))
    return out


def _query_string(query_params):
    return "&".join("%s=%s" % (quote_plus(k), quote_plus(str(v)))
                    for k, v in query_params.items())


def get_inference_request(inputs, request_id="", outputs=None, priority=0, timeout=None,
                          parameters=None):
    """(body bytes, json_size or None): the infer body exactly as tritonclient builds it."""
    infer_request = {}
    params = {}
    if request_id != "":
        infer_request["id"] = request_id
    if priority != 0:
        params["priority"] = priority
    if timeout is not None:
        params["timeout"] = timeout
    infer_request["inputs"] = [i._get_tensor() for i in inputs]
    if outputs:
        infer_request["outputs"] = [o._get_tensor() for o in outputs]
    else:
        params["binary_data_output"] = True
    for k, v in (parameters or {}).items():
        params[k] = v
    if params:
        infer_request["parameters"] = params
    request_json = json.dumps(infer_request, separators=(",", ":"), ensure_ascii=True).encode()
    raw = [i._raw_data for i in inputs if i._raw_data is not None]
    if not raw:
        return request_json, None
    return request_json + b"".join(raw), len(request_json)


class InferenceServerClient:
    """`url` is "host:port" (no scheme), like tritonclient's."""

    def __init__(self, url, network_timeout=60.0):
        host, _, port = url.rpartition(":")
        self._host, self._port = host, int(port)
        self._timeout = network_timeout
        self._sock = None

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the wire --

    def request_bytes(self, method, uri, body=b"", headers=None, query_params=None):
        """The exact bytes of one request (geventhttpclient's layout)."""
        uri = "/" + uri
        if query_params is not None:
            uri += "?" + _query_string(query_params)
        fields = [("User-Agent", USER_AGENT)]
        fields += [(k, str(v)) for k, v in (headers or {}).items()]
        fields.append(("Host", "%s:%d" % (self._host, self._port) if self._port not in (80, 443)
                       else self._host))
        if body or method == "POST":
            fields.append(("Content-Length", str(len(body))))
        head = "%s %s HTTP/1.1\r\n" % (method, uri)
        head += "".join("%s: %s\r\n" % kv for kv in fields) + "\r\n"
        return head.encode("latin-1") + body

    def _call(self, method, uri, body=b"", headers=None, query_params=None):
        data = self.request_bytes(method, uri, body, headers, query_params)
        if self._sock is None:
            self._sock = socket.create_connection((self._host, self._port), self._timeout)
        try:
            self._sock.sendall(data)
            resp = http.client.HTTPResponse(self._sock, method=method)
            resp.begin()
            payload = resp.read()
        except BaseException:
            self.close()
            raise
        if resp.will_close:
            self.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload

    def _json(self, method, uri, body=b"", headers=None, query_params=None):
        status, hdrs, payload = self._call(method, uri, body, headers, query_params)
        _raise_if_error(status, payload)
        return json.loads(payload)

    # -- the API --

    def is_server_live(self, headers=None, query_params=None):
        return self._call("GET", "v2/health/live", headers=headers,
                          query_params=query_params)[0] == 200

    def is_server_ready(self, headers=None, query_params=None):
        return self._call("GET", "v2/health/ready", headers=headers,
                          query_params=query_params)[0] == 200

    def is_model_ready(self, model_name, model_version="", headers=None, query_params=None):
        uri = "v2/models/%s" % quote(model_name)
        if model_version:
            uri += "/versions/%s" % model_version
        return self._call("GET", uri + "/ready", headers=headers,
                          query_params=query_params)[0] == 200

    def get_server_metadata(self, headers=None, query_params=None):
        return self._json("GET", "v2", headers=headers, query_params=query_params)

    def get_model_metadata(self, model_name, model_version="", headers=None, query_params=None):
        uri = "v2/models/%s" % quote(model_name)
        if model_version:
            uri += "/versions/%s" % model_version
        return self._json("GET", uri, headers=headers, query_params=query_params)

    def get_model_config(self, model_name, model_version="", headers=None, query_params=None):
        uri = "v2/models/%s" % quote(model_name)
        if model_version:
            uri += "/versions/%s" % model_version
        return self._json("GET", uri + "/config", headers=headers, query_params=query_params)

    def get_inference_statistics(self, model_name="", model_version="", headers=None,
                                 query_params=None):
        if model_name:
            uri = "v2/models/%s" % quote(model_name)
            if model_version:
                uri += "/versions/%s" % model_version
            uri += "/stats"
        else:
            uri = "v2/models/stats"
        return self._json("GET", uri, headers=headers, query_params=query_params)

    def get_model_repository_index(self, headers=None, query_params=None):
        return self._json("POST", "v2/repository/index", headers=headers,
                          query_params=query_params)

    def get_system_shared_memory_status(self, region_name="", headers=None, query_params=None):
        uri = "v2/systemsharedmemory/status"
        if region_name:
            uri = "v2/systemsharedmemory/region/%s/status" % quote(region_name)
        return self._json("GET", uri, headers=headers, query_params=query_params)

    def register_system_shared_memory(self, name, key, byte_size, offset=0, headers=None,
                                      query_params=None):
        body = json.dumps({"key": key, "offset": offset, "byte_size": byte_size},
                          separators=(",", ":")).encode()
        uri = "v2/systemsharedmemory/region/%s/register" % quote(name)
        self._json("POST", uri, body, headers=headers, query_params=query_params)

    def unregister_system_shared_memory(self, name="", headers=None, query_params=None):
        uri = "v2/systemsharedmemory/unregister"
        if name:
            uri = "v2/systemsharedmemory/region/%s/unregister" % quote(name)
        self._json("POST", uri, headers=headers, query_params=query_params)

    def infer(self, model_name, inputs, model_version="", outputs=None, request_id="",
              priority=0, timeout=None, headers=None, query_params=None, parameters=None):
        body, json_size = get_inference_request(inputs, request_id, outputs, priority, timeout,
                                                parameters)
        headers = dict(headers or {})
        if json_size is not None:
            headers["Inference-Header-Content-Length"] = json_size
        uri = "v2/models/%s" % quote(model_name)
        if model_version:
            uri += "/versions/%s" % model_version
        status, hdrs, payload = self._call("POST", uri + "/infer", body, headers, query_params)
        _raise_if_error(status, payload)
        return InferResult(hdrs, payload)


def _raise_if_error(status, payload):
    if status == 200:
        return
    try:
        body = payload.decode("utf-8")
        error = json.loads(body)["error"] if body else \
            "client received an empty response from the server."
    except Exception as e:  # noqa: BLE001
        error = "an exception occurred in the client while decoding the response: %s\n" \
                "response: %r" % (e, payload[:200])
    raise InferenceServerException(error, str(status))
