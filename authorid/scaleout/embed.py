"""Account vectors on Ray: Ray Data groups the posts into shards of whole accounts, actors embed the shards.

Each actor gets the model once (when it starts) and turns a shard's posts into per-account rows that do not
depend on any other shard: a transformer's pooled account vectors, or an n-gram model's two path outputs
before centring. What needs every account at once, the n-gram model's centre (the mean of the accounts
embedded together), is applied here afterwards, so the vectors equal `StyleModel.embed_accounts`'s (within
float error) whichever shard an account landed in. Accounts come back in the local order (of each
account's first post).

Shards: a stable hash (CRC-32) of the account id, so an account's posts are always in one shard. Ray Data
retries a shard whose actor dies (actors are restarted), and nothing is written until every shard is back.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from authorid.data.arrow import read_columns
from authorid.encoders.ngram import summed_counts
from authorid.encoders.size_centre import CentreSums
from authorid.errors import AuthoridError
from authorid.model import StyleModel
from authorid.scaleout.session import cluster_cpus
from authorid.vectors import AccountVectors, characters_per_group, group_by_first_appearance

if TYPE_CHECKING:
    import datasets

#: Posts per shard, about: small enough that shards spread over every worker, large enough that each call
#: amortises the encoder's set-up.
SHARD_POSTS = 20_000
#: Kinds whose account rows a shard can compute alone (a stylometric model is fitted on the whole corpus; a
#: fused model would need each part's own finishing step). A projected (compact) model is shardable when its
#: base is.
SHARDABLE = ("neural", "ngram")


def _embedding_model(model: StyleModel) -> StyleModel:
    """The model that turns posts into vectors: the model itself, or the base of a compact (projected) model."""
    return model.encoder.base if model.kind == "projected" else model


def _ngram_base(model: StyleModel) -> StyleModel | None:
    """The n-gram model whose centre must be applied after every shard is back: the model itself, or the base
    of a compact model; None when there is none."""
    inner = _embedding_model(model)
    return inner if inner.kind == "ngram" else None


def embed_accounts(
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    ray=None,
    parquet: str | Path | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> AccountVectors:
    """`model.embed_accounts(posts)` here (ray None) or on the connected Ray cluster (`ray`, from
    `engine_session`); `parquet`: the same posts as a file Ray Data may read itself."""
    if ray is None:
        return model.embed_accounts(posts, progress=progress, batch_size=batch_size)
    return embed_accounts_on_ray(ray, model, posts, parquet=parquet, batch_size=batch_size, progress=progress)


def embed_accounts_on_ray(
    ray,
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    parquet: str | Path | None = None,
    shards: int | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> AccountVectors:
    """Account vectors of `posts` (columns account_id, text) computed on the connected Ray cluster.

    parquet: the same posts as a Parquet file (an `authorid ingest` output): Ray Data reads it itself (on a real
    cluster, on the nodes), so the texts are not copied from this process into Ray's object store; this
    process reads only what it needs for the order of the accounts. shards: how many groups of accounts
    (default: one per SHARD_POSTS posts, at least two per CPU of the cluster)."""
    inner = _embedding_model(model)
    if inner.kind not in SHARDABLE:
        raise AuthoridError(
            f"--engine ray embeds with a transformer or n-gram model; {inner.name} is a {inner.kind} model"
            " (fitted on, or finished over, the whole corpus): use --engine local"
        )
    if inner.centres_on_corpus:
        if inner is not model:
            raise AuthoridError(
                f"--engine ray: the compact model {model.name} projects a transformer model centred on the whole"
                " corpus; use --engine local"
            )
        # The centre is the mean of every account: the shards pool, this process centres.
        raw = embed_accounts_on_ray(
            ray,
            model.uncentred(),
            posts,
            parquet=parquet,
            shards=shards,
            batch_size=batch_size,
            progress=progress,
        )
        return model.centred_vectors(raw)
    account_ids, groups = group_by_first_appearance(list(posts["account_id"]))
    if not account_ids:
        raise ValueError("the corpus has no posts: nothing to embed")
    workers = cluster_cpus(ray)
    shards = shards or max(2 * workers, -(-len(posts) // SHARD_POSTS))
    _data_context(ray, progress)
    if parquet is not None:
        dataset = ray.data.read_parquet(str(parquet)).select_columns(["account_id", "text"])
    else:
        # read_columns honours the rows cleaning kept (the Dataset's own `.data.table` is every row read)
        dataset = ray.data.from_arrow(read_columns(posts, ["account_id", "text"]))
    rows = (
        dataset.map_batches(_with_shard, fn_kwargs={"shards": shards}, batch_format="pyarrow")
        .groupby("shard", num_partitions=shards)
        .map_groups(
            ShardEmbedder,
            # The model travels once through the object store; each actor fetches it when it starts.
            fn_constructor_kwargs={"model": [ray.put(model)], "batch_size": batch_size},
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=min(workers, shards)),
            num_cpus=1,
        )
    )
    n_posts = np.bincount(groups, minlength=len(account_ids))
    refs = rows.to_arrow_refs()
    if model.kind == "projected" and _ngram_base(model) is not None:
        return _assemble_projected(ray, model, refs, account_ids, n_posts)
    table = pa.concat_tables([part for part in (ray.get(ref) for ref in refs) if part.num_rows])
    return _assemble(model, table, account_ids, n_posts)


def _data_context(ray, show_progress: bool) -> None:
    context = ray.data.DataContext.get_current()  # importing ray.data configures its loggers
    # Ray Data logs every execution plan (and, off a terminal, its progress) at INFO; its bars are enough.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context.enable_progress_bars = show_progress
    context.print_on_execution_start = show_progress
    # A sort-based shuffle starts no aggregator actors: on a 40-account corpus the job took 14 s, not 25 s.
    context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED


def _with_shard(batch: pa.Table, shards: int) -> pa.Table:
    """`batch` with a `shard` column: CRC-32 of the account id modulo `shards` (stable across runs and
    machines, unlike Python's salted `hash`)."""
    ids = batch.column("account_id").to_pylist()
    shard = np.fromiter((zlib.crc32(str(a).encode()) % shards for a in ids), dtype=np.int32, count=len(ids))
    return batch.append_column("shard", pa.array(shard))


class ShardEmbedder:
    """A Ray actor's work: the model, received once, turns each shard of whole accounts into account rows."""

    def __init__(self, model: list, batch_size: int = 64) -> None:
        import ray
        import torch

        torch.set_num_threads(1)  # one CPU per actor: Ray runs as many actors as the cluster has CPUs
        # `model` is [a reference to the model in Ray's object store], wrapped so Ray passes the reference.
        self.model: StyleModel = ray.get(model[0])
        self.batch_size = batch_size

    def __call__(self, shard: pa.Table) -> pa.Table:
        account_ids, groups = group_by_first_appearance(shard.column("account_id").to_pylist())
        texts = shard.column("text").to_pylist()
        ngram = _ngram_base(self.model)
        if ngram is not None:  # the full-width rows before centring: the centre needs every shard
            encoder = ngram.encoder
            summed = summed_counts(encoder.counts(texts, jobs=1), groups, len(account_ids))
            rows, has_text = encoder.raw_paths(summed)
        else:
            rows = self.model.embed_groups(texts, groups, len(account_ids))
            has_text = np.ones(len(account_ids), dtype=bool)
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        return pa.table(
            {
                "account_id": pa.array(account_ids, type=pa.string()),
                "n_posts": pa.array(np.bincount(groups, minlength=len(account_ids)).astype(np.int64)),
                "n_chars": pa.array(characters_per_group(texts, groups, len(account_ids))),
                "has_text": pa.array(has_text),
                "row": pa.FixedSizeListArray.from_arrays(pa.array(rows.reshape(-1)), rows.shape[1]),
            }
        )


def _assemble(
    model: StyleModel, table: pa.Table, account_ids: list[str], n_posts: np.ndarray
) -> AccountVectors:
    """The shards' rows in the local order, finished as the model finishes them (an n-gram model centres
    them on their mean), as AccountVectors carrying the model's identity."""
    got = table.column("account_id").to_pylist()
    if len(got) != len(account_ids) or set(got) != set(account_ids):
        missing = len(set(account_ids) - set(got))
        raise AuthoridError(
            f"Ray returned {len(got)} accounts where the corpus has {len(account_ids)} ({missing} missing)"
        )
    position = {a: i for i, a in enumerate(got)}
    take = np.fromiter((position[a] for a in account_ids), dtype=np.int64, count=len(account_ids))
    flat = table.column("row").combine_chunks()
    rows = flat.flatten().to_numpy().reshape(len(got), -1)[take]
    has_text = table.column("has_text").to_numpy()[take]
    if not np.array_equal(table.column("n_posts").to_numpy()[take], n_posts):
        raise AuthoridError("the posts Ray read differ from the corpus's: the accounts' post counts differ")
    centre = None
    if model.kind == "ngram":
        encoder = model.encoder
        centre = encoder.centre_for(rows, has_text, n_posts)
        rows = encoder.vectors_of(rows, has_text, centre, n_posts, out=rows)
    n_chars = table.column("n_chars").to_numpy()[take]
    vectors = AccountVectors(account_ids=list(account_ids), vectors=rows, n_posts=n_posts, n_chars=n_chars)
    vectors.model = model.identity()
    vectors.centre = centre if model.centres_on_enrolled else None  # as `StyleModel.embed_accounts` keeps it
    return vectors


def _assemble_projected(
    ray, model: StyleModel, refs: list, account_ids: list[str], n_posts: np.ndarray
) -> AccountVectors:
    """A compact model over an n-gram base: the shards' full-width rows are read twice from Ray's object
    store, once to sum them into the base's centre, then shard by shard to centre, finish and project them, so
    all accounts' full-width rows (7.5 GB on the Reddit dump) are never held here at once."""
    base = _ngram_base(model).encoder
    position = {a: i for i, a in enumerate(account_ids)}
    sums, seen = CentreSums(base.dim), 0
    for ref in refs:
        part = ray.get(ref)
        if not part.num_rows:
            continue
        sums.add(_rows(part), part.column("n_posts").to_numpy(), part.column("has_text").to_numpy())
        seen += part.num_rows
    if seen != len(account_ids):
        raise AuthoridError(f"Ray returned {seen} accounts where the corpus has {len(account_ids)}")
    centre = base.centre_from_sums(sums)
    out = np.zeros((len(account_ids), model.dim), dtype=np.float32)
    n_chars = np.zeros(len(account_ids), dtype=np.int64)
    for ref in refs:
        part = ray.get(ref)
        if not part.num_rows:
            continue
        ids = part.column("account_id").to_pylist()
        if any(a not in position for a in ids):
            raise AuthoridError("Ray returned accounts that are not in the corpus")
        take = np.fromiter((position[a] for a in ids), dtype=np.int64, count=len(ids))
        if not np.array_equal(part.column("n_posts").to_numpy(), n_posts[take]):
            raise AuthoridError(
                "the posts Ray read differ from the corpus's: the accounts' post counts differ"
            )
        has_text = part.column("has_text").to_numpy()
        n_chars[take] = part.column("n_chars").to_numpy()
        rows = np.array(_rows(part))  # a writable copy of this shard only
        out[take] = model.encoder.project(base.vectors_of(rows, has_text, centre, n_posts[take], out=rows))
    vectors = AccountVectors(account_ids=list(account_ids), vectors=out, n_posts=n_posts, n_chars=n_chars)
    vectors.model = model.identity()
    vectors.centre = centre if model.centres_on_enrolled else None
    return vectors


def _rows(part: pa.Table) -> np.ndarray:
    """A shard's `row` column as an (accounts, width) float32 array (read-only: Arrow's memory)."""
    flat = part.column("row").combine_chunks().flatten().to_numpy()
    return flat.reshape(part.num_rows, -1)
