"""Hosts on one machine: network namespaces joined by veth pairs to a bridge in a namespace of its own.

``Network`` makes a private /24, a "switch" namespace holding the bridge, and one namespace per host, each
with one interface (``eth0``) and one address on the subnet. The test process itself gets an address on
the subnet too (a veth from the machine's namespace to the switch), so it can upload to the web host and
read the database; nothing is bound in the machine's namespace and no route but the subnet's is added.
The bridge lives outside the machine's namespace so its packet filter (Docker's FORWARD rules) never sees
the traffic. Namespaces are named ``<PREFIX><pid>-<host>``; ``sweep`` removes what a crashed run left.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

PREFIX = "arenahosts-"
#: The veth end in the machine's namespace: ``arh<pid>`` (interface names have at most 15 characters).
ROOT_VETH = "arh"


def available() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2 (the ip command)"
    return None


def ip(*argv: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def namespace_pids(name: str) -> list[int]:
    return [int(p) for p in ip("netns", "pids", name, check=False).split()]


def kill_namespace(name: str, *, grace: float = 0.0) -> list[int]:
    """SIGKILL every process in the namespace (after SIGTERM and ``grace`` seconds if grace > 0)."""
    pids = namespace_pids(name)
    if grace > 0 and pids:
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and namespace_pids(name):
            time.sleep(0.2)
    killed = []
    for _ in range(20):  # a process may fork while its siblings die
        pids = namespace_pids(name)
        if not pids:
            break
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        killed += pids
        time.sleep(0.1)
    return killed


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep() -> list[str]:
    """Remove the namespaces (and with them their veths) of runs whose test process is gone."""
    removed = []
    for name in namespaces():
        match = re.fullmatch(rf"{re.escape(PREFIX)}(\d+)-\w+", name)
        if match and not _alive(int(match.group(1))):
            kill_namespace(name)
            ip("netns", "delete", name, check=False)
            removed.append(name)
    for line in ip("-o", "link", "show").splitlines():
        match = re.search(rf"\d+: ({ROOT_VETH}(\d+))[@:]", line)
        if match and not _alive(int(match.group(2))):
            ip("link", "delete", match.group(1), check=False)
            removed.append(match.group(1))
    return removed


def free_subnet(seed: int) -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 that no address or route of this machine falls in."""
    used = [ipaddress.ip_network(token, strict=False)
            for token in re.findall(r"\b(\d+\.\d+\.\d+\.\d+(?:/\d+)?)\b", ip("-4", "route") + ip("-4", "addr"))]
    for step in range(256):
        n = (seed + step * 7919) % (200 * 256)
        subnet = ipaddress.ip_network(f"10.{50 + n // 256}.{n % 256}.0/24")
        if not any(subnet.overlaps(other) for other in used):
            return subnet
    raise RuntimeError("no free 10.x.y.0/24 on this machine")


@dataclass
class Network:
    """A switch and hosts on one private subnet; ``close`` kills every process of every host."""

    tag: str = field(default_factory=lambda: str(os.getpid()))
    subnet: ipaddress.IPv4Network | None = None
    hosts: dict[str, str] = field(default_factory=dict)  # host name -> its address
    runner_address: str = ""

    def __post_init__(self) -> None:
        self.subnet = self.subnet or free_subnet(os.getpid())
        self._addresses = self.subnet.hosts()
        self.switch = self.namespace("switch")
        self._created: list[str] = []
        self.root_veth = f"{ROOT_VETH}{self.tag}"[:15]

    def namespace(self, host: str) -> str:
        return f"{PREFIX}{self.tag}-{host}"

    def up(self) -> Network:
        ip("netns", "add", self.switch)
        self._created.append(self.switch)
        ip("-n", self.switch, "link", "set", "lo", "up")
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        # The test process's own leg: the first address, in the machine's namespace.
        self.runner_address = str(next(self._addresses))
        ip("link", "add", self.root_veth, "type", "veth", "peer", "name", "runner", "netns", self.switch)
        ip("addr", "add", f"{self.runner_address}/{self.subnet.prefixlen}", "dev", self.root_veth)
        ip("link", "set", self.root_veth, "up")
        self._plug("runner")
        return self

    def _plug(self, port: str) -> None:
        ip("-n", self.switch, "link", "set", port, "master", "br0")
        ip("-n", self.switch, "link", "set", port, "up")

    def add_host(self, host: str) -> str:
        """A new namespace with loopback and ``eth0`` on the subnet; returns its address."""
        name = self.namespace(host)
        ip("netns", "add", name)
        self._created.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        port = f"p-{host}"[:15]
        ip("-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", self.switch)
        address = str(next(self._addresses))
        ip("-n", name, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
        ip("-n", name, "link", "set", "eth0", "up")
        self._plug(port)
        self.hosts[host] = address
        return address

    def exec_prefix(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(host)]

    def pids(self, host: str) -> list[int]:
        return namespace_pids(self.namespace(host))

    def kill_host(self, host: str) -> list[int]:
        """SIGKILL every process of the host at once: what losing the machine looks like to the others."""
        return kill_namespace(self.namespace(host))

    def close(self) -> None:
        for name in reversed(self._created):
            kill_namespace(name, grace=3.0)
        for name in reversed(self._created):
            ip("netns", "delete", name, check=False)
        ip("link", "delete", self.root_veth, check=False)  # gone with the switch already, normally
        self._created.clear()
