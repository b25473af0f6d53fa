"""Peak resident memory of this process, per step: the kernel's high-water mark, reset between steps.

Linux keeps the peak resident set size of a process (``VmHWM`` in ``/proc/self/status``) and
resets it to the current size when ``5`` is written to ``/proc/self/clear_refs`` (proc(5),
since Linux 4.0).  Reset before a step and read after it, the mark is the step's own peak.
Elsewhere (no ``/proc``), :func:`peak_bytes` falls back to ``getrusage``'s whole-process peak
and :func:`reset_peak` does nothing, so figures are then cumulative.
"""

from __future__ import annotations

import resource
import sys

__all__ = ["peak_bytes", "reset_peak"]

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def reset_peak() -> bool:
    """Reset the peak to the current resident size; False when the system does not allow it."""
    try:
        with open(_CLEAR_REFS, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """Peak resident memory since the last :func:`reset_peak` (else since the process started), in bytes."""
    try:
        with open(_STATUS) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)
