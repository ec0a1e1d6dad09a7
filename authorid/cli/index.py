"""`authorid index build|add` (enrol accounts) and `authorid link` (open-set top-k linking of query accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from authorid.cli.common import (
    CorpusArgument,
    MapOption,
    ModelArgument,
    OnErrorOption,
    PresetOption,
    console,
    read_corpus,
    user_errors,
)

index_app = typer.Typer(
    help="Build an index of account vectors, or enrol more accounts into one.", no_args_is_help=True
)
IndexArgument = Annotated[Path, typer.Argument(help="An index folder written by `authorid index build`.")]


@index_app.command("build")
@user_errors
def index_build_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Index folder to write.")],
    kind: Annotated[
        str, typer.Option(help="'auto' (exact below 50k accounts, else hnsw), 'exact', 'hnsw', 'ivf'.")
    ] = "auto",
    ef_search: Annotated[int | None, typer.Option(help="HNSW efSearch (recall vs speed).")] = None,
    nprobe: Annotated[int | None, typer.Option(help="IVF cells scanned per query.")] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json to keep in the index for `link`.")
    ] = None,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Embed the accounts of CORPUS and build a searchable index of them."""
    from authorid.workflows.common import load_calibration, model_for  # deferred: loads torch
    from authorid.workflows.index import build_account_index, search_params  # deferred: as above

    params = search_params(kind, ef_search, nprobe)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, empty="nothing to enrol")
    style_model = model_for(model, posts)
    calibrator = load_calibration(calibration) if calibration is not None else None
    index = build_account_index(
        style_model,
        model,
        posts,
        out,
        kind=kind,
        calibration=calibrator,
        progress=console.is_terminal,
        **params,
    )
    console.print(
        f"enrolled {len(index):,} accounts ({index.kind} index, {index.dim} dims, model {model})",
        soft_wrap=True,
    )
    console.print(f"index: {out}", soft_wrap=True)


@index_app.command("add")
@user_errors
def index_add_command(
    index: IndexArgument,
    corpus: CorpusArgument,
    on_duplicate: Annotated[
        str, typer.Option(help="'raise': stop at an account already enrolled; 'skip': count and skip them.")
    ] = "raise",
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Enrol the accounts of CORPUS into an existing index (same model, no rebuild)."""
    from authorid.workflows.index import add_accounts  # deferred: loads torch; `--help` stays fast

    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, empty="nothing to enrol")
    vector_index, added, offered = add_accounts(
        index, posts, on_duplicate=on_duplicate, progress=console.is_terminal
    )
    skipped = offered - added
    console.print(
        f"enrolled {added:,} new accounts, {len(vector_index):,} in all"
        + (f" ([yellow]{skipped:,} already enrolled, skipped[/yellow])" if skipped else ""),
        soft_wrap=True,
    )
    console.print(f"index: {index}", soft_wrap=True)


@user_errors
def link_command(
    index: IndexArgument,
    query_corpus: CorpusArgument,
    k: Annotated[int, typer.Option("-k", help="Candidates per query account.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write every candidate row to this CSV.")
    ] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json (default: the index's, else the model's).")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Link only above this (probability when calibrated, else cosine); default: the calibration's."
        ),
    ] = None,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Rank enrolled accounts for each account of QUERY_CORPUS; 'unknown' when no candidate passes (open set)."""
    from authorid.workflows.link import link_accounts, write_links  # deferred: loads torch

    posts, _ = read_corpus(query_corpus, map=map, preset=preset, on_error=on_error, empty="nothing to link")
    links, n_queries = link_accounts(
        index, posts, k=k, calibration=calibration, threshold=threshold, progress=console.is_terminal
    )

    table = Table(
        title=f"top candidate per query ({'calibrated P(same person)' if links.calibrated else 'cosine'})"
    )
    for column in ("query", "best candidate", "score", "link"):
        table.add_column(column)
    for row in (r for r in links.rows if r["rank"] == 1):
        score = row["probability"] if links.calibrated else row["cosine"]
        table.add_row(row["query_account"], row["account_id"], f"{score:.3f}", row["link"])
    console.print(table)
    console.print(
        f"linked {n_queries - links.n_unknown():,} of {n_queries:,} query accounts; "
        f"{links.n_unknown():,} unknown"
        + ("" if links.calibrated else " (no calibration: scores are cosines)"),
        soft_wrap=True,
    )
    if out is not None:
        console.print(f"links: {write_links(out, links)}", soft_wrap=True)
