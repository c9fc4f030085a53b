"""/proc helpers of the reliability suite (Linux; Python 3 standard library only): a process's
RSS and fds, its children, the sockets it holds, and the TCP sockets of a port. rharness
re-exports them."""

import os
import re



def proc_status_kb(pid, field):
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM...) in KiB, or None if it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def rss_kb(pid):
    return proc_status_kb(pid, "VmRSS")


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except (FileNotFoundError, ProcessLookupError):
        return None


def proc_stat(pid):
    """(state, ppid) of /proc/<pid>/stat, or None if there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = stat[stat.rfind(")") + 2:].split()
    return rest[0], int(rest[1])


def pid_running(pid):
    """Whether `pid` is a live process (a zombie has ended: it only waits to be reaped)."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def children(pid):
    """Pids of the live (non-zombie) children of `pid`, from /proc/*/stat."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None and st[1] == pid and st[0] != "Z":
            out.append(int(name))
    return sorted(out)


def socket_inodes(pid):
    """{inode: fd} of the sockets `pid` holds (readlink /proc/<pid>/fd/N == 'socket:[inode]')."""
    out = {}
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except (FileNotFoundError, ProcessLookupError):
        return out
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            out[int(m.group(1))] = int(fd)
    return out


def _tcp_rows():
    """The fields of each row of /proc/net/tcp and /proc/net/tcp6 (local address, remote
    address, state, queues, ..., inode)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) >= 10:
                yield parts


def _port(address):
    return int(address.rsplit(":", 1)[1], 16)


def tcp_sockets(port):
    """[(state hex, inode)] of the IPv4/IPv6 TCP sockets whose local port is `port`."""
    return [(parts[3], int(parts[9])) for parts in _tcp_rows() if _port(parts[1]) == port]


def unread_by_server(server_port, client_port):
    """Bytes the kernel holds for the server on its end of the connection from `client_port`
    that the server has not read yet (rx_queue in /proc/net/tcp); None if there is no such
    socket (closed). 0 means the server has read everything sent so far."""
    for parts in _tcp_rows():
        if (_port(parts[1]) == server_port and _port(parts[2]) == client_port and
                parts[3] == "01"):
            return int(parts[4].split(":")[1], 16)
    return None


def listening_inode(port):
    """The inode of the socket listening on `port` (state 0A in /proc/net/tcp)."""
    found = [inode for state, inode in tcp_sockets(port) if state == "0A" and inode]
    if len(found) != 1:
        raise AssertionError("expected one listening socket on port %d, found %r" %
                             (port, tcp_sockets(port)))
    return found[0]


def raise_nofile(want):
    """Raises this process's soft RLIMIT_NOFILE towards `want` (not above the hard limit);
    returns the soft limit now in force."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
