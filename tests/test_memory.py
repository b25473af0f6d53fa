"""The per-step peak memory (graph.core.memory) sees a step's own allocations, not the process's past."""

from __future__ import annotations

import numpy as np
import pytest

from bellwether.graph.core.memory import peak_bytes, reset_peak


def test_peak_is_per_step_after_a_reset():
    if not reset_peak():
        pytest.skip("this system does not allow resetting the peak resident size")
    block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
    assert block.sum() > 0
    big = peak_bytes()
    del block
    reset_peak()
    small = peak_bytes()
    assert big - small >= 250 * 2**20
