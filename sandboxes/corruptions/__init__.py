"""Corruptions for robustness conditions: audio noise at an SNR, MER blur, Gaussian
blur, JPEG, occlusion, frame dropping and modality dropout, composed by a small spec and seeded
per clip. No Django.

This package imports without torch: the spec parser (`parse_condition`) and the file helpers
(`sandboxes.corruptions.io`, numpy only) work on the platform host. The tensor code
(`audio`, `video`, `apply`) needs torch and runs in the platform's torch image::

    python -m sandboxes.corruptions apply --condition "noise:white@5db+blur:2" --seed 7 \\
        --input /clean --output /corrupted

See `sandboxes.corruptions.apply` for the folder layout.
"""

from .seeds import clip_seed
from .spec import Condition, ConditionError, Corruption, parse_condition

__all__ = ["Condition", "ConditionError", "Corruption", "clip_seed", "parse_condition"]
