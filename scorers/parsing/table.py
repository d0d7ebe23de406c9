"""The parsed form of a submission or reference file: keys, line numbers and aligned columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from scorers.parsing.keys import KeyIndex, key_index

__all__ = ["Table"]


@dataclass(frozen=True)
class Table:
    """Rows of one file, column-wise.

    ``keys`` holds the key column as UTF-8 encoded fixed-width bytes (numpy ``S`` dtype), ``lines``
    the 1-based line number of each row in the file (header = line 1), and ``columns`` one array per
    value column, all with ``len(keys)`` rows along the first axis. ``file`` is the file's role in
    messages (``"prediction"`` or ``"gold"``).
    """

    keys: np.ndarray
    lines: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    file: str = "prediction"

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, index: np.ndarray, *, keys: np.ndarray | None = None) -> Table:
        """The rows at ``index`` (an integer array), in that order. ``keys``, when given, is
        already known to equal ``self.keys[index]`` and is used instead of copying."""
        return Table(
            keys=self.keys[index] if keys is None else keys,
            lines=self.lines[index],
            columns={name: column[index] for name, column in self.columns.items()},
            file=self.file,
        )

    @cached_property
    def key_index(self) -> KeyIndex:
        """The keys hashed and sorted (computed once, on first use)."""
        return key_index(self.keys)

    def key_text(self, i: int) -> str:
        """The key of row ``i`` as text."""
        return self.keys[i].decode("utf-8")
