"""`authorid corpora`: the corpus presets, their column maps, and whether their files are on this machine."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from authorid.cli.common import JsonOption, console, say, user_errors


@user_errors
def corpora_command(json: JsonOption = False) -> None:
    """List the corpus presets (names usable as CORPUS or --preset) and where their files are."""
    from authorid.workflows.corpora import corpora, searched_folders  # deferred: `--help` stays fast

    folders = [str(folder) for folder in searched_folders()]
    if json:
        found = [
            {
                "preset": preset.name,
                "aliases": list(preset.aliases),
                "description": preset.description,
                "columns": preset.columns,
                "path": None if preset.path is None else str(preset.path),
            }
            for preset in corpora()
        ]
        say({"presets": found, "searched": folders}, [], as_json=True)
        return

    table = Table(title="Corpus presets", header_style="bold")
    # folded, never cut with an ellipsis: the paths and column maps are what a user copies from this table
    table.add_column("preset", overflow="fold")
    table.add_column("description", overflow="fold")
    table.add_column("columns (source -> canonical)", overflow="fold")
    table.add_column("file on this machine", overflow="fold")
    for preset in corpora():
        columns = ", ".join(f"{s}->{t}" for s, t in preset.columns.items() if s != t)
        names = preset.name + (f" ({', '.join(preset.aliases)})" if preset.aliases else "")
        where = Text(str(preset.path)) if preset.path else Text("not found", style="red")
        table.add_row(names, preset.description, columns, where)
    console.print(table)
    # where a preset's file is looked for, so "not found" says where to put it (audit 11)
    console.print(
        f"searched, in order: {', '.join(folders)} (AUTHORID_CORPORA adds folders before them)",
        soft_wrap=True,
    )
