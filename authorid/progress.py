"""Progress display shared by long-running steps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import datasets


@contextlib.contextmanager
def datasets_progress_bars(enabled: bool) -> Iterator[None]:
    """Show or hide datasets' progress bars for one block, then restore the user's global setting."""
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
