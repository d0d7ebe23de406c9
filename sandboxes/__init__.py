"""Hardened Docker sandboxes for containerised model submissions; no Django.

Usage::

    limits = SandboxLimits(wall_seconds=600, memory_mb=2048, cpus=1.0)
    result = run_container(image_id, input_dir=inputs, output_dir=outputs, limits=limits)
    if result.failure is None:
        ...  # score outputs / "predictions.csv"

Images arrive as `docker save` archives (`load_image_archive`) or as references on an allowlist
(`pull_image`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Where each public name lives. Imported on first use, so that parts without the Docker SDK
#: (``sandboxes.corruptions``, run inside images that have only torch) import on their own.
_EXPORTS = {
    "SANDBOX_LABEL": "sandboxes.engine",
    "engine_available": "sandboxes.engine",
    "SandboxError": "sandboxes.errors",
    "image_present": "sandboxes.images",
    "load_image_archive": "sandboxes.images",
    "pull_image": "sandboxes.images",
    "SandboxLimits": "sandboxes.limits",
    "worker_gpu_ids": "sandboxes.limits",
    "RunResult": "sandboxes.runner",
    "remove_run": "sandboxes.runner",
    "run_container": "sandboxes.runner",
    "sweep_sandboxes": "sandboxes.runner",
    "build_container_spec": "sandboxes.spec",
}

if TYPE_CHECKING:
    from sandboxes.engine import SANDBOX_LABEL, engine_available
    from sandboxes.errors import SandboxError
    from sandboxes.images import image_present, load_image_archive, pull_image
    from sandboxes.limits import SandboxLimits, worker_gpu_ids
    from sandboxes.runner import RunResult, remove_run, run_container, sweep_sandboxes
    from sandboxes.spec import build_container_spec


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sandboxes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "SANDBOX_LABEL",
    "RunResult",
    "SandboxError",
    "SandboxLimits",
    "build_container_spec",
    "engine_available",
    "image_present",
    "load_image_archive",
    "pull_image",
    "remove_run",
    "run_container",
    "sweep_sandboxes",
    "worker_gpu_ids",
]
