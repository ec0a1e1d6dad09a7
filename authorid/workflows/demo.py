"""The demo pipeline: ingest -> open-world split -> fine-tune -> evaluate before/after -> cluster -> HTML report.

What `make demo` runs on the bundled Enron sample (40 authors, 24 e-mails each). Every step is the public
function a user would call, so this module doubles as a worked example of the Python API:

    ingested = ingest("enron_demo", out="runs/demo/posts.parquet")             # read + clean, with a report
    parts = split(ingested.posts, "open-world", seed=0, val_accounts=6, test_accounts=16, min_posts=20)
    model = train(parts.train, val=parts.val, out="runs/demo/model", preset="ngram", loss="supcon",
                  overrides=training_overrides(40, accounts=18), overwrite=True)  # `style` fine-tuned
    pretrained = load_model("style")                                           # the "before"
    evaluate(pretrained, parts.test, protocol="sybil", out="runs/demo/eval-pretrained")
    evaluate(model, parts.test, protocol="sybil", out="runs/demo/eval-fine-tuned")  # same queries (sha256)
    pseudo = split(parts.test, "sybil", seed=0, k=2, by="random", min_posts=20).test
    groups = cluster_accounts(model.embed_accounts(pseudo), k=1, probability=model.calibration.predict)

The held-out test accounts are never trained or validated on (open world: the model meets new authors), and
both models are evaluated on the very same queries: the pretrained `style` model (trained on Reddit, never on
e-mail) before, and the same model fine-tuned on the demo corpus' other authors after (domain adaptation).
Then `OUT/report.html` puts every step on one page.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from authorid.artefacts import check_output_folder, write_manifest
from authorid.clustering import ClusterReport, cluster_accounts
from authorid.data.arrow import read_columns
from authorid.data.splits import Split, split
from authorid.errors import SplitError
from authorid.io import atomic_write_text, write_json
from authorid.metrics.clustering import clustering_metrics
from authorid.model import load_model
from authorid.progress import quiet_library_bars
from authorid.workflows.common import without_training_accounts
from authorid.workflows.demo_report import AFTER, BEFORE, DemoClusters, render_demo_report
from authorid.workflows.evaluate import evaluate
from authorid.workflows.ingest import ingest
from authorid.workflows.train import train

logger = logging.getLogger(__name__)

#: Held-out accounts (the before/after evaluation and the clustering) and validation accounts (model selection
#: and the calibration); the rest of the corpus trains. On enron_demo: 18 train, 6 validation, 16 test.
DEMO_TEST_ACCOUNTS = 16
DEMO_VAL_ACCOUNTS = 6
#: Posts an account needs to be held out (the sybil protocol's default: halves of >= 10 posts).
DEMO_MIN_POSTS = 20
#: Supervised contrastive loss (the n-gram preset's): with 18 training authors it learns from every pair in a
#: batch, not from one class head per author.
DEMO_LOSS = "supcon"
#: Fine-tuning steps from `style`: each step sees every training author (two disjoint episodes each), and takes
#: a fraction of a second.
DEMO_STEPS = 40
#: Validations during training (plus the one before the first step): the points of the validation curve, and
#: the candidates for the weights kept (each embeds every validation post, so few).
DEMO_VALIDATIONS = 2
#: Neighbours per account in the clustering graph. 1: an edge needs two accounts to be each other's nearest
#: neighbour (and P(same person) above the threshold), the strictest graph; right when each person runs only
#: a few accounts, as in the sybil cut (two each). Larger k chains unrelated authors on a corpus this small
#: (on enron_demo, k=2 made a group of 9 of the 32 pseudo-accounts, k=10 one group of all 32).
DEMO_CLUSTER_K = 1
SUMMARY_FILE, REPORT_FILE = "demo.json", "report.html"


@dataclass
class DemoResult:
    out: Path
    #: BEFORE / AFTER -> the sybil protocol's metrics by task ("linking", "episodes")
    metrics: dict[str, dict[str, dict]]
    clustering: dict[str, float]  #: the trained model's clustering of the held-out accounts vs true authors
    summary: dict  #: the content of OUT/demo.json
    outputs: dict[str, Path] = field(default_factory=dict)  #: what was written where


def training_overrides(max_steps: int = DEMO_STEPS, *, accounts: int) -> dict[str, Any]:
    """Dotted settings over the `ngram` preset (sized for a whole forum) for fine-tuning `style` on the demo's
    few training accounts: every account in each batch, `max_steps` steps validated DEMO_VALIDATIONS times
    (the best, step 0 included, is kept), and no resumable checkpoint (a demo is re-run, not resumed)."""
    return {
        "model.base": "style",
        "episodes.accounts_per_batch": min(accounts, 256),
        "run.max_steps": max_steps,
        "run.max_seconds": None,
        "run.eval_every": max(1, max_steps // DEMO_VALIDATIONS),
        "run.checkpoint_every": max_steps + 1,
    }


def run_demo(
    *,
    corpus: str | Path = "enron_demo",
    out: str | Path = "runs/demo",
    seed: int = 0,
    max_steps: int = DEMO_STEPS,
    loss: str = DEMO_LOSS,
    test_accounts: int = DEMO_TEST_ACCOUNTS,
    val_accounts: int = DEMO_VAL_ACCOUNTS,
    overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> DemoResult:
    """Run the whole pipeline on `corpus`, writing every output under `out` (replaced on a re-run).

    `overrides`: further dotted training settings (over the ngram preset and `training_overrides`).
    Seeded by `seed` throughout: the split, training, the evaluation sets and the clustering.
    """
    out = Path(out)
    # The demo owns its run folder: a previous demo run there is replaced, anything else is refused.
    check_output_folder(out, kind="demo", overwrite=True)
    if out.is_dir() and any(out.iterdir()):
        logger.warning("replacing the previous demo run in %s", out)
        shutil.rmtree(out)
    try:
        return _pipeline(out, corpus, seed, max_steps, loss, test_accounts, val_accounts, overrides, progress)
    except BaseException:
        # the demo owns its folder: a failed run leaves none that its rerun would refuse as not authorid's
        shutil.rmtree(out, ignore_errors=True)
        raise


def _pipeline(
    out, corpus, seed, max_steps, loss, test_accounts, val_accounts, overrides, progress
) -> DemoResult:
    """`run_demo`'s stages, each output written under `out`."""
    started = time.perf_counter()
    timing: dict[str, float] = {}
    outputs: dict[str, Path] = {}
    with quiet_library_bars(not progress), _timed(timing, "ingest"):
        ingested = ingest(corpus, out=out / "posts.parquet", progress=progress)
    outputs["posts"], outputs["ingest report"] = ingested.posts_path, ingested.report_path

    with _timed(timing, "split"):
        parts = split_accounts(
            ingested.posts, seed=seed, test_accounts=test_accounts, val_accounts=val_accounts
        )
        outputs["split manifest"] = parts.manifest.save(out / "split.json")

    accounts = len(set(parts.train["account_id"]))
    settings = {**training_overrides(max_steps, accounts=accounts), "run.seed": seed, **(overrides or {})}
    with quiet_library_bars(not progress), _timed(timing, "train"):
        model = train(
            parts.train,
            val=parts.val,
            out=out / "model",
            preset="ngram",
            loss=loss,
            overrides=settings,
            overwrite=True,
            progress=progress,
        )
    outputs |= _model_outputs(out / "model")

    # `style`, the "before" model, was trained on Reddit accounts: those among the held-out accounts are left out
    # of both evaluations and of the clustering, so all three read the same accounts, and the summary says how
    # many (audit 15: 14 of 16 on a Reddit sample; `evaluate` left them out of the "before" run alone, its pool
    # of 2 gave MRR 1.000, and the clustering kept all 16)
    held_out, style_own = without_training_accounts(
        load_model("style"), parts.test, keep=None, purpose=" held out"
    )
    if len(held_out) == 0:
        raise SplitError(
            "every held-out account is one the pretrained `style` trained or validated on: there is nothing to"
            " compare it on; give the demo a corpus `style` never saw"
        )
    with quiet_library_bars(not progress), _timed(timing, "evaluate"):
        runs = evaluate_before_after(
            model, held_out, out=out, seed=seed, corpus=str(corpus), progress=progress
        )
    for name, run in runs.items():
        outputs[f"{name} metrics"] = Path(run["outputs"]["metrics"])
        outputs[f"{name} report"] = Path(run["outputs"]["report"])

    with quiet_library_bars(not progress), _timed(timing, "cluster"):
        clusters = cluster_held_out(model, held_out, out=out / "clusters", seed=seed, progress=progress)
    outputs |= clusters.outputs

    summary = demo_summary(
        corpus=str(corpus),
        seed=seed,
        ingested=ingested,
        parts=parts,
        model=model,
        runs=runs,
        clusters=clusters,
        settings=settings,
    )
    summary["held_out_left_out"] = {
        "accounts": style_own,
        "of": len(set(read_columns(parts.test, ["account_id"]).column(0).to_pylist())),
        "why": "the pretrained style model trained or validated on them",
    }
    timing["total"] = time.perf_counter() - started
    summary["timing_s"] = {k: round(v, 2) for k, v in timing.items()}
    outputs["summary"] = out / SUMMARY_FILE
    outputs["demo report"] = out / REPORT_FILE
    summary["outputs"] = {what: str(path) for what, path in outputs.items()}
    write_json(out / SUMMARY_FILE, summary)
    atomic_write_text(out / REPORT_FILE, render_demo_report(summary, out=out, clusters=clusters))
    write_manifest(out, "demo", model=model.identity())
    metrics = {name: runs[name]["protocols"]["sybil"]["metrics"] for name in runs}
    return DemoResult(out=out, metrics=metrics, clustering=clusters.metrics, summary=summary, outputs=outputs)


def evaluate_before_after(
    model, test, *, out: Path, seed: int, corpus: str, progress: bool = False
) -> dict[str, dict]:
    """The sybil protocol on the held-out accounts for the pretrained `style` model and for `model`.

    Same posts, seed and settings, so the same queries (their sha256 is in each metrics.json). Each run writes
    OUT/eval-pretrained/ or OUT/eval-fine-tuned/ (metrics.json, report.html, manifests/).
    """
    pretrained = load_model("style")
    return {
        name: evaluate(
            style_model,
            test,
            protocol="sybil",
            seed=seed,
            min_posts=DEMO_MIN_POSTS,
            out=out / folder,
            corpus=corpus,
            progress=progress,
        )
        for name, style_model, folder in (
            (BEFORE, pretrained, "eval-pretrained"),
            (AFTER, model, "eval-fine-tuned"),
        )
    }


def split_accounts(posts, *, seed: int, test_accounts: int, val_accounts: int) -> Split:
    """Author-disjoint train / validation / held-out test accounts; only accounts with >= DEMO_MIN_POSTS posts
    are held out (validated or tested), the others all train."""
    try:
        return split(
            posts,
            "open-world",
            seed=seed,
            val_accounts=val_accounts,
            test_accounts=test_accounts,
            min_posts=DEMO_MIN_POSTS,
        )
    except SplitError:  # said in the demo's terms: it has no split options to lower
        sizes = collections.Counter(read_columns(posts, ["account_id"]).column(0).to_pylist())
        eligible = sum(n >= DEMO_MIN_POSTS for n in sizes.values())
        raise SplitError(
            f"the demo holds out {val_accounts} validation and {test_accounts} test accounts of {DEMO_MIN_POSTS}"
            f" posts or more; the corpus has {eligible} such accounts (of {len(sizes)}, once cleaned): give one"
            " with more"
        ) from None


#: How the demo cuts its clustering, said wherever its figures are (`authorid cluster` goes further).
CLUSTER_CUT = (
    "P >= the calibration's own threshold, at its own prior, with no precision floor (`authorid cluster` also"
    " moves P to the forum prior and raises the threshold until a pairwise precision of 0.9 is 90% sure)"
)


def cluster_held_out(model, test, *, out: Path, seed: int, progress: bool = False) -> DemoClusters:
    """Cut each held-out account in two pseudo-accounts (as the sybil evaluation does) and cluster them all.

    How many persons there are is not given: `cluster_accounts` (group-average linkage over the kNN graph,
    k = DEMO_CLUSTER_K) finds them, its edges the model's calibrated P(same person) at the calibration's own
    prior, cut at the calibration's threshold (with no calibration, cosines cut at 0.5). `authorid cluster`
    also moves P to the forum prior and raises the threshold until a pairwise precision of 0.9 is 90% sure; the demo
    keeps the plain cut, so its figures compare with earlier runs. The cut is the one the sybil evaluation
    makes (same seed, same rule), and the true author of a pseudo-account is the account it was cut from.
    """
    pseudo = split(test, "sybil", seed=seed, k=2, by="auto", min_posts=DEMO_MIN_POSTS).test
    person_of = dict(zip(pseudo["account_id"], pseudo["person_id"], strict=True))
    vectors = model.embed_accounts(pseudo, progress=progress)
    calibration = model.calibration
    threshold = float(getattr(calibration, "threshold", 0.5)) if calibration is not None else 0.5
    report = cluster_accounts(
        vectors,
        k=min(DEMO_CLUSTER_K, len(vectors) - 1),
        threshold=threshold,
        probability=calibration.predict if calibration is not None else None,
        seed=seed,
    )
    truth = [person_of[a] for a in report.account_ids]
    metrics = clustering_metrics(np.array(truth, dtype=object), report.labels)
    metrics["persons_recovered"] = _persons_recovered(report, person_of)
    out.mkdir(parents=True, exist_ok=True)
    outputs = {
        "held-out vectors": vectors.to_parquet(out / "vectors.parquet"),
        "clusters": report.to_jsonl(out / "clusters.jsonl"),
        "cluster assignments": report.assignments_csv(out / "assignments.csv"),
    }
    return DemoClusters(report, person_of, metrics, calibration is not None, outputs)


def _persons_recovered(report: ClusterReport, person_of: dict[str, str]) -> int:
    """True authors whose pseudo-accounts form exactly one cluster, nothing missing and nothing added."""
    accounts_of: dict[str, set[str]] = {}
    for account, person in person_of.items():
        accounts_of.setdefault(person, set()).add(account)
    found = {frozenset(c.members) for c in report.clusters}
    return sum(frozenset(accounts) in found for accounts in accounts_of.values())


def _model_outputs(folder: Path) -> dict[str, Path]:
    wanted = {
        "model": folder,
        "model card": folder / "README.md",
        "training curves": folder / "training_curves.png",
        "calibration": folder / "calibration.json",
    }
    return {what: path for what, path in wanted.items() if path.exists()}


def demo_summary(
    *, corpus: str, seed: int, ingested, parts: Split, model, runs: dict, clusters, settings: dict
) -> dict:
    """The content of OUT/demo.json: every step's numbers, which the report and the CLI show."""
    meta = model.metadata
    sybil = {name: run["protocols"]["sybil"] for name, run in runs.items()}
    hashes = {name: entry["queries_sha256"] for name, entry in sybil.items()}
    calibration = model.calibration
    return {
        "corpus": corpus,
        "seed": int(seed),
        "ingest": ingested.report.to_dict(),
        "split": {"protocol": "open-world", "counts": parts.manifest.counts, "params": parts.manifest.params},
        "training": {
            "loss": meta["loss"]["name"],
            "preset": "ngram",
            "settings": settings,
            "base": meta.get("base"),
            "episodes": meta["episodes"],
            "data": {k: v for k, v in meta["data"].items() if k != "splits"},
            "training": meta["training"],
            "validation": {k: v for k, v in meta["validation"].items() if k != "history"},
            "history": meta["validation"]["history"],
            "calibration": None
            if calibration is None
            else {"threshold": float(calibration.threshold), "held_out": calibration.info.get("held_out")},
        },
        "linking": {
            "protocol": "sybil",
            "settings": sybil[AFTER]["settings"],
            "metrics": {name: entry["metrics"] for name, entry in sybil.items()},
            "queries_sha256": hashes,
            "same_queries": len(set(hashes.values())) == 1,
        },
        "clustering": {
            "model": AFTER,
            "accounts": len(clusters.report.account_ids),
            "true_persons": len(set(clusters.person_of.values())),
            "calibrated": clusters.calibrated,
            "cut": CLUSTER_CUT if clusters.calibrated else "cosine >= 0.5 (no calibration)",
            "params": clusters.report.params,
            "stats": clusters.report.stats,
            "metrics": clusters.metrics,
        },
    }


# ----------------------------------------------------------------------------------------------- plumbing


@contextlib.contextmanager
def _timed(timing: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timing[stage] = timing.get(stage, 0.0) + time.perf_counter() - started
