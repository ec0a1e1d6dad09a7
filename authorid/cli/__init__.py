"""The `authorid` command line. Each command module pairs a thin typer function with a plain Python function.

Data: `corpora`, `ingest`. Training: `train`, `fuse`, `compress`. Vectors: `embed`. Verification: `calibrate`,
`score`. Linking: `index build|add`, `link`. Persons: `cluster`. Evidence: `explain`. Known authors: `attribute`.
Measuring: `evaluate`, `compare`. Main job: `demo`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from authorid.cli.attribute import attribute_command
from authorid.cli.cluster import cluster_command
from authorid.cli.common import err_console, finish_on_sigterm, interrupted_line, stop_on_sigterm
from authorid.cli.compress import compress_command
from authorid.cli.corpora import corpora_command
from authorid.cli.demo import demo_command
from authorid.cli.embed import embed_command
from authorid.cli.evaluate import compare_command, evaluate_command
from authorid.cli.explain import explain_command
from authorid.cli.fuse import fuse_command
from authorid.cli.index import index_app, link_command
from authorid.cli.ingest import ingest_command
from authorid.cli.score import calibrate_command, score_command
from authorid.cli.train import CONTEXT_SETTINGS, train_command

app = typer.Typer(
    name="authorid",
    help="authorid: who wrote what on forums. Link accounts, verify authorship, cluster accounts into persons.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("corpora")(corpora_command)
app.command("ingest")(ingest_command)
app.command("train", context_settings=CONTEXT_SETTINGS)(train_command)
app.command("fuse")(fuse_command)
app.command("compress")(compress_command)
app.command("embed")(embed_command)
app.command("calibrate")(calibrate_command)
app.command("score")(score_command)
app.add_typer(index_app, name="index")
app.command("link")(link_command)
app.command("cluster")(cluster_command)
app.command("explain")(explain_command)
app.command("attribute")(attribute_command)
app.command("evaluate")(evaluate_command)
app.command("compare")(compare_command)
app.command("demo")(demo_command)


def main(args: Sequence[str] | None = None) -> None:
    """The `authorid` program: `app`, with a malformed command line (an option's value of the wrong type, a
    missing argument, an unknown option) told in one line on stderr, exit status 2, as every other bad input is;
    typer would draw it in a box under the usage text. SIGTERM stops a command as Ctrl-C does."""
    stop_on_sigterm()
    try:
        _run(args)
    finally:
        finish_on_sigterm()  # the command has ended: a stop during shutdown is let pass


def _run(args: Sequence[str] | None) -> None:
    """`app` on `args`, with typer's own errors said in one line (see `main`)."""
    try:
        status = app(args=args, prog_name="authorid", standalone_mode=False)
    except KeyboardInterrupt as exc:  # a stop between a command's end and `finish_on_sigterm`
        line, code = interrupted_line(exc)
        err_console.print(line)
        sys.exit(code)
    except typer.Abort:
        print("authorid: aborted", file=sys.stderr)
        sys.exit(1)
    except typer.TyperException as exc:  # typer's (vendored) click.ClickException: UsageError, BadParameter
        code = getattr(exc, "exit_code", 2)
        if type(exc).__name__ != "NoArgsIsHelpError":  # the help text is already printed; nothing to add
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "authorid"
            message = " ".join(exc.format_message().split())
            print(f"{where}: {message} (see '{where} --help')", file=sys.stderr)
        sys.exit(code)
    sys.exit(status if isinstance(status, int) else 0)
