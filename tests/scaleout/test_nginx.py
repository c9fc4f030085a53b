"""deploy/nginx/nginx.conf in front of three switchyard nodes: even spread, kill -9 and SIGTERM
drain at ~50 % load with 0 failed requests (scenarios.py). nginx (open source) has no active
health checks: it leaves a node when a request to it fails (connection refused or reset, 503),
sends that request to another node (`proxy_next_upstream`), and tries the node again after
`fail_timeout`."""

import unittest

import cluster
import scenarios


class NginxTest(scenarios.ClusterCase):
    BALANCER = cluster.Nginx


if __name__ == "__main__":
    unittest.main()
