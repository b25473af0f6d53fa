"""SplitMix64, the small counter-based random stream the compiled kernels draw from.

Steele, Lea & Flood (2014), "Fast splittable pseudorandom number generators",
OOPSLA, doi:10.1145/2660193.2660195.  One 64-bit state per stream, a handful of
integer operations per draw and no shared state, so each worker of a parallel
kernel owns its stream and results do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["GOLDEN", "MIX1", "MIX2", "uniform"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def uniform(state):
    """Next state and a uniform double in [0, 1) (53 random bits).

    A short dependency chain keeps memory loads of the calling kernel overlapping.
    """
    state = state + GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * MIX1
    z = (z ^ (z >> np.uint64(27))) * MIX2
    z = z ^ (z >> np.uint64(31))
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)
