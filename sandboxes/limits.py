"""The limits of one sandbox run, and the GPUs a worker owns."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Which GPUs this worker may hand to sandboxes: comma-separated indexes or UUIDs.
GPU_IDS_ENV = "ARENA_SANDBOX_GPU_IDS"

_USER = re.compile(r"^(\d+):(\d+)$")


@dataclass(frozen=True)
class SandboxLimits:
    """What a sandboxed model may use.

    `wall_seconds` is enforced by the runner (kill, then remove); `memory_mb` is also the swap
    limit (no swap); `cpus` may be fractional; `pids` bounds processes and threads together;
    `nofile` bounds open files; `tmpfs_mb` sizes /tmp (and /dev/shm); `output_mb` caps /output;
    `log_bytes` caps the logs kept. GPUs are requested only when `gpus` > 0 or
    `gpu_device_ids` are given (then the first `gpus` of them, or all when `gpus` is 0).
    `user` is a numeric `uid:gid`, never root.
    """

    wall_seconds: float
    memory_mb: int
    cpus: float
    pids: int = 256
    nofile: int = 1024
    tmpfs_mb: int = 64
    output_mb: int = 100
    log_bytes: int = 64_000
    gpus: int = 0
    gpu_device_ids: tuple[str, ...] = ()
    user: str = "65534:65534"

    def __post_init__(self) -> None:
        positive = {
            "wall_seconds": self.wall_seconds,
            "memory_mb": self.memory_mb,
            "cpus": self.cpus,
            "pids": self.pids,
            "nofile": self.nofile,
            "tmpfs_mb": self.tmpfs_mb,
            "output_mb": self.output_mb,
            "log_bytes": self.log_bytes,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"SandboxLimits.{name} must be positive, not {value!r}")
        if self.memory_mb < 6:
            raise ValueError("SandboxLimits.memory_mb must be at least 6 (the engine's minimum)")
        if self.gpus < 0:
            raise ValueError(f"SandboxLimits.gpus must not be negative, not {self.gpus!r}")
        if not isinstance(self.gpu_device_ids, tuple):
            object.__setattr__(self, "gpu_device_ids", tuple(self.gpu_device_ids))
        if self.gpu_device_ids and self.gpus > len(self.gpu_device_ids):
            raise ValueError(
                f"{self.gpus} GPUs asked for, but only {len(self.gpu_device_ids)} given "
                f"({', '.join(self.gpu_device_ids)})"
            )
        match = _USER.match(self.user)
        if match is None:
            raise ValueError(f"SandboxLimits.user must be a numeric 'uid:gid', not {self.user!r}")
        if int(match.group(1)) == 0 or int(match.group(2)) == 0:
            raise ValueError("SandboxLimits.user must not be root (uid or gid 0)")

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])

    @property
    def gid(self) -> int:
        return int(self.user.split(":")[1])

    @property
    def requested_gpu_ids(self) -> tuple[str, ...]:
        """The GPU ids the run asks for: the first `gpus` of `gpu_device_ids`, or all of them
        when `gpus` is 0; empty when no ids are given."""
        if not self.gpu_device_ids:
            return ()
        return self.gpu_device_ids[: self.gpus] if self.gpus else self.gpu_device_ids


def worker_gpu_ids(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The GPUs this worker owns, from ARENA_SANDBOX_GPU_IDS (e.g. "0,1" or GPU UUIDs);
    empty when unset or blank.

    >>> worker_gpu_ids({"ARENA_SANDBOX_GPU_IDS": " 0, 2 ,"})
    ('0', '2')
    >>> worker_gpu_ids({})
    ()
    """
    raw = (os.environ if environ is None else environ).get(GPU_IDS_ENV, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())
