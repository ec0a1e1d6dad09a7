"""`authorid cluster MODEL CORPUS -o clusters/`: group accounts into presumed persons, with the evidence."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    err_console,
    read_corpus,
    user_errors,
)

logger = logging.getLogger(__name__)


@dataclass
class ClusterOutputs:
    report: object  # authorid.clustering.ClusterReport
    clusters_path: Path
    assignments_path: Path
    calibrated: bool


def cluster(
    model,
    posts,
    *,
    out: Path,
    method: str = "mutual-knn",
    k: int = 10,
    threshold: float | None = None,
    calibration=None,
    seed: int = 0,
    progress: bool = False,
) -> ClusterOutputs:
    """Embed the accounts of `posts`, cluster them, write clusters.jsonl and assignments.csv under `out`.

    calibration: a Calibrator (else the model's own; else none, and the threshold is a cosine). threshold:
    None means the calibration's own threshold, or 0.5 without one.
    """
    from authorid.clustering import cluster_accounts

    if len(posts) == 0:
        raise ValueError("the corpus has no posts: no accounts to cluster")
    calibration = calibration if calibration is not None else getattr(model, "calibration", None)
    if threshold is None:
        threshold = float(getattr(calibration, "threshold", 0.5)) if calibration is not None else 0.5
    vectors = model.embed_accounts(posts, progress=progress)
    report = cluster_accounts(
        vectors,
        method=method,
        k=k,
        threshold=threshold,
        probability=calibration.predict if calibration is not None else None,
        seed=seed,
    )
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for clusters.jsonl and assignments.csv")
    return ClusterOutputs(
        report=report,
        clusters_path=report.to_jsonl(out / "clusters.jsonl"),
        assignments_path=report.assignments_csv(out / "assignments.csv"),
        calibrated=calibration is not None,
    )


@user_errors
def cluster_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for clusters.jsonl and assignments.csv.")],
    method: Annotated[str, typer.Option(help="'mutual-knn', 'agglomerative' or 'leiden'.")] = "mutual-knn",
    k: Annotated[int, typer.Option("--k", help="Nearest neighbours per account in the graph.")] = 10,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Decision threshold: P(same person) with a calibration (default: the calibration's own), "
            "a cosine without one (default 0.5)."
        ),
    ] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="A calibration.json (default: the model's own, if any).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for Leiden and the cohesion sample.")] = 0,
    max_groups: Annotated[int, typer.Option(help="Groups listed in the printed summary.")] = 10,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Cluster a corpus's accounts into presumed persons (no number of persons needed)."""
    from authorid.model import load_model

    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    if len(posts) == 0:
        raise ValueError(f"corpus {corpus} has no posts: no accounts to cluster")
    calibrator = None
    if calibration is not None:
        from authorid.verification import Calibrator

        if not calibration.is_file():
            raise FileNotFoundError(f"--calibration {calibration}: no such file")
        calibrator = Calibrator.load(calibration)
    style_model = load_model(model, fit_corpus=posts)
    if calibrator is None and style_model.calibration is None:
        err_console.print(
            "[yellow]warning:[/yellow] no calibration (pass --calibration or a calibrated model): edges are "
            f"raw cosines and --threshold {0.5 if threshold is None else threshold} is a cosine, not a probability",
            soft_wrap=True,
        )
    outputs = cluster(
        style_model,
        posts,
        out=out,
        method=method,
        k=k,
        threshold=threshold,
        calibration=calibrator,
        seed=seed,
        progress=console.is_terminal,
    )
    report = outputs.report
    console.print(report.summary(max_groups=max_groups), soft_wrap=True, markup=False)
    stats = report.stats
    if stats["largest_cluster"] > 0.1 * stats["n_accounts"] and stats["largest_cluster"] >= 20:
        err_console.print(
            f"[yellow]warning:[/yellow] the largest cluster holds {stats['largest_cluster']:,} of "
            f"{stats['n_accounts']:,} accounts: likely chaining; raise --threshold or lower --k",
            soft_wrap=True,
        )
    console.print(f"clusters:    {outputs.clusters_path}", soft_wrap=True)
    console.print(f"assignments: {outputs.assignments_path}", soft_wrap=True)
