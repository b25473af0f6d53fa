"""The one progress mechanism (rich, on stderr): timed steps, row bars and one-line notes, or nothing.

- :class:`StepProgress`: one line per named step with its time (``analyze``, the graph build);
- :func:`row_progress`: a bar counted in rows with rows per second (Neo4j push and write-back);
- :func:`say`: one line of news (the loader's per-file summaries).

Each takes ``enabled``; disabled, they print nothing, so library callers pass their ``progress`` flag.
"""

from __future__ import annotations

import time
from contextlib import contextmanager, nullcontext
from typing import Any, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bellwether.graph.core.memory import PeakSampler, release_free_memory, use_system_arrow_pool

_CONSOLE = Console(stderr=True)


def say(enabled: bool, message: str) -> None:
    """Print ``message`` on stderr when ``enabled``."""
    if enabled:
        _CONSOLE.print(message, highlight=False, soft_wrap=True)


class StepProgress:
    """One line per step (spinner, name, elapsed time), or nothing when ``enabled`` is False.

    ``with StepProgress(True) as p: with p.step("graph", timings, peaks): ...`` records each step's
    seconds in ``timings`` and, when ``peaks`` is given, its sampled peak resident memory in MiB
    (:class:`bellwether.graph.core.memory.PeakSampler`) whether or not anything is shown.  With
    ``release_memory`` Arrow allocates from the C heap from then on
    (:func:`bellwether.graph.core.memory.use_system_arrow_pool`) and the heap's free memory goes back
    to the system after each step (:func:`bellwether.graph.core.memory.release_free_memory`), so a
    step's peak starts from what is live.
    """

    def __init__(self, enabled: bool, release_memory: bool = False) -> None:
        self.enabled = enabled
        self.release_memory = release_memory
        self._progress: Progress | None = None

    def __enter__(self) -> "StepProgress":
        if self.release_memory:
            use_system_arrow_pool()
        if self.enabled:
            from rich.progress import SpinnerColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                      transient=False, console=_CONSOLE)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    @contextmanager
    def step(self, name: str, timings: dict[str, float], peaks: dict[str, int] | None = None) -> Iterator[None]:
        task = self._progress.add_task(f"{name} ...", total=1) if self._progress else None
        sampler = PeakSampler() if peaks is not None else nullcontext()
        start = time.perf_counter()
        done = False
        try:
            with sampler:
                yield
            done = True
        finally:
            timings[name] = round(time.perf_counter() - start, 3)
            if peaks is not None and sampler.peak is not None:
                peaks[name] = sampler.peak // 2**20
            if self.release_memory:
                release_free_memory()
            if task is not None:
                word = "done" if done else "failed"
                self._progress.update(task, completed=1, description=f"{name} {word} ({timings[name]:.1f}s)")


class RateColumn(ProgressColumn):
    """Rows per second of the task (rich's moving estimate)."""

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text("        - rows/s" if speed is None else f"{speed:>9,.0f} rows/s", style="cyan")


def row_progress(enabled: bool = True) -> Any:
    """A :class:`rich.progress.Progress` context (tasks counted in rows), or a null context giving None."""
    if not enabled:
        return nullcontext(None)
    return Progress(
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_CONSOLE,
    )
