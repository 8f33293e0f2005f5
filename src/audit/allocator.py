"""Which allocator Arrow uses in a process that ingests: freed memory kept a moment for the next block.

Every block of an ingest allocates, and frees, Arrow buffers of tens of megabytes. Arrow's
default allocator on Linux (mimalloc) hands freed pages back to the system within
milliseconds, so each block faults its memory in again. jemalloc, told to keep freed pages
for a second, reuses them instead. Measured on 2 M relief payments, each ingest in a fresh
process (benchmarks/ingest_bench.py): system time 0.6-1.4 s → 0.3-0.5 s and wall time
1.74-2.15 s → 1.57-1.74 s from Parquet, 2.3-2.5 s → 1.9-2.0 s from CSV, with the peak RSS
no higher. The system allocator (glibc) saved as much time but raised the peak from CSV by a
third, its heaps fragmented by buffers freed on other threads.

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
