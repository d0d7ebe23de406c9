"""Robustness conditions on the sandbox host: the trusted corruption step and its caches.

    input_cache = InputCache(root / "inputs", max_bytes=...)
    condition_cache = ConditionCache(root / "conditions", max_bytes=...)
    with input_cache.unpacked(inputs_digest, unpack) as clean:
        with prepare_condition(clean, inputs_digest=inputs_digest, condition="blur:4",
                               seed=7, cache=condition_cache) as input_dir:
            run_container(image, input_dir=input_dir, ...)

See `sandboxes.conditions.prepare` (the step) and `sandboxes.conditions.cache` (the caches).
"""

from sandboxes.conditions.cache import CacheEntry, ConditionCache, FolderCache, InputCache
from sandboxes.conditions.prepare import (
    CONDITION_LABEL,
    CORRUPT_IMAGE,
    CORRUPT_REPOSITORY,
    DEFAULT_CORRUPTION_LIMITS,
    CorruptionError,
    corrupt_inputs,
    corruption_container_spec,
    noise_bank_digest,
    prepare_condition,
)

__all__ = [
    "CONDITION_LABEL",
    "CORRUPT_IMAGE",
    "CORRUPT_REPOSITORY",
    "DEFAULT_CORRUPTION_LIMITS",
    "CacheEntry",
    "ConditionCache",
    "CorruptionError",
    "FolderCache",
    "InputCache",
    "corrupt_inputs",
    "corruption_container_spec",
    "noise_bank_digest",
    "prepare_condition",
]
