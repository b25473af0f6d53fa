"""Crash points: a test hook that kills the process at a named write boundary.

Every step that writes workspace files marks its write boundaries with
``crash_point("step.what_was_written")``.  When the environment variable
``BELLWETHER_CRASH_AT`` equals that name, the process ends at once with
``os._exit(137)`` (no cleanup, no buffers flushed, no ``finally``), as if it
had been killed with ``kill -9`` there.  ``tests/graph/test_crash_consistency.py``
runs a build once per point and checks that re-running it gives the graph of a
clean build.  Unset (the normal case), a crash point does nothing.

Points: ``graph.subscribers_written``, ``graph.contacts_written``,
``graph.service_numbers_written``, ``graph.legacy_moved``, ``graph.before_swap``,
``graph.after_swap``, ``graph.before_cleanup`` (graph build and publication),
``load.records_written``, ``load.manifest_written`` (loader).
"""

from __future__ import annotations

import os

ENV = "BELLWETHER_CRASH_AT"


def crash_point(name: str) -> None:
    """End the process with status 137 when ``$BELLWETHER_CRASH_AT`` is ``name`` (test hook)."""
    if os.environ.get(ENV) == name:
        os._exit(137)
