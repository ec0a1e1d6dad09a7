"""A rich progress bar that shows throughput in posts per second."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. `412 posts/s`; blank until rich has measured a speed."""

    def __init__(self, unit: str = "posts") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def posts_progress(*, enabled: bool = True, unit: str = "posts") -> Progress:
    """A progress bar: description, bar, done/total, rate, elapsed, remaining. `enabled=False` hides it."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )
