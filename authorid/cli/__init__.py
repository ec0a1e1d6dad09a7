"""The `authorid` command line. Each command module pairs a thin typer function with a plain Python function.

Commands: `corpora`, `ingest`, `demo` (and more as the toolkit grows).
"""

from __future__ import annotations

import typer

from authorid.cli.corpora import corpora_command
from authorid.cli.demo import demo_command
from authorid.cli.ingest import ingest_command

app = typer.Typer(
    name="authorid",
    help="authorid: who wrote what on forums. Link accounts, verify authorship, cluster accounts into persons.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("corpora")(corpora_command)
app.command("ingest")(ingest_command)
app.command("demo")(demo_command)
