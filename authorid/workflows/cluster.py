"""`cluster`: group a corpus's accounts into presumed persons (the number of persons is not given)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from authorid.artefacts import check_output_folder, write_manifest
from authorid.clustering import ClusterReport, cluster_accounts
from authorid.clustering.carry import CarriedIds, PreviousClustering, carry_ids, read_previous
from authorid.clustering.cluster import DEFAULT_CONFIDENCE, DEFAULT_MIN_PRECISION, check_options
from authorid.data.clean import mask_identifiers
from authorid.evidence.copies import CopiedPosts
from authorid.evidence.habits import pair_reasons
from authorid.model import StyleModel
from authorid.scaleout import engine_session
from authorid.scaleout.embed import embed_accounts
from authorid.scaleout.knn import knn_on_ray
from authorid.vectors import AccountVectors
from authorid.verification import cohort
from authorid.verification.calibrator import check_prior, forum_prior
from authorid.workflows.common import check_calibration_model


@dataclass
class ClusterOutputs:
    report: ClusterReport
    clusters_path: Path
    assignments_path: Path
    calibrated: bool
    carried: CarriedIds | None = None


def cluster(
    model: StyleModel,
    posts,
    *,
    out: Path,
    method: str = "average",
    k: int = 10,
    threshold: float | None = None,
    min_precision: float | None = None,
    confidence: float | None = None,
    calibration=None,
    prior: float | None = None,
    vectors: AccountVectors | None = None,
    overwrite: bool = False,
    force: bool = False,
    seed: int = 0,
    progress: bool = False,
    explain: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    previous: PreviousClustering | str | Path | None = None,
) -> ClusterOutputs:
    """Embed the accounts of `posts` (or take their `vectors`), cluster them, write clusters.jsonl and
    assignments.csv into folder `out` (new, empty, or a clustering replaced with `overwrite`).

    calibration: a Calibrator (checked to be `model`'s unless `force`; default the model's own; else none, and
    the threshold is a cosine). threshold: None means the calibration's own threshold, or 0.5 without one.
    min_precision: the threshold is raised until the clusters' pairwise precision reaches it with probability
    `confidence` (`cluster_accounts`; None: DEFAULT_CONFIDENCE); None: DEFAULT_MIN_PRECISION when the threshold
    is left to the calibration, not raised when one is given or there is no calibration; 0 never raises it.
    prior: the share of same-person pairs among the accounts' pairs (None: 1 / (accounts - 1), each account
    having at most one other account of the same person on average); P(same person) is moved to it.
    explain: add each evidence pair's strongest shared habits (`reason`; needs `posts`).
    engine: "local", or "ray" (the accounts are embedded and the kNN graph searched on a Ray cluster,
    `ray_address` or a local one; the graph step runs here). The clusters are the same.
    previous: an earlier run's clusters folder (or its `read_previous`): each cluster keeps the id of the earlier
    cluster it shares the most accounts with (`authorid.clustering.carry`), and says so in `since_previous`.
    """
    if explain and posts is None:
        raise ValueError("--explain needs the corpus (the reasons are read from the accounts' own posts)")
    if previous is not None and not isinstance(previous, PreviousClustering):
        previous = read_previous(previous)  # before --out, which may be the same folder, is replaced
    out = check_output_folder(out, kind="clusters", overwrite=overwrite)
    if vectors is None and (posts is None or len(posts) == 0):
        raise ValueError("the corpus has no posts: no accounts to cluster")
    if calibration is not None:
        check_calibration_model(calibration, model, force=force)
    calibration = calibration if calibration is not None else model.calibration
    # before the accounts are embedded
    confidence = DEFAULT_CONFIDENCE if confidence is None else confidence
    check_options(
        method,
        k,
        threshold,
        calibrated=calibration is not None,
        min_precision=min_precision,
        confidence=confidence,
    )
    if prior is not None:
        check_prior(prior)
    with engine_session(engine, ray_address) as ray:
        if vectors is None:
            vectors = embed_accounts(model, posts, ray=ray, progress=progress)
        probability = None
        if calibration is not None:
            # the calibration's cohort-normalised fit when it has one and the accounts are enough for a cohort
            calibration = calibration.for_pool(len(vectors))
            prior = prior if prior is not None else forum_prior(len(vectors))
            probability = partial(calibration.predict, prior=prior)
        if threshold is None:
            threshold = float(calibration.threshold) if calibration is not None else 0.5
            if min_precision is None and calibration is not None:
                min_precision = DEFAULT_MIN_PRECISION
        search = partial(knn_on_ray, ray) if ray is not None else None
        report = cluster_accounts(
            vectors,
            method=method,
            k=k,
            threshold=threshold,
            probability=probability,
            seed=seed,
            search=search,
            cohort_normalised=calibration is not None and calibration.reads_cohort,
            skip=cohort.skip_weight(calibration, prior, len(vectors)) if calibration is not None else 0.0,
            reference_posts=cohort.reference_posts(calibration),
            min_precision=min_precision,
            confidence=confidence,
        )
    report.params["prior"] = prior
    if calibration is not None:  # accounts whose edges' P is an extrapolation (`DecisionMixin.within_sizes`)
        report.params["outside_calibrated_sizes"] = int(
            (~calibration.within_sizes(vectors.n_posts, vectors.n_chars)).sum()
        )
    if posts is not None:
        report.params["groups_with_copied_posts"] = count_copied_pairs(posts, report)
    if explain:
        explain_clusters(model, posts, report)
    carried = carry_ids(report, previous) if previous is not None else None
    outputs = ClusterOutputs(
        report=report,
        clusters_path=report.to_jsonl(out / "clusters.jsonl"),
        assignments_path=report.assignments_csv(out / "assignments.csv"),
        calibrated=calibration is not None,
        carried=carried,
    )
    write_manifest(out, "clusters", model=model.identity(), params=report.params)
    return outputs


#: Groups larger than this are not searched for copied posts pair by pair (a chained giant is said otherwise).
COPIES_MAX_GROUP = 200


def count_copied_pairs(posts, report: ClusterReport) -> int:
    """Each multi-account group's pairs of members that posted a text word for word (its `copied_pairs`):
    copied text joins accounts whoever wrote it (audit 12: five reposts made five 2-account persons at
    cohesion 1.00). Returns how many groups hold such a pair."""
    groups = [c for c in report.multi_account if c.size <= COPIES_MAX_GROUP]
    copies = CopiedPosts.from_posts(posts, {a for c in groups for a in c.members})
    for group in groups:
        group.copied_pairs = sum(copies.count(a, b) > 0 for a, b in itertools.combinations(group.members, 2))
    return sum(1 for group in groups if group.copied_pairs)


def explain_clusters(model: StyleModel, posts, report: ClusterReport) -> None:
    """Each evidence pair of the multi-account clusters gets its strongest shared habits (`reason`); the full
    evidence of a pair is `authorid explain MODEL CORPUS A B`."""
    pairs = [pair for cluster in report.multi_account for pair in cluster.evidence]
    cleaned = mask_identifiers(posts)  # identifiers masked: a shared address is never shown as a habit
    for pair, reason in zip(pairs, pair_reasons(model, cleaned, [(p.a, p.b) for p in pairs]), strict=True):
        pair.reason = reason
