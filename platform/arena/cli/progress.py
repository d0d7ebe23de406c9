"""A progress bar on stderr, drawn only for a person watching (a terminal) unless asked for."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

_WIDTH = 30


def progress_wanted(stream: TextIO = sys.stderr) -> bool:
    forced = os.environ.get("ARENA_PROGRESS", "").lower()
    if forced in ("1", "true", "yes", "always"):
        return True
    if forced in ("0", "false", "no", "never"):
        return False
    return stream.isatty()


def human_size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


class Progress:
    """``label [#####.....]  45%  1.2 MB / 2.6 MB`` redrawn in place; ``done()`` ends the line."""

    def __init__(self, label: str, total: int, *, initial: int = 0, enabled: bool | None = None,
                 stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = max(total, 0)
        self.count = initial
        self.stream = stream
        self.enabled = progress_wanted(stream) if enabled is None else enabled
        self._drawn_at = 0.0
        self._drawn_count = -1

    def advance(self, amount: int) -> None:
        self.count += amount
        now = time.monotonic()
        if self.enabled and (now - self._drawn_at > 0.1 or self.count >= self.total):
            self._drawn_at = now
            self._draw()

    def _draw(self) -> None:
        self._drawn_count = self.count
        fraction = min(self.count / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * _WIDTH)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%}  {human_size(self.count)} / "
                          f"{human_size(self.total)}")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            if self._drawn_count != self.count:
                self._draw()
            self.stream.write("\n")
            self.stream.flush()
