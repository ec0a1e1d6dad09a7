"""`cluster`: group a corpus's accounts into presumed persons (the number of persons is not given)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from authorid.clustering import ClusterReport, cluster_accounts


@dataclass
class ClusterOutputs:
    report: ClusterReport
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
