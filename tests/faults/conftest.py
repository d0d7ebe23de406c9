"""Fixtures of the fault-injection suite: its own PostgreSQL cluster, a Redis per scenario, the site's
processes. Needs root (the cluster runs as the postgres user), PostgreSQL's server binaries and redis-server."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import require
from tests.faults.servers import PostgresCluster, RedisServer, postgres_bindir
from tests.faults.site import Site


@pytest.fixture(scope="session")
def cluster():
    require(os.geteuid() == 0 and postgres_bindir() is not None and shutil.which("redis-server") is not None,
            "the fault-injection suite needs root, PostgreSQL's server binaries and redis-server")
    # Not under pytest's temporary folders: those are private to root, and the cluster runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="arena-faults-postgres-"))
    folder.chmod(0o755)
    cluster = PostgresCluster(folder).init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def site(cluster, tmp_path, request):
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    name = "faults_" + re.sub(r"\W", "_", request.node.name)[:40].lower()
    site = Site(tmp_path, database_url=cluster.create_database(name), broker_url=redis.url)
    site.redis = redis
    try:
        yield site
    finally:
        site.close()
        redis.close()
