"""How the process's memory allocator is set up for ingest's blocks of a hundred thousand rows.

Every block allocates, and frees, arrays of tens of megabytes. Left to its defaults, glibc
serves requests that big with fresh ``mmap`` pages and returns them on ``free``, and Arrow's
mimalloc gives freed pages back to the system after a few milliseconds, so each block
faults in its memory again: measured on 2 M relief payments in a fresh process, 0.3-1.2 s
of system time, against 0.22-0.25 s with the settings below (and a lower peak, since the
same pages are reused instead of new ones mapped while old ones wait to be returned).

The settings are process-wide and only change where memory comes from, never a result.
"""

from __future__ import annotations

import ctypes
import platform

import pyarrow as pa

# mallopt(3) parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 1 << 30
"""Requests below this come from the heap, so freed blocks are reused rather than unmapped."""
TRIM_THRESHOLD = 1 << 30
"""Free memory at the top of the heap kept, up to this, instead of returned after each block."""
TOP_PAD = 64 << 20
"""Extra heap asked for each time it grows, so a block grows it a few times, not hundreds."""

_done = False


def tune() -> bool:
    """Set up the allocators for big blocks (once per process); False where glibc is not in use.

    Arrow then allocates through the same glibc heap as numpy and pandas (its system pool),
    so that memory freed by one is reused by the other.
    """
    global _done
    if _done:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    settings = {_M_MMAP_THRESHOLD: MMAP_THRESHOLD, _M_TRIM_THRESHOLD: TRIM_THRESHOLD, _M_TOP_PAD: TOP_PAD}
    if not all(libc.mallopt(param, value) == 1 for param, value in settings.items()):
        return False
    pa.set_memory_pool(pa.system_memory_pool())
    _done = True
    return True
