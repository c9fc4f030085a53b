"""Scenarios shared by the HAProxy and nginx tests: three nodes behind the balancer (fresh for
every test), an open-loop load through it, one node treated badly. Judged by counts: what the
client got (every outcome counted), what each node answered (its /metrics), and, for HAProxy,
what the balancer sent where (its runtime API); never by how long something took."""

import os
import shutil
import signal
import tempfile
import unittest

import cluster
from cluster import harness

HALF_LOAD_RPS = 0.5 * 3 * cluster.NODE_CAPACITY_RPS     # 150/s: "~50 % load"


def report(test, line):
    print("[%s] %s" % (test.id().rsplit(".", 1)[-1], line), flush=True)


class ClusterCase(unittest.TestCase):
    """Three nodes and BALANCER (a cluster.Balancer class), started for each test and stopped by
    PID however it ends."""

    BALANCER = None

    def setUp(self):
        if self.BALANCER is None:
            raise unittest.SkipTest("abstract")
        binary = (cluster.HAPROXY_BIN if self.BALANCER is cluster.HAProxy else cluster.NGINX_BIN)
        if not cluster.have(binary):
            raise unittest.SkipTest("%s is not installed (%s): Debian package %s" % (
                self.BALANCER.NAME, binary,
                "haproxy" if self.BALANCER is cluster.HAProxy else "nginx-light"))
        tmp = tempfile.mkdtemp(prefix="switchyard-scaleout-")
        if os.environ.get("SWITCHYARD_TEST_KEEP"):  # logs and configs kept for a look
            report(self, "files kept in %s" % tmp)
        else:
            self.addCleanup(shutil.rmtree, tmp, True)
        self.nodes = [cluster.Node(tmp, "node%d" % (i + 1)) for i in range(3)]
        for node in self.nodes:
            self.addCleanup(node.stop)
        for node in self.nodes:  # start together, then wait for each
            node.launch()
        for node in self.nodes:
            node.wait_started()
        self.balancer = self.BALANCER(tmp, self.nodes)
        self.addCleanup(self.balancer.stop)
        self.balancer.start()
        self.load = None

    def start_load(self, rate=HALF_LOAD_RPS, threads=256):
        # Enough threads that requests held by a frozen node do not starve the client (it would
        # then send its backlog in a burst when they return).
        self.load = cluster.Load(self.balancer.port, rate, threads).start()
        self.addCleanup(self.load.stop)  # stops its threads whatever happens (idempotent)
        return self.load

    def details(self, counts=None):
        """What a failure message shows: the client's outcomes, each node's answers, the
        balancer's view and the end of its log."""
        lines = ["client outcomes: %r" % (counts if counts is not None else
                                          self.load.counts() if self.load else None)]
        for node in self.nodes:
            alive = node.proc.poll() is None
            try:
                answered = node.answered() if alive else "(exited %s)" % node.proc.returncode
            except AssertionError as e:
                answered = str(e)
            lines.append("%s (pid %d, port %d): answered %s" % (node.name, node.pid, node.port,
                                                                 answered))
        try:
            lines.append(self.balancer.summary())
        except OSError as e:
            lines.append("(balancer stats: %r)" % e)
        lines.append("--- %s log tail ---\n%s" % (self.balancer.NAME, self.balancer.log_tail(30)))
        return "\n".join(lines)

    def assertNoFailures(self, counts):
        failed = {k: v for k, v in counts.items() if k != 200}
        self.assertEqual(failed, {}, "failed requests\n" + self.details(counts))
        self.assertGreater(counts.get(200, 0), 0, self.details(counts))

    def answered_by(self):
        return [node.answered() for node in self.nodes]

    # -- scenarios every balancer must pass ------------------------------------------------

    def test_even_spread(self):
        """~50 % load for 1,200 requests: each node answers within 10 % of a third of them."""
        before = self.answered_by()
        load = self.start_load()
        load.wait_for(1200, "even spread")
        counts = load.stop()
        shares = [a - b for a, b in zip(self.answered_by(), before)]
        total = sum(shares)
        report(self, "client %r; answered per node %r" % (counts, shares))
        self.assertNoFailures(counts)
        for node, share in zip(self.nodes, shares):
            self.assertLessEqual(abs(share - total / 3), 0.1 * total / 3,
                                 "%s answered %d of %d (a third is %.0f)\n%s" %
                                 (node.name, share, total, total / 3, self.details(counts)))

    def test_kill_9_under_load_then_back(self):
        """kill -9 of a node at ~50 % load loses no request; restarted on its ports, the node
        takes requests again."""
        load = self.start_load()
        load.wait_for(300, "before the kill")
        victim = self.nodes[1]
        victim.signal(signal.SIGKILL)
        victim.wait_exit()
        load.wait_for(600, "after the kill")
        failed_meanwhile = load.failures()
        victim.start()
        harness.wait_until(lambda: victim.answered() > 0, 60,
                           "%s, restarted, to answer requests through %s" %
                           (victim.name, self.balancer.NAME))
        load.wait_for(150, "after the restart")
        counts = load.stop()
        report(self, "client %r; the restarted node answered %d; %s retries %r" % (
            counts, victim.answered(), self.balancer.NAME, self.balancer.retries()))
        self.assertEqual(failed_meanwhile, {}, "failed while a node was dead\n" +
                         self.details(counts))
        self.assertNoFailures(counts)

    def test_sigterm_drain_under_load_then_back(self):
        """SIGTERM of a node at ~50 % load (a rolling restart's stop: --shutdown-grace-s, then
        drain): no request fails, the node exits 0; started again, it takes requests again."""
        load = self.start_load()
        load.wait_for(300, "before SIGTERM")
        victim = self.nodes[2]
        victim.signal(signal.SIGTERM)
        self.while_leaving(victim)
        self.assertEqual(victim.wait_exit(), 0, cluster.tail(victim.log_path))
        self.after_exit(victim)
        load.wait_for(300, "after the node exited")
        victim.start()
        harness.wait_until(lambda: victim.answered() > 0, 60,
                           "%s, restarted, to answer requests through %s" %
                           (victim.name, self.balancer.NAME))
        load.wait_for(150, "after the restart")
        counts = load.stop()
        report(self, "client %r; the restarted node answered %d; %s retries %r" % (
            counts, victim.answered(), self.balancer.NAME, self.balancer.retries()))
        self.assertNoFailures(counts)

    def while_leaving(self, victim):
        """Balancer-specific checks between SIGTERM and the node's exit."""

    def after_exit(self, victim):
        """Balancer-specific checks once the node has exited."""
