"""`authorid cluster MODEL CORPUS -o clusters/`: group accounts into presumed persons, with the evidence."""

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
    err_console,
    read_corpus,
    user_errors,
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
    from authorid.workflows.cluster import cluster  # deferred: loads torch; `--help` stays fast
    from authorid.workflows.common import load_calibration, model_for  # deferred with the workflow above

    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, empty="no accounts to cluster")
    calibrator = load_calibration(calibration) if calibration is not None else None
    style_model = model_for(model, posts)
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
