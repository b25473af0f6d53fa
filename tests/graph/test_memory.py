"""A step's sampled peak memory (graph.core.memory) sees what the step allocated, and leaves the process's peak alone."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from bellwether.graph.core.memory import PeakSampler, rss_bytes


@pytest.mark.skipif(rss_bytes() is None, reason="no /proc on this system")
def test_the_block_peak_sees_a_short_lived_allocation():
    before = rss_bytes()
    with PeakSampler(interval=0.005) as s:
        block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
        assert block.sum() > 0
        del block
    assert s.peak - before >= 250 * 2**20
    with PeakSampler() as quiet:
        pass
    assert quiet.peak < s.peak - 200 * 2**20


def test_the_process_peak_is_left_intact():
    block = np.ones(200 * 2**20 // 8)
    block.sum()
    high = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del block
    with PeakSampler():
        pass
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >= high


def test_a_pipeline_that_releases_memory_allocates_arrow_from_the_c_heap():
    import pyarrow as pa

    from bellwether.graph.core.progress import StepProgress

    with StepProgress(False, release_memory=True):
        assert pa.default_memory_pool().backend_name == "system"
