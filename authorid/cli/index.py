"""`authorid index build|add` (enrol accounts) and `authorid link` (open-set top-k linking of query accounts)."""

from __future__ import annotations

import csv
import io
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
from authorid.cli.embed import model_for
from authorid.io import atomic_write_text

index_app = typer.Typer(
    help="Build an index of account vectors, or enrol more accounts into one.", no_args_is_help=True
)
IndexArgument = Annotated[Path, typer.Argument(help="An index folder written by `authorid index build`.")]


def _search_params(kind: str, ef_search: int | None, nprobe: int | None) -> dict:
    params = {}
    if ef_search is not None:
        params["ef_search"] = ef_search
    if nprobe is not None:
        params["nprobe"] = nprobe
    if params and kind == "exact":
        raise ValueError("--ef-search / --nprobe apply to faiss indexes (--kind hnsw|ivf|auto), not exact")
    return params


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
    from authorid.index.store import build_account_index
    from authorid.verification import Calibrator

    params = _search_params(kind, ef_search, nprobe)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    if len(posts) == 0:
        raise ValueError(f"corpus {corpus} has no posts: nothing to enrol")
    style_model = model_for(model, posts)
    calibrator = Calibrator.load(calibration) if calibration is not None else None
    index = build_account_index(style_model, model, posts, out, kind=kind, calibration=calibrator, **params)
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
    from authorid.index.store import open_index

    vector_index, style_model = open_index(index)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    if len(posts) == 0:
        raise ValueError(f"corpus {corpus} has no posts: nothing to enrol")
    vectors = style_model.embed_accounts(posts, progress=console.is_terminal)
    added = vector_index.add(vectors, on_duplicate=on_duplicate)
    vector_index.save(index)
    skipped = len(vectors) - added
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
    from authorid.index import COLUMNS, link
    from authorid.index.store import index_calibration, open_index
    from authorid.verification import Calibrator

    vector_index, style_model = open_index(index)
    posts, _ = read_corpus(query_corpus, map=map, preset=preset, on_error=on_error)
    if len(posts) == 0:
        raise ValueError(f"query corpus {query_corpus} has no posts: nothing to link")
    calibrator = (
        Calibrator.load(calibration) if calibration is not None else index_calibration(index, style_model)
    )
    queries = style_model.embed_accounts(posts, progress=console.is_terminal)
    links = link(vector_index, queries, k=k, calibration=calibrator, threshold=threshold)

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
        f"linked {len(queries) - links.n_unknown():,} of {len(queries):,} query accounts; "
        f"{links.n_unknown():,} unknown"
        + ("" if links.calibrated else " (no calibration: scores are cosines)"),
        soft_wrap=True,
    )
    if out is not None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(links.rows)
        atomic_write_text(out, buffer.getvalue())
        console.print(f"links: {out}", soft_wrap=True)
