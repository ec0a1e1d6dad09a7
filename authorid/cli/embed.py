"""`authorid embed MODEL CORPUS -o vectors.parquet`: one vector per account (or per post with --level post)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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


@user_errors
def embed_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the vectors (.parquet).")],
    level: Annotated[
        str, typer.Option(help="'account': one vector per account; 'post': one per post.")
    ] = "account",
    batch_size: Annotated[int, typer.Option(help="Posts per encoder batch.")] = 64,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Embed a corpus with a style model: account vectors (default) or post vectors, as Parquet."""
    from authorid.workflows.common import model_for  # deferred: loads torch; `--help` stays fast
    from authorid.workflows.embed import check_level, embed  # deferred with the workflow above

    check_level(level)  # before the (slow) model loading
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    style_model = model_for(model, posts)
    path = embed(
        style_model, posts, out=out, level=level, batch_size=batch_size, progress=console.is_terminal
    )
    rows = len(posts) if level == "post" else len(set(posts["account_id"]))
    console.print(
        f"embedded {rows:,} {level}s with {style_model.name} ({style_model.dim} dims)", soft_wrap=True
    )
    console.print(f"vectors: {path}", soft_wrap=True)
