"""IngestReport: every record read, changed, skipped or dropped on the way in is counted here.

Readers and cleaning steps add to one report, so a user sees in one table what happened to the dump.
Nothing is filtered silently: a step that removes posts records how many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from authorid.io import atomic_write_text


@dataclass
class IngestReport:
    """Counts from reading and cleaning a corpus.

    `read`: counts from the readers (records read, records skipped for errors, replaced bytes, ...).
    `changed`: posts whose text a cleaning step modified (entities unescaped, quotes stripped, urls masked, ...).
    `dropped`: posts removed by a filter (empty, too short, duplicate, account below minimum, cap, ...).
    `errors`: the first few error messages of skipped records (with `--on-error skip`), for the user to inspect.
    """

    sources: list[str] = field(default_factory=list)
    column_map: dict[str, str] = field(default_factory=dict)
    #: each file's map (canonical -> source), kept when a folder's files name their columns differently
    file_column_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    posts_out: int | None = None
    accounts_out: int | None = None
    #: accounts whose every post a filter dropped (in memory only: a forum's minimum can drop 100k), so a command
    #: can say why an account it was asked about is gone
    emptied_accounts: set[str] = field(default_factory=set, repr=False)
    #: the lines of the file being read whose bytes are not UTF-8 (the first few; in memory only): the reader
    #: refuses the file under --on-error raise, and names them under skip
    undecodable_lines: list[int] = field(default_factory=list, repr=False)
    undecodable_in_file: int = field(default=0, repr=False)

    MAX_ERRORS_KEPT = 20
    EMPTIED_KEPT = 1000

    def count_read(self, key: str, n: int = 1) -> None:
        self.read[key] = self.read.get(key, 0) + n

    def count_changed(self, key: str, n: int = 1) -> None:
        self.changed[key] = self.changed.get(key, 0) + n

    def count_dropped(self, key: str, n: int = 1) -> None:
        self.dropped[key] = self.dropped.get(key, 0) + n

    def note_error(self, message: str) -> None:
        self.count_read("skipped_errors")
        if len(self.errors) < self.MAX_ERRORS_KEPT:
            self.errors.append(message)

    def note_warning(self, message: str) -> None:
        """A record kept that looks wrong (e.g. a CSV field that may have swallowed records): counted, and the
        first few messages kept for the user to inspect."""
        self.count_read("warnings")
        if len(self.warnings) < self.MAX_ERRORS_KEPT:
            self.warnings.append(message)

    def note_undecodable(self, line: int) -> None:
        """A line whose bytes are not UTF-8, read with U+FFFD in their place: counted, and its number kept."""
        self.count_read("lines_with_undecodable_bytes_replaced")
        self.undecodable_in_file += 1
        if len(self.undecodable_lines) < self.MAX_ERRORS_KEPT:
            self.undecodable_lines.append(line)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add another report's counts to this one (e.g. cleaning after reading). Returns self."""
        for mine, theirs in (
            (self.read, other.read),
            (self.changed, other.changed),
            (self.dropped, other.dropped),
        ):
            for key, n in theirs.items():
                mine[key] = mine.get(key, 0) + n
        self.sources += [s for s in other.sources if s not in self.sources]
        self.column_map = self.column_map or other.column_map
        self.errors += other.errors[: max(0, self.MAX_ERRORS_KEPT - len(self.errors))]
        self.warnings += other.warnings[: max(0, self.MAX_ERRORS_KEPT - len(self.warnings))]
        self.emptied_accounts |= other.emptied_accounts
        if other.posts_out is not None:
            self.posts_out, self.accounts_out = other.posts_out, other.accounts_out
        return self

    def to_dict(self) -> dict:
        return {
            "sources": self.sources,
            "column_map": self.column_map,
            "file_column_maps": self.file_column_maps,
            "read": self.read,
            "changed": self.changed,
            "dropped": self.dropped,
            "posts_out": self.posts_out,
            "accounts_out": self.accounts_out,
            "errors": self.errors,
            "warnings": self.warnings,
            # accounts whose every post cleaning dropped: absent from the output, so counted and named here (the
            # first EMPTIED_KEPT by name: --min-posts can empty 100k accounts of a forum)
            "emptied_accounts": {
                "count": len(self.emptied_accounts),
                "first": sorted(self.emptied_accounts)[: self.EMPTIED_KEPT],
            },
        }

    def column_map_said(self) -> str:
        """The column map as a command prints it: `author -> account_id, body -> text`; where a folder's files
        map differently, each map with the files it holds for (the first file's alone once read as all of them)."""

        def said(mapping: dict[str, str]) -> str:
            return ", ".join(f"{source} -> {target}" for target, source in mapping.items())

        if not self.file_column_maps:
            return said(self.column_map)
        groups: dict[str, list[str]] = {}
        for name, mapping in self.file_column_maps.items():
            groups.setdefault(said(mapping), []).append(Path(name).name)
        return "; ".join(
            f"{text} ({len(names)} file{'s' if len(names) > 1 else ''}: {', '.join(names[:3])}"
            + (", ..." if len(names) > 3 else "")
            + ")"
            for text, names in groups.items()
        )

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    def to_rich_table(self):
        """A rich Table for the terminal: one row per count, grouped."""
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Ingest report", show_header=True, header_style="bold")
        table.add_column("stage")
        table.add_column("what")
        table.add_column("count", justify="right")  # posts, mostly; records, lines, characters where it says
        for stage, counts in (("read", self.read), ("changed", self.changed), ("dropped", self.dropped)):
            for key, n in counts.items():
                table.add_row(stage, key.replace("_", " "), f"{n:,}")
        if self.emptied_accounts:
            table.add_row("dropped", "accounts left with no post", f"{len(self.emptied_accounts):,}")
        if self.posts_out is not None:
            kept = Text("kept", style="bold")
            table.add_row(kept, "posts", Text(f"{self.posts_out:,}", style="bold"))
            table.add_row(kept, "accounts", Text(f"{self.accounts_out:,}", style="bold"))
        return table


def report_path_for(posts_path: Path) -> Path:
    """Where `authorid ingest` writes the report of `posts.parquet`: `posts.report.json` beside it."""
    stem = posts_path.name[: -len(".parquet")] if posts_path.suffix.lower() == ".parquet" else posts_path.name
    return posts_path.with_name(stem + ".report.json")


def cleaning_said(cleaning: dict | list | None) -> str:
    """A command's record of cleaning (its --json `cleaning`: one corpus's, or a list), in a few words, for
    places that compare runs: a run on raw posts and one on cleaned posts read different text."""
    if not cleaning:
        return "cleaning not recorded"
    if isinstance(cleaning, list):
        return "; ".join(map(cleaning_said, cleaning))
    if "read_as_it_is" in cleaning:
        return "ingested, read as it is"
    dropped = sum((cleaning.get("dropped") or {}).values())
    changed = sum((cleaning.get("changed") or {}).values())
    return f"cleaned ({changed:,} changes, {dropped:,} of {cleaning.get('posts_read', 0):,} posts dropped)"
