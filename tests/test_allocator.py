"""The allocator set-up ingest runs: jemalloc for Arrow, freed pages kept for the next block."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from audit import allocator


@pytest.mark.skipif("jemalloc" not in pa.supported_memory_backends(), reason="pyarrow built without it")
def test_tune_makes_jemalloc_arrows_allocator():
    assert allocator.tune() is True
    assert pa.default_memory_pool().backend_name == "jemalloc"
    assert allocator.tune() is True  # a second call changes nothing


def test_tuned_allocator_still_allocates_and_frees_big_blocks():
    allocator.tune()
    for _ in range(3):
        data = pa.array(np.arange(5_000_000))
        assert pc.sum(data).as_py() == 5_000_000 * 4_999_999 // 2
        del data
