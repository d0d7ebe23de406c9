"""The seed of each clip's random draws: stable across processes, machines and Python versions."""

from __future__ import annotations

import hashlib


def clip_seed(seed: int, key: str, condition: str, step: int) -> int:
    """A 63-bit seed from the protocol's `seed`, the clip's `key`, the condition's canonical
    name and the index of the step in it (so two noise steps draw differently).

    >>> clip_seed(7, "clip_001", "noise:white@5db", 0)
    3445576731553412857
    """
    text = f"{int(seed)}\x00{key}\x00{condition}\x00{int(step)}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") >> 1
