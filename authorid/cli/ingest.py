"""`authorid ingest DUMP -o posts.parquet`: read, clean, write, and print what happened to every record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    JsonOption,
    MapOption,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    check_seed,
    console,
    first_named,
    say,
    styled,
    user_errors,
)

Cleaning = "Cleaning (every step optional)"


@user_errors
def ingest_command(
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the cleaned posts (.parquet).")],
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    limit: Annotated[int | None, typer.Option(help="Stop after reading this many posts.")] = None,
    unescape_html: Annotated[
        bool, typer.Option(help="Unescape &amp; &gt; ...", rich_help_panel=Cleaning)
    ] = True,
    normalize: Annotated[
        bool, typer.Option(help="Unicode NFC and whitespace.", rich_help_panel=Cleaning)
    ] = True,
    strip_quotes: Annotated[
        bool, typer.Option(help="Strip '>' quoted lines and \\[quote] blocks.", rich_help_panel=Cleaning)
    ] = True,
    mask: Annotated[
        bool, typer.Option(help="Mask urls, e-mails, @mentions, u/names.", rich_help_panel=Cleaning)
    ] = True,
    drop_retweets: Annotated[bool, typer.Option(help="Drop 'RT @' texts.", rich_help_panel=Cleaning)] = True,
    min_chars: Annotated[
        int, typer.Option(help="Drop texts shorter than this.", rich_help_panel=Cleaning)
    ] = 1,
    dedupe: Annotated[
        bool, typer.Option(help="Drop exact duplicates within an account.", rich_help_panel=Cleaning)
    ] = True,
    min_posts: Annotated[
        int, typer.Option(help="Drop accounts with fewer posts.", rich_help_panel=Cleaning)
    ] = 1,
    max_posts: Annotated[
        int | None, typer.Option(help="Seeded cap on posts per account.", rich_help_panel=Cleaning)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the cap.", rich_help_panel=Cleaning)] = 0,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
) -> None:
    """Read a forum dump, clean it, and write canonical posts to Parquet (report beside it)."""
    check_seed(seed)
    for flag, value, least in (
        ("--min-chars", min_chars, 0),
        ("--min-posts", min_posts, 1),
        ("--max-posts", max_posts, 1),
    ):
        if value is not None and value < least:
            raise ValueError(f"{flag} must be >= {least}, got {value}")
    if out.suffix.lower() != ".parquet":  # every reader takes the file by its suffix
        raise ValueError(f"-o {out}: ingest writes Parquet; name the file .parquet")
    from authorid.workflows.ingest import CleanConfig, ingest  # deferred: `--help` stays fast

    config = CleanConfig(
        unescape_html=unescape_html,
        normalize_unicode=normalize,
        normalize_whitespace=normalize,
        strip_quotes=strip_quotes,
        mask_urls=mask,
        mask_emails=mask,
        mask_mentions=mask,
        drop_retweets=drop_retweets,
        min_chars=min_chars,
        dedupe_within_account=dedupe,
        min_posts_per_account=min_posts,
        max_posts_per_account=max_posts,
        seed=seed,
    )
    result = ingest(
        corpus,
        out=out,
        columns=map,
        preset=preset,
        on_error=on_error,
        limit=limit,
        clean_config=config,
        overwrite=overwrite,
        progress=True,
    )
    report = result.report
    if json:
        summary = {**report.to_dict(), "posts": str(result.posts_path), "report": str(result.report_path)}
        say(summary, [], as_json=True)
        return
    console.print(styled("columns:", "dim", f" {report.column_map_said()}"), soft_wrap=True)
    console.print(report.to_rich_table())
    if emptied := sorted(report.emptied_accounts):
        named = first_named(emptied)
        kept = (
            "names them"
            if len(emptied) <= report.EMPTIED_KEPT
            else f"names the first {report.EMPTIED_KEPT:,}"
        )
        said = f" {len(emptied):,} accounts left with no post, and so absent from the output: {named}"
        said += f" (the report {kept})"
        console.print(styled("dropped:", "yellow", said), soft_wrap=True)
    for message in report.errors[:5]:
        console.print(styled("skipped:", "yellow", f" {message}"), soft_wrap=True)
    for message in report.warnings[:5]:
        console.print(styled("warning:", "yellow", f" {message}"), soft_wrap=True)
    say({}, [f"posts:  {result.posts_path}", f"report: {result.report_path}"], as_json=False)
