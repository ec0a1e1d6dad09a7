"""`embed`: one vector per account (or per post) of a corpus, written as Parquet for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from authorid.io import atomic_write
from authorid.model import StyleModel

if TYPE_CHECKING:
    import datasets

LEVELS = ("account", "post")


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"--level must be 'account' or 'post', got {level!r}")


def embed(
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    out: str | Path,
    level: str = "account",
    batch_size: int = 64,
    progress: bool = False,
) -> Path:
    """Write account vectors (account_id, n_posts, vector) or post vectors (post_id, account_id, vector)."""
    check_level(level)
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
