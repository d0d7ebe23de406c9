"""Two independent pieces of numpy work at once, on large inputs only.

numpy lets other threads run while it gathers, compares and sums large arrays, so two such
pieces take about the time of one on a machine with a second core free. Below ``MIN_ROWS`` rows
a helper thread costs more than it saves and both pieces run here, one after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MIN_ROWS", "both"]

MIN_ROWS = 1 << 18


def both[A, B](first: Callable[[], A], second: Callable[[], B], *, rows: int) -> tuple[A, B]:
    """``(first(), second())``, ``second`` on a helper thread when ``rows`` is at least
    ``MIN_ROWS``. An exception of ``first`` is raised before one of ``second``, as when they run
    in turn."""
    if rows < MIN_ROWS:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(second)
        try:
            result = first()
        except BaseException:
            pending.cancel()
            raise
        return result, pending.result()
