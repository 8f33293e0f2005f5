"""Which allocator Arrow uses in a process that ingests: freed memory kept a moment for the next block.

Every block of an ingest allocates, and frees, Arrow buffers of tens of megabytes. Arrow's
default allocator on Linux (mimalloc) hands freed pages back to the system within
milliseconds, so each block faults its memory in again. jemalloc, told to keep freed pages
for a second, reuses them instead: less system time and wall time, with the peak memory no
higher. The system allocator (glibc) saved as much time but raised the peak from CSV, its
heaps fragmented by buffers freed on other threads. The measurements are in
benchmarks/RESULTS.md (notes, "Measurements behind the code").

The choice is process-wide and changes where memory comes from, never a result.
"""

from __future__ import annotations

import pyarrow as pa

DECAY_MS = 1000
"""How long jemalloc keeps freed pages before returning them: several blocks' time."""


def tune() -> bool:
    """Make jemalloc (freed pages kept :data:`DECAY_MS`) Arrow's allocator; False where it is not built in."""
    if "jemalloc" not in pa.supported_memory_backends():
        return False
    pool = pa.jemalloc_memory_pool()
    if pa.default_memory_pool().backend_name != "jemalloc":
        pa.set_memory_pool(pool)
    pa.jemalloc_set_decay_ms(DECAY_MS)
    return True
