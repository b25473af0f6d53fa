"""A rich progress bar with rows per second, on stderr, or nothing at all."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

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
        console=Console(stderr=True),
    )
