"""The HAProxy agent-check port (serve --agent-port): one line per connection, 'up ready 100%'
on an idle server (the weight's arithmetic is agent_check_test's), 'drain' from SIGTERM on
(through --shutdown-grace-s, while the server still serves), and nothing once it has exited."""

import os
import re
import shutil
import signal
import socket
import tempfile
import unittest

import harness


def agent_line(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        data = b""
        while True:
            chunk = sock.recv(256)
            if not chunk:
                return data.decode()
            data += chunk


class AgentCheckTest(unittest.TestCase):
    def test_up_with_a_weight_then_drain_on_sigterm(self):
        tmp = tempfile.mkdtemp(prefix="switchyard-agent-")
        self.addCleanup(shutil.rmtree, tmp, True)
        repo = harness.make_repository(tmp, os.path.join(harness.examples_dir(), "simple"))
        server = harness.Server(repo, ["--agent-port", "0", "--shutdown-grace-s", "600"]).start()
        self.addCleanup(server.stop)
        with open(server.port_file) as f:
            port = int(re.search(r"^agent=(\d+)$", f.read(), re.M).group(1))
        self.assertEqual(agent_line(port), "up ready 100%\n")  # idle
        server.proc.send_signal(signal.SIGTERM)
        harness.wait_until(lambda: agent_line(port) == "drain\n", 30,
                           "the agent to say drain after SIGTERM")
        self.assertEqual(server._status("/v2/health/live"), 200)  # still serving in the grace
        server.proc.send_signal(signal.SIGTERM)  # ends the grace: drain and exit
        self.assertEqual(server.proc.wait(60), 0, server.log_tail(20))
        with self.assertRaises(OSError):
            agent_line(port)


if __name__ == "__main__":
    unittest.main()
