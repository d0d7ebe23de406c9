"""Fixtures for the tests that run sandboxes on a real Docker engine."""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

import sandboxes.runner
from sandboxes import RunResult, SandboxLimits, engine_available, image_present, run_container
from sandboxes.engine import docker_client
from tests.conftest import require

BASE_IMAGE = "arena/sandbox-base:latest"
BUILD_HINT = "build it with `bash infra/sandbox-images/build.sh`"


@pytest.fixture(scope="session")
def engine():
    """A client of the Docker engine, with the sandbox base image present."""
    require(engine_available(), "needs a Docker engine: start one with infra/ci/start-docker.sh")
    client = docker_client()
    require(image_present(BASE_IMAGE, client), f"needs {BASE_IMAGE}: {BUILD_HINT}")
    return client


TINY_DOCKERFILE = b"FROM scratch\nCOPY hello.txt /hello.txt\n"


@pytest.fixture(scope="session")
def tiny_image(engine):
    """A one-file image with no command (FROM scratch), removed after the session."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", TINY_DOCKERFILE), ("hello.txt", b"hello\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = f"arena-test/tiny:{uuid.uuid4().hex[:12]}"
    image, _ = engine.images.build(fileobj=context, custom_context=True, tag=tag, rm=True,
                                   network_mode="none", pull=False)
    yield tag
    with contextlib.suppress(docker.errors.ImageNotFound):
        engine.images.remove(image.id, force=True)


@pytest.fixture
def run_ids(engine, monkeypatch):
    """The ids of the runs a test makes; afterwards, none may have left anything behind."""
    made: list[str] = []
    fresh = sandboxes.runner.new_run_id

    def recording() -> str:
        made.append(fresh())
        return made[-1]

    monkeypatch.setattr(sandboxes.runner, "new_run_id", recording)
    yield made
    for run_id in made:
        label = {"label": f"arena.sandbox.run={run_id}"}
        assert engine.containers.list(all=True, filters=label) == []
        assert engine.volumes.list(filters=label) == []


@dataclass
class Sandbox:
    """Runs inline Python in the base image on a small input folder."""

    input_dir: Path
    output_dir: Path
    client: object

    def run(self, code: str, *, image: str = BASE_IMAGE, **limits) -> RunResult:
        values = {"wall_seconds": 20, "memory_mb": 128, "cpus": 1.0, **limits}
        return run_container(
            image,
            input_dir=self.input_dir,
            output_dir=self.output_dir,
            limits=SandboxLimits(**values),
            client=self.client,
            command=["python3", "-c", code],
        )


@pytest.fixture
def sandbox(engine, run_ids, tmp_path) -> Sandbox:
    """A Sandbox whose /input holds `inputs.csv` (name,value with rows a,1 and b,2)."""
    input_dir = tmp_path / "input"
    input_dir.mkdir(mode=0o755)
    input_dir.chmod(0o755)
    (input_dir / "inputs.csv").write_text("name,value\na,1\nb,2\n", encoding="utf-8")
    (input_dir / "inputs.csv").chmod(0o644)
    return Sandbox(input_dir=input_dir, output_dir=tmp_path / "output", client=engine)


def ps_lines(matching: Callable[[str], bool]) -> list[str]:
    """Command lines of the host's processes that `matching` accepts."""
    lines = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if matching(args):
                lines.append(args)
    return lines
