"""Progress display for long work: one module for every bar authorid shows.

- `counting_progress`: posts (or any items) done of a total, with items/s (embedding, featurising).
- `reading_progress`: bytes read of a dump, with posts read and posts/s (the readers).
- `training_progress`: optimizer steps with live loss, learning rate and examples/s (the trainer).
- `datasets_progress_bars` / `quiet_library_bars`: show or hide the bars of datasets, transformers and
  huggingface_hub for one block, restoring the user's setting after.

Bars go to stderr, so stdout stays a clean summary (or JSON with `--json`). When stderr is not a terminal (a
log file, nohup, CI) an enabled bar becomes a log line every LOG_EVERY seconds and one at the end: what is done,
how fast and how long is left, so a long unattended run is never silent. A disabled bar shows nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
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

#: Seconds between two log lines of a bar when stderr is not a terminal.
LOG_EVERY = 30.0

_stderr = Console(stderr=True, highlight=False)


def is_interactive() -> bool:
    """True when stderr is a terminal (bars are drawn); False in a log file, under nohup or in CI."""
    return _stderr.is_terminal


class LogProgress:
    """What a rich progress bar shows, as log lines on stderr: at most one per `every` seconds per bar, and
    one when it ends. Implements the part of `rich.progress.Progress` authorid uses."""

    def __init__(self, *, unit: str = "", every: float = LOG_EVERY, stream=None):
        self.unit, self.every = unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.tasks: list[_LoggedTask] = []

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, exc_type, *exc) -> bool:
        for task in self.tasks:  # an exception (Ctrl-C, SIGTERM, an error) stopped it: not "done"
            self._log(task, final=True, stopped=exc_type is not None)
        return False

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields) -> int:
        self.tasks.append(_LoggedTask(description, total, completed, fields))
        return len(self.tasks) - 1

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(
        self,
        task_id: int,
        *,
        completed: float | None = None,
        advance: float | None = None,
        total: float | None = None,
        **fields,
    ):
        task = self.tasks[task_id]
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        if time.perf_counter() - task.logged >= self.every:
            self._log(task)

    def _log(self, task: _LoggedTask, final: bool = False, stopped: bool = False) -> None:
        task.logged = time.perf_counter()
        elapsed = task.elapsed
        rate = (task.completed - task.started_at) / elapsed if elapsed > 0 else 0.0
        parts = [f"{task.description}: {task.completed:,.0f}" + (f"/{task.total:,.0f}" if task.total else "")]
        if task.total:
            parts.append(f"{100 * task.completed / task.total:.0f}%")
        parts.append(f"{rate:,.1f} {self.unit or 'items'}/s")
        parts += [f"{k} {v}" for k, v in task.fields.items() if v not in ("-", None)]
        if task.total and rate > 0 and not final:
            parts.append(f"eta {_duration((task.total - task.completed) / rate)}")
        parts.append(
            ("stopped after " if stopped else "done in " if final else "elapsed ") + _duration(elapsed)
        )
        print(", ".join(parts), file=self.stream, flush=True)


class _LoggedTask:
    def __init__(self, description: str, total: float | None, completed: float, fields: dict):
        self.description, self.total, self.completed, self.fields = (
            description,
            total,
            completed,
            dict(fields),
        )
        self.started_at, self.start = completed, time.perf_counter()
        self.logged = self.start

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def quiet_when_logged() -> None:
    """In a log file, keep the Hugging Face libraries' own bars out of it (set before they are imported)."""
    if not is_interactive():
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class RateColumn(ProgressColumn):
    """Items per second, e.g. `412 posts/s`; blank until rich has measured a speed."""

    def __init__(self, unit: str = "posts") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="progress.data.speed")


def counting_progress(*, enabled: bool = True, unit: str = "posts") -> Progress | LogProgress:
    """A progress bar: description, bar, done/total, rate, elapsed, remaining. `enabled=False` hides it."""
    if enabled and not is_interactive():
        return LogProgress(unit=unit)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_stderr,
        disable=not enabled,
    )


def training_progress(enabled: bool, console: Console | None = None) -> Progress | LogProgress:
    """A progress bar over optimizer steps with live loss, learning rate and examples (episodes) per second."""
    if enabled and console is None and not is_interactive():
        return LogProgress(unit="steps")
    return Progress(
        TextColumn("[bold]training[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]} lr {task.fields[lr]} {task.fields[speed]} ex/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or _stderr,
        disable=not enabled,
        transient=False,
    )


class reading_progress:  # noqa: N801 - a context manager used like a function: `with reading_progress(...)`
    """Bytes read of `total_bytes`, with posts read and posts/s; silent when disabled."""

    def __init__(self, enabled: bool, total_bytes: int):
        self.enabled = enabled
        self.total_bytes = total_bytes
        self.logged = enabled and not is_interactive()
        self.progress = (
            LogProgress(unit="bytes")
            if self.logged
            else Progress(
                TextColumn("[bold]reading"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[posts]:,} posts ({task.fields[rate]:,.0f}/s)"),
                TimeElapsedColumn(),
                console=_stderr,
                transient=False,
                disable=not enabled,
            )
        )

    def __enter__(self) -> reading_progress:
        self.progress.start()
        self.task = self.progress.add_task("read", total=self.total_bytes, posts=0, rate=0.0)
        return self

    def update(self, done_bytes: int, posts: int) -> None:
        elapsed = self.progress.tasks[0].elapsed or 1e-9
        if self.logged:
            self.progress.update(self.task, completed=min(done_bytes, self.total_bytes), posts=f"{posts:,}")
            return
        self.progress.update(
            self.task, completed=min(done_bytes, self.total_bytes), posts=posts, rate=posts / elapsed
        )

    def __exit__(self, *exc) -> bool:
        self.progress.stop()
        return False


@contextlib.contextmanager
def datasets_progress_bars(enabled: bool) -> Iterator[None]:
    """Show or hide datasets' progress bars for one block, then restore the user's global setting. They are tqdm
    bars, drawn only on a terminal (in a log their carriage returns are noise)."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    if enabled and is_interactive():
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
