"""`python -m sandboxes doctor`: the checks an operator runs on a worker host, on a real engine."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from sandboxes import SandboxLimits, doctor, image_present
from sandboxes.__main__ import main
from sandboxes.baselines import TORCH_IMAGE
from tests.conftest import require

pytestmark = pytest.mark.docker

BASE_IMAGE = "arena/sandbox-base:latest"
MISSING_IMAGE = "arena/sandbox-doctor-test-missing:none"
NO_GPU = not Path("/dev/nvidiactl").exists()


def _doctor(capsys, *args: str) -> tuple[int, list[str]]:
    status = main(["doctor", *args])
    return status, capsys.readouterr().out.splitlines()


@pytest.fixture
def present_images(engine, monkeypatch):
    """The worker's images narrowed to those the engine has (the base image at least), so that
    the run passes on a host where some image is still being built."""
    images = [name for name in doctor.worker_images() if image_present(name, engine)]
    monkeypatch.setattr(doctor, "worker_images", lambda: images)
    monkeypatch.delenv("ARENA_SANDBOX_GPU_IDS", raising=False)
    return images


def _expected_lines(lines: list[str], images: list[str]) -> None:
    assert lines[0].startswith("ok engine: Docker ")
    assert "storage driver " in lines[0] and "cgroup v" in lines[0]
    assert lines[1:1 + len(images)] == [line for line in lines if line.startswith("ok image ")]
    assert [line.split(": ", 1)[0] for line in lines[1:1 + len(images)]] == [f"ok image {name}" for name in images]
    run = lines[1 + len(images)]
    assert run.startswith("ok sandbox run: predictions written in ")
    assert "no network (a connection attempt failed: Network is unreachable)" in run
    assert run.endswith("container and output volume removed")
    assert lines[2 + len(images)] == (
        "ok ARENA_SANDBOX_GPU_IDS: unset: this worker owns no particular GPUs (GPU tracks get any free one)")


def test_the_doctor_passes_on_this_host(engine, capsys, monkeypatch):
    missing = [name for name in doctor.worker_images() if not image_present(name, engine)]
    require(not missing, f"needs {', '.join(missing)}: build with `bash infra/sandbox-images/build.sh`")
    monkeypatch.delenv("ARENA_SANDBOX_GPU_IDS", raising=False)
    status, lines = _doctor(capsys)
    _expected_lines(lines, doctor.worker_images())
    assert len(lines) == 3 + len(doctor.worker_images())
    assert status == 0


def test_the_doctor_passes_with_the_images_present(present_images, capsys):
    assert BASE_IMAGE in present_images
    status, lines = _doctor(capsys)
    _expected_lines(lines, present_images)
    assert len(lines) == 3 + len(present_images)
    assert status == 0


def test_a_missing_image_fails_with_the_build_command(present_images, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "worker_images", lambda: [BASE_IMAGE, MISSING_IMAGE])
    status, lines = _doctor(capsys)
    assert status == 1
    assert lines[2] == (f"FAIL image {MISSING_IMAGE}: missing: build it with `bash infra/sandbox-images/build.sh`")
    assert [line.split(" ", 1)[0] for line in lines] == ["ok", "ok", "FAIL", "ok", "ok"]


def test_json_output_parses(present_images, monkeypatch, capsys):
    monkeypatch.setattr(doctor, "worker_images", lambda: [BASE_IMAGE, MISSING_IMAGE])
    status, lines = _doctor(capsys, "--json")
    body = json.loads("\n".join(lines))
    assert status == 1 and body["ok"] is False
    assert [c["what"] for c in body["checks"]] == [
        "engine", f"image {BASE_IMAGE}", f"image {MISSING_IMAGE}", "sandbox run", "ARENA_SANDBOX_GPU_IDS"]
    assert [c["ok"] for c in body["checks"]] == [True, True, False, True, True]
    assert body["checks"][2]["detail"] == "missing: build it with `bash infra/sandbox-images/build.sh`"


@pytest.mark.skipif(not NO_GPU, reason="this host has a GPU")
def test_gpu_checks_fail_clearly_without_a_gpu(present_images, capsys):
    status, lines = _doctor(capsys, "--gpu")
    assert status == 1
    assert lines[-4:] == [
        "FAIL gpu driver: no GPU: this host has no NVIDIA device (/dev/nvidiactl, /dev/nvidia0 missing); "
        "install the NVIDIA driver on a host with a GPU, or run the worker without GPU tracks",
        "FAIL gpu runtime: not checked: no GPU",
        "FAIL gpu container: not checked: no GPU",
        "FAIL gpu corruption: not checked: no GPU",
    ]
    assert all(line.startswith("ok ") for line in lines[:-4])


def test_an_engine_that_does_not_answer_is_reported(tmp_path):
    client = docker.DockerClient(base_url=f"unix://{tmp_path}/docker.sock", version="1.41", timeout=5)
    checks = doctor.run_checks(client=client, environ={})
    assert [(c.what, c.ok) for c in checks] == [
        ("engine", False), ("images", False), ("sandbox run", False), ("ARENA_SANDBOX_GPU_IDS", True)]
    assert checks[0].detail.startswith("no Docker engine answers (")
    assert checks[0].detail.endswith("start it (`systemctl start docker`), and check DOCKER_HOST and that this "
                                     "user may use the engine's socket")
    assert checks[1].detail == "not checked: no Docker engine"


@pytest.mark.parametrize(("value", "ok", "detail"), [
    (" 0, 2 ,", True, "this worker owns GPU(s) 0, 2"),
    ("GPU-8f6e2c1a-1b2c-4d5e-9f00-0123456789ab", True,
     "this worker owns GPU(s) GPU-8f6e2c1a-1b2c-4d5e-9f00-0123456789ab"),
    ("0,first", False, "first is not a GPU index or UUID; write e.g. `0,1` or the UUIDs `nvidia-smi -L` prints"),
    ("1,1", False, "'1,1' names a GPU twice"),
])
def test_the_gpu_ids_setting_is_parsed(value, ok, detail):
    check = doctor.gpu_ids_check({"ARENA_SANDBOX_GPU_IDS": value})
    assert (check.what, check.ok, check.detail) == ("ARENA_SANDBOX_GPU_IDS", ok, detail)


def test_the_corruption_comparison_runs_in_the_torch_image(engine):
    """The GPU check's machinery, with the CPU standing in for the GPU (no GPU here): two runs of
    the corruption command line on one tiny clip, compared within tolerance."""
    require(image_present(TORCH_IMAGE, engine), f"needs {TORCH_IMAGE}: build with `bash infra/sandbox-images/build.sh`")
    check = doctor.corruption_device_check(engine, "cpu", None)
    assert check.line() == ("ok corruption: noise:white@10db+gauss:1.5 on cpu equals the CPU's within tolerance "
                            "(audio 0 steps, frames 0 grey levels)")


def test_a_sandbox_without_a_gpu_is_reported_with_what_it_saw(engine, run_ids):
    require(image_present(TORCH_IMAGE, engine), f"needs {TORCH_IMAGE}: build with `bash infra/sandbox-images/build.sh`")
    limits = SandboxLimits(wall_seconds=60, memory_mb=1024, cpus=1.0)  # no device request: as on a host without GPUs
    check = doctor.gpu_container_check(engine, limits, TORCH_IMAGE)
    assert check.what == "gpu container" and not check.ok
    assert check.detail.startswith(
        "no GPU inside a sandbox given no GPU device request: nvidia-smi is not in the container (the toolkit "
        "mounts it with the GPU) torch 2.")
    assert check.detail.endswith("cuda False; install the NVIDIA container toolkit, run `sudo nvidia-ctk runtime "
                                 "configure --runtime=docker` and restart the engine (see sandboxes/README.md, GPU "
                                 "worker hosts)")
    assert len(run_ids) == 1  # one sandbox run, cleaned up (checked by the fixture)
