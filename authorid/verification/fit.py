"""`fit_calibration`: calibrate a StyleModel on a corpus, and `calibrate_pairs` on labelled pair similarities.

Where same-person pairs come from: the posts' `person_id` when some person has two accounts; otherwise each
account is cut into two sybil pseudo-accounts (`authorid.data.splits`, by time when every post has a
`created_at`, else at random), whose "person" is the original account. Hard negatives are accounts of other
persons posting in the same threads (`thread_id`, else `forum`) when the posts have them.

The pairs are cut in two halves, stratified by label: the calibration is fitted on one half, and the
operating point (threshold at a target false-positive rate, c@1 abstain band) is chosen on the other, so it
is not tuned on what the calibration has already seen. Everything is recorded in `Calibrator.info`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from authorid.verification.calibrator import CalibrationError, Calibrator
from authorid.verification.decisions import c_at_1, c_at_1_band, decide, threshold_at_fpr
from authorid.verification.pairs import co_active_accounts, make_pairs

if TYPE_CHECKING:
    import datasets

    from authorid.model import StyleModel

logger = logging.getLogger(__name__)

ABSTAIN_RULES = ("c@1",)


def fit_calibration(
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    method: str = "platt",
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    n_pairs: int | None = None,
) -> Calibrator:
    """A Calibrator for `model` fitted on account pairs of `posts` (see the module docstring)."""
    labelled, source = labelled_accounts(posts, seed=seed)
    vectors = model.embed_accounts(labelled)
    person_of = person_of_accounts(labelled)
    hard = hard_negatives_of(labelled)
    a, b, labels = make_pairs(person_of, n_pairs=n_pairs, seed=seed, hard_negatives=hard)
    similarities = pair_similarities(vectors, a, b)
    calibrator = calibrate_pairs(
        similarities, labels, method=method, target_fpr=target_fpr, abstain=abstain, seed=seed
    )
    calibrator.info.update(
        {
            "pairs_from": source,
            "accounts": len(vectors),
            "persons": len(set(person_of.values())),
            "hard_negative_pairs": int(
                sum(1 for x, y, lab in zip(a, b, labels, strict=True) if lab == 0 and y in hard.get(x, ()))
            ),
            "model": model.identity(),
        }
    )
    return calibrator


def calibrate_pairs(
    similarities: ArrayLike,
    labels: ArrayLike,
    *,
    method: str = "platt",
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    calibrator: Any = None,
) -> Calibrator:
    """Fit on a stratified half of the pairs, choose the operating point on the other half.

    `similarities` is (n,) for a Calibrator or (n, 2) for a FusionCalibrator (pass `calibrator=` to use one).
    Threshold: the one at `target_fpr` on the held-out half when given, else 0.5. `abstain="c@1"`: the band
    around that threshold maximising c@1 on the held-out half.
    """
    if abstain is not None and abstain not in ABSTAIN_RULES:
        raise CalibrationError(f"unknown abstain rule {abstain!r}; valid: {', '.join(ABSTAIN_RULES)}")
    s = np.asarray(similarities, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    fit_rows, held_rows = stratified_halves(y, seed=seed)
    calibrator = calibrator if calibrator is not None else Calibrator(method)
    calibrator.fit(s[fit_rows], y[fit_rows])
    held_p = calibrator.predict(s[held_rows])
    held_y = y[held_rows]
    if target_fpr is not None:
        calibrator.threshold = threshold_at_fpr(held_p, held_y, target_fpr)
    if abstain == "c@1":
        calibrator.abstain_band, _ = c_at_1_band(held_p, held_y, calibrator.threshold)
    calibrator.info.update(
        {
            "method": getattr(calibrator, "method", method),
            "seed": int(seed),
            "pairs_fit": int(fit_rows.size),
            "pairs_held_out": int(held_rows.size),
            "same_person_pairs": int(y.sum()),
            "threshold_rule": "target_fpr" if target_fpr is not None else "0.5",
            "target_fpr": target_fpr,
            "abstain_rule": abstain,
            "held_out": held_out_report(held_p, held_y, calibrator.threshold, calibrator.abstain_band),
        }
    )
    logger.info("calibration (%s): %s", calibrator.info["method"], calibrator.info["held_out"])
    return calibrator


def held_out_report(
    probabilities: np.ndarray, labels: np.ndarray, threshold: float, band: tuple[float, float] | None
) -> dict[str, float]:
    """AUC; FPR and TPR (an abstention is not a "same"); abstention rate and c@1, on held-out pairs."""
    from sklearn.metrics import roc_auc_score

    decisions = decide(probabilities, threshold, band)
    same = decisions == "same"
    report = {
        "auc": float(roc_auc_score(labels, probabilities))
        if 0 < labels.sum() < labels.size
        else float("nan"),
        "fpr": float(same[labels == 0].mean()) if (labels == 0).any() else 0.0,
        "tpr": float(same[labels == 1].mean()) if (labels == 1).any() else 0.0,
        "abstain_rate": float((decisions == "abstain").mean()),
        "c@1": float(c_at_1(probabilities, labels, threshold, band)),
    }
    return {k: round(v, 6) for k, v in report.items()}


def stratified_halves(labels: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fit rows, held-out rows): each label's rows shuffled and cut in half (the extra one goes to fit)."""
    rng = np.random.default_rng(seed + 1)
    fit, held = [], []
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == value))
        cut = (rows.size + 1) // 2
        fit.append(rows[:cut])
        held.append(rows[cut:])
    fit_rows, held_rows = np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))
    if min(np.bincount(labels[held_rows], minlength=2)) == 0:
        raise CalibrationError(
            f"too few pairs to calibrate: {labels.size} pairs leave a held-out half without both classes"
        )
    return fit_rows, held_rows


def labelled_accounts(posts: datasets.Dataset, *, seed: int = 0) -> tuple[datasets.Dataset, str]:
    """(posts whose accounts have a person, where that came from): person_id if usable, else sybil halves."""
    if len(posts) == 0:
        raise CalibrationError("the corpus is empty: nothing to calibrate on")
    if "person_id" in posts.column_names:
        persons = posts["person_id"]
        if all(p is not None for p in persons):
            person_of = person_of_accounts(posts)
            counts: dict[str, int] = {}
            for person in person_of.values():
                counts[person] = counts.get(person, 0) + 1
            if max(counts.values()) >= 2:
                return posts, "person_id"
    from authorid.data.splits import split

    by = "time"
    if "created_at" not in posts.column_names or any(t is None for t in posts["created_at"]):
        by = "random"
    # A known person_id is kept: pseudo-accounts of two accounts of one person are then a same-person pair too.
    return split(posts, "sybil", seed=seed, k=2, by=by).test, f"sybil k=2 by={by}"


def person_of_accounts(posts: datasets.Dataset) -> dict[str, str]:
    """Account -> person (person_id of its first post)."""
    person_of: dict[str, str] = {}
    for account, person in zip(posts["account_id"], posts["person_id"], strict=True):
        person_of.setdefault(str(account), str(person))
    return person_of


def hard_negatives_of(posts: datasets.Dataset) -> dict[str, set[str]]:
    """Co-active accounts by thread_id (else forum); empty when the posts have neither."""
    for column in ("thread_id", "forum"):
        if column in posts.column_names:
            near = co_active_accounts(list(posts["account_id"]), list(posts[column]))
            if near:
                return near
    return {}


def pair_similarities(vectors, a: list[str], b: list[str]) -> np.ndarray:
    """Cosine of each pair's account vectors (rows are L2-normalised)."""
    va = vectors.vectors[[vectors.index_of(x) for x in a]]
    vb = vectors.vectors[[vectors.index_of(x) for x in b]]
    return np.einsum("ij,ij->i", va, vb).astype(np.float64)
