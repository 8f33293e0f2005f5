"""The allocator set-up ingest runs: glibc heap for big blocks, Arrow on the same heap."""

import platform

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from audit import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the settings are glibc's")
def test_tune_puts_arrow_on_the_system_heap_once():
    assert allocator.tune() is True
    assert pa.default_memory_pool().backend_name == "system"
    assert allocator.tune() is True  # a second call changes nothing


def test_tuned_allocators_still_allocate_and_free_big_blocks():
    allocator.tune()
    for _ in range(3):
        data = pa.array(np.arange(5_000_000))
        assert pc.sum(data).as_py() == 5_000_000 * 4_999_999 // 2
        del data
