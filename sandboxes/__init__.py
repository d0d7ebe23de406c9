"""Hardened Docker sandboxes for containerised model submissions; no Django.

Usage::

    limits = SandboxLimits(wall_seconds=600, memory_mb=2048, cpus=1.0)
    result = run_container(image_id, input_dir=inputs, output_dir=outputs, limits=limits)
    if result.failure is None:
        ...  # score outputs / "predictions.csv"

Images arrive as `docker save` archives (`load_image_archive`) or as references on an allowlist
(`pull_image`).
"""
