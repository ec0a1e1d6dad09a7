"""What every command shares: the console, the reader options for a CORPUS, and turning user errors into one line."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

import typer
from rich.console import Console

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable)

# The same three reader options on every command that takes a CORPUS.
MapOption = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="Column map SOURCE=CANONICAL,... (e.g. author=account_id,body=text). Canonical columns: post_id, "
        "account_id, text, created_at, thread_id, parent_id, forum, person_id, split.",
        rich_help_panel="Reading the corpus",
    ),
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        help="Corpus preset whose column map applies (see `authorid corpora`).",
        rich_help_panel="Reading the corpus",
    ),
]
OnErrorOption = Annotated[
    Literal["raise", "skip"],
    typer.Option(
        "--on-error",
        help="'raise': stop at the first malformed record; 'skip': count and report malformed records.",
        rich_help_panel="Reading the corpus",
    ),
]
ModelArgument = Annotated[
    str,
    typer.Argument(
        help="'minilm' (the untuned default), 'stylometric[:DIM]' (fitted on the corpus the command reads), "
        "or a model folder written by authorid."
    ),
]
CorpusArgument = Annotated[
    str,
    typer.Argument(
        help="A dump (.jsonl/.json/.csv/.tsv/.parquet, .gz allowed), a "
        "folder of them, or a corpus preset name."
    ),
]


def user_errors(command: F) -> F:
    """Run a command so that errors a user can cause print one line and exit 2, not a traceback.

    Set AUTHORID_DEBUG=1 to see the traceback anyway.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except (ValueError, FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError) as exc:
            if os.environ.get("AUTHORID_DEBUG"):
                raise
            err_console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
        except MemoryError:
            err_console.print(
                "[bold red]error:[/bold red] out of memory; try a smaller batch size or --limit"
            )
            raise typer.Exit(3) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/yellow]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def read_corpus(
    corpus: str,
    *,
    map: str | None,
    preset: str | None,
    on_error: str,
    limit: int | None = None,
    empty: str | None = None,
):
    """Read a CORPUS for a command, printing the column mapping chosen. Returns (posts, report).

    `empty`: what the command needs posts for; a corpus without any is then a one-line error.
    """
    from authorid.workflows.common import read_corpus as read  # deferred: keeps `authorid --help` fast

    posts, report = read(
        corpus,
        columns=map,
        preset=preset,
        on_error=on_error,
        limit=limit,
        progress=console.is_terminal,
        empty=empty,
    )
    mapping = ", ".join(f"{source} -> {target}" for target, source in report.column_map.items())
    console.print(f"[dim]columns:[/dim] {mapping}", soft_wrap=True)
    skipped = report.read.get("skipped_errors", 0)
    console.print(
        f"read {report.posts_out:,} posts of {report.accounts_out:,} accounts from {', '.join(report.sources)}"
        + (f" ([yellow]{skipped:,} malformed records skipped[/yellow])" if skipped else ""),
        soft_wrap=True,
    )
    return posts, report
