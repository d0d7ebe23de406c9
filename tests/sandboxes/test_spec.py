"""The container spec the runner builds, checked without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandboxes import SandboxLimits, build_container_spec, worker_gpu_ids
from sandboxes.spec import keeper_container_spec

LIMITS = SandboxLimits(wall_seconds=60, memory_mb=2048, cpus=1.5)


def spec_for(limits: SandboxLimits = LIMITS, **kwargs) -> dict:
    return build_container_spec(
        "arena/baseline-x:latest",
        input_dir=Path("/srv/inputs"),
        output_dir=Path("/srv/outputs"),
        limits=limits,
        run_id="r1",
        **kwargs,
    )


def test_spec_locks_the_container_down():
    spec = spec_for()
    assert spec["image"] == "arena/baseline-x:latest"
    assert spec["name"] == "arena-sandbox-r1-model"
    assert spec["labels"] == {
        "arena.sandbox": "1",
        "arena.sandbox.run": "r1",
        "arena.sandbox.role": "model",
    }
    assert spec["user"] == "65534:65534"
    assert spec["network_disabled"] is True
    assert spec["network_mode"] == "none"
    assert spec["read_only"] is True
    assert spec["privileged"] is False
    assert spec["cap_drop"] == ["ALL"]
    assert "cap_add" not in spec
    assert spec["security_opt"] == ["no-new-privileges:true"]
    assert spec["ipc_mode"] == "private"
    assert spec["init"] is True
    assert spec["tmpfs"] == {"/tmp": "rw,noexec,nosuid,nodev,size=64m,mode=1777"}
    assert spec["shm_size"] == "64m"
    for namespace in ("pid_mode", "uts_mode", "userns_mode", "cgroupns", "volumes", "devices"):
        assert namespace not in spec


def test_spec_sets_every_limit():
    limits = SandboxLimits(
        wall_seconds=60, memory_mb=512, cpus=0.5, pids=100, nofile=256, tmpfs_mb=32,
        output_mb=20, log_bytes=10_000,
    )
    spec = spec_for(limits)
    assert spec["mem_limit"] == "512m"
    assert spec["memswap_limit"] == "512m"
    assert spec["nano_cpus"] == 500_000_000
    assert spec["pids_limit"] == 100
    assert [dict(u) for u in spec["ulimits"]] == [
        {"Name": "nofile", "Soft": 256, "Hard": 256},
        {"Name": "core", "Soft": 0, "Hard": 0},
    ]
    assert spec["tmpfs"] == {"/tmp": "rw,noexec,nosuid,nodev,size=32m,mode=1777"}
    assert dict(spec["log_config"]) == {
        "Type": "json-file",
        "Config": {"max-size": str(2**20), "max-file": "2"},
    }
    assert spec["environment"]["OMP_NUM_THREADS"] == "1"


def test_spec_mounts_input_read_only_and_a_capped_output_volume_only():
    mounts = [dict(m) for m in spec_for()["mounts"]]
    assert mounts == [
        {"Target": "/input", "Source": "/srv/inputs", "Type": "bind", "ReadOnly": True},
        {
            "Target": "/output",
            "Source": "arena-sandbox-r1-output",
            "Type": "volume",
            "ReadOnly": False,
            "VolumeOptions": {
                "NoCopy": True,
                "Labels": {
                    "arena.sandbox": "1",
                    "arena.sandbox.run": "r1",
                    "arena.sandbox.role": "output",
                },
                "DriverConfig": {
                    "Name": "local",
                    "Options": {
                        "type": "tmpfs",
                        "device": "tmpfs",
                        "o": "size=100m,nr_inodes=10000,uid=65534,gid=65534,mode=0755,"
                        "nosuid,nodev,noexec",
                    },
                },
            },
        },
    ]


def test_spec_never_mounts_the_docker_socket():
    for spec in (spec_for(), keeper_container_spec(LIMITS, "r1")):
        text = repr(spec)
        assert "docker.sock" not in text
        assert "/var/run" not in text
        for mount in spec["mounts"]:
            assert mount["Source"] in ("/srv/inputs", "arena-sandbox-r1-output")


def test_spec_without_gpus_has_no_device_requests():
    assert "device_requests" not in spec_for()


def test_spec_requests_gpus_by_count():
    spec = spec_for(SandboxLimits(wall_seconds=60, memory_mb=2048, cpus=1, gpus=2))
    assert [dict(r) for r in spec["device_requests"]] == [
        {"Driver": "", "Count": 2, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}
    ]


def test_spec_requests_the_workers_own_gpus_by_id():
    limits = SandboxLimits(
        wall_seconds=60, memory_mb=2048, cpus=1, gpus=1, gpu_device_ids=("2", "3")
    )
    assert [dict(r) for r in spec_for(limits)["device_requests"]] == [
        {"Driver": "", "Count": 0, "DeviceIDs": ["2"], "Capabilities": [["gpu"]], "Options": {}}
    ]
    every = SandboxLimits(wall_seconds=60, memory_mb=2048, cpus=1, gpu_device_ids=("2", "3"))
    assert [dict(r)["DeviceIDs"] for r in spec_for(every)["device_requests"]] == [["2", "3"]]


def test_spec_passes_command_and_environment_over_the_defaults():
    spec = spec_for(command=["python3", "run.py"], environment={"SEED": "7", "HOME": "/work"})
    assert spec["command"] == ["python3", "run.py"]
    assert spec["environment"] == {
        "HOME": "/work",
        "TMPDIR": "/tmp",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "SEED": "7",
    }
    assert "command" not in spec_for()


def test_keeper_holds_the_same_volume_with_tiny_limits():
    keeper = keeper_container_spec(LIMITS, "r1")
    assert keeper["name"] == "arena-sandbox-r1-keeper"
    assert keeper["command"] == ["sleep", "infinity"]
    assert keeper["network_mode"] == "none"
    assert keeper["read_only"] is True
    assert keeper["cap_drop"] == ["ALL"]
    assert keeper["pids_limit"] == 8
    assert keeper["mem_limit"] == keeper["memswap_limit"] == "32m"
    assert [dict(m) for m in keeper["mounts"]] == [dict(spec_for()["mounts"][1])]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wall_seconds": 0}, "wall_seconds must be positive"),
        ({"memory_mb": 4}, "memory_mb must be at least 6"),
        ({"cpus": -1}, "cpus must be positive"),
        ({"user": "0:0"}, "must not be root"),
        ({"user": "65534:0"}, "must not be root"),
        ({"user": "nobody"}, "numeric 'uid:gid'"),
        ({"gpus": 3, "gpu_device_ids": ("0", "1")}, "3 GPUs asked for, but only 2 given (0, 1)"),
    ],
)
def test_limits_refuse_unsafe_values(kwargs, message):
    values = {"wall_seconds": 1, "memory_mb": 64, "cpus": 1, **kwargs}
    with pytest.raises(ValueError) as caught:
        SandboxLimits(**values)
    assert message in str(caught.value)


def test_worker_gpu_ids_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ARENA_SANDBOX_GPU_IDS", "GPU-1a, GPU-2b")
    assert worker_gpu_ids() == ("GPU-1a", "GPU-2b")
    monkeypatch.setenv("ARENA_SANDBOX_GPU_IDS", " ")
    assert worker_gpu_ids() == ()
    assert worker_gpu_ids({"ARENA_SANDBOX_GPU_IDS": "0,1"}) == ("0", "1")
