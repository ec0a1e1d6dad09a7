"""`calibrate`: fit a model's calibration (cosine -> P(same person)) on labelled account pairs of a corpus.

Where the pairs come from (`authorid.verification.labelled_accounts`): the corpus' `person_id` when some
person has two accounts, else every account cut into two sybil halves. Each same-person pair comes with
NEGATIVES_PER_POSITIVE different-person pairs (as many as exist when fewer do), up to one of them a hard
negative (an account of another person active in the same threads): in a forum almost every pair is two
different people, so P(same person) is calibrated at that share (about 1/31, recorded as `fit_prior`; `score
--prior` moves it). A calibration fitted on balanced pairs called 25% of 780 pairs of different Reddit users
"same" with `minilm` (issue 15). The calibration is fitted on half of the pairs and its operating point
(threshold at a target false-positive rate, c@1 abstain band) chosen on the other half
(`authorid.verification.calibrate_pairs`). The false-positive rate at that threshold is then measured again
over every different-person pair of the labelled accounts (the sampled pairs are few), each rate with its 95%
interval and pair count, and with the precision it implies at the forum prior 1/(accounts - 1).
`fit_fusion` does the same for two models' cosines at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from authorid.artefacts import CALIBRATION_FILE
from authorid.data.splits import sybil_split
from authorid.metrics.rates import (
    format_rate,
    implied_precision,
    rate_with_interval,
    small_sample_warning,
)
from authorid.model import StyleModel
from authorid.schema import posts_from_records
from authorid.vectors import AccountVectors
from authorid.verification import (
    CalibrationError,
    Calibrator,
    FusionCalibrator,
    calibrate_pairs,
    co_active_accounts,
    make_pairs,
)
from authorid.verification.calibrator import forum_prior

if TYPE_CHECKING:
    import datasets


#: Different-person pairs per same-person pair in every calibration's fit (see the module docstring).
NEGATIVES_PER_POSITIVE = 30


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
    a, b, labels = make_pairs(
        person_of,
        n_pairs=n_pairs,
        seed=seed,
        hard_negatives=hard,
        negatives_per_positive=NEGATIVES_PER_POSITIVE,
    )
    if Calibrator(method).needs_sizes:
        cosines, labels, sizes = sized_pairs(model, labelled, person_of, seed=seed)
        calibrator = calibrate_pairs(
            cosines, labels, method=method, target_fpr=target_fpr, abstain=abstain, seed=seed, sizes=sizes
        )
        posts_seen = [int(min(n.min() for n in sizes)), int(max(n.max() for n in sizes))]
        pairs_from = f"{source}, each cut to {'/'.join(map(str, FIT_SIZES))} posts"
    else:
        calibrator = calibrate_pairs(
            vectors.pair_cosines(a, b),
            labels,
            method=method,
            target_fpr=target_fpr,
            abstain=abstain,
            seed=seed,
        )
        posts_seen = [int(vectors.n_posts.min()), int(vectors.n_posts.max())]
        pairs_from = source
    calibrator.info.update(
        {
            "pairs_from": pairs_from,
            "accounts": len(vectors),
            "persons": len(set(person_of.values())),
            "hard_negative_pairs": int(
                sum(1 for x, y, lab in zip(a, b, labels, strict=True) if lab == 0 and y in hard.get(x, ()))
            )
            if not calibrator.needs_sizes
            else 0,
            "model": model.identity(),
            # the account sizes the calibration saw: `score` flags pairs with an account outside them
            "account_posts": posts_seen,
        }
    )
    calibrator.info.update(honest_operating_point(calibrator, vectors, person_of, seed=seed))
    return calibrator


#: Post counts each (pseudo-)account is cut to for a size-aware calibration (those it has enough posts for).
FIT_SIZES = (1, 2, 5, 10, 20, 50)
#: Persons whose accounts are cut (a seeded sample beyond this).
SIZED_PERSONS = 600
PAIR_CHUNK = 4096


def sized_pairs(
    model: StyleModel, labelled: datasets.Dataset, person_of: dict[str, str], *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(cosines, labels, (posts_a, posts_b)) of pairs across the whole range of account sizes.

    Every labelled account is cut to its first s posts for each s of FIT_SIZES it has; each same-person pair
    of accounts gives a positive for every pairing of their cuts, and NEGATIVES_PER_POSITIVE random accounts of
    other persons, cut to the same size, give the negatives."""
    rng = np.random.default_rng(seed)
    table = labelled.select_columns(["account_id", "text"]).to_pandas()
    texts_of = table.groupby("account_id", sort=True)["text"].agg(list).to_dict()
    persons = sorted(set(person_of.values()))
    if len(persons) > SIZED_PERSONS:
        persons = rng.choice(persons, SIZED_PERSONS, replace=False).tolist()
    kept = set(persons)
    accounts = [a for a in texts_of if person_of[a] in kept]
    cuts = [(a, s) for a in accounts for s in FIT_SIZES if s <= len(texts_of[a])]
    records = [
        {"post_id": f"{a}\x1f{s}\x1f{i}", "account_id": f"{a}\x1f{s}", "text": text}
        for a, s in cuts
        for i, text in enumerate(texts_of[a][:s])
    ]
    embedded = model.embed_accounts(posts_from_records(records))
    position = {key: i for i, key in enumerate(embedded.account_ids)}
    unit = embedded.vectors / np.maximum(np.linalg.norm(embedded.vectors, axis=1, keepdims=True), 1e-12)
    cut_sizes = {a: [s for s in FIT_SIZES if s <= len(texts_of[a])] for a in accounts}
    by_size = {s: [a for a in accounts if s in cut_sizes[a]] for s in FIT_SIZES}
    accounts_of: dict[str, list[str]] = {}
    for a in accounts:
        accounts_of.setdefault(person_of[a], []).append(a)
    first, second, labels = [], [], []
    for group in accounts_of.values():
        for x, y in ((x, y) for i, x in enumerate(group) for y in group[i + 1 :]):
            for size_x in cut_sizes[x]:
                for size_y in cut_sizes[y]:
                    first.append(f"{x}\x1f{size_x}")
                    second.append(f"{y}\x1f{size_y}")
                    labels.append(1)
                    others = by_size[size_y]
                    for z in rng.choice(len(others), NEGATIVES_PER_POSITIVE):
                        if person_of[others[z]] != person_of[x]:
                            first.append(f"{x}\x1f{size_x}")
                            second.append(f"{others[z]}\x1f{size_y}")
                            labels.append(0)
    rows_a = np.array([position[k] for k in first])
    rows_b = np.array([position[k] for k in second])
    cosines = np.concatenate(  # in chunks: a pair's two rows of a wide model are 130 kB
        [
            np.einsum("ij,ij->i", unit[rows_a[i : i + PAIR_CHUNK]], unit[rows_b[i : i + PAIR_CHUNK]])
            for i in range(0, len(rows_a), PAIR_CHUNK)
        ]
    )
    sizes = (embedded.n_posts[rows_a], embedded.n_posts[rows_b])
    return cosines, np.asarray(labels, dtype=np.int64), sizes


#: Accounts whose different-person pairs all measure the false-positive rate (a seeded sample beyond this).
ALL_PAIRS_ACCOUNTS = 2000


def honest_operating_point(
    calibrator: Calibrator, vectors: AccountVectors, person_of: dict[str, str], *, seed: int = 0
) -> dict:
    """{"all_negative_pairs", "implied_precision", "warnings"}: the FPR at `calibrator`'s threshold over every
    different-person pair of the accounts (of a seeded sample of ALL_PAIRS_ACCOUNTS beyond that), the precision
    that FPR and the held-out TPR imply at the forum prior, and a warning when the held-out rates rest on few
    pairs."""
    rows = np.arange(len(vectors))
    if len(rows) > ALL_PAIRS_ACCOUNTS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, ALL_PAIRS_ACCOUNTS, replace=False))
    matrix = vectors.vectors[rows].astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    persons = np.array([person_of[vectors.account_ids[r]] for r in rows])
    first, second = np.triu_indices(len(rows), k=1)
    different = persons[first] != persons[second]
    cosines = (matrix @ matrix.T)[first[different], second[different]]
    posts = vectors.n_posts[rows]
    sizes = (posts[first[different]], posts[second[different]])
    called_same = int((calibrator.decide(calibrator.predict(cosines, sizes=sizes)) == "same").sum())
    all_negative = {"accounts": int(len(rows)), **rate_with_interval(called_same, int(different.sum()))}
    held = calibrator.info["held_out"]
    prior = forum_prior(len(vectors))
    fpr = all_negative["rate"] if all_negative["n"] else held["fpr"]
    warning = small_sample_warning(held["fpr_interval"], held["tpr_interval"])
    return {
        "all_negative_pairs": all_negative,
        "implied_precision": {"prior": prior, "precision": implied_precision(held["tpr"], fpr, prior)},
        "warnings": [warning] if warning else [],
    }


def fit_fusion(
    neural: StyleModel,
    stylometric: StyleModel,
    posts: datasets.Dataset,
    *,
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    n_pairs: int | None = None,
) -> FusionCalibrator:
    """A FusionCalibrator of two models' cosines on account pairs of `posts` (pairs as in fit_calibration)."""
    labelled, source = labelled_accounts(posts, seed=seed)
    person_of = person_of_accounts(labelled)
    a, b, labels = make_pairs(
        person_of, n_pairs=n_pairs, seed=seed, hard_negatives=hard_negatives_of(labelled)
    )
    cosines = np.stack(
        [model.embed_accounts(labelled).pair_cosines(a, b) for model in (neural, stylometric)], axis=1
    )
    calibrator = calibrate_pairs(
        cosines, labels, target_fpr=target_fpr, abstain=abstain, seed=seed, calibrator=FusionCalibrator()
    )
    calibrator.info.update(
        {"pairs_from": source, "models": {"neural": neural.identity(), "stylometric": stylometric.identity()}}
    )
    return calibrator


def calibrate(
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    out: str | Path,
    model_spec: str | None = None,
    method: str = "platt",
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
) -> tuple[Calibrator, Path]:
    """Fit `model`'s calibration on `posts` (see `fit_calibration`) and save it to `out`; (calibrator, path)."""
    calibrator = fit_calibration(
        model, posts, method=method, target_fpr=target_fpr, abstain=abstain, seed=seed
    )
    calibrator.info["model_spec"] = model_spec if model_spec is not None else model.name
    return calibrator, calibrator.save(out)


def default_calibration_path(model_spec: str) -> Path:
    """Where `calibrate` writes without --out: the model folder's calibration.json (a name is refused)."""
    if not Path(model_spec).is_dir():
        raise ValueError(f"model {model_spec!r} is not a folder: give --out/-o for the calibration file")
    return Path(model_spec) / CALIBRATION_FILE


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
    # A known person_id is kept: pseudo-accounts of two accounts of one person are then a same-person pair too.
    halves = sybil_split(posts, seed=seed, k=2, by="auto")
    return halves.test, f"sybil k=2 by={halves.manifest.params['by']}"


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


def calibration_summary(calibrator: Calibrator) -> list[str]:
    """What `calibrate` prints: the held-out operating point with its intervals and pair counts, the FPR over
    all different-person pairs, the precision implied at the forum prior, and any small-sample warning."""
    info = calibrator.info
    held, everyone, implied = info["held_out"], info["all_negative_pairs"], info["implied_precision"]
    band = "none" if calibrator.abstain_band is None else "[{:.3f}, {:.3f}]".format(*calibrator.abstain_band)
    precision = "n/a" if implied["precision"] is None else f"{implied['precision']:.3f}"
    return [
        f"{info['method']} calibration on {info['pairs_fit']} pairs ({info['pairs_from']}); held-out"
        f" {info['pairs_held_out']} pairs: AUC {held['auc']:.3f}, threshold {calibrator.threshold:.3f}, abstain"
        f" band {band}, c@1 {held['c@1']:.3f}",
        f"  held-out FPR {format_rate(held['fpr_interval'])} different-person pairs, TPR"
        f" {format_rate(held['tpr_interval'])} same-person pairs (95% intervals)",
        f"  FPR over all different-person pairs of {everyone['accounts']:,} accounts:"
        f" {format_rate(everyone)}; at the forum prior {implied['prior']:.2g} a 'same' is right"
        f" {precision} of the time",
        *(f"warning: {w}" for w in info["warnings"]),
    ]
