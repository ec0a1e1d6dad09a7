"""Progress display for long work: one module for every bar authorid shows.

- `counting_progress`: posts (or any items) done of a total, with items/s (embedding, featurising).
- `reading_progress`: bytes read of a dump, with posts read and posts/s (the readers).
- `training_progress`: optimizer steps with live loss, learning rate and examples/s (the trainer).
- `datasets_progress_bars` / `quiet_library_bars`: show or hide the bars of datasets, transformers and
  huggingface_hub for one block, restoring the user's setting after.

Every bar is silent when disabled (the CLI enables them only when stdout is a terminal).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
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


def counting_progress(*, enabled: bool = True, unit: str = "posts") -> Progress:
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


def training_progress(enabled: bool, console: Console | None = None) -> Progress:
    """A progress bar over optimizer steps with live loss, learning rate and examples (episodes) per second."""
    return Progress(
        TextColumn("[bold]training[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]} lr {task.fields[lr]} {task.fields[speed]} ex/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )


class reading_progress:  # noqa: N801 - a context manager used like a function: `with reading_progress(...)`
    """Bytes read of `total_bytes`, with posts read and posts/s; silent when disabled."""

    def __init__(self, enabled: bool, total_bytes: int):
        self.enabled = enabled
        self.total_bytes = total_bytes
        self.progress = Progress(
            TextColumn("[bold]reading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[posts]:,} posts ({task.fields[rate]:,.0f}/s)"),
            TimeElapsedColumn(),
            transient=False,
            disable=not enabled,
        )

    def __enter__(self) -> reading_progress:
        self.progress.start()
        self.task = self.progress.add_task("read", total=self.total_bytes, posts=0, rate=0.0)
        return self

    def update(self, done_bytes: int, posts: int) -> None:
        elapsed = self.progress.tasks[0].elapsed or 1e-9
        self.progress.update(
            self.task, completed=min(done_bytes, self.total_bytes), posts=posts, rate=posts / elapsed
        )

    def __exit__(self, *exc) -> bool:
        self.progress.stop()
        return False


@contextlib.contextmanager
def datasets_progress_bars(enabled: bool) -> Iterator[None]:
    """Show or hide datasets' progress bars for one block, then restore the user's global setting."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    if enabled:
        datasets.enable_progress_bars()
    else:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_disabled:
            datasets.disable_progress_bars()
        else:
            datasets.enable_progress_bars()


@contextlib.contextmanager
def quiet_library_bars(enabled: bool) -> Iterator[None]:
    """When `enabled`, hide the loading / saving bars transformers and huggingface_hub print, for one block."""
    if not enabled:
        yield
        return
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    hub_was_off, hf_was_on = are_progress_bars_disabled(), hf_logging.is_progress_bar_enabled()
    disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if not hub_was_off:
            enable_progress_bars()
        if hf_was_on:
            hf_logging.enable_progress_bar()
