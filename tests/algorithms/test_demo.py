"""The demo as a library call: every step runs, is reported to the caller, and leaves its outputs."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from bellwether.algorithms.demo import run_demo

STEPS = ["generate", "build", "analyze", "evaluate", "segments", "targets", "report"]


@pytest.mark.slow
def test_run_demo_runs_every_step_and_keeps_its_key(tmp_path):
    seen: list[str] = []

    @contextmanager
    def on_step(name):
        seen.append(name)
        yield

    first = run_demo(tmp_path, subscribers=2000, months=2, seed=3, on_step=on_step)
    assert seen == STEPS and list(first["seconds"]) == STEPS
    assert Path(first["report"]).is_file() and all(Path(e["path"]).exists() for e in first["lists"].values())
    assert first["records_loaded"] > 0 and first["subscribers"] > 2000 and 0 < first["community_nmi"] <= 1
    key = Path(first["key_file"]).read_bytes()
    again = run_demo(tmp_path, subscribers=2000, months=2, seed=3)  # a fresh operator, the same key
    assert Path(again["key_file"]).read_bytes() == key
    assert (again["records_loaded"], again["contacts"]) == (first["records_loaded"], first["contacts"])
