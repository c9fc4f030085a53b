"""The wire side of switchyard's integration tests (standard library only): HTTP/1.1 requests
and responses on raw sockets (for keep-alive, pipelining and malformed input, where http.client
would hide what happens), KServe v2 tensors in JSON and in the binary tensor data extension, and
the Prometheus text format. harness.py re-exports everything here."""

import json
import re
import socket
import struct
import time

IO_TIMEOUT_S = 30       # socket timeout of every request helper


# ----------------------------------------------------------------------------------------------
# HTTP responses and raw sockets


class Response:
    """One HTTP response: status, reason, headers (case-insensitive lookup), body bytes."""

    def __init__(self, status, reason, headers, body, version="HTTP/1.1"):
        self.status = status
        self.reason = reason
        self.header_list = list(headers)
        self.body = body
        self.version = version

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.header_list:
            if k.lower() == name:
                return v
        return default

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_message(self):
        """The "error" string of a KServe error body, or None if the body is not one."""
        try:
            obj = self.json()
        except Exception:
            return None
        if isinstance(obj, dict) and isinstance(obj.get("error"), str):
            return obj["error"]
        return None

    def __repr__(self):
        body = self.body[:300]
        return "<Response %s %s %r%s>" % (self.status, self.reason, body,
                                           "..." if len(self.body) > 300 else "")


def build_request(method, path, body=b"", headers=None, host="127.0.0.1", version="HTTP/1.1",
                  content_length=True):
    """Bytes of one HTTP/1.x request. `headers` is a list of (name, value) or a dict."""
    if isinstance(body, str):
        body = body.encode()
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    lines = ["%s %s %s" % (method, path, version)]
    if "host" not in names and host is not None:
        lines.append("Host: %s" % host)
    for k, v in hdrs:
        lines.append("%s: %s" % (k, v))
    if content_length and "content-length" not in names and "transfer-encoding" not in names \
            and (body or method in ("POST", "PUT")):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ConnectionClosed(Exception):
    """The peer closed the connection before a complete response arrived."""


class RawConnection:
    """A plain TCP connection with an HTTP/1.1 response reader, for keep-alive, pipelining and
    malformed-input tests where http.client would hide what happens on the wire."""

    def __init__(self, port, timeout=IO_TIMEOUT_S, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, path, body=b"", headers=None, **kw):
        """Sends one request and reads its response."""
        self.send(build_request(method, path, body, headers, **kw))
        return self.read_response(head=(method == "HEAD"))

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionClosed("connection closed by server (buffered: %r)" % self.buf[:200])
        self.buf += chunk

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise AssertionError("response header line too long")
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_response(self, head=False):
        """Reads one response (Content-Length, chunked, or until close)."""
        status_line = self._read_line()
        while status_line == b"":  # tolerate stray CRLF
            status_line = self._read_line()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError("bad status line %r" % status_line)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        while True:
            line = self._read_line()
            if not line:
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers.append((k.strip(), v.strip()))
        resp = Response(status, reason, headers, b"", version)
        if status in (100, 101):
            return self.read_response(head)  # skip interim responses
        te = (resp.header("Transfer-Encoding") or "").lower()
        cl = resp.header("Content-Length")
        if head or status in (204, 304):
            body = b""
        elif "chunked" in te:
            body = b""
            while True:
                size = int(self._read_line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_line()
        elif cl is not None:
            body = self._read_exact(int(cl))
        else:
            body = self.buf
            self.buf = b""
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                body += chunk
        resp.body = body
        return resp

    def read_until_closed(self, timeout):
        """Reads until the server closes (returns everything read) or `timeout` passes
        (AssertionError). A reset counts as closed."""
        deadline = time.monotonic() + timeout
        data = self.buf
        self.buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("server did not close the connection within %ss" % timeout)
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return data
            if not chunk:
                return data
            data += chunk


def parse_responses(data):
    """Splits bytes holding zero or more complete responses (Content-Length framed) into
    Response objects; used on what a server wrote before closing."""
    out = []
    conn = RawConnection.__new__(RawConnection)
    conn.buf = data
    conn.sock = None

    def _fill():
        raise ConnectionClosed("incomplete response")
    conn._fill = _fill
    while conn.buf.strip():
        out.append(conn.read_response())
    return out


# ----------------------------------------------------------------------------------------------
# KServe v2 tensors: JSON and the binary tensor data extension

_STRUCT = {"BOOL": "?", "UINT8": "B", "UINT16": "H", "UINT32": "I", "UINT64": "Q", "INT8": "b",
           "INT16": "h", "INT32": "i", "INT64": "q", "FP16": "e", "FP32": "f", "FP64": "d"}


def pack(datatype, values):
    """Little-endian raw bytes of a flat list (BYTES: 4-byte length + bytes per element).
    BF16 values are floats, truncated to the upper 16 bits of their FP32 form."""
    if datatype == "BYTES":
        out = b""
        for v in values:
            if isinstance(v, str):
                v = v.encode("utf-8")
            out += struct.pack("<I", len(v)) + v
        return out
    if datatype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return struct.pack("<%d%s" % (len(values), _STRUCT[datatype]), *values)


def unpack(datatype, data):
    """Inverse of pack: a flat list (BYTES: list of bytes)."""
    if datatype == "BYTES":
        out, i = [], 0
        while i < len(data):
            if i + 4 > len(data):
                raise AssertionError("truncated BYTES length prefix at %d" % i)
            (n,) = struct.unpack_from("<I", data, i)
            i += 4
            if i + n > len(data):
                raise AssertionError("truncated BYTES element at %d" % i)
            out.append(bytes(data[i:i + n]))
            i += n
        return out
    if datatype == "BF16":
        return [struct.unpack("<f", b"\x00\x00" + data[i:i + 2])[0]
                for i in range(0, len(data), 2)]
    size = struct.calcsize(_STRUCT[datatype])
    if len(data) % size:
        raise AssertionError("%d bytes is not a multiple of %s's size" % (len(data), datatype))
    return list(struct.unpack("<%d%s" % (len(data) // size, _STRUCT[datatype]), data))


def flatten(data):
    """Row-major flattening of nested lists (flat input is returned as is)."""
    if not isinstance(data, list):
        return [data]
    out = []
    for item in data:
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def encode_infer(request, binary_inputs=()):
    """(body, json_length) of an infer request: the JSON header followed by the raw tensors."""
    header = json.dumps(request).encode()
    return header + b"".join(binary_inputs), len(header)


def decode_infer(resp):
    """(json_header, {output_name: raw bytes}) of an infer response, honouring
    Inference-Header-Content-Length and each output's parameters.binary_data_size."""
    hlen = resp.header("Inference-Header-Content-Length")
    if hlen is None:
        return json.loads(resp.body.decode("utf-8")), {}
    hlen = int(hlen)
    if hlen > len(resp.body):
        raise AssertionError("Inference-Header-Content-Length %d > body %d" %
                             (hlen, len(resp.body)))
    header = json.loads(resp.body[:hlen].decode("utf-8"))
    binary, offset = {}, hlen
    for out in header.get("outputs", []):
        size = (out.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            if offset + size > len(resp.body):
                raise AssertionError("binary output %s overruns the body" % out["name"])
            binary[out["name"]] = resp.body[offset:offset + size]
            offset += size
    if offset != len(resp.body):
        raise AssertionError("%d unexplained bytes after the binary outputs" %
                             (len(resp.body) - offset))
    return header, binary


def output_values(resp):
    """{name: (datatype, shape, flat values)} from an infer response, JSON or binary outputs.
    BYTES values come back as bytes in both forms (JSON strings are utf-8 encoded)."""
    header, binary = decode_infer(resp)
    result = {}
    for out in header["outputs"]:
        dt = out["datatype"]
        if out["name"] in binary:
            if "data" in out:
                raise AssertionError("output %s has both data and binary_data_size" %
                                     out["name"])
            values = unpack(dt, binary[out["name"]])
        else:
            values = flatten(out["data"])
            if dt == "BYTES":
                values = [v.encode("utf-8") for v in values]
        result[out["name"]] = (dt, list(out["shape"]), values)
    return result


# ----------------------------------------------------------------------------------------------
# Prometheus text


_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$')
_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


class Metrics:
    """Parsed Prometheus text exposition: `types` {family: type}, `samples` [(name, labels,
    value)]. Raises AssertionError on a line that is not valid exposition format."""

    def __init__(self, text):
        self.text = text
        self.types = {}
        self.samples = []
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == "TYPE":
                    self.types[parts[2]] = parts[3].strip()
                continue
            m = _SAMPLE_RE.match(line)
            if not m:
                raise AssertionError("not a Prometheus sample line: %r" % line)
            labels = {}
            if m.group(3):
                rest = m.group(3)
                pos = 0
                while pos < len(rest):
                    lm = _LABEL_RE.match(rest, pos)
                    if not lm or lm.end() == pos:
                        raise AssertionError("bad labels in %r" % line)
                    labels[lm.group(1)] = lm.group(2)
                    pos = lm.end()
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def series(self, name, **labels):
        return [(l, v) for n, l, v in self.samples
                if n == name and all(l.get(k) == str(val) for k, val in labels.items())]

    def value(self, name, **labels):
        """Sum of every sample of `name` whose labels include `labels` (0 if none)."""
        return sum(v for _, v in self.series(name, **labels))

    def has(self, name, **labels):
        return bool(self.series(name, **labels))
