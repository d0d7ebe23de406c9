"""The platform deployed as separate hosts (network namespaces, see ``netns``) with no shared disk.

* ``services``: PostgreSQL (its own initdb cluster), Redis (the broker, nothing on disk) and an S3 server
  (moto in server mode), each listening on the host's address only;
* ``web``: gunicorn, and Celery beat;
* ``score1``, ``score2``: Celery workers of the ``default`` and ``score`` queues;
* ``sandbox``: a Celery worker of the ``sandbox`` queue, using the machine's Docker engine.

Every host has folders of its own (var, media, temporary files, sandbox work) and nothing else on disk in
common with the others but the code: uploads, references and model runs go through the S3 bucket only.
``Deployment`` is the fault suite's ``Site`` with each process started in its host, so that suite's
client, checks and log counting apply unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

from tests.faults.servers import PostgresCluster
from tests.faults.site import REPO, Site
from tests.hosts.netns import Network
from tests.processes import stop_process_group

ACCESS_KEY = "arena-hosts-access-key"
SECRET_KEY = "arena-hosts-secret-key"
BUCKET = "arena-hosts"
REGION = "us-east-1"
POSTGRES_PORT, REDIS_PORT, S3_PORT, WEB_PORT = 5432, 6379, 9000, 8000
S3_REQUEST = re.compile(rf'^(\S+) - - \[[^]]+\] "([A-Z]+) /{BUCKET}/(\S+) HTTP', re.MULTILINE)
HOSTS = ("services", "web", "score1", "score2", "sandbox")
#: Variables of the test's own environment that must not leak into the hosts (their storage, database, broker
#: and folders are set per host).
LEAKY = ("DATABASE_URL", "CELERY_", "ARENA_", "DJANGO_", "TMPDIR", "AWS_", "DOCKER_HOST")


def wait_tcp(address: str, port: int, *, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{address}:{port} did not answer within {timeout} s")


class HostedPostgres(PostgresCluster):
    """The fault suite's throw-away cluster, run inside a host and listening on that host's address."""

    def __init__(self, folder: Path, *, network: Network, host: str) -> None:
        super().__init__(folder)
        self.network, self.host = network, host
        self.address, self.port = network.hosts[host], POSTGRES_PORT

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run([*self.network.exec_prefix(self.host), "runuser", "-u", "postgres", "--", *argv],
                       check=True, capture_output=True, timeout=120)

    def init(self) -> HostedPostgres:
        super().init()
        with (self.data / "pg_hba.conf").open("a") as hba:  # the other hosts, over the private subnet
            hba.write(f"host all all {self.network.subnet} trust\n")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses={self.address} -k {self.data} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                          "-w", "start")

    def url(self, database: str) -> str:
        return f"postgres://postgres@{self.address}:{self.port}/{database}"


class Deployment(Site):
    """The hosts, their servers and processes. ``folder`` holds one folder per host and the logs."""

    def __init__(self, folder: Path, network: Network, **settings: str) -> None:
        self.network = network
        self.hosts_dir = folder / "hosts"
        for host in HOSTS:
            network.add_host(host)
        services = network.hosts["services"]
        self.s3_endpoint = f"http://{services}:{S3_PORT}"
        self.postgres = HostedPostgres(self._host_dir("services") / "postgres", network=network, host="services")
        clean = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY)}
        super().__init__(folder, database_url=self.postgres.url("arena"),
                         broker_url=f"redis://{services}:{REDIS_PORT}/0", **settings)
        site = ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DATABASE_URL", "CELERY_BROKER_URL",
                "ARENA_API_RATE_SUBMISSIONS", "ARENA_API_RATE_USER", "PYTHONPATH")
        self.env = {
            **clean, **{k: self.env[k] for k in site},
            "DJANGO_ALLOWED_HOSTS": network.hosts["web"],
            # Storage: the bucket on the services host, nothing else (base settings use S3 whenever a bucket
            # is named; the hosts' MEDIA_ROOT stays unused and is checked to stay empty).
            "ARENA_S3_BUCKET": BUCKET,
            "ARENA_S3_ENDPOINT_URL": self.s3_endpoint,
            "ARENA_S3_REGION": REGION,
            "ARENA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "ARENA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            **settings,
        }
        self.port = WEB_PORT
        self.host_of: dict[str, str] = {}

    # --- hosts -----------------------------------------------------------------------------------------
    def _host_dir(self, host: str) -> Path:
        return self.hosts_dir / host

    def host_env(self, host: str) -> dict[str, str]:
        root = self._host_dir(host)
        folders = {"ARENA_VAR_DIR": root / "var", "TMPDIR": root / "tmp", "ARENA_SANDBOX_WORK_DIR": root / "sandbox",
                   "ARENA_CONDITION_CACHE_DIR": root / "sandbox-cache"}
        for path in folders.values():
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o755)
        return {**self.env, **{k: str(v) for k, v in folders.items()}}

    def start_services(self) -> None:
        """PostgreSQL, Redis and the S3 server (with the bucket) on the services host."""
        address = self.network.hosts["services"]
        folder = self._host_dir("services")
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        self.postgres.folder.mkdir(parents=True, exist_ok=True)
        self.postgres.folder.chmod(0o755)
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database("arena")
        (folder / "redis").mkdir(exist_ok=True)
        self._popen("services", "redis", [
            "redis-server", "--port", str(REDIS_PORT), "--bind", address, "--protected-mode", "no", "--save", "",
            "--appendonly", "no", "--dir", str(folder / "redis")])
        self._popen("services", "s3", [str(Path(sys.executable).parent / "moto_server"), "-H", address,
                                       "-p", str(S3_PORT)])
        wait_tcp(address, REDIS_PORT)
        wait_tcp(address, S3_PORT)
        self.s3_client().create_bucket(Bucket=BUCKET)

    def s3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_endpoint, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def bucket_keys(self) -> set[str]:
        keys, client = set(), self.s3_client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def _popen(self, host: str, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("a")
        proc = subprocess.Popen([*self.network.exec_prefix(host), *argv], cwd=REPO, env=self.host_env(host),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = proc
        self.host_of[name] = host
        return proc

    # --- Site, with each process in its host ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.network.hosts['web']}:{self.port}"

    def run_on(self, host: str, *argv: str, timeout: float = 300) -> str:
        done = subprocess.run([*self.network.exec_prefix(host), sys.executable, *argv], cwd=REPO,
                              env=self.host_env(host), capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"{host}: {argv} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    def run(self, *argv: str, timeout: float = 300) -> str:
        return self.run_on("web", *argv, timeout=timeout)

    def _start(self, name: str, argv: list[str], host: str = "web") -> subprocess.Popen:
        return self._popen(host, name, [sys.executable, *argv])

    def start_web(self) -> None:
        self._start("web", ["-m", "gunicorn", "arena.config.wsgi", "--bind", f"{self.network.hosts['web']}:{self.port}",
                            "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--timeout", "120"])
        wait_tcp(self.network.hosts["web"], self.port)
        self.wait_web()

    def wait_web(self, timeout: float = 120) -> None:
        """Until the web host answers an API page (its processes loaded the whole site)."""
        import requests

        deadline, answer = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"{self.url}/api/v1/challenges", timeout=10).status_code
                if answer == 200:
                    return
            except requests.RequestException as exc:
                answer = exc
            time.sleep(0.5)
        raise TimeoutError(f"the web host did not answer 200 within {timeout} s ({answer})\n{self.log_tail()}")

    def start_worker(self, name: str = "worker", *, concurrency: int = 2, host: str = "score1",
                     queues: str = "default,score") -> subprocess.Popen:
        return self._start(name, ["-m", "celery", "-A", "arena.config", "worker", "-Q", queues,
                                  "-c", str(concurrency), "-n", f"{name}-{os.getpid()}@%h", "--without-mingle",
                                  "--without-gossip", "--loglevel", "INFO"], host=host)

    def start_beat(self) -> None:
        self._start("beat", ["-m", "celery", "-A", "arena.config", "beat", "--loglevel", "INFO",
                             "-s", str(self._host_dir("web") / "var" / "beat-schedule")])

    def kill_host(self, host: str) -> list[int]:
        """SIGKILL every process of ``host`` (whatever it started too), as if the machine went away."""
        pids = self.network.kill_host(host)
        for name in [n for n, h in self.host_of.items() if h == host and n in self.processes]:
            self.processes.pop(name).wait(timeout=30)
        return pids

    def s3_requests(self) -> set[tuple[str, str, str]]:
        """(host, method, key) of every request the S3 server answered, from its log."""
        by_address = {address: host for host, address in self.network.hosts.items()}
        by_address[self.network.runner_address] = "runner"
        log = (self.folder / "s3.log").read_text(errors="replace")
        return {(by_address.get(address, address), method, unquote(path.split("?", 1)[0]))
                for address, method, path in S3_REQUEST.findall(log)}

    def close(self) -> None:
        for name in reversed(list(self.processes)):  # workers first, the servers they use last
            stop_process_group(self.processes.pop(name))
        self.postgres.close()

    # --- what stayed on the hosts' disks ---------------------------------------------------------------
    def local_files(self, host: str) -> list[Path]:
        """Every file left in the host's own folders (logs are kept outside them)."""
        root = self._host_dir(host)
        skip = {root / "postgres", root / "redis"}
        return sorted(p for p in root.rglob("*") if p.is_file() and not any(s in p.parents for s in skip))
