"""TLS on both front ends (serve --tls-cert, --tls-key, --tls-client-ca), end to end: a throwaway
CA, a server certificate for 127.0.0.1 and localhost and client certificates are made with the
`openssl` command into a temporary folder; the real binary serves HTTPS and gRPC over TLS with
them. Python's ssl module verifies the server against the CA; gRPC uses grpc.ssl_channel_credentials
(those tests skip, with the reason, when grpcio or the stubs are missing, as test_grpc.py does).
With --tls-client-ca, a client with a certificate from that CA is served and one without, or with
one from another CA, is refused, on both protocols. A plaintext client on a TLS port is closed
and the server goes on; a wrong file or flag stops the start with a message naming it.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import unittest

import harness
from test_grpc import SKIP as GRPC_SKIP
from test_partial_responses import SIM_CONFIG as PARTS_CONFIG
from test_python_models import write_model

if GRPC_SKIP is None:
    import grpc
    from test_grpc import pb, pb_grpc, simple_request, outputs_by_name

START_WAIT_S = 60  # longest a refused start may take to exit

PKI = None  # the folder of the certificates, made once per test process


def openssl(*args, cwd):
    result = subprocess.run(["openssl"] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=60)
    if result.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (" ".join(args), result.stdout.decode()))


def make_ca(folder, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
            "-subj", "/CN=switchyard test " + name, cwd=folder)


def make_leaf(folder, name, ca, extensions):
    """A key and a certificate signed by `ca`, with the given X.509v3 extension lines."""
    with open(os.path.join(folder, name + ".ext"), "w") as f:
        f.write(extensions)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=folder)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
            cwd=folder)


def pki():
    """Makes (once) ca, server (SAN IP:127.0.0.1, DNS:localhost), client (signed by ca), other_ca
    and stranger (a client certificate signed by other_ca); returns a path function."""
    global PKI
    if shutil.which("openssl") is None:
        raise AssertionError("the openssl command is needed (deps/debian-packages.txt)")
    if PKI is None:
        folder = tempfile.mkdtemp(prefix="switchyard-tls-")
        import atexit
        atexit.register(shutil.rmtree, folder, True)
        make_ca(folder, "ca")
        make_ca(folder, "other_ca")
        make_leaf(folder, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                  "extendedKeyUsage=serverAuth\n")
        make_leaf(folder, "client", "ca", "extendedKeyUsage=clientAuth\n")
        make_leaf(folder, "stranger", "other_ca", "extendedKeyUsage=clientAuth\n")
        PKI = folder
    return lambda name: os.path.join(PKI, name)


def client_context(ca="ca", cert=None):
    """Verifies the server against `ca`'s certificate (and its name); presents `cert`, if
    given."""
    path = pki()
    context = ssl.create_default_context(cafile=path(ca + ".pem"))
    if cert is not None:
        context.load_cert_chain(path(cert + ".pem"), path(cert + ".key"))
    return context


def pem(name):
    with open(pki()(name), "rb") as f:
        return f.read()


class TlsServer(harness.Server):
    """harness.Server whose requests go over TLS with `context`."""

    def __init__(self, repository, args, context):
        super().__init__(repository, args)
        self.context = context

    def connection(self, timeout=harness.IO_TIMEOUT_S):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.context)


class TlsTestCase(harness.ServerTestCase):
    """A server with TLS on HTTP and gRPC; CLIENT_CERT is what the harness's own requests
    present."""

    EXTRA_ARGS = []
    CLIENT_CERT = None

    @classmethod
    def repository(cls, tmpdir):
        repo = os.path.join(tmpdir, "repository")
        os.makedirs(repo)
        shutil.copytree(os.path.join(harness.examples_dir(), "simple"),
                        os.path.join(repo, "simple"))
        write_model(repo, "parts", PARTS_CONFIG % "thread", {})
        return repo

    @classmethod
    def setUpClass(cls):
        path = pki()
        cls._tmp = tempfile.mkdtemp(prefix="switchyard-repo-")
        cls.addClassCleanup(shutil.rmtree, cls._tmp, True)
        args = ["--tls-cert", path("server.pem"), "--tls-key", path("server.key"),
                "--grpc-port", "any", "--agent-port", "0"] + cls.EXTRA_ARGS
        cls.server = TlsServer(cls.repository(cls._tmp), args,
                               client_context(cert=cls.CLIENT_CERT))
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()

    def https(self, context, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=30,
                                           context=context)
        try:
            return harness.http_request(conn, method, path, body, headers)
        finally:
            conn.close()

    def grpc_channel(self, root="ca.pem", cert=None):
        if GRPC_SKIP is not None:
            self.skipTest(GRPC_SKIP)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pem(root),
            private_key=pem(cert + ".key") if cert else None,
            certificate_chain=pem(cert + ".pem") if cert else None)
        channel = grpc.secure_channel("127.0.0.1:%d" % self.server.grpc_port, credentials)
        self.addCleanup(channel.close)
        return pb_grpc.GRPCInferenceServiceStub(channel)

    def assertGrpcInferWorks(self, stub):
        self.assertTrue(stub.ServerLive(pb.ServerLiveRequest(), timeout=30).live)
        in0 = list(range(16))
        response = stub.ModelInfer(simple_request(in0, [2] * 16, raw=True), timeout=30)
        out = outputs_by_name(response)
        self.assertEqual(list(struct.unpack("<16i", out["OUTPUT0"])), [v + 2 for v in in0])

    def assertGrpcRefused(self, stub):
        with self.assertRaises(grpc.RpcError) as caught:
            stub.ServerLive(pb.ServerLiveRequest(), timeout=30)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE,
                         caught.exception.details())

    def assertHttpsRefused(self, context):
        """The handshake, or the first exchange after it (TLS 1.3 checks the client's certificate
        after the client thinks it is done), fails: no HTTP answer comes."""
        with self.assertRaises(OSError):  # ssl.SSLError, a reset, or RemoteDisconnected
            self.https(context, "GET", "/v2/health/live")


class TlsTest(TlsTestCase):
    def test_health_and_infer_over_https_on_one_kept_alive_connection(self):
        conn = self.server.connection()
        try:
            self.assertEqual(harness.http_request(conn, "GET", "/v2/health/ready").status, 200)
            first_socket = conn.sock
            self.assertEqual(first_socket.version()[:5], "TLSv1")
            in0 = list(range(16))
            for _ in range(3):
                body = json.dumps(harness.simple_request(in0, [1] * 16))
                resp = harness.http_request(conn, "POST", "/v2/models/simple/infer", body,
                                            {"Content-Type": "application/json"})
                self.assertOk(resp)
                outputs = {o["name"]: o["data"] for o in resp.json()["outputs"]}
                self.assertEqual(outputs["OUTPUT0"], [v + 1 for v in in0])
            self.assertIs(conn.sock, first_socket)  # kept alive: no new connection
        finally:
            conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        context = client_context()
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /v2/models/simple HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /v2/models/parts HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
        answers = harness.parse_responses(data)
        self.assertEqual([a.status for a in answers], [200, 200, 200])
        self.assertEqual(answers[0].json()["name"], "simple")
        self.assertEqual(answers[1].json()["name"], "parts")

    def test_streaming_predict_over_https(self):
        conn = self.server.connection()
        try:
            conn.request("POST", "/v2/models/parts/predict",
                         body=json.dumps({"INPUT0": [1, 2, 3, 4], "INPUT1": [1, 1, 1, 1]}),
                         headers={"Content-Type": "application/json",
                                  "Accept": "text/event-stream"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertIn("text/event-stream", resp.getheader("Content-Type"))
            stream = resp.read().decode()  # to the end: the server closes with close_notify
        finally:
            conn.close()
        events = []
        for event in stream.split("\n\n")[:-1]:
            fields = dict(line.split(": ", 1) for line in event.splitlines() if ": " in line)
            if "event" in fields:
                events.append((fields["event"], json.loads(fields["data"])["body"]))
        answer = {"OUTPUT0": [2, 3, 4, 5], "OUTPUT1": [0, 1, 2, 3]}
        self.assertEqual(events, [("partial", answer), ("partial", answer), ("result", answer)])

    def test_a_client_that_trusts_another_ca_refuses_the_server(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.https(client_context(ca="other_ca"), "GET", "/v2/health/live")

    def test_plaintext_http_to_the_tls_port_is_closed_and_the_server_goes_on(self):
        for _ in range(3):
            with harness.RawConnection(self.server.port, timeout=30) as raw:
                raw.send(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                try:
                    while True:
                        chunk = raw.sock.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except ConnectionResetError:
                    pass
                self.assertNotIn(b"HTTP/1.1 200", data)
        self.assertEqual(self.server.request("GET", "/v2/health/live").status, 200)

    def test_grpc_over_tls(self):
        self.assertGrpcInferWorks(self.grpc_channel())

    def test_a_plaintext_grpc_client_is_refused(self):
        if GRPC_SKIP is not None:
            self.skipTest(GRPC_SKIP)
        channel = grpc.insecure_channel("127.0.0.1:%d" % self.server.grpc_port)
        self.addCleanup(channel.close)
        self.assertGrpcRefused(pb_grpc.GRPCInferenceServiceStub(channel))

    def test_the_agent_port_stays_plaintext(self):
        with open(self.server.port_file) as f:
            port = int(re.search(r"^agent=(\d+)$", f.read(), re.M).group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            data = b""
            while True:
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"up"), data)


class MutualTlsTest(TlsTestCase):
    CLIENT_CERT = "client"

    @classmethod
    def setUpClass(cls):
        cls.EXTRA_ARGS = ["--tls-client-ca", pki()("ca.pem")]
        super().setUpClass()

    def test_a_client_with_a_certificate_of_the_ca_is_served(self):
        resp = self.https(client_context(cert="client"), "POST", "/v2/models/simple/infer",
                          json.dumps(harness.simple_request([5] * 16, [1] * 16)),
                          {"Content-Type": "application/json"})
        self.assertOk(resp)
        self.assertEqual(resp.json()["outputs"][0]["data"], [6] * 16)
        self.assertGrpcInferWorks(self.grpc_channel(cert="client"))

    def test_a_client_without_a_certificate_is_refused(self):
        self.assertHttpsRefused(client_context())
        self.assertGrpcRefused(self.grpc_channel())

    def test_a_client_with_a_certificate_of_another_ca_is_refused(self):
        self.assertHttpsRefused(client_context(cert="stranger"))
        self.assertGrpcRefused(self.grpc_channel(cert="stranger"))


class PlaintextPortTest(harness.ServerTestCase):
    """A TLS client on a plaintext port: its handshake fails, the server goes on."""

    REPOSITORY = None

    @classmethod
    def repository(cls, tmpdir):
        return TlsTestCase.repository(tmpdir)

    def test_a_tls_client_to_a_plaintext_port_fails_cleanly(self):
        for _ in range(3):
            with self.assertRaises(OSError):  # ssl.SSLError, or the connection closed
                conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=30,
                                                   context=client_context())
                try:
                    conn.request("GET", "/v2/health/live")
                finally:
                    conn.close()
        self.assertEqual(self.server.request("GET", "/v2/health/live").status, 200)


class TlsStartupTest(unittest.TestCase):
    """Wrong files and flags: the start fails, exit code non-zero, the message names the cause."""

    def refused_start(self, *tls_args):
        repo = tempfile.mkdtemp(prefix="switchyard-empty-")
        self.addCleanup(shutil.rmtree, repo, True)
        result = subprocess.run(
            [harness.switchyard_bin(), "serve", "--model-repository", repo, "--host",
             "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--state-dir",
             os.path.join(repo, "state")] + list(tls_args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=START_WAIT_S)
        output = result.stdout.decode("utf-8", "replace")
        self.assertNotEqual(result.returncode, 0, output)
        return output

    def test_a_missing_key_file(self):
        path = pki()
        missing = os.path.join(PKI, "absent.key")
        output = self.refused_start("--tls-cert", path("server.pem"), "--tls-key", missing)
        self.assertIn("--tls-key %s: cannot read: No such file" % missing, output)

    def test_a_key_that_is_not_the_certificates(self):
        path = pki()
        output = self.refused_start("--tls-cert", path("server.pem"), "--tls-key",
                                    path("client.key"))
        self.assertIn("--tls-key %s does not belong to --tls-cert %s" %
                      (path("client.key"), path("server.pem")), output)

    def test_a_certificate_that_is_not_pem(self):
        path = pki()
        output = self.refused_start("--tls-cert", path("server.key"), "--tls-key",
                                    path("server.key"))
        self.assertIn("--tls-cert %s holds no PEM certificate" % path("server.key"), output)

    def test_one_flag_without_the_other(self):
        path = pki()
        self.assertIn("--tls-cert needs --tls-key",
                      self.refused_start("--tls-cert", path("server.pem")))
        self.assertIn("--tls-key needs --tls-cert",
                      self.refused_start("--tls-key", path("server.key")))
        self.assertIn("--tls-client-ca needs --tls-cert",
                      self.refused_start("--tls-client-ca", path("ca.pem")))


if __name__ == "__main__":
    unittest.main()
