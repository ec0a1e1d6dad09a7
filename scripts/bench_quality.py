"""Benchmark: authorid's encoders side by side with the published peers, same data, splits and seeds.

    .venv/bin/pip install -e '.[bench]'          # the peers (bitig, LambdaG)
    .venv/bin/python scripts/bench_quality.py --profile cpu
    .venv/bin/python scripts/make_benchmarks_md.py   # BENCHMARKS.md from the JSON

Settings (`benchlib.settings`): Reddit sybil linking + verification on held-out accounts, Reuters C50 (official
split), Blog10 / Blog50 (seeded stratified 80/10/10). Rows: the peers (`benchlib.peers`: char n-gram TF-IDF,
bitig's Burrows / Cosine Delta and General Impostors, LambdaG), authorid's stylometric encoder, the untuned
default encoder (all-MiniLM-L6-v2), the default encoder fine-tuned with each loss (`authorid.train`), attention
vs mean episode pooling, and neural + stylometric fusion. Every row is scored by `benchlib.scoring` on the same
posts, and records its budget: posts seen in training, training and evaluation wall time, the machine.

Resumable: each finished row is merged into --out at once (atomic write) and skipped on the next run unless
--force; trained models and account vectors are cached under --work. `--settings` and `--rows` pick a subset.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchlib.machine import short_description  # noqa: E402
from benchlib.results import load_results, save_row, save_setting  # noqa: E402
from benchlib.settings import (  # noqa: E402
    HEADLESS_LOSSES,
    NGRAM_HEAD_LOSSES_LINKING,
    PROFILES,
    SETTINGS,
    Profile,
    SettingData,
    load_setting,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "quality.json"
logger = logging.getLogger("bench_quality")

PEER_ROWS = ("char-ngram", "burrows-delta", "cosine-delta", "general-impostors", "lambdag")
ATTRIBUTION_PEER_ROWS = ("char-ngram", "burrows-delta", "cosine-delta")


#: What a row's "+variant" changes in training: "supcon+attention" pools episodes by attention (LUAR),
#: "ce+imprinted" starts the class head at the training accounts' centroids (authorid/training/head_init.py).
#: Every row pins its head start, so a row means the same whatever the library's default is.
ROW_VARIANTS = {
    "": {"optim.head_init": "random"},
    "attention": {"model.pooling": "attention", "optim.head_init": "random"},
    "imprinted": {"optim.head_init": "centroids"},
}


def rows_for(setting: str, profile: Profile) -> list[str]:
    """Every row of a setting, in table order."""
    ngram = [f"ngram:{loss}" for loss in profile.ngram_losses]
    if setting == "reddit":
        tuned = list(profile.reddit_losses)
        extra = ["supcon+attention", "fusion"] if "supcon" in tuned else []
        imprinted = [f"{loss}+imprinted" for loss in profile.reddit_imprinted]
        batches = [f"ngram:{loss}@{p}" for p in profile.ngram_batches for loss in ("ce", "nbc-softmax")]
        fused = ["ngram-fusion:minilm", "ngram-fusion:stylometric"]
        return [
            *PEER_ROWS,
            "stylometric",
            "minilm:raw",
            "minilm",
            "style",
            *tuned,
            *imprinted,
            *extra,
            *ngram,
            *batches,
            *fused,
        ]
    tuned = list(profile.attribution_losses)
    extra = ["fusion"] if "supcon" in tuned else []
    fused = ["ngram-fusion:stylometric"]
    return [*ATTRIBUTION_PEER_ROWS, "stylometric", "minilm", "style", *tuned, *extra, *ngram, *fused]


# --- training --------------------------------------------------------------------------------------------


def trained_model(setting: SettingData, row: str, profile: Profile, work: Path) -> tuple[Path, dict]:
    """Fine-tune (or reuse the finished model in the cache) for `row`; returns (folder, budget)."""
    import json

    import authorid

    encoder, _, spec = row.rpartition(":")  # "ngram:supcon@2048" -> n-gram encoder, loss supcon, batch 2048
    spec, _, batch = spec.partition("@")
    loss, _, variant = spec.partition("+")
    folder = work / "models" / f"{setting.name}-{row.replace('+', '-').replace(':', '-').replace('@', '-')}"
    if not (folder / "authorid.json").is_file():
        if encoder == "ngram":
            overrides = dict(
                profile.ngram_linking if setting.kind == "linking" else profile.ngram_attribution
            )
            overrides["ngram.counts_cache"] = str(work / "ngram-counts")
            if setting.kind == "linking" and loss not in HEADLESS_LOSSES:
                overrides |= NGRAM_HEAD_LOSSES_LINKING
            if batch:
                overrides["episodes.accounts_per_batch"] = int(batch)
        else:
            overrides = dict(profile.reddit_train if setting.kind == "linking" else profile.attribution_train)
        overrides |= ROW_VARIANTS[variant]
        authors = setting.counts.get("authors")
        batch_size = overrides.get("episodes.accounts_per_batch", 16)
        if authors is not None and authors < batch_size:  # a batch cannot hold more authors than there are
            overrides["episodes.accounts_per_batch"] = authors
        authorid.train(
            setting.train,
            val=setting.val,
            out=folder,
            preset="ngram" if encoder == "ngram" else profile.preset,
            loss=loss,
            task="open-world" if setting.kind == "linking" else "attribution",
            overrides=overrides,
            overwrite=True,
            progress=sys.stderr.isatty(),
        )
    meta = json.loads((folder / "authorid.json").read_text())
    training = meta["training"]
    posts_seen = training.get("posts_seen") or training["episodes_seen"] * _mean_posts(
        training["posts_per_episode"]
    )
    budget = {
        "posts_seen": int(posts_seen),
        "steps": training["steps"],
        "train_seconds": training["train_seconds"],
        "train_accounts": meta["data"]["train_accounts"],
        "max_seq_length": meta["max_seq_length"] if meta.get("encoder") != "ngram" else None,
        "encoder": meta.get("encoder", "transformer"),
        "validation_best": meta["validation"]["best"],
        "validation_initial": meta["validation"]["initial"],
    }
    return folder, budget


def _mean_posts(posts_per_episode: int | list[int]) -> float:
    return (
        float(sum(posts_per_episode) / 2) if isinstance(posts_per_episode, list) else float(posts_per_episode)
    )


# --- linking rows ----------------------------------------------------------------------------------------


def account_vectors(model, task, cache: Path):
    """The model's vectors of the evaluated (pseudo-)accounts, cached as Parquet (the fusion row reuses them)."""
    from authorid.encoders import AccountVectors
    from authorid.evaluation.protocols import PostEmbeddings

    if cache.is_file():
        return AccountVectors.from_parquet(cache)
    vectors = PostEmbeddings(model, task.chosen.posts, progress=sys.stderr.isatty()).accounts()
    vectors.to_parquet(cache)
    return vectors


def linking_row(row: str, setting: SettingData, task, profile: Profile, work: Path, seed: int) -> dict:
    from benchlib.scoring import FusionScorer, VectorScorer, linking_metrics

    from authorid.model import load_model

    vector_dir = work / setting.name / "vectors"
    vector_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    budget: dict[str, Any] = {"posts_seen": 0, "train_seconds": 0.0}
    details: dict[str, Any] = {}
    if row in PEER_ROWS:
        from benchlib.peers import linking_peers

        peer = dict(zip(PEER_ROWS, linking_peers(seed), strict=True))[row]
        if peer.supports_ranking:
            peer.fit(task.groups())
            pairs = None
            budget["training"] = "none (unsupervised statistics of the evaluated texts)"
        else:
            # Impostors / references from the training pool: persons outside the evaluated ones, so the pool
            # never holds the other half of an evaluated account (which would favour these methods).
            impostors = impostor_groups(setting.train, profile, seed)
            peer.fit(task.groups(), impostors=impostors)
            sample = profile.pair_samples.get(row)
            pairs = None if sample is None else task.sampled_pairs(sample)
            budget["training"] = (
                f"none; impostor / reference pool of {len(impostors)} training-pool accounts"
                f" ({profile.reddit_posts_per_half} posts each)"
            )
        metrics = linking_metrics(peer, task, pairs=pairs)
        details = {"peer": peer.name, "settings": peer.settings}
    elif row.startswith("ngram-fusion:"):
        model, budget, details = fused_model(setting, row, profile, work, seed)
        started = time.perf_counter()
        vectors = account_vectors(model, task, vector_dir / f"{row.replace(':', '-')}.parquet")
        metrics = linking_metrics(VectorScorer(vectors), task)
    elif row == "fusion":
        supcon = VectorScorer(_cached_vectors(vector_dir / "supcon.parquet"))
        stylometric = VectorScorer(_cached_vectors(vector_dir / "stylometric.parquet"))
        scorer = FusionScorer(supcon, stylometric, task)
        metrics = linking_metrics(scorer, task)
        details = {"of": ["supcon", "stylometric"], "fusion_weights_per_fold": scorer.weights}
        _, budget = trained_model(setting, "supcon", profile, work)  # the cached supcon model's budget
        budget["training"] = "the supcon row's, plus a logistic regression on the other fold's pairs"
    else:
        if row == "stylometric":
            # Fitting the vocabulary needs no labels; it sees the evaluated texts (transductive, as the peers).
            model = load_model("stylometric", fit_corpus=task.chosen.posts)
            budget["training"] = "none (vocabulary and idf of the evaluated texts)"
        elif row in ("minilm", "minilm:raw"):
            model = load_model(row)  # `minilm` centres its account vectors; `minilm:raw` keeps them as pooled
            budget["training"] = "none (pretrained all-MiniLM-L6-v2)"
        elif row == "style":
            model = load_model("style")
            budget["training"] = "none here (the packaged model: scripts/train_default_model.py)"
        else:
            folder, budget = trained_model(setting, row, profile, work)
            model = load_model(folder)
            started = time.perf_counter()  # eval time excludes training
        embed_started = time.perf_counter()
        vectors = account_vectors(model, task, vector_dir / f"{_file_key(row)}.parquet")
        budget["embed_seconds"] = round(time.perf_counter() - embed_started, 1)
        metrics = linking_metrics(VectorScorer(vectors), task)
    budget["eval_seconds"] = round(time.perf_counter() - started, 1)
    return {"metrics": metrics, "budget": budget, **details}


def _file_key(row: str) -> str:
    return row.replace("+", "-").replace(":", "-").replace("@", "-")


def fused_model(setting: SettingData, row: str, profile: Profile, work: Path, seed: int):
    """(the n-gram supcon model fused with `row`'s second model, budget, details): `authorid fuse`, the weights
    fitted on the n-gram model's own validation accounts (never trained on, never evaluated)."""
    import json

    from authorid.data.splits import SplitManifest
    from authorid.model import load_model
    from authorid.workflows.fuse import fuse

    second = row.split(":", 1)[1]
    folder, budget = trained_model(setting, "ngram:supcon", profile, work)
    fused_folder = work / "models" / f"{setting.name}-{_file_key(row)}"
    if not (fused_folder / "fused.json").is_file():
        if setting.kind == "attribution":
            val = setting.val
        else:  # the open-world split lists its validation accounts by id
            from authorid.evaluation.protocols import select_accounts

            val_accounts = SplitManifest.load(folder / "split_manifest.json").assignment["val"]
            val = select_accounts(setting.train, val_accounts)
        part = second
        if second == "stylometric":  # fitted on (a sample of) the training posts: the vocabulary of the forum
            part = load_model("stylometric", fit_corpus=_sample(setting.train, 50_000, seed))
        fuse(folder, part, val, out=fused_folder, seed=seed)
    meta = json.loads((fused_folder / "authorid.json").read_text())
    budget = dict(budget) | {
        "training": f"the ngram:supcon row's; fusion weights fitted on {meta['fitted_on']}"
    }
    details = {"of": ["ngram:supcon", second], "weights": meta["weights"]}
    return load_model(fused_folder), budget, details


def _sample(posts, n: int, seed: int):
    import numpy as np

    if len(posts) <= n:
        return posts
    return posts.select(np.sort(np.random.default_rng(seed).choice(len(posts), n, replace=False)))


def _fusion_input(path: Path) -> Path:
    """`path` of vectors a fusion row reads; a one-line exit when the rows that write it have not run."""
    if not path.is_file():
        raise SystemExit(f"the fusion row needs {path}: run the supcon and stylometric rows first")
    return path


def _cached_vectors(path: Path):
    from authorid.encoders import AccountVectors

    return AccountVectors.from_parquet(_fusion_input(path))


def impostor_groups(pool, profile: Profile, seed: int) -> dict[str, list[str]]:
    """A seeded sample of `profile.impostors` training-pool accounts, each with its most recent
    `reddit_posts_per_half` posts (the size of an evaluated half)."""
    from authorid.evaluation.protocols import cap_posts, sample_eligible_accounts, select_accounts

    n_posts = profile.reddit_posts_per_half or profile.reddit_min_posts
    ids, _ = sample_eligible_accounts(pool, accounts=profile.impostors, min_posts=2 * n_posts, seed=seed + 1)
    capped, _ = cap_posts(select_accounts(pool, ids), n_posts, seed=seed)
    groups: dict[str, list[str]] = {}
    for account, text in zip(capped["account_id"], capped["text"], strict=True):
        groups.setdefault(f"impostor:{account}", []).append(text)
    return groups


# --- attribution rows ------------------------------------------------------------------------------------


def post_vectors(model, posts, cache: Path):
    import numpy as np

    if cache.is_file():
        return np.load(cache)
    vectors = model.embed_posts(list(posts["text"]), progress=sys.stderr.isatty())
    tmp = cache.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(cache)
    return vectors


def attribution_row(row: str, setting: SettingData, profile: Profile, work: Path, seed: int) -> dict:
    from benchlib.scoring import attribution_metrics_of, fused_svc_on_vectors, svc_on_vectors

    from authorid.model import load_model

    train_y, test_y = list(setting.train["account_id"]), list(setting.test["account_id"])
    started = time.perf_counter()
    budget: dict[str, Any] = {"posts_seen": 0, "train_seconds": 0.0}
    details: dict[str, Any] = {}
    if row in ATTRIBUTION_PEER_ROWS:
        from benchlib.peers import attribution_peers

        peer = dict(zip(ATTRIBUTION_PEER_ROWS, attribution_peers(seed), strict=True))[row]
        predicted = peer.fit(list(setting.train["text"]), train_y).predict(list(setting.test["text"]))
        details = {"peer": peer.name, "settings": peer.settings}
        budget["training"] = f"fitted on the {len(train_y):,} training texts"
    elif row.startswith("ngram-fusion:"):
        model, budget, details = fused_model(setting, row, profile, work, seed)
        started = time.perf_counter()
        cache = work / setting.name / "vectors"
        cache.mkdir(parents=True, exist_ok=True)
        train_x = post_vectors(model, setting.train, cache / f"{_file_key(row)}-train.npy")
        test_x = post_vectors(model, setting.test, cache / f"{_file_key(row)}-test.npy")
        predicted = svc_on_vectors(train_x, train_y, test_x, seed=seed)
        details |= {"classifier": "LinearSVC (C = 1) on L2-normalised post vectors"}
    elif row == "fusion":
        import numpy as np

        cache = work / setting.name / "vectors"
        neural, stylometric = (
            tuple(np.load(_fusion_input(cache / f"{key}-{part}.npy")) for part in ("train", "test"))
            for key in ("supcon", "stylometric")
        )
        predicted, details = fused_svc_on_vectors(neural, stylometric, train_y, seed=seed)
        details = {"of": ["supcon", "stylometric"], **details}
        _, budget = trained_model(setting, "supcon", profile, work)  # the cached supcon model's budget
        budget["training"] = "the supcon row's, plus the neural weight by 5-fold CV on the training posts"
    else:
        if row == "stylometric":
            model = load_model("stylometric", fit_corpus=setting.train)
            budget["training"] = "vocabulary of the training texts; LinearSVC probe"
        elif row == "minilm":
            model = load_model("minilm")
            budget["training"] = "none (pretrained all-MiniLM-L6-v2); LinearSVC probe"
        elif row == "style":
            model = load_model("style")
            budget["training"] = "none here (the packaged model, trained on Reddit); LinearSVC probe"
        else:
            folder, budget = trained_model(setting, row, profile, work)
            model = load_model(folder)
            started = time.perf_counter()  # eval time excludes training
        cache = work / setting.name / "vectors"
        cache.mkdir(parents=True, exist_ok=True)
        key = _file_key(row)
        embed_started = time.perf_counter()
        train_x = post_vectors(model, setting.train, cache / f"{key}-train.npy")
        test_x = post_vectors(model, setting.test, cache / f"{key}-test.npy")
        budget["embed_seconds"] = round(time.perf_counter() - embed_started, 1)
        predicted = svc_on_vectors(train_x, train_y, test_x, seed=seed)
        details = {"classifier": "LinearSVC (C = 1) on L2-normalised post vectors"}
    budget["eval_seconds"] = round(time.perf_counter() - started, 1)
    return {
        "metrics": {"attribution": attribution_metrics_of(test_y, predicted)},
        "budget": budget,
        **details,
    }


# --- driver ----------------------------------------------------------------------------------------------


def run_setting(name: str, args, profile: Profile) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    results = load_results(args.out)
    wanted = rows_for(name, profile)
    if args.rows:  # in the order asked (the table keeps rows_for's order); rows of other settings skipped
        wanted = [r for r in args.rows if r in wanted]
    done = results.get("settings", {}).get(name, {}).get("rows", {})
    todo = [r for r in wanted if args.force or r not in done]
    if not todo:
        console.print(f"[bold]{name}[/]: every requested row is in {args.out} (--force recomputes)")
        return
    work = Path(args.work)
    setting = load_setting(name, profile, work / "cache", seed=args.seed)
    task = None
    if setting.kind == "linking":
        from benchlib.scoring import linking_task

        task = linking_task(
            setting.test,
            min_posts=profile.reddit_min_posts,
            max_posts=profile.reddit_posts_per_half,
            seed=args.seed,
        )
        setting.counts |= {
            "evaluated_pseudo_accounts": len(task.chosen.person_of),
            "evaluated_posts": task.chosen.posts.num_rows,
            "verification_pairs": int(sum(len(y) for _, _, y in task.pairs)),
        }
    save_setting(
        args.out,
        name,
        {
            "kind": setting.kind,
            "description": setting.description,
            "counts": setting.counts,
            "rows_order": rows_for(name, profile),
        },
        profile=profile.to_dict(),
        command=" ".join(["python", "scripts/bench_quality.py", *sys.argv[1:]]),
    )
    for row in todo:
        console.print(f"[bold]{name}[/] / [bold]{row}[/] ...")
        if setting.kind == "linking":
            result = linking_row(row, setting, task, profile, work, args.seed)
        else:
            result = attribution_row(row, setting, profile, work, args.seed)
        result["budget"]["machine"] = short_description()
        result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        save_row(args.out, name, row, result)
        console.print(
            f"  {row}: {_headline(result)}  ({result['budget']['eval_seconds']:.0f} s) -> {args.out}"
        )


def _headline(result: dict) -> str:
    m = result["metrics"]
    parts = []
    if "linking" in m:
        parts.append(f"MRR {m['linking']['mrr']:.3f} R@8 {m['linking']['r@8']:.3f}")
    if "verification" in m:
        parts.append(f"AUC {m['verification']['auc']:.3f}")
    if "attribution" in m:
        parts.append(f"acc {m['attribution']['accuracy']:.3f} macro-F1 {m['attribution']['macro_f1']:.3f}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"subset of {','.join(SETTINGS)}")
    parser.add_argument("--rows", default=None, help="comma-separated subset of rows (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "bench_quality")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="recompute rows already in --out")
    args = parser.parse_args()
    args.rows = args.rows.split(",") if args.rows else None
    known = {r for p in PROFILES.values() for s in SETTINGS for r in rows_for(s, p)}
    if args.rows and set(args.rows) - known:
        parser.error(
            f"unknown row(s) {', '.join(sorted(set(args.rows) - known))}; choose from {', '.join(sorted(known))}"
        )
    logging.basicConfig(level=logging.WARNING)
    import datasets

    datasets.disable_progress_bars()  # row-level progress is printed here; Arrow's bars would drown it
    profile = PROFILES[args.profile]
    for name in args.settings.split(","):
        if name not in SETTINGS:
            parser.error(f"unknown setting {name!r}; choose from {', '.join(SETTINGS)}")
        run_setting(name, args, profile)


if __name__ == "__main__":
    main()
