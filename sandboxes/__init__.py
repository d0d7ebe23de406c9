"""Hardened Docker sandboxes for containerised model submissions; no Django.

Usage::

    limits = SandboxLimits(wall_seconds=600, memory_mb=2048, cpus=1.0)
    result = run_container(image_id, input_dir=inputs, output_dir=outputs, limits=limits)
    if result.failure is None:
        ...  # score outputs / "predictions.csv"

Images arrive as `docker save` archives (`load_image_archive`) or as references on an allowlist
(`pull_image`).
"""

from sandboxes.engine import SANDBOX_LABEL, engine_available
from sandboxes.errors import SandboxError
from sandboxes.images import image_present, load_image_archive, pull_image
from sandboxes.limits import SandboxLimits, worker_gpu_ids
from sandboxes.runner import RunResult, remove_run, run_container, sweep_sandboxes
from sandboxes.spec import build_container_spec

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
