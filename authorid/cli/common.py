"""What every command shares: the console, the reader options for a CORPUS, and turning user errors into one line."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from authorid.progress import quiet_when_logged

# No console markup: account ids, paths and messages are printed as written (Reddit's "[deleted]", a path with
# brackets, "[min, max]" in an error); styled prefixes are rich Text (`styled`).
console = Console(stderr=False, highlight=False, markup=False)
err_console = Console(stderr=True, highlight=False, markup=False)


#: Said after a warning that pairs lie outside the account sizes a calibration was fitted on.
CALIBRATE_HINT = "; `authorid calibrate` on accounts like these fits one that saw them"


def styled(label: str, style: str, rest: str = "") -> Text:
    """`label` in `style`, then `rest` as written."""
    return Text.assemble((label, style), rest)


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
# Each argument names its metavar: typer would print it in lower case ("{model}") while the help texts say MODEL.
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="'style' (the packaged pretrained model), 'minilm' (MiniLM, untuned), 'stylometric[:DIM]' (fitted"
        " on the corpus the command reads), or a model folder written by authorid.",
    ),
]
CorpusArgument = Annotated[
    str,
    typer.Argument(
        metavar="CORPUS",
        help="A dump (.jsonl/.json/.csv/.tsv/.parquet, .gz allowed), a "
        "folder of them, or a corpus preset name.",
    ),
]
#: A CORPUS a command can do without when it is given --vectors.
OptionalCorpusArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="CORPUS",
        help="A dump (.jsonl/.json/.csv/.tsv/.parquet, .gz allowed), a folder of them, or a corpus preset name"
        " (not needed with --vectors).",
    ),
]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace the output if it exists (a folder only when it holds the same kind of artefact).",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Use a calibration or vectors made with another model anyway (they are checked)."
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON summary on stdout instead of tables (for scripts).")
]
EngineOption = Annotated[
    Literal["local", "ray"],
    typer.Option(
        "--engine",
        help="'local': run here; 'ray': embed (and build an IVF index / search the kNN graph) on a Ray cluster,"
        ' same results (needs pip install "authorid\\[ray]").',
        rich_help_panel="Where it runs",
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="A running Ray cluster (e.g. auto, ray://HOST:10001); default: start a local one for the job.",
        rich_help_panel="Where it runs",
    ),
]
VectorsOption = Annotated[
    Path | None,
    typer.Option(
        "--vectors",
        help="Account vectors written by `authorid embed` with the same MODEL: used instead of embedding a"
        " CORPUS again (checked against the model's fingerprint).",
    ),
]


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's stop, `timeout`, `kill`), raised where the program is, so that a long job stops as
    it does on Ctrl-C: partial outputs cleaned up, progress told as stopped, a resume hint printed. Python's
    default for SIGTERM ends the process at once and says nothing."""

    exit_code = 128 + signal.SIGTERM


def stop_on_sigterm() -> None:
    """Turn SIGTERM into `Terminated` in this (main) thread; elsewhere a handler cannot be installed."""

    def terminated(signum, frame):  # noqa: ARG001 - the signal module's signature
        raise Terminated()

    with contextlib.suppress(ValueError):  # not the main thread (a test runner's worker thread)
        signal.signal(signal.SIGTERM, terminated)


def finish_on_sigterm() -> None:
    """After the command has ended (its outputs written, its summary printed): a SIGTERM while the interpreter
    shuts down (about a second with torch loaded) is let pass so that shutdown ends as it began, with the
    command's own status; a second one ends the process at once (143). Raised there, `Terminated` printed a
    traceback from an atexit hook and exited 0, or exited 143 without a word over a finished output (audit 13)."""

    def now(signum, frame):  # noqa: ARG001 - the signal module's signature
        for stream in (
            sys.stdout,
            sys.stderr,
        ):  # what the command printed into a pipe's buffer still goes out
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(Terminated.exit_code)

    def finishing(signum, frame):  # noqa: ARG001 - the signal module's signature
        signal.signal(signal.SIGTERM, now)

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, finishing)


def interrupted_line(exc: KeyboardInterrupt, rest: str = "") -> tuple[Text, int]:
    """What a command prints when it was stopped by Ctrl-C or SIGTERM, and its exit status (130 / 143)."""
    if isinstance(exc, Terminated):
        return styled("terminated", "yellow", rest), exc.exit_code
    return styled("interrupted", "yellow", rest), 130


def _written_said() -> str:
    """What a stopped command had already written whole (its outputs are atomic: each is there complete, or
    not at all), so a stop just after the last write does not read as a lost run."""
    if "authorid.artefacts" not in sys.modules:  # no output was checked: nothing written
        return ""
    from authorid.workflows.outputs import outputs_written  # deferred: light (no torch)

    written = outputs_written()
    return f" after writing {', '.join(map(str, written))} (complete)" if written else ""


def user_errors(command: F) -> F:
    """Run a command so that errors a user can cause print one line and exit 2, not a traceback.

    Set AUTHORID_DEBUG=1 to see the traceback anyway.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        quiet_when_logged()
        _malformed_skipped.clear()
        _cleaned.clear()
        failed = True
        try:
            result = command(*args, **kwargs)
            failed = False
            return result
        except typer.Exit as exit_:
            failed = bool(exit_.exit_code)
            raise
        except BrokenPipeError:
            # `authorid ... | head`: the reader has what it wanted. Outputs were written before printing; point
            # stdout at /dev/null so the interpreter's final flush does not fail too.
            with contextlib.suppress(OSError, ValueError):  # no real file descriptor (captured output)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except (ValueError, OSError, EOFError) as exc:
            if os.environ.get("AUTHORID_DEBUG"):
                raise
            err_console.print(styled("error:", "bold red", f" {one_line(exc)}"), soft_wrap=True)
            raise typer.Exit(2) from None
        except MemoryError:
            err_console.print(
                styled("error:", "bold red", " out of memory; try a smaller batch size or --limit")
            )
            raise typer.Exit(3) from None
        except KeyboardInterrupt as exc:
            line, code = interrupted_line(exc, _written_said())
            err_console.print(line, soft_wrap=True)
            raise typer.Exit(code) from None
        finally:
            # a failed command takes back the empty output folders its checks created (a rerun needs none); a
            # command that checked no output (`corpora`) does not load the workflows for it
            if "authorid.artefacts" in sys.modules:
                from authorid.workflows.outputs import settle_outputs  # deferred: light (no torch)

                settle_outputs(failed)

    return wrapper  # type: ignore[return-value]


#: Malformed records `--on-error skip` skipped in each corpus this command read (`read_corpus`): `say` gives
#: their count in a --json summary too, which would otherwise lose what stderr said.
_malformed_skipped: list[int] = []
#: What cleaning did to each corpus this command read and cleaned (`cleaning_counts`), for a --json summary.
_cleaned: list[dict] = []


def say(summary: dict, lines: list[str], *, as_json: bool) -> None:
    """The end of a command: `lines` for a person, or `summary` as one JSON object for a script (`--json`;
    with `malformed_records_skipped` when the command read a corpus, and `cleaning` when it cleaned one: a
    list when it cleaned several)."""
    if as_json:
        if _malformed_skipped:
            summary = {**summary, "malformed_records_skipped": sum(_malformed_skipped)}
        if _cleaned:
            summary = {**summary, "cleaning": _cleaned[0] if len(_cleaned) == 1 else list(_cleaned)}
        console.print_json(json.dumps(summary, default=str))
        return
    for line in lines:
        console.print(line, soft_wrap=True)


def check_seed(seed: int) -> None:
    """--seed is a non-negative integer (numpy's generators refuse others, late and without naming it)."""
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")


def need_corpus_or_vectors(corpus: str | None, vectors: Path | None) -> None:
    if (corpus is None) == (vectors is None):
        raise ValueError("give a CORPUS or --vectors (one of them)")


def one_line(exc: BaseException) -> str:
    """The error as one line, naming the file an OSError is about when its message does not."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    filename = getattr(exc, "filename", None)
    if isinstance(exc, OSError) and filename and str(filename) not in text:
        text = f"{filename}: {text}"
    return text


def read_corpus(
    corpus: str,
    *,
    map: str | None,
    preset: str | None,
    on_error: str,
    limit: int | None = None,
    empty: str | None = None,
    quiet: bool = False,
    clean: bool = True,
    clean_options: dict | None = None,
    authors_optional: bool = False,
):
    """Read a CORPUS for a command, printing the column mapping chosen, what was read and what cleaning did on
    stderr (stdout keeps the command's results). Returns (posts, report). `quiet` is accepted for symmetry with
    `--json`. The posts are cleaned as `authorid ingest` cleans them, unless the corpus is an ingested Parquet
    file or `clean` is False; `clean_options` are `CleanConfig` fields that differ from ingest's
    (`workflows.common.read_corpus`).

    `empty`: what the command needs posts for; a corpus without any is then a one-line error.
    """
    from authorid.workflows.common import ingest_drops  # deferred: keeps `authorid --help` fast
    from authorid.workflows.common import read_corpus as read  # deferred: keeps `authorid --help` fast

    posts, report = read(
        corpus,
        columns=map,
        preset=preset,
        on_error=on_error,
        limit=limit,
        progress=True,
        empty=empty,
        clean_posts=clean,
        clean_options=clean_options,
        authors_optional=authors_optional,
    )
    out = err_console  # what was read is a progress note: stdout keeps the results (tables, JSON)
    out.print(styled("columns:", "dim", f" {report.column_map_said()}"), soft_wrap=True)
    skipped = report.read.get("skipped_errors", 0)
    _malformed_skipped.append(int(skipped))
    before = report.read.get("posts_before_cleaning")
    accounts = report.read.get("accounts_before_cleaning", report.accounts_out)
    read = Text(
        f"read {before or report.posts_out:,} posts of {accounts:,} accounts from {', '.join(report.sources)}"
    )
    if skipped:
        read.append_text(Text.assemble(" (", (f"{skipped:,} malformed records skipped", "yellow"), ")"))
    out.print(read, soft_wrap=True)
    warn_of_records(report.warnings, int(report.read.get("warnings", 0)))
    if before is not None:
        _cleaned.append(cleaning_counts(report, corpus))
        out.print(styled("cleaned:", "dim", f" {cleaning_line(report, before, corpus)}"), soft_wrap=True)
    elif clean:  # an ingested Parquet file: cleaned when it was ingested
        drops = ingest_drops(corpus)
        _cleaned.append(
            {
                "corpus": str(corpus),
                "read_as_it_is": "an `authorid ingest` output",
                "dropped_at_ingest": drops,
            }
        )
        n = sum(drops.values())
        said = "its report beside it" + (
            f": {n:,} post{'s' * (n != 1)} dropped, {counted(drops)}" if n else ""
        )
        out.print(
            styled("cleaned:", "dim", f" already, by `authorid ingest` ({said}): read as it is"),
            soft_wrap=True,
        )
    return posts, report


#: Record warnings a command prints (all are counted; `authorid ingest`'s report keeps more).
WARNINGS_SHOWN = 3


def warn_of_records(warnings: list[str], count: int) -> None:
    """The reader's warnings about records it kept (a quote that may have swallowed records, bytes read as
    U+FFFD), the first few, each naming its file and line: a record read wrong must not pass in silence."""
    for message in warnings[:WARNINGS_SHOWN]:
        err_console.print(styled("warning:", "yellow", f" {message}"), soft_wrap=True)
    if count > WARNINGS_SHOWN:
        err_console.print(
            styled("warning:", "yellow", f" and {count - WARNINGS_SHOWN:,} more"), soft_wrap=True
        )


def last_cleaning() -> dict | None:
    """What the last `read_corpus` call said about cleaning (its --json `cleaning` entry), for a command that
    records it in its own output (`evaluate`'s metrics.json)."""
    return _cleaned[-1] if _cleaned else None


#: Accounts cleaning left without a post that a summary names (all of them are counted).
EMPTIED_NAMED = 5


def first_named(accounts: list[str]) -> str:
    """The first EMPTIED_NAMED of `accounts`, quoted, then "..." when there are more."""
    return ", ".join(repr(a) for a in accounts[:EMPTIED_NAMED]) + (
        ", ..." if len(accounts) > EMPTIED_NAMED else ""
    )


def cleaning_counts(report, corpus) -> dict:
    """What cleaning did to one corpus, for a --json summary."""
    emptied = sorted(report.emptied_accounts)
    return {
        "corpus": str(corpus),
        "posts_read": report.read["posts_before_cleaning"],
        "accounts_read": report.read["accounts_before_cleaning"],
        "posts_kept": report.posts_out,
        "accounts_kept": report.accounts_out,
        "changed": dict(report.changed),
        "dropped": dict(report.dropped),
        "accounts_left_with_no_post": emptied,
    }


#: How a report's count reads aloud where its key alone would not ("duplicate in account 5" read as an account
#: named 5, audit 13).
COUNT_LABELS = {"duplicate_in_account": "repeated by their author"}


def counted(counts: dict[str, int]) -> str:
    """`{"quotes_stripped": 4, "urls_masked": 0}` -> "4 quotes stripped": a report's non-zero counts, read aloud,
    each count first (a label ending in a word and a number reads as a name)."""
    return ", ".join(
        f"{n:,} {COUNT_LABELS.get(key, key.replace('_', ' '))}" for key, n in counts.items() if n
    )


def cleaning_line(report, before: int, corpus) -> str:
    """What cleaning did to a corpus read by a command, in one line: the posts it changed and dropped (by why),
    the accounts it emptied (the first few by name), and why it cleaned."""
    changed = counted(report.changed)
    dropped = sum(report.dropped.values())
    why = counted(report.dropped)
    emptied = sorted(report.emptied_accounts)
    named = first_named(emptied)
    path = Path(str(corpus))
    because = (
        f"no ingest report beside {path.name}: cleaned as any corpus"
        if path.suffix.lower() == ".parquet"
        else "to clean otherwise, run `authorid ingest` first: its Parquet file is read as it is"
    )
    return (
        f"as `authorid ingest` cleans ({changed or 'no text changed'}); "
        + (f"{dropped:,} of {before:,} posts dropped ({why})" if dropped else "no post dropped")
        + f"; {report.posts_out:,} posts of {report.accounts_out:,} accounts kept"
        + (f"; {len(emptied):,} left with no post, and so absent from the output: {named}" if emptied else "")
        + f" ({because})"
    )
