"""`embed`: one vector per account (or per post) of a corpus, written as Parquet for other tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from authorid.artefacts import check_output_file
from authorid.index.base import META_FILE as INDEX_META_FILE
from authorid.index.opening import load_index_model
from authorid.io import atomic_write
from authorid.model import StyleModel
from authorid.scaleout import engine_session
from authorid.scaleout.embed import embed_accounts
from authorid.workflows.common import ingested, model_before_corpus

if TYPE_CHECKING:
    import datasets

LEVELS = ("account", "post")


def parquet_ray_can_read(corpus: str | Path, posts: datasets.Dataset, *, mapped: bool) -> Path | None:
    """`corpus` when it is one Parquet file of canonical posts written by `authorid ingest` (so read as it is,
    not cleaned again: `workflows.common.ingested`) holding exactly the posts read from it, so Ray Data may read
    it itself; else None (the posts read, and cleaned, here go to Ray)."""
    path = Path(corpus)
    if mapped or not ingested(path):
        return None
    schema = pq.read_schema(path)
    canonical = {"account_id", "text"} <= set(schema.names)
    return path if canonical and pq.ParquetFile(path).metadata.num_rows == len(posts) else None


def embedding_model(spec: str) -> StyleModel | str:
    """MODEL as `model_before_corpus` loads it; for an index folder, the index's model: an n-gram or centred
    transformer model fixed to its enrolled accounts' centre, as `link` embeds queries (MODEL's own centres each
    corpus on itself, so `link --vectors` refuses what it embeds)."""
    if (Path(spec) / INDEX_META_FILE).is_file():
        return load_index_model(spec)
    return model_before_corpus(spec)


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
    engine: str = "local",
    ray_address: str | None = None,
    parquet: str | Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Write account vectors (account_id, n_posts, vector) or post vectors (post_id, account_id, vector) to
    the Parquet file `out` (an existing file is refused unless `overwrite`, as `authorid embed` refuses it).

    engine: "local" (here) or "ray" (account vectors on a Ray cluster: `ray_address`, else a local one;
    `parquet`, the same posts as a Parquet file, lets Ray Data read them itself); the vectors are the same."""
    check_level(level)
    check_output_file(out, overwrite=overwrite, option="out", writes=("embed", "Parquet"))
    if len(posts) == 0:
        raise ValueError("the corpus has no posts: nothing to embed")
    if level == "account":
        with engine_session(engine, ray_address) as ray:
            vectors = embed_accounts(
                model, posts, ray=ray, parquet=parquet, batch_size=batch_size, progress=progress
            )
        return vectors.to_parquet(out)
    if engine != "local":
        raise ValueError("--engine ray embeds accounts; post vectors (--level post) are embedded locally")
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
