"""`authorid embed MODEL CORPUS -o vectors.parquet`: one vector per account (or per post with --level post)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
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
from authorid.io import atomic_write

LEVELS = ("account", "post")


def model_for(spec: str, posts):
    """Load MODEL; a stylometric one is fitted on `posts` (no labels are used)."""
    from authorid.model import load_model

    return load_model(spec, fit_corpus=posts)


def embed(
    model, posts, *, out: Path, level: str = "account", batch_size: int = 64, progress: bool = False
) -> Path:
    """Write account vectors (account_id, n_posts, vector) or post vectors (post_id, account_id, vector)."""
    if level not in LEVELS:
        raise ValueError(f"--level must be 'account' or 'post', got {level!r}")
    if len(posts) == 0:
        raise ValueError("the corpus has no posts: nothing to embed")
    if level == "account":
        return model.embed_accounts(posts, progress=progress, batch_size=batch_size).to_parquet(out)
    vectors = np.ascontiguousarray(
        model.embed_posts(list(posts["text"]), progress=progress, batch_size=batch_size), dtype=np.float32
    )
    offsets = pa.array(np.arange(len(vectors) + 1, dtype=np.int32) * vectors.shape[1])
    table = pa.table(
        {
            "post_id": pa.array(posts["post_id"], type=pa.string()),
            "account_id": pa.array(posts["account_id"], type=pa.string()),
            "vector": pa.ListArray.from_arrays(
                offsets, pa.array(vectors.reshape(-1)), type=pa.list_(pa.float32())
            ),
        }
    )
    return atomic_write(out, lambda tmp: pq.write_table(table, tmp))


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
    if level not in LEVELS:  # before the (slow) model loading
        raise ValueError(f"--level must be 'account' or 'post', got {level!r}")
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
