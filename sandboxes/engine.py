"""Connecting to the Docker engine, and the label every sandbox object carries."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from sandboxes.errors import SandboxError

# Every container the runner creates carries this label, so that leftovers can be found.
SANDBOX_LABEL = "arena.sandbox"

# Seconds an engine API call may take before the client gives up (a pull or a load of a large
# archive can take minutes).
API_TIMEOUT_S = 600


def docker_client(client: docker.DockerClient | None = None) -> docker.DockerClient:
    """Return `client`, or a client for the engine that the environment names (DOCKER_HOST or
    the local socket); SandboxError when no engine answers."""
    if client is not None:
        return client
    try:
        return docker.from_env(timeout=API_TIMEOUT_S)
    except DockerException as exc:
        raise SandboxError(f"no Docker engine answers: {exc}") from exc


def engine_available(client: docker.DockerClient | None = None) -> bool:
    """True when a Docker engine answers a ping."""
    try:
        return bool(docker_client(client).ping())
    except (SandboxError, DockerException, OSError):
        return False
