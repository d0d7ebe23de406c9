"""Fixtures of the multi-host test: network namespaces on this machine, one per host, and the platform
deployed across them. Needs root, iproute2, PostgreSQL's server binaries and redis-server. With
ARENA_HOSTS_KEEP set, the run's folder (the hosts' folders and every process's log) is kept."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import require
from tests.faults.servers import postgres_bindir
from tests.hosts import netns
from tests.hosts.deployment import Deployment


@pytest.fixture
def network():
    reason = netns.available()
    require(reason is None, f"the multi-host test {reason}")
    netns.sweep()  # what a crashed run left behind
    network = netns.Network()
    try:
        yield network.up()
    finally:
        network.close()


@pytest.fixture
def deployment(network, request):
    require(postgres_bindir() is not None and shutil.which("redis-server") is not None,
            "the multi-host test needs PostgreSQL's server binaries and redis-server")
    # Not under pytest's temporary folders: those are private to root, and the cluster runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="arena-hosts-"))
    folder.chmod(0o755)
    settings = getattr(request.module, "SETTINGS", {})
    deployment = Deployment(folder, network, **settings)
    try:
        yield deployment
    finally:
        deployment.close()
        network.close()  # every process of every host, before their folders go
        if os.environ.get("ARENA_HOSTS_KEEP"):
            print(f"\nmulti-host test folder kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
