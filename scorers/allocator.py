"""Keeping freed memory in a scoring process instead of handing it back to the system.

Scoring a large file allocates and frees hundreds of megabytes of numpy temporaries, step after
step. With glibc's default settings each large block is a fresh mapping: it is given back when
freed, and the next one is faulted in again a page at a time and zeroed by the kernel (about
34,000 page faults and 0.2 s of system time for a cold ``abaw.va`` scoring of 1M frames, with the
two files' threads also contending for the process's address-space lock). ``retain_freed_memory``
asks glibc to serve blocks of up to 32 MB from its heap and to keep freed memory there, so later
steps reuse pages that are already mapped.

The cost is that a process keeps its high-water mark of memory (the peak of its largest scoring)
until it exits; a process that scores large files is the place for that, so the scorer command
line and the platform's Celery workers call this at start, and library users may. On other C
libraries it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["retain_freed_memory"]

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_SETTINGS = (
    (_M_MMAP_THRESHOLD, 32 << 20),  # blocks up to 32 MB (glibc's maximum) come from the heap
    (_M_TRIM_THRESHOLD, (1 << 31) - 1),  # freed memory at the top of the heap is kept
    (_M_TOP_PAD, 256 << 20),  # the heap grows in 256 MB steps (address space, not memory)
)

_applied: bool | None = None


def retain_freed_memory() -> bool:
    """Apply the settings above once per process; whether they are in effect (``False`` where
    the C library is not glibc)."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        gnu_get_libc_version = libc.gnu_get_libc_version  # present in glibc only
    except (OSError, AttributeError):
        return False
    del gnu_get_libc_version
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(parameter, value) == 1 for parameter, value in _SETTINGS)
