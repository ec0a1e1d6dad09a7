"""Benchmark: 1,000,000 accounts linked and clustered with the compact model (issue 18), on 2 cores.

    .venv/bin/python scripts/bench_million.py                         # every section, in order (~1 h)
    .venv/bin/python scripts/bench_million.py --sections index --sizes 300000   # one section, merged in

Sections, each merged into `benchmarks/results/million.json` as it finishes:
- ``compact``: linking quality of `style` at full width (16,512) against compact models (`authorid compress
  style`) of 128 / 256 / 512 dimensions, float16 and float32, on the Reddit `cpu` protocol of
  scripts/bench_quality.py (the same 1,000 held-out accounts, halves of their 8 newest posts, the same scoring).
  The projection is fitted on the Reddit *training* pool only (the `authorid compress` sample of it), never on
  the test accounts. Chooses the width: the smallest whose MRR is within --mrr-tolerance of style's.
- ``vectors``: the 1,000,000 + 1,000 account vectors (the recipe below), embedded with the chosen compact model
  and cached under runs/million/ (float32, not committed), checked against `StyleModel.embed_accounts`.
- ``index``: exact (faiss IndexFlatIP, the reference), IVF-Flat and HNSW (`authorid.index.build_index`) per
  size: build time, memory, median single-query top-10 latency (1,000 queries held out of the index, one at a
  time), recall@10 against exact, over a sweep of nprobe / efSearch; at the largest size also each kind as a
  kNN-graph builder (every enrolled vector searched in batches, as clustering needs).
- ``cluster``: `authorid.clustering.cluster_accounts` on the 1,000,000 vectors (method "average", k=10, a
  cosine threshold: the compact model's cosines are not style's, so style's calibration does not apply), in a
  fresh process for its own peak RSS.

Recipe of the vectors: every account of the whole ingested reddit_college corpus (`authorid ingest` defaults),
1,000 of them (seeded) held out as queries, plus pseudo-accounts of 8 distinct real posts each, drawn uniformly
at random (seeded) from all the corpus' posts, until the index holds 1,000,000 accounts. Embedding 8M posts one
by one would take hours, so every post is featurised once (`NgramEncoder.counts`), each account's counts summed
with a sparse assignment matrix, chunk by chunk, run through `raw_paths`, centred on the mean of the real
accounts (`NgramEncoder.fixed_to` over them, what an index of the real accounts keeps) and projected by the
compact model: the vectors `embed_accounts` of the compact model, its base fixed to that centre, gives.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from benchlib.machine import machine, rss_mb  # noqa: E402
from benchlib.results import load_results, save_stamped  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "million.json"
WORK = REPO / "runs" / "million"
QUALITY_CACHE = REPO / "runs" / "bench_quality" / "cache"  # the ingested corpus bench_quality caches
SECTIONS = ("compact", "vectors", "index", "cluster")
POSTS_PER_PSEUDO = 8
K = 10
logger = logging.getLogger("bench_million")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def compact_folder(dim: int, storage: str = "float16") -> Path:
    return WORK / "models" / f"compact-{dim}-{storage}"


# ------------------------------------------------------------------------------------------------- corpus


class Corpus:
    """The ingested Reddit corpus: posts, every post's counts, each post's account (row of `account_ids`)."""

    def __init__(self, style) -> None:
        from benchlib.million import corpus_counts
        from benchlib.settings import ingested

        from authorid.vectors import group_by_first_appearance

        self.posts = ingested("reddit_college", QUALITY_CACHE)
        started = time.perf_counter()
        cached = any(WORK.glob(f"counts-{self.posts.num_rows}-*.npz"))
        self.counts = corpus_counts(self.posts, style.encoder, WORK)
        self.counts_seconds = None if cached else round(time.perf_counter() - started, 1)
        self.account_ids, self.account_of = group_by_first_appearance(list(self.posts["account_id"]))
        self.n_posts = np.bincount(self.account_of, minlength=len(self.account_ids))

    def summed(self, accounts: np.ndarray) -> sp.csr_matrix:
        """Summed counts of these real accounts (rows of `account_ids`), in that order."""
        if not hasattr(self, "_membership"):
            n = len(self.account_of)
            self._membership = sp.csr_matrix(
                (np.ones(n, dtype=np.float32), (self.account_of, np.arange(n))),
                shape=(len(self.account_ids), n),
            )
        return (self._membership[accounts] @ self.counts).tocsr()

    def summed_posts(self, rows: np.ndarray) -> sp.csr_matrix:
        """Summed counts of pseudo-accounts, row i the posts `rows[i]` (a fixed number of posts each)."""
        n, width = rows.shape
        membership = sp.csr_matrix(
            (np.ones(rows.size, dtype=np.float32), rows.ravel(), np.arange(0, rows.size + 1, width)),
            shape=(n, self.counts.shape[0]),
        )
        return (membership @ self.counts).tocsr()


# ------------------------------------------------------------------------------------------------ compact


def reddit_benchmark(seed: int):
    """(the Reddit setting, its linking task) of bench_quality's `cpu` protocol: what both the compact rows
    and the clustering threshold are measured on."""
    from benchlib.scoring import linking_task
    from benchlib.settings import PROFILES, load_setting

    profile = PROFILES["cpu"]
    setting = load_setting("reddit", profile, QUALITY_CACHE, seed=seed)
    task = linking_task(
        setting.test, min_posts=profile.reddit_min_posts, max_posts=profile.reddit_posts_per_half, seed=seed
    )
    return setting, task


def run_compact(args, style, corpus: Corpus) -> dict:
    """Linking quality of style against compact models of each width, on the Reddit cpu protocol."""
    from benchlib.scoring import linking_metrics

    from authorid.encoders.ngram import summed_counts
    from authorid.evaluation.protocols import PostEmbeddings, VectorScorer
    from authorid.vectors import AccountVectors, group_by_first_appearance
    from authorid.workflows.compress import DEFAULT_DIM, compress, sampled_rows

    setting, task = reddit_benchmark(args.seed)
    started = time.perf_counter()
    full = PostEmbeddings(style, task.chosen.posts).accounts()
    rows = {
        "style": {
            "dim": style.dim,
            "storage": "float32 vectors",
            "metrics": linking_metrics(VectorScorer(full), task),
            "embed_seconds": round(time.perf_counter() - started, 1),
        }
    }
    logger.info("style: MRR %.4f", rows["style"]["metrics"]["linking"]["mrr"])

    # The fit sample `authorid compress style TRAIN` takes (training pool only), embedded from the corpus counts.
    test_accounts = set(setting.test.unique("account_id"))
    post_accounts = np.asarray(corpus.account_ids, dtype=object)[corpus.account_of]
    train_rows = np.flatnonzero([a not in test_accounts for a in post_accounts])
    if len(train_rows) != setting.train.num_rows:
        raise SystemExit(
            "the training pool is not the corpus minus the test accounts; cannot reuse the counts"
        )
    chosen = train_rows[
        sampled_rows(
            post_accounts[train_rows].astype(str),
            max_accounts=args.fit_accounts,
            min_posts=args.fit_min_posts,
            seed=args.seed,
        )
    ]
    ids, groups = group_by_first_appearance(list(post_accounts[chosen]))
    started = time.perf_counter()
    fit_vectors = AccountVectors(
        ids,
        style.encoder.embed_summed(
            summed_counts(corpus.counts[chosen], groups, len(ids)), np.bincount(groups, minlength=len(ids))
        ),
        np.bincount(groups, minlength=len(ids)),
        model=style.identity(),
    )
    fit_embed_seconds = round(time.perf_counter() - started, 1)
    leaked = test_accounts & set(ids)
    if leaked:
        raise SystemExit(f"{len(leaked)} test accounts in the fit sample")
    for dim in args.dims:
        for storage in ("float16", "float32") if dim == DEFAULT_DIM else ("float16",):
            started = time.perf_counter()
            result = compress(
                style,
                setting.train,
                out=compact_folder(dim, storage),
                dim=dim,
                storage=storage,
                max_accounts=args.fit_accounts,
                min_posts=args.fit_min_posts,
                seed=args.seed,
                vectors=fit_vectors,
                overwrite=True,
            )
            fit_seconds = round(time.perf_counter() - started, 1)
            projected = AccountVectors(
                full.account_ids, result.model.encoder.project(full.vectors), full.n_posts
            )
            key = f"compact-{dim}" + ("" if storage == "float16" else "-float32")
            rows[key] = {
                "dim": dim,
                "storage": storage,
                "metrics": linking_metrics(VectorScorer(projected), task),
                "explained_variance": round(result.explained_variance, 4),
                "fit_seconds": fit_seconds,
                "projection_bytes": (result.path / "projected.safetensors").stat().st_size,
                "fingerprint": result.model.fingerprint(),
            }
            logger.info("%s: MRR %.4f", key, rows[key]["metrics"]["linking"]["mrr"])
    base = rows["style"]["metrics"]["linking"]["mrr"]
    within = [
        r["dim"]
        for k, r in rows.items()
        if k.startswith("compact-") and r["storage"] == "float16"
        if r["metrics"]["linking"]["mrr"] >= base - args.mrr_tolerance
    ]
    # The narrowest width within the tolerance of style when there is one; else the width the 1M targets are
    # sized for (--million-dim: each doubling doubles the memory and the cost of every search).
    chosen_dim = min(within) if within else args.million_dim
    # The compact model embeds exactly as its base then the projection: check it on the chosen width.
    check_model = _load(compact_folder(chosen_dim))
    direct = PostEmbeddings(check_model, task.chosen.posts).accounts()
    rows_check = np.sum(
        direct.vectors * check_model.encoder.project(full.vectors), axis=1
    )  # same account order (sorted ids)
    return {
        "protocol": "scripts/bench_quality.py --settings reddit --profile cpu: " + setting.description,
        "counts": setting.counts | {"evaluated_pseudo_accounts": len(task.chosen.person_of)},
        "fit": {
            "sample": f"authorid compress's sample of the Reddit training pool: {args.fit_accounts:,} seeded"
            f" accounts with >= {args.fit_min_posts} posts (none of the 1,000 test accounts)",
            "accounts": len(ids),
            "posts": int(len(chosen)),
            "embed_seconds": fit_embed_seconds,
            "seed": args.seed,
        },
        "rows": rows,
        "mrr_tolerance": args.mrr_tolerance,
        "widths_within_tolerance": sorted(within),
        "chosen_dim": chosen_dim,
        "chosen_because": (
            f"the narrowest width within {args.mrr_tolerance} MRR of style"
            if within
            else f"no width is within {args.mrr_tolerance} MRR of style; {chosen_dim} (--million-dim) keeps a"
            " million accounts at 1 KB each and every search at half the cost of 512"
        ),
        "workflow_default_dim": DEFAULT_DIM,
        "embed_check_min_cosine": float(rows_check.min()),
        "command_to_make": f"authorid compress style TRAIN_POSTS --dim {chosen_dim} -o models/compact",
    }


def _load(folder: Path):
    from authorid.model import load_model

    return load_model(folder)


# ------------------------------------------------------------------------------------------------ vectors


def draw_pseudo(rng: np.random.Generator, n_posts: int, n: int, width: int) -> np.ndarray:
    """(n, width) post rows: each row `width` distinct posts drawn uniformly at random."""
    rows = rng.integers(0, n_posts, size=(n, width), dtype=np.int64)
    while True:
        ordered = np.sort(rows, axis=1)
        repeated = np.flatnonzero((np.diff(ordered, axis=1) == 0).any(axis=1))
        if not len(repeated):
            return rows
        rows[repeated] = rng.integers(0, n_posts, size=(len(repeated), width), dtype=np.int64)


#: The recipe of the cached vectors, in their file names: a model's fingerprint does not change when the code
#: that centres its vectors does, so a cache made by an older recipe must not be read. 2: centred by post count
#: (`authorid/encoders/size_centre.py`, stop 27); the caches before had one mean.
VECTORS_RECIPE = 2


def vectors_paths(fingerprint: str, total: int) -> tuple[Path, Path]:
    stem = f"vectors-{fingerprint}-{total}-r{VECTORS_RECIPE}"
    return WORK / f"{stem}.npy", WORK / f"{stem}.json"


def run_vectors(args, style, corpus: Corpus, compact) -> dict:
    """Embed the 1M + 1,000 accounts (see the module docstring) into the cache; returns the section."""
    import datasets

    from authorid.model import StyleModel

    n_real = len(corpus.account_ids)
    total = args.n + args.queries
    matrix_path, meta_path = vectors_paths(compact.fingerprint(), total)
    n_pseudo = total - n_real
    if n_pseudo < 0:
        raise SystemExit(f"--n {args.n:,} is below the corpus' {n_real:,} accounts")
    rng = np.random.default_rng([args.seed, 18])
    queries = np.sort(rng.choice(n_real, size=args.queries, replace=False))
    pseudo = draw_pseudo(rng, corpus.counts.shape[0], n_pseudo, POSTS_PER_PSEUDO)

    started = time.perf_counter()
    # StyleModel.fixed_to's centre: by the real accounts' post counts
    fixed = style.encoder.fixed_to(corpus.summed(np.arange(n_real)), corpus.n_posts)
    centre_seconds = round(time.perf_counter() - started, 1)
    gc.collect()
    base = StyleModel(name="style", encoder=fixed)
    model = StyleModel(name=compact.name, encoder=compact.encoder.with_base(base))
    out = np.lib.format.open_memmap(matrix_path, mode="w+", dtype=np.float32, shape=(total, compact.dim))
    started = time.perf_counter()
    for start in range(0, total, args.chunk):
        stop = min(start + args.chunk, total)
        real = np.arange(start, min(stop, n_real))
        parts, sizes = [], []
        if len(real):
            parts.append(corpus.summed(real))
            sizes.append(corpus.n_posts[real])
        if stop > n_real:
            chunk_pseudo = pseudo[max(start, n_real) - n_real : stop - n_real]
            parts.append(corpus.summed_posts(chunk_pseudo))
            sizes.append(np.full(len(chunk_pseudo), chunk_pseudo.shape[1]))
        summed = sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0]
        out[start:stop] = model.encoder.project(fixed.embed_summed(summed, np.concatenate(sizes)))
        del summed, parts
        if (start // args.chunk) % 10 == 0:
            elapsed = time.perf_counter() - started
            logger.info("embedded %d / %d accounts (%.0f s, RSS %.0f MB)", stop, total, elapsed, rss_mb())
    out.flush()
    embed_seconds = round(time.perf_counter() - started, 1)

    # Check: embed_accounts of the compact model (base fixed to the same centre) on a few hundred accounts.
    check_rng = np.random.default_rng([args.seed, 19])
    real_check = np.sort(check_rng.choice(n_real, size=args.check_accounts // 2, replace=False))
    pseudo_check = np.sort(check_rng.choice(n_pseudo, size=args.check_accounts // 2, replace=False))
    texts, owners = [], []
    rows_of_account = np.split(np.argsort(corpus.account_of, kind="stable"), np.cumsum(corpus.n_posts)[:-1])
    for account in real_check:
        for row in rows_of_account[account]:
            texts.append(int(row))
            owners.append(corpus.account_ids[account])
    for i in pseudo_check:
        for row in pseudo[i]:
            texts.append(int(row))
            owners.append(f"pseudo:{i}")
    all_texts = corpus.posts.select(texts)["text"]
    check_posts = datasets.Dataset.from_dict({"account_id": owners, "text": all_texts})
    embedded = model.embed_accounts(check_posts)
    expected = {corpus.account_ids[a]: a for a in real_check} | {
        f"pseudo:{i}": n_real + i for i in pseudo_check
    }
    cache_rows = np.array([expected[a] for a in embedded.account_ids])
    cosines = np.sum(embedded.vectors * np.asarray(out[cache_rows]), axis=1)
    logger.info("check: min cosine %.6f over %d accounts", cosines.min(), len(cosines))
    if cosines.min() < 0.999:
        raise SystemExit(f"the chunked vectors differ from embed_accounts (min cosine {cosines.min():.5f})")

    meta = {
        "n_real": n_real,
        "queries": queries.tolist(),
        "n_pseudo": n_pseudo,
        "seed": args.seed,
        "model": compact.identity(),
    }
    meta_path.write_text(json.dumps(meta) + "\n")
    real_posts = corpus.n_posts
    return {
        "recipe": (
            f"all {n_real:,} accounts of the ingested reddit_college corpus ({corpus.counts.shape[0]:,} posts;"
            f" `authorid ingest` defaults), {args.queries:,} of them (seeded) held out as queries; plus"
            f" {n_pseudo:,} pseudo-accounts of {POSTS_PER_PSEUDO} distinct real posts each, drawn uniformly at"
            f" random (numpy default_rng([{args.seed}, 18])) from all the corpus' posts, so the index holds"
            f" {args.n:,} accounts. Every post featurised once (NgramEncoder.counts), accounts' counts summed"
            f" {args.chunk:,} accounts at a time (sparse assignment matrix), raw_paths, centred on the real"
            f" accounts' mean (NgramEncoder.fixed_to over all {n_real:,}), projected by the compact model."
        ),
        "model": compact.identity() | {"folder": str(compact.path.relative_to(REPO))},
        "n_real": n_real,
        "n_pseudo": n_pseudo,
        "n_index": args.n,
        "n_queries": args.queries,
        "real_posts_per_account": {
            "median": float(np.median(real_posts)),
            "mean": round(float(real_posts.mean()), 2),
        },
        "counts_seconds": corpus.counts_seconds,
        "centre_seconds": centre_seconds,
        "embed_seconds": embed_seconds,
        "accounts_per_second": round(total / embed_seconds, 1),
        "chunk_accounts": args.chunk,
        "vectors_mb": round(total * compact.dim * 4 / 2**20, 1),
        "full_width_would_take_gb": round(total * style.dim * 4 / 1e9, 1),
        "check": {
            "accounts": len(cosines),
            "real": len(real_check),
            "pseudo": len(pseudo_check),
            "min_cosine": float(cosines.min()),
            "how": "StyleModel.embed_accounts of the compact model whose base is style fixed to the same centre",
        },
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "cache": str(matrix_path.relative_to(REPO)),
    }


def load_vectors(compact, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all vectors in RAM, index rows, query rows) of the cache made by `run_vectors`."""
    matrix_path, meta_path = vectors_paths(compact.fingerprint(), total)
    if not meta_path.is_file():
        raise SystemExit(f"{meta_path}: missing; run the vectors section first")
    meta = json.loads(meta_path.read_text())
    matrix = np.load(matrix_path)
    queries = np.asarray(meta["queries"], dtype=np.int64)
    index_rows = np.setdiff1d(np.arange(len(matrix)), queries)
    return matrix, index_rows, queries


# -------------------------------------------------------------------------------------------------- index


def latency_ms(search, queries: np.ndarray) -> float:
    """Median wall time of one top-K query at a time, milliseconds."""
    times = []
    for q in queries:
        start = time.perf_counter()
        search(q[None, :])
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def recall(truth: np.ndarray, found: np.ndarray) -> float:
    """Share of the exact top K's ids that were found (ties at the K-th score count as misses)."""
    return float(np.mean([len(set(t) & set(f)) / truth.shape[1] for t, f in zip(truth, found, strict=True)]))


#: Two exact cosines closer than this are equal (float32 rounding of a 256-d dot product is ~1e-7).
TIE = 1e-6


def recall_with_ties(
    enrolled: np.ndarray, queries: np.ndarray, kth_score: np.ndarray, found: np.ndarray
) -> float:
    """Share of the K returned accounts whose exact cosine reaches the exact K-th one (within TIE), at most K a
    query. Where the K-th and (K+1)-th exact neighbours have the same cosine (accounts with identical vectors:
    3.4% of the 1M benchmark's queries), the exact top K is not unique and `IndexFlatIP` keeps whichever comes
    first; by id, an index that returns the other equal account is counted as a miss, which measures tie order,
    not search. Scores are recomputed in float32 from the enrolled vectors, not taken from the index."""
    hits = 0
    for q, row, kth in zip(queries, found, kth_score, strict=True):
        row = row[row >= 0]
        hits += min(K, int(np.sum(enrolled[row] @ q >= kth - TIE)))
    return hits / (K * len(queries))


def _positions(index, ids: np.ndarray) -> np.ndarray:
    """authorid's search returns account ids: back to positions (ids are 'a<position>')."""
    return np.array([[int(x[1:]) if x is not None else -1 for x in row] for row in ids])


def run_size(args, compact, matrix, index_rows, queries, n: int, largest: bool) -> dict:
    import faiss

    from authorid.index import build_index
    from authorid.vectors import AccountVectors

    subset = np.sort(np.random.default_rng([args.seed, 20]).permutation(index_rows)[:n])
    enrolled = np.ascontiguousarray(matrix[subset])
    query_vectors = np.ascontiguousarray(matrix[queries])
    row = {"n": len(subset)}

    before, started = rss_mb(), time.perf_counter()
    exact = faiss.IndexFlatIP(enrolled.shape[1])
    exact.add(enrolled)
    row["exact"] = {"build_s": round(time.perf_counter() - started, 2), "memory_mb": round(rss_mb() - before)}
    truth_scores, truth = exact.search(query_vectors, K)
    timed = query_vectors[: args.exact_latency_queries]
    row["exact"]["median_query_ms"] = latency_ms(lambda q, flat=exact: flat.search(q, K), timed)
    row["exact"]["latency_queries"] = len(timed)
    row["exact"]["recall@10"] = 1.0
    logger.info("%d exact: %s", n, row["exact"])
    probe = probe_truth = None
    if (
        largest and args.knn
    ):  # the kNN-graph reference: exact neighbours of a seeded sample of enrolled vectors
        probe = np.sort(
            np.random.default_rng([args.seed, 21]).choice(len(enrolled), args.knn_probe, replace=False)
        )
        _, probe_truth = exact.search(enrolled[probe], K + 1)
        probe_truth = np.array(
            [[p for p in r if p != i][:K] for r, i in zip(probe_truth, probe, strict=True)]
        )
    del exact
    gc.collect()

    vectors = AccountVectors(
        [f"a{i}" for i in range(len(subset))], enrolled, np.ones(len(subset), dtype=np.int64)
    )
    knn_target = args.knn_recall
    for kind, sweep, name in (("hnsw", args.ef_searches, "ef_search"), ("ivf", args.nprobes, "nprobe")):
        if kind not in args.kinds.split(","):
            continue
        params = (
            {
                "nlist": int(round(args.nlist_factor * np.sqrt(n))),
                "nprobe": sweep[0],
                "storage": args.ivf_storage,
            }
            if kind == "ivf"
            else {"m": args.hnsw_m, "ef_construction": args.hnsw_ef_construction, "ef_search": sweep[0]}
        )
        gc.collect()
        before, started = rss_mb(), time.perf_counter()
        index = build_index(vectors, kind=kind, model_identity=compact.identity(), **params)
        entry = {
            "params": dict(index.params),
            "build_s": round(time.perf_counter() - started, 1),
            "memory_mb": round(rss_mb() - before),
            "sweep": [],
        }
        for value in sweep:
            setattr(index, name, value)
            _, found = index.search(query_vectors, K)
            positions = _positions(index, found)
            point = {
                name: value,
                "recall@10": recall_with_ties(enrolled, query_vectors, truth_scores[:, -1], positions),
                "recall@10_by_id": recall(truth, positions),
                "median_query_ms": latency_ms(lambda q, index=index: index.search(q, K), query_vectors),
            }
            entry["sweep"].append(point)
            logger.info("%d %s %s", n, kind, point)
            if point["recall@10"] >= args.stop_recall:
                break
        reaching = [p for p in entry["sweep"] if p["recall@10"] >= args.target_recall]
        entry["at_target"] = reaching[0] if reaching else None
        entry["meets_targets"] = bool(reaching and reaching[0]["median_query_ms"] <= args.target_ms)
        if largest and args.knn:
            entry["knn_graph"] = knn_graph(args, index, kind, name, enrolled, probe, probe_truth, knn_target)
            if knn_target is None:  # IVF is then tuned to the recall HNSW gets as knn.py runs it
                knn_target = entry["knn_graph"]["chosen"]["recall@10"]
        row[kind] = entry
        del index
        gc.collect()
    return row


def knn_graph(args, index, kind: str, name: str, enrolled, probe, probe_truth, target) -> dict:
    """This index as the kNN-graph builder of clustering: the recall@10 of each enrolled vector's 10 nearest
    others on the probe sample, per setting; then every enrolled vector searched in batches (k + 1, as
    `authorid.index.knn` does) at the setting that matches HNSW-in-knn.py's recall, timed."""
    from authorid.index.knn import HNSW_EF_SEARCH

    inner = index._index
    settings = args.knn_nprobes if kind == "ivf" else [max(HNSW_EF_SEARCH, 2 * (K + 1))]
    sweep = []
    for value in settings:
        if kind == "ivf":
            inner.nprobe = value
        else:
            inner.hnsw.efSearch = value
        _, found = inner.search(enrolled[probe], K + 1)
        found = np.array([[p for p in r if p != i][:K] for r, i in zip(found, probe, strict=True)])
        sweep.append({name: value, "recall@10": recall(probe_truth, found)})
    chosen = next((p for p in sweep if target is None or p["recall@10"] >= target), sweep[-1])
    logger.info("%s knn sweep: %s (target %s)", kind, sweep, target)
    if kind == "ivf":
        inner.nprobe = chosen[name]
    else:
        inner.hnsw.efSearch = chosen[name]
    started = time.perf_counter()
    done = 0
    for start in range(0, len(enrolled), args.knn_batch):
        inner.search(enrolled[start : start + args.knn_batch], K + 1)
        done = min(start + args.knn_batch, len(enrolled))
        projected = (time.perf_counter() - started) * len(enrolled) / done
        if done >= 4 * args.knn_batch and projected > args.knn_max_s:
            break  # too slow to finish here: extrapolated from the rows searched
    elapsed = time.perf_counter() - started
    search_s = round(elapsed * len(enrolled) / done, 1)
    logger.info("%s knn graph: %s, all %d rows in %.0f s", kind, chosen, len(enrolled), search_s)
    return {
        "sweep": sweep,
        "chosen": chosen,
        "search_all_s": search_s,
        "rows_timed": done,
        "extrapolated": done < len(enrolled),
        "batch": args.knn_batch,
        "probe_rows": len(probe),
        "target_recall@10": target,
        "what": "every enrolled vector's 11 nearest (self dropped), batches of --knn-batch, faiss threads as set",
    }


def run_index(args, compact) -> dict:
    import faiss

    faiss.omp_set_num_threads(args.threads)
    matrix, index_rows, queries = load_vectors(compact, args.n + args.queries)
    sizes = sorted(args.sizes)
    rows = []
    for n in sizes:
        rows.append(run_size(args, compact, matrix, index_rows, queries, n, largest=n == max(sizes)))
    return {
        "settings": {
            "k": K,
            "queries": len(queries),
            "queries_are": "real Reddit accounts held out of every index (seeded)",
            "sizes": "seeded random subsets of the 1,000,000 enrolled vectors (same permutation: nested)",
            "latency": "median wall time of one top-10 query at a time (authorid's FaissIndex.search for"
            " IVF / HNSW, account ids included; faiss IndexFlatIP.search for exact)",
            "faiss_threads": faiss.omp_get_max_threads(),
            "ivf_nlist": f"{args.nlist_factor} * sqrt(n)",
            "hnsw": {"m": args.hnsw_m, "ef_construction": args.hnsw_ef_construction},
            "targets": {"median_ms": args.target_ms, "recall@10": args.target_recall},
            "knn_target_recall": args.knn_recall or "HNSW's, as authorid.index.knn runs it",
        },
        "sizes": rows,
    }


# ------------------------------------------------------------------------------------------------ cluster


def cluster_one(args) -> None:
    """In a fresh process: cluster the enrolled vectors, print one JSON line (wall time, peak RSS, stats)."""
    from authorid.clustering import cluster_accounts
    from authorid.vectors import AccountVectors

    compact = _load(args.compact)
    matrix, index_rows, _ = load_vectors(compact, args.n + args.queries)
    n = min(args.cluster_n, len(index_rows))
    rows = (
        index_rows
        if n == len(index_rows)
        else np.sort(np.random.default_rng([args.seed, 20]).permutation(index_rows)[:n])
    )
    vectors = AccountVectors([f"a{i}" for i in rows], matrix[rows], np.ones(len(rows), dtype=np.int64))
    del matrix
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # peak RSS from here: clustering's, not loading's
    except OSError:
        logger.warning("cannot reset the peak RSS; it includes loading the vectors")
    before = rss_mb()
    started = time.perf_counter()
    import authorid.clustering.cluster as clustering

    plain_knn = clustering.knn

    def timed_knn(*a, **kw):  # instrumentation only: the same search, its end reported on stderr
        out = plain_knn(*a, **kw)
        print(
            f"KNN_DONE {time.perf_counter() - started:.1f} {peak_rss_mb():.0f}", file=sys.stderr, flush=True
        )
        return out

    graph: list = []

    def kept_knn(*a, **kw):  # keeps the graph to measure its recall once the timed run is over
        out = timed_knn(*a, **kw)
        graph.append(out[1])
        return out

    clustering.knn = kept_knn
    report = cluster_accounts(vectors, method="average", k=K, threshold=args.threshold)
    wall = time.perf_counter() - started
    peak = peak_rss_mb()
    graph_recall = knn_graph_recall(vectors.vectors, graph[0], args.threshold, args.knn_probe, args.seed)
    print(
        json.dumps(
            {
                "n": len(vectors),
                "method": "average",
                "k": K,
                "threshold": args.threshold,
                "threshold_on": report.params["threshold_on"],
                "wall_s": round(wall, 1),
                "rss_before_mb": round(before),
                "peak_rss_mb": round(peak),
                "timing": {k: round(v, 1) for k, v in report.timing.items()},
                "knn_graph_recall": graph_recall,
                "stats": report.stats,
                "exact_knn": report.params["exact_knn"],
            }
        )
    )


def knn_graph_recall(
    matrix: np.ndarray, neighbours: np.ndarray, threshold: float, probes: int, seed: int
) -> dict:
    """How much of the exact kNN graph the clustering's graph holds, on a seeded sample of rows: recall@10,
    and the recall of the exact edges at or above the clustering threshold (the ones it can use)."""
    import faiss

    rows = np.sort(
        np.random.default_rng([seed, 21]).choice(len(matrix), min(probes, len(matrix)), replace=False)
    )
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(np.ascontiguousarray(matrix))
    scores, truth = exact.search(np.ascontiguousarray(matrix[rows]), K + 1)
    found = hits = above = above_found = 0
    for row, row_scores, row_truth in zip(rows, scores, truth, strict=True):
        pairs = [(p, s) for p, s in zip(row_truth, row_scores, strict=True) if p != row][:K]
        got = set(neighbours[row].tolist())
        hits += sum(p in got for p, _ in pairs)
        found += len(pairs)
        above += sum(s >= threshold for _, s in pairs)
        above_found += sum(s >= threshold and p in got for p, s in pairs)
    return {
        "rows": len(rows),
        "recall@10": round(hits / max(found, 1), 4),
        "edges_above_threshold": int(above),
        "recall_above_threshold": round(above_found / max(above, 1), 4),
    }


def equal_error_threshold(args, compact) -> dict:
    """The compact model's cosine at which false accepts equal false rejects on the Reddit benchmark's
    verification pairs (balanced same / different-person halves of the 1,000 test accounts): the clustering
    threshold when no calibration applies."""

    from authorid.evaluation.protocols import PostEmbeddings, VectorScorer

    _, task = reddit_benchmark(args.seed)
    scorer = VectorScorer(PostEmbeddings(compact, task.chosen.posts).accounts())
    cosines = np.concatenate([scorer.pair_scores(a, b) for a, b, _ in task.pairs])
    labels = np.concatenate([y for _, _, y in task.pairs]).astype(bool)
    candidates = np.unique(cosines)
    gap = [abs(np.mean(cosines[~labels] >= t) - np.mean(cosines[labels] < t)) for t in candidates]
    threshold = float(candidates[int(np.argmin(gap))])
    return {
        "threshold": round(threshold, 4),
        "pairs": int(len(labels)),
        "same_median_cosine": round(float(np.median(cosines[labels])), 4),
        "different_median_cosine": round(float(np.median(cosines[~labels])), 4),
        "false_accepts_at_threshold": round(float(np.mean(cosines[~labels] >= threshold)), 4),
    }


def run_cluster(args, compact) -> dict:
    import faiss

    chosen = None
    if args.threshold is None:
        chosen = equal_error_threshold(args, compact)
        args.threshold = chosen["threshold"]
        logger.info("clustering threshold: %s", chosen)

    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--cluster-one",
        "--compact",
        str(compact.path),
        "--cluster-n",
        str(args.cluster_n),
        "--n",
        str(args.n),
        "--queries",
        str(args.queries),
        "--threshold",
        str(args.threshold),
        "--seed",
        str(args.seed),
        "--knn-probe",
        str(args.knn_probe),
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.cluster_timeout)
    except subprocess.TimeoutExpired as expired:
        stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else expired.stderr or ""
        knn = [line.split() for line in stderr.splitlines() if line.startswith("KNN_DONE")]
        return {
            "n": args.cluster_n,
            "finished": False,
            "stopped_after_s": args.cluster_timeout,
            "knn_done_after_s": float(knn[-1][1]) if knn else None,
            "peak_rss_mb_at_knn": float(knn[-1][2]) if knn else None,
            "method": "average",
            "k": K,
            "threshold": args.threshold,
            "threshold_from": chosen,
            "targets": {"wall_s": 600, "peak_rss_mb": 8192},
        }
    if done.returncode != 0:
        raise SystemExit(f"clustering failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["finished"] = True
    result["targets"] = {"wall_s": 600, "peak_rss_mb": 8192}
    result["faiss_threads"] = args.threads or faiss.omp_get_max_threads()
    result["threshold_why"] = (
        "a cosine threshold (no calibration): style's calibration maps style's cosines, not the compact model's"
        + (
            "; the compact model's equal-error cosine on the Reddit benchmark's verification pairs"
            if chosen
            else "; given with --threshold"
        )
    )
    if chosen:
        result["threshold_from"] = chosen
    return result


# ---------------------------------------------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="faiss / OpenMP threads")
    g = p.add_argument_group("compact")
    g.add_argument("--dims", type=int, nargs="+", default=[128, 256, 512])
    g.add_argument("--fit-accounts", type=int, default=20_000)
    g.add_argument("--fit-min-posts", type=int, default=8)
    g.add_argument("--million-dim", type=int, default=256, help="width used when none is within tolerance")
    g.add_argument("--mrr-tolerance", type=float, default=0.01)
    g = p.add_argument_group("vectors")
    g.add_argument("--compact", type=Path, default=None, help="compact model (default: the chosen width's)")
    g.add_argument("--n", type=int, default=1_000_000, help="accounts in the index")
    g.add_argument("--queries", type=int, default=1000)
    g.add_argument("--chunk", type=int, default=8192, help="accounts embedded at a time")
    g.add_argument("--check-accounts", type=int, default=400)
    g = p.add_argument_group("index")
    g.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    g.add_argument("--nlist-factor", type=float, default=2.0)
    g.add_argument(
        "--ivf-storage", default="float16", choices=["float16", "float32"], help="IVF cells' vectors"
    )
    g.add_argument("--nprobes", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256])
    g.add_argument("--ef-searches", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    g.add_argument("--hnsw-m", type=int, default=32)
    g.add_argument("--hnsw-ef-construction", type=int, default=80)
    g.add_argument("--target-ms", type=float, default=5.0)
    g.add_argument("--target-recall", type=float, default=0.99)
    g.add_argument("--stop-recall", type=float, default=0.999, help="stop a sweep once recall reaches this")
    g.add_argument("--kinds", default="hnsw,ivf", help="approximate index kinds measured")
    g.add_argument(
        "--exact-latency-queries", type=int, default=None, help="queries timed on exact (default all)"
    )
    g.add_argument("--no-knn", dest="knn", action="store_false", help="skip the kNN-graph measurement")
    g.add_argument("--index-key", default="index", help="the JSON key the index section is saved under")
    g.add_argument("--knn-probe", type=int, default=1000)
    g.add_argument("--knn-nprobes", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    g.add_argument("--knn-recall", type=float, default=None, help="IVF kNN recall to match (default: HNSW's)")
    g.add_argument("--knn-batch", type=int, default=16_384)
    g.add_argument("--knn-max-s", type=float, default=600, help="extrapolate a kNN-graph search beyond this")
    g = p.add_argument_group("cluster")
    g.add_argument("--cluster-n", type=int, default=1_000_000)
    g.add_argument(
        "--threshold", type=float, default=None, help="cosine threshold (default: the equal-error cosine)"
    )
    g.add_argument("--cluster-timeout", type=float, default=None, help="stop clustering after this many s")
    g.add_argument("--cluster-one", action="store_true", help=argparse.SUPPRESS)
    return p


def main() -> None:
    args = parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.cluster_one:
        cluster_one(args)
        return
    import datasets

    datasets.disable_progress_bars()
    from authorid.model import load_model

    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    command = " ".join(["python", "scripts/bench_million.py", *sys.argv[1:]])
    results = load_results(args.out)
    results.pop("machine", None)
    results.pop("command", None)
    style = load_model("style")
    corpus = Corpus(style) if {"compact", "vectors"} & set(sections) else None
    for name in sections:
        started, tic = machine(), time.perf_counter()
        if args.compact is None:
            chosen = (results.get("compact") or {}).get("chosen_dim")
            args.compact = compact_folder(chosen) if chosen else None
        if name == "compact":
            body = run_compact(args, style, corpus)
            args.compact = compact_folder(body["chosen_dim"])
        else:
            if args.compact is None:
                raise SystemExit("no compact model: run the compact section first, or pass --compact")
            compact = _load(args.compact)
            if name == "vectors":
                body = run_vectors(args, style, corpus, compact)
            elif name == "index":
                body = run_index(args, compact)
            else:
                body = run_cluster(args, compact)
        body["command"] = command
        body["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        body["seconds"] = round(time.perf_counter() - tic, 1)
        body["machine"] = started | {"load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
        results = load_results(args.out)  # re-read: keep sections written meanwhile
        results.pop("machine", None)
        results.pop("command", None)
        key = args.index_key if name == "index" else name
        if name == "cluster" and args.cluster_n < args.n:  # a smaller clustering run keeps its own key
            key = f"cluster_{args.cluster_n}"
        if name == "index" and key in results:  # sizes measured before stay unless measured again
            kept = [
                r for r in results[key].get("sizes", []) if r["n"] not in {r2["n"] for r2 in body["sizes"]}
            ]
            body["sizes"] = sorted(kept + body["sizes"], key=lambda r: r["n"])
        results[key] = body
        save_stamped(args.out, results, command=command)
        logger.info("%s: %.0f s; wrote %s", name, body["seconds"], args.out)


if __name__ == "__main__":
    main()
