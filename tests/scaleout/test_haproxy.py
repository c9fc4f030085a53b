"""deploy/haproxy/haproxy.cfg in front of three switchyard nodes (issue 20's list): even spread,
kill -9, SIGSTOP, SIGTERM drain, 150 % overload, a node whose model becomes unavailable. What
HAProxy did is read from its runtime API (`show stat`: each server's state and the sessions it
was sent)."""

import os
import signal
import unittest

import cluster
import scenarios
from cluster import harness
from scenarios import report

OUT_OF_POOL_WAIT_S = 20   # bound on HAProxy taking a node out: inter * fall + timeout check, x4


def out_of_pool(state):
    """HAProxy sends a server no new request in these states (DRAIN: weight 0 from the agent;
    NOLB: a stopping server)."""
    return state.startswith("DOWN") or state.startswith("DRAIN") or state.startswith("NOLB") \
        or state.startswith("MAINT")


class HAProxyTest(scenarios.ClusterCase):
    BALANCER = cluster.HAProxy

    def wait_out_of_pool(self, victim, why):
        return harness.wait_until(
            lambda: out_of_pool(self.balancer.state(victim.name)) and
            self.balancer.state(victim.name), OUT_OF_POOL_WAIT_S,
            "HAProxy to take %s out of the pool (%s)" % (victim.name, why))

    def while_leaving(self, victim):
        state = self.wait_out_of_pool(victim, "SIGTERM")
        self.sent_when_out = self.balancer.sessions(victim.name)
        report(self, "%s is %s in HAProxy during its grace period" % (victim.name, state))

    def after_exit(self, victim):
        # Nothing more was sent to it once out of the pool: no request met its drain.
        self.assertEqual(self.balancer.sessions(victim.name), self.sent_when_out,
                         "HAProxy sent requests to %s after taking it out\n%s" %
                         (victim.name, self.details()))

    def test_sigstop_leaves_the_pool_and_loses_nothing(self):
        """kill -STOP of a node at ~50 % load: HAProxy's readiness check times out and takes the
        node out (bounded wait); from then on it sends it nothing. The requests the node held or
        was sent before it was out wait for it (no balancer can tell a frozen node from a slow
        request before `timeout server`); after SIGCONT they are answered. No connection error
        and no 5xx reach the client.

        What is true today beyond that: the frozen node may be sent more requests than its queue
        holds before HAProxy takes it out (6 to 119 at 150/s in our runs): leastconn would steer
        away from its growing count of open requests, but the agent's weight is the share of the
        node's instances executing a batch at the instant of the check (two instances: 1 %, 50 %
        or 100 %), so a frozen node last seen idle keeps weight 100 while busy nodes swing to 1.
        On SIGCONT the node reads them all at once and answers those beyond `queue.max_size` (48)
        429. So 429s are allowed, from that node only, at most as many as it was holding. (An
        agent weight averaged over the check interval would keep the frozen node's share of new
        requests small, and none would be refused.)"""
        load = self.start_load()
        load.wait_for(300, "before SIGSTOP")
        victim = self.nodes[0]
        victim.signal(signal.SIGSTOP)
        self.addCleanup(os.kill, victim.pid, signal.SIGCONT)  # whatever happens below
        row = self.balancer.stats()[victim.name]
        sent_at_stop, held_at_stop = int(row["stot"] or 0), int(row["scur"] or 0)
        refused_before = int(row["hrsp_4xx"] or 0)
        state = self.wait_out_of_pool(victim, "SIGSTOP")
        sent_when_out = self.balancer.sessions(victim.name)
        load.wait_for(450, "while the node is stopped")
        sent_later = self.balancer.sessions(victim.name)
        failed_meanwhile = load.failures()
        held = held_at_stop + sent_when_out - sent_at_stop
        report(self, "%s %s; it held %d at SIGSTOP and was sent %d more before it was out, "
               "%d after" % (victim.name, state, held_at_stop, sent_when_out - sent_at_stop,
                            sent_later - sent_when_out))
        self.assertEqual(sent_later, sent_when_out,
                         "HAProxy sent requests to the stopped node after taking it out\n" +
                         self.details())
        self.assertEqual(failed_meanwhile, {}, self.details())
        os.kill(victim.pid, signal.SIGCONT)
        harness.wait_until(lambda: self.balancer.state(victim.name) == "UP", 60,
                           "HAProxy to see %s UP after SIGCONT" % victim.name)
        load.wait_for(150, "after SIGCONT")
        counts = load.stop()
        rows = self.balancer.stats()
        refused_by_victim = int(rows[victim.name]["hrsp_4xx"] or 0) - refused_before
        report(self, "client %r; 429 from the node that was stopped: %d" % (
            counts, refused_by_victim))
        self.assertEqual(set(counts) - {200, 429}, set(), self.details(counts))
        self.assertEqual(counts.get(429, 0), refused_by_victim, self.details(counts))
        self.assertLessEqual(refused_by_victim, held, self.details(counts))
        self.assertGreater(counts.get(200, 0), 0, self.details(counts))

    def test_overload_gives_200_and_429_only(self):
        """150 % of the three nodes' capacity: the client sees only 200 and 429 (queue full, with
        Retry-After): HAProxy neither answers 5xx itself nor takes a busy node out. (320 client
        threads: more than the nodes hold, 3 x (48 queued + 2 executing), or the client would
        throttle itself.)"""
        front_5xx = int(self.balancer.stats()["FRONTEND"]["hrsp_5xx"] or 0)
        load = self.start_load(rate=1.5 * 3 * cluster.NODE_CAPACITY_RPS, threads=320)
        load.wait_for(2700, "overload")
        counts = load.stop()
        front_5xx = int(self.balancer.stats()["FRONTEND"]["hrsp_5xx"] or 0) - front_5xx
        report(self, "client %r; HAProxy frontend 5xx %d" % (counts, front_5xx))
        self.assertEqual(set(counts) - {200, 429}, set(), self.details(counts))
        self.assertGreater(counts.get(429, 0), 0, "not overloaded? " + self.details(counts))
        self.assertEqual(front_5xx, 0, self.details(counts))

    def test_node_whose_model_is_unavailable_leaves_and_comes_back(self):
        """A node whose model can no longer serve (its workers die and cannot be restarted: the
        backend plugin is gone) answers readiness 503 and the agent says `down`: HAProxy takes it
        out and sends it nothing. The plugin back and the model loaded again through the
        repository API, the node is UP and answers requests again.

        What the client sees: every request answered 200, except those the node held (queued,
        or executing on a worker that died) when its model failed. The server keeps them queued
        while its instances are given up (FAILED) until `queue.timeout_ms` (5 s here) and then
        answers 504, which HAProxy must not retry (a 504 is also a client's own deadline). So
        the only failures allowed are 504s, all from that node: HAProxy's count of 5xx it got
        from the node equals the client's 504s, and the other nodes answered no 5xx. (Were the
        server to answer a given-up model's queued requests 503 at once, `retry-on 503` would
        send them to another node and none would fail.)"""
        load = self.start_load()
        load.wait_for(300, "before the model fails")
        victim = self.nodes[1]
        os.unlink(victim.plugin_link)
        self.addCleanup(lambda: os.path.lexists(victim.plugin_link) or
                        os.symlink(victim.plugin_target, victim.plugin_link))
        for pid in victim.worker_pids():
            os.kill(pid, signal.SIGKILL)
        state = self.wait_out_of_pool(victim, "its model UNAVAILABLE")
        harness.wait_until(lambda: [i["state"] for m in victim.status()["models"]
                                    for i in m["instances"]] == ["FAILED", "FAILED"], 60,
                           "the node's instances to be given up (FAILED)")
        sent_when_out = self.balancer.sessions(victim.name)
        load.wait_for(450, "while the node's model is unavailable")
        self.assertEqual(self.balancer.sessions(victim.name), sent_when_out,
                         "HAProxy sent requests to the node without a model\n" + self.details())
        os.symlink(victim.plugin_target, victim.plugin_link)
        answered = victim.answered()
        status, body = victim.repository_call("load")
        self.assertEqual(status, 200, body)
        harness.wait_until(lambda: self.balancer.state(victim.name) == "UP", 60,
                           "HAProxy to see %s UP after the reload" % victim.name)
        harness.wait_until(lambda: victim.answered() > answered, 60,
                           "%s to answer requests again" % victim.name)
        load.wait_for(150, "after the node came back")
        counts = load.stop()
        rows = self.balancer.stats()
        from_victim = int(rows[victim.name]["hrsp_5xx"] or 0)
        from_others = sum(int(rows[n.name]["hrsp_5xx"] or 0) for n in self.nodes
                          if n is not victim)
        report(self, "%s was %s; client %r; 5xx from it %d, from the others %d" % (
            victim.name, state, counts, from_victim, from_others))
        self.assertEqual(set(counts) - {200, 504}, set(), self.details(counts))
        self.assertEqual(counts.get(504, 0), from_victim, self.details(counts))
        self.assertEqual(from_others, 0, self.details(counts))
        self.assertGreater(counts.get(200, 0), 0, self.details(counts))


if __name__ == "__main__":
    unittest.main()
