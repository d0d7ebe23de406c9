"""The container specifications of a sandbox run, as pure functions (no engine needed).

A run has two containers sharing one volume:

- the model container (`build_container_spec`) runs the submitted image with the track's limits;
  /input is the hidden test inputs, bound read-only; /output is a tmpfs volume of `output_mb`;
- the keeper container (`keeper_container_spec`) runs `sleep` from the sandbox base image with
  the same volume mounted. The engine unmounts a tmpfs volume when the last running container
  using it stops, so without the keeper the model's output would vanish the moment it exits;
  the runner copies /output out of the keeper, then removes both and the volume.

The kernel enforces the /output cap (a full tmpfs answers "No space left on device"), so a flood
never reaches the worker's disk, whatever its speed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from docker.types import DeviceRequest, DriverConfig, LogConfig, Mount, Ulimit

from sandboxes.engine import SANDBOX_LABEL
from sandboxes.limits import SandboxLimits

RUN_LABEL = "arena.sandbox.run"
ROLE_LABEL = "arena.sandbox.role"

# The image whose `sleep` holds the output volume; built by infra/sandbox-images/build.sh.
KEEPER_IMAGE = os.environ.get("ARENA_SANDBOX_KEEPER_IMAGE", "arena/sandbox-base:latest")

# At most this many files and folders in /output: an inode flood costs memory, not bytes.
OUTPUT_MAX_INODES = 10_000

# The engine keeps at most two json-file logs of this many times `log_bytes` each (1 MiB at
# least): a log line costs at most about 40 bytes of JSON per byte of text, so a flood that
# rotated the first file away is always seen as longer than `log_bytes`.
LOG_FILE_FACTOR = 64


def new_run_id() -> str:
    """A fresh id naming one run's containers and volume."""
    return uuid.uuid4().hex[:16]


def container_name(run_id: str, role: str = "model") -> str:
    return f"arena-sandbox-{run_id}-{role}"


def output_volume_name(run_id: str) -> str:
    return f"arena-sandbox-{run_id}-output"


def _labels(run_id: str, role: str) -> dict[str, str]:
    return {SANDBOX_LABEL: "1", RUN_LABEL: run_id, ROLE_LABEL: role}


def output_mount(limits: SandboxLimits, run_id: str) -> Mount:
    """/output: a named tmpfs volume of `output_mb`, owned by the sandbox user, created by the
    engine with the first container that mounts it."""
    options = ",".join(
        [
            f"size={limits.output_mb}m",
            f"nr_inodes={OUTPUT_MAX_INODES}",
            f"uid={limits.uid}",
            f"gid={limits.gid}",
            "mode=0755",
            "nosuid",
            "nodev",
            "noexec",
        ]
    )
    return Mount(
        target="/output",
        source=output_volume_name(run_id),
        type="volume",
        no_copy=True,
        labels=_labels(run_id, "output"),
        driver_config=DriverConfig("local", {"type": "tmpfs", "device": "tmpfs", "o": options}),
    )


def hardening_options(limits: SandboxLimits, run_id: str, role: str) -> dict[str, object]:
    """Options every sandbox container gets, whatever its limits and role: its name and labels
    (`run_id`, `role`), the non-root user, no network, a read-only root and the rest of the
    lock-down that `build_container_spec` describes."""
    return {
        "name": container_name(run_id, role),
        "labels": _labels(run_id, role),
        "user": limits.user,
        "network_disabled": True,
        "network_mode": "none",
        "read_only": True,
        "privileged": False,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "ipc_mode": "private",
        # docker-init as PID 1 reaps zombies, so a fork bomb's dead children free their pids.
        "init": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"},
        "shm_size": f"{limits.tmpfs_mb}m",
        # The kernel's OOM killer picks a sandbox before anything else on the worker.
        "oom_score_adj": 1000,
    }


def build_container_spec(
    image: str,
    *,
    input_dir: Path,
    output_dir: Path,
    limits: SandboxLimits,
    command: str | Sequence[str] | None = None,
    environment: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> dict[str, object]:
    """Return the keyword arguments of `client.containers.create` for a model run.

    The container has no network, a read-only root, a `tmpfs_mb` /tmp (noexec, nosuid), no
    capabilities, no-new-privileges, the non-root `limits.user`, memory (swap equal to it), CPU,
    pids and open-files limits, no core dumps, capped json-file logs, /input bound read-only
    from `input_dir` and /output a size-capped tmpfs volume (see the module docstring;
    `output_dir` is where the runner copies it, and is never mounted). Nothing of the host is
    mounted besides `input_dir`; never the Docker socket. GPUs are requested through device
    requests only when `limits` asks for them. `run_id` names the containers and the volume
    (fresh when omitted). `environment` is added to HOME=/tmp, TMPDIR=/tmp and thread-count
    defaults matching `cpus`.
    """
    run_id = run_id or new_run_id()
    input_dir = Path(input_dir).resolve()
    threads = str(max(1, int(limits.cpus)))
    env = {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
    }
    env.update(environment or {})
    log_file_bytes = max(2**20, LOG_FILE_FACTOR * limits.log_bytes)
    spec: dict[str, object] = {
        "image": image,
        **hardening_options(limits, run_id, "model"),
        "environment": env,
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "nano_cpus": int(round(limits.cpus * 1e9)),
        "pids_limit": limits.pids,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "mounts": [
            Mount(target="/input", source=str(input_dir), type="bind", read_only=True),
            output_mount(limits, run_id),
        ],
        "log_config": LogConfig(
            type="json-file", config={"max-size": str(log_file_bytes), "max-file": "2"}
        ),
    }
    if command is not None:
        spec["command"] = command
    requests = gpu_device_requests(limits)
    if requests:
        spec["device_requests"] = requests
    return spec


def gpu_device_requests(limits: SandboxLimits) -> list[DeviceRequest]:
    """Device requests for the GPUs `limits` asks for; empty when it asks for none.

    Named GPUs (`gpu_device_ids`) are requested by id, otherwise `gpus` of any."""
    ids = limits.requested_gpu_ids
    if ids:
        return [DeviceRequest(device_ids=list(ids), capabilities=[["gpu"]])]
    if limits.gpus > 0:
        return [DeviceRequest(count=limits.gpus, capabilities=[["gpu"]])]
    return []


def keeper_container_spec(limits: SandboxLimits, run_id: str) -> dict[str, object]:
    """Return the keyword arguments of `client.containers.create` for the keeper of a run:
    `sleep` in the base image, holding the run's /output volume, with tiny limits."""
    return {
        "image": KEEPER_IMAGE,
        "command": ["sleep", "infinity"],
        **hardening_options(limits, run_id, "keeper"),
        "mem_limit": "32m",
        "memswap_limit": "32m",
        "nano_cpus": 100_000_000,
        "pids_limit": 8,
        "mounts": [output_mount(limits, run_id)],
        "log_config": LogConfig(type="none", config={}),
    }
