"""The demo training sets of the baselines that train when their image is built.

A thin provider for the command lines, the image builder and the tests: it imports
`fixtures.demo`, which `sandboxes.baselines` itself never does (the caller passes the folder).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sandboxes.baselines import BASELINE_TRACKS, TRAINED_AT_BUILD


def write_demo_training_sets(outdir: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the demo training set of each baseline of `names` (default: all) that trains when
    its image is built into `outdir/<name>/`; return {name: folder} for `train_data`."""
    from fixtures.demo.cli import write_training_set

    wanted = TRAINED_AT_BUILD if names is None else TRAINED_AT_BUILD & set(names)
    return {
        name: write_training_set(Path(outdir) / name, *BASELINE_TRACKS[name])
        for name in sorted(wanted)
    }
