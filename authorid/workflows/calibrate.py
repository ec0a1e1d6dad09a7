"""`calibrate`: fit a model's calibration (cosine -> P(same person)) on labelled account pairs of a corpus.

Where the pairs come from (`authorid.verification.labelled_accounts`): the corpus' `person_id` when some
person has two accounts, else every account cut into two sybil halves. Each same-person pair comes with
NEGATIVES_PER_POSITIVE different-person pairs (as many as exist when fewer do), up to one of them a hard
negative (an account of another person active in the same threads): in a forum almost every pair is two
different people, so P(same person) is calibrated at that share (about 1/31, recorded as `fit_prior`; `score
--prior` moves it). A calibration fitted on balanced pairs called 25% of 780 pairs of different Reddit users
"same" with `minilm` (issue 15). The calibration is fitted on half of the pairs and its operating point
(threshold at a target false-positive rate, c@1 abstain band) chosen on the other half
(`authorid.verification.calibrate_pairs`). The default method, "platt-sizes" (DEFAULT_METHOD), reads both
accounts' post and character counts: its pairs come from every labelled account cut to its first 1, 2, 5, 10,
20 and 50 posts and taken whole (`sized_pairs`), so P holds at every account size and the sizes it saw are
recorded (`score` flags pairs outside them). The false-positive and true-positive rates at the threshold are
then measured again over every pair of the whole labelled accounts (the sampled pairs are few, or cuts), each
rate with its 95% interval and pair count, and with the precision they imply at the forum prior
1/(accounts - 1).
With at least `cohort.MIN_POOL` labelled accounts, the same method is fitted again, on the same pairs, on
cohort-normalised scores (`Calibrator.cohort`; `authorid.verification.cohort`), which `score`, `cluster` and
`link` read in pools of that size. Its densities leave out each account's own person (`cohort.TWIN_FREE`):
in a pool the persons are unknown, and the density that stands in for this one leaves out each account's
nearest neighbour in proportion to the twins the prior expects (`cohort.skip_weight`).
`fit_fusion` does the same for two models' cosines at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from authorid.artefacts import CALIBRATION_FILE, artefact_kind, refresh_manifest
from authorid.data.arrow import canonical_order, read_columns
from authorid.data.splits import sybil_split
from authorid.evaluation.protocols.scoring import PostEmbeddings
from authorid.metrics.rates import (
    format_rate,
    implied_precision,
    rate_over_pairs,
    small_sample_warning,
)
from authorid.model import StyleModel
from authorid.vectors import AccountVectors
from authorid.verification import (
    CalibrationError,
    Calibrator,
    FusionCalibrator,
    calibrate_pairs,
    co_active_accounts,
    cohort,
    make_pairs,
)
from authorid.verification.calibrator import METHODS, forum_prior
from authorid.verification.operating_point import ABSTAIN_RULES
from authorid.workflows.common import pool_cohort, without_training_accounts

if TYPE_CHECKING:
    import datasets


#: Different-person pairs per same-person pair in every calibration's fit (see the module docstring).
NEGATIVES_PER_POSITIVE = 30
#: The method `calibrate` (and every calibration authorid fits: train's export, compress, fuse) uses unless
#: told otherwise: the one that reads both accounts' post and character counts, because a forum's accounts
#: differ in size. On 300 held-out Reddit accounts cut to 2-20 posts a side, size-blind "platt" gave P >= 0.5
#: to 29 pairs of 2-post accounts of which 4 were one person (P 0.70); "platt-sizes" gives none there, and over
#: all 16 pairings its P's promise 328 same-person pairs among 463 where 355 are (BENCHMARKS.md, "Calibration
#: at every account size").
DEFAULT_METHOD = "platt-sizes"


def fit_calibration(
    model: StyleModel,
    posts: datasets.Dataset,
    *,
    method: str = DEFAULT_METHOD,
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    n_pairs: int | None = None,
) -> Calibrator:
    """A Calibrator for `model` fitted on account pairs of `posts` (see the module docstring)."""
    labelled, source = labelled_accounts(posts, seed=seed)
    sized = Calibrator(method).needs_sizes
    # Each post is embedded once, for the whole accounts and for every cut of them (`sized_pairs`).
    embeddings = PostEmbeddings(model, labelled)
    vectors = embeddings.accounts()
    person_of = person_of_accounts(labelled)
    # the whole accounts as a pool scores them (at the forum prior: w = 1); None below cohort.MIN_POOL accounts
    whole_cohort = pool_cohort(vectors, skip=1.0)
    hard_pairs = 0  # size-aware pairs are drawn at random (`sized_pairs`)
    if sized:
        cosines, labels, sizes, shift, pair_persons = sized_pairs(embeddings, person_of, seed=seed)
        posts_seen = [int(min(n.min() for n in sizes[:2])), int(max(n.max() for n in sizes[:2]))]
        chars_seen = [int(min(n.min() for n in sizes[2:])), int(max(n.max() for n in sizes[2:]))]
        pairs_from = f"{source}, each cut to {'/'.join(map(str, FIT_SIZES))} posts and whole"
    else:
        hard = hard_negatives_of(labelled)
        a, b, labels = make_pairs(
            person_of,
            n_pairs=n_pairs,
            seed=seed,
            hard_negatives=hard,
            negatives_per_positive=NEGATIVES_PER_POSITIVE,
        )
        hard_pairs = sum(
            1 for x, y, lab in zip(a, b, labels, strict=True) if lab == 0 and y in hard.get(x, ())
        )
        cosines, sizes = vectors.pair_cosines(a, b), None
        pair_persons = ([person_of[x] for x in a], [person_of[y] for y in b])
        if whole_cohort is not None:  # each account's density without its own person (`twin_free_excess`)
            unit = vectors.vectors / np.maximum(np.linalg.norm(vectors.vectors, axis=1, keepdims=True), 1e-12)
            persons = [person_of[x] for x in vectors.account_ids]
            excess = twin_free_excess(unit, persons, np.arange(len(vectors)))
            shift = (excess[vectors.positions(a)] + excess[vectors.positions(b)]) / 2
        posts_seen = [int(vectors.n_posts.min()), int(vectors.n_posts.max())]
        chars_seen = [int(vectors.n_chars.min()), int(vectors.n_chars.max())]
        pairs_from = source
    # the held-out pairs share persons (cuts of one account, many pairs of each): their intervals say what
    # they are worth
    settings = {"method": method, "target_fpr": target_fpr, "abstain": abstain, "seed": seed, "sizes": sizes}
    settings["persons"] = pair_persons
    calibrator = calibrate_pairs(cosines, labels, **settings)
    # The same method on cohort-normalised scores, for pools of accounts (`authorid.verification.cohort`); the
    # same seed cuts the pairs into the same fit and held-out halves.
    fits = [(calibrator, None)]
    if whole_cohort is not None:
        calibrator.cohort = calibrate_pairs(cohort.normalised(cosines, shift), labels, **settings)
        calibrator.cohort.info.update(
            {
                "score": "cohort",
                "k": cohort.K,
                "density": cohort.TWIN_FREE,
                "pool": len(vectors),
                "median_density": whole_cohort.median,
                # the fewest posts of the whole accounts whose median the densities are taken in excess of: a
                # pool reads its median over its accounts this large (`cohort.reference_rows`)
                "reference_posts": int(vectors.n_posts.min()),
            }
        )
        fits.append((calibrator.cohort, whole_cohort))
    for fit, pool in fits:
        fit.info.update(
            {
                "pairs_from": pairs_from,
                "accounts": len(vectors),
                "persons": len(set(person_of.values())),
                "hard_negative_pairs": int(hard_pairs),
                "model": model.identity(),
                # the account sizes the calibration saw: `score` flags pairs with an account outside them
                "account_posts": posts_seen,
                "account_chars": chars_seen,
            }
        )
        fit.info.update(honest_operating_point(fit, vectors, person_of, seed=seed, pool=pool))
    return calibrator


#: Post counts each (pseudo-)account is cut to for a size-aware calibration (those below its size). Every account
#: is also taken whole (WHOLE), so the calibration sees the sizes of the corpus' own accounts, not only the cuts
#: below them (an 8-post half was otherwise read as its 5-post cut).
FIT_SIZES = (1, 2, 5, 10, 20, 50)
WHOLE = "whole"
#: Persons whose accounts are cut (a seeded sample beyond this).
SIZED_PERSONS = 600
#: A whole account's negatives are drawn from the whole accounts this many nearest it in post count (`sized_pairs`):
#: twice NEGATIVES_PER_POSITIVE, so a positive's negatives are mostly different accounts, yet near its size (20
#: and a window of 30 either side did about as well on the per-size benchmark; docs/calibration.md, stop 43).
SIZE_MATCHED = 60
PAIR_CHUNK = 4096


def sized_pairs(
    embeddings: PostEmbeddings, person_of: dict[str, str], *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple, np.ndarray, tuple]:
    """(cosines, labels, (posts_a, posts_b, chars_a, chars_b), cohort shifts, (persons_a, persons_b)) of pairs
    across the whole range of account sizes, from the labelled accounts' posts embedded once (`embeddings`, whose
    posts are the labelled accounts').

    Every labelled account is cut to its oldest s posts for each s of FIT_SIZES below its size, and taken whole;
    each same-person pair of accounts gives a positive for every pairing of their cuts, and
    NEGATIVES_PER_POSITIVE random accounts of other persons give the negatives, cut as the positive's second
    account is: to the same s, or whole, and then drawn among the SIZE_MATCHED whole accounts nearest it in post
    count (`size_matched`). The share of same-person pairs is thus the same at every size; drawn from all whole
    accounts, a large positive's negatives were mostly smaller accounts, pairs with both sides >= 20 posts had
    19 negatives per positive instead of 30, and the fit read the larger share as evidence of large accounts:
    `style`'s, fitted on 700 Reddit test accounts (median 14 posts a half) and read on 165 others cut to 30 posts
    a side, summed its P's over all their pairs to 229 same-person pairs where 165 were (now 195;
    docs/calibration.md, "Negatives as large as their positive").

    The cuts are embedded together, so each is centred on the centre of the cuts of its own post count
    (`authorid.encoders.size_centre`), as an account of that size is in any corpus: the cosines do not depend on
    how many cuts of each size there are. (With one mean for all sizes they did: centred on the mean of the cuts,
    1-post cuts and all, an 8-post account's cosines differed from what `embed` gives it among 8-post accounts,
    and the calibration missed by 0.06 ECE on the Reddit benchmark's 8-post halves, bench_ece.py.)

    Cohort shifts (`authorid.verification.cohort`; zeros below its MIN_POOL accounts): each cut's density is
    measured against the whole accounts of other persons, the pool an account of any size meets in a forum less
    its twins (`twin_free_excess`), and taken in excess of the whole accounts' median density among them."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(read_columns(embeddings.posts, ["account_id"]).column(0).to_pylist(), dtype=object)
    # each account's rows oldest first (then by post id), whatever the file's order: a cut to an account's first
    # s posts once took them in file order, so a shuffled copy of a corpus gave another calibration (audit 15)
    order = canonical_order(embeddings.posts)
    names, starts = np.unique(ids[order], return_index=True)
    rows_of = dict(zip(names.tolist(), np.split(order, starts[1:]), strict=True))
    persons = sorted(set(person_of.values()))
    if len(persons) > SIZED_PERSONS:
        persons = rng.choice(persons, SIZED_PERSONS, replace=False).tolist()
    kept = set(persons)
    accounts = [a for a in rows_of if person_of[a] in kept]
    # an account's cuts: (kind, posts), the kind being the cut size or WHOLE
    cuts_of = {
        a: [(s, s) for s in FIT_SIZES if s < len(rows_of[a])] + [(WHOLE, len(rows_of[a]))] for a in accounts
    }
    # A cut pools the oldest s posts of its account from the post vectors computed once (a transformer model
    # does not embed a post again for every cut it is in: 2.5x as many posts for accounts of 60 posts); all
    # cuts are embedded as one corpus.
    keys = [f"{a}\x1f{s}" for a in accounts for _, s in cuts_of[a]]
    embedded = embeddings.pool(keys, [rows_of[a][:s] for a in accounts for _, s in cuts_of[a]])
    position = {key: i for i, key in enumerate(embedded.account_ids)}
    unit = embedded.vectors / np.maximum(np.linalg.norm(embedded.vectors, axis=1, keepdims=True), 1e-12)
    by_kind: dict = {}  # kind -> [(account, posts)]
    for a in accounts:
        for kind, s in cuts_of[a]:
            by_kind.setdefault(kind, []).append((a, s))
    # the whole accounts by post count, for negatives as large as their positive (`size_matched`)
    by_kind[WHOLE].sort(key=lambda item: item[1])
    whole_posts = np.array([s for _, s in by_kind[WHOLE]])
    accounts_of: dict[str, list[str]] = {}
    for a in accounts:
        accounts_of.setdefault(person_of[a], []).append(a)
    first, second, labels = [], [], []
    for group in accounts_of.values():
        for x, y in ((x, y) for i, x in enumerate(group) for y in group[i + 1 :]):
            for _, size_x in cuts_of[x]:
                for kind_y, size_y in cuts_of[y]:
                    first.append(f"{x}\x1f{size_x}")
                    second.append(f"{y}\x1f{size_y}")
                    labels.append(1)
                    others = by_kind[kind_y]
                    if kind_y == WHOLE:
                        draws = size_matched(whole_posts, size_y, NEGATIVES_PER_POSITIVE, rng)
                    else:  # every cut of this kind has size_y posts
                        draws = rng.choice(len(others), NEGATIVES_PER_POSITIVE)
                    for z in draws:
                        other, size_z = others[z]
                        if person_of[other] != person_of[x]:
                            first.append(f"{x}\x1f{size_x}")
                            second.append(f"{other}\x1f{size_z}")
                            labels.append(0)
    rows_a = np.array([position[k] for k in first])
    rows_b = np.array([position[k] for k in second])
    cosines = np.concatenate(  # in chunks: a pair's two rows of a wide model are 130 kB
        [
            np.einsum("ij,ij->i", unit[rows_a[i : i + PAIR_CHUNK]], unit[rows_b[i : i + PAIR_CHUNK]])
            for i in range(0, len(rows_a), PAIR_CHUNK)
        ]
    )
    excess = np.zeros(len(unit))
    if cohort.applies(len(accounts)):
        persons = [person_of[key.split("\x1f")[0]] for key in embedded.account_ids]
        wholes = np.array([position[f"{a}\x1f{cuts_of[a][-1][1]}"] for a in accounts])
        excess = twin_free_excess(unit, persons, wholes)
    shift = (excess[rows_a] + excess[rows_b]) / 2
    pair_persons = tuple(
        np.array([person_of[key.rsplit("\x1f", 1)[0]] for key in side], dtype=object)
        for side in (first, second)
    )
    return (
        cosines,
        np.asarray(labels, dtype=np.int64),
        embedded.pair_sizes(rows_a, rows_b),
        shift,
        pair_persons,
    )


def size_matched(sorted_posts: np.ndarray, posts: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` random positions among the SIZE_MATCHED accounts whose post counts (`sorted_posts`, ascending) are
    nearest `posts`, centred on the run of accounts with exactly that many (with replacement)."""
    centre = (
        np.searchsorted(sorted_posts, posts, "left") + np.searchsorted(sorted_posts, posts, "right")
    ) // 2
    low = max(0, min(int(centre) - SIZE_MATCHED // 2, len(sorted_posts) - SIZE_MATCHED))
    return rng.integers(low, min(len(sorted_posts), low + SIZE_MATCHED), n)


def twin_free_excess(unit: np.ndarray, persons: list[str], wholes: np.ndarray) -> np.ndarray:
    """Each row of `unit` (L2-normalised account or cut vectors, row i of person `persons[i]`): its density
    against the whole accounts (the rows `wholes`) of other persons, less the median of the whole accounts'
    own such densities. A person's other accounts are left out because in a pool they are its twins, which
    raise exactly the densities of the accounts that have one (`authorid.verification.cohort`, "A person's
    other accounts are not its cohort")."""
    codes = np.unique(np.asarray(persons, dtype=object), return_inverse=True)[1]
    whole_codes = codes[wholes]
    matrix = unit[wholes].astype(np.float32)

    def scores(start: int, stop: int) -> np.ndarray:
        block = unit[start:stop].astype(np.float32) @ matrix.T
        block[codes[start:stop, None] == whole_codes[None, :]] = -np.inf  # its own person, itself included
        return block

    densities = cohort.pool_densities(scores, len(unit), diagonal=False)
    return cohort.Cohort.of_densities(densities, reference=densities[wholes]).excess


#: Accounts whose different-person pairs all measure the false-positive rate (a seeded sample beyond this).
ALL_PAIRS_ACCOUNTS = 2000


def honest_operating_point(
    calibrator: Calibrator,
    vectors: AccountVectors,
    person_of: dict[str, str],
    *,
    seed: int = 0,
    pool: cohort.Cohort | None = None,
) -> dict:
    """{"all_negative_pairs", "all_same_person_pairs", "implied_precision", "warnings"}: the FPR at
    `calibrator`'s threshold over every different-person pair of the whole accounts (of a seeded sample of
    ALL_PAIRS_ACCOUNTS beyond that) and the TPR over every same-person pair of them, the precision those two
    imply at the forum prior, and a warning when the held-out rates rest on few pairs. Both rates come from the
    same whole accounts: a size-aware calibration's held-out pairs are cuts of 1-50 posts, whose TPR is not the
    whole accounts' (`style` on the demo corpus: 0.18 against 0.63). `pool`: the whole accounts' cohort, whose
    shifts the (cohort-normalised) `calibrator` reads."""
    rows = np.arange(len(vectors))
    if len(rows) > ALL_PAIRS_ACCOUNTS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, ALL_PAIRS_ACCOUNTS, replace=False))
    matrix = vectors.vectors[rows].astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    persons = np.array([person_of[vectors.account_ids[r]] for r in rows])
    first, second = np.triu_indices(len(rows), k=1)
    similarities = matrix @ matrix.T
    rates = {}
    for key, chosen in (
        ("all_negative_pairs", persons[first] != persons[second]),
        ("all_same_person_pairs", persons[first] == persons[second]),
    ):
        a, b = rows[first[chosen]], rows[second[chosen]]
        scores = similarities[first[chosen], second[chosen]]
        if pool is not None:
            scores = cohort.normalised(scores, pool.shift(a, b))
        p = calibrator.predict(scores, sizes=vectors.pair_sizes(a, b))
        same = calibrator.decide(p) == "same" if len(p) else np.zeros(0, dtype=bool)
        # pairs of one account covary: the interval is worth the independent pairs (`rate_over_pairs`)
        rate = rate_over_pairs(same, persons[first[chosen]], persons[second[chosen]])
        rates[key] = {"accounts": int(len(rows)), **rate}
    held = calibrator.info["held_out"]
    prior = forum_prior(len(vectors))
    fpr = rates["all_negative_pairs"]["rate"] if rates["all_negative_pairs"]["n"] else held["fpr"]
    tpr = rates["all_same_person_pairs"]["rate"] if rates["all_same_person_pairs"]["n"] else held["tpr"]
    warning = small_sample_warning(held["fpr_interval"], held["tpr_interval"])
    return {
        **rates,
        "implied_precision": {"prior": prior, "precision": implied_precision(tpr, fpr, prior)},
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
    method: str = DEFAULT_METHOD,
    target_fpr: float | None = None,
    abstain: str | None = None,
    seed: int = 0,
    include_training_accounts: bool = False,
) -> tuple[Calibrator, Path]:
    """Fit `model`'s calibration on `posts` (see `fit_calibration`) and save it to `out`; (calibrator, path).

    The accounts the model trained or validated on are left out (and counted in `info`) unless
    `include_training_accounts`: their same-person cosines are higher than a new account's, so a calibration
    fitted on them promises too much on new ones."""
    excluded = 0
    if not include_training_accounts:
        posts, excluded = without_training_accounts(model, posts)
        if len(posts) == 0:
            raise CalibrationError(
                f"every account of the corpus is one {model.name} trained or validated on; calibrate on other"
                " accounts (or pass --include-training-accounts)"
            )
    calibrator = fit_calibration(
        model, posts, method=method, target_fpr=target_fpr, abstain=abstain, seed=seed
    )
    calibrator.info["excluded_training_accounts"] = excluded
    calibrator.info["model_spec"] = model_spec if model_spec is not None else model.name
    path = calibrator.save(out)
    if artefact_kind(path.parent) == "model":  # a model folder's own calibration: its manifest lists it
        refresh_manifest(path.parent)
    return calibrator, path


def check_calibrate_options(method: str, target_fpr: float | None, abstain: str | None, seed: int) -> None:
    """`calibrate`'s settings, checked before a corpus is read (each in one line naming its option)."""
    if method not in METHODS:
        raise CalibrationError(
            f"--method {method!r} is not a calibration method; valid: {', '.join(METHODS)}"
        )
    if target_fpr is not None and not 0 <= target_fpr < 1:
        raise ValueError(f"--target-fpr must be in [0, 1), got {target_fpr}")
    if abstain is not None and abstain not in ABSTAIN_RULES:
        raise CalibrationError(
            f"--abstain {abstain!r} is not an abstain rule; valid: {', '.join(ABSTAIN_RULES)}"
        )
    if seed < 0:
        raise ValueError(f"--seed must be >= 0, got {seed}")


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
    cut = len(set(halves.test["person_id"])) if len(halves.test) else 0
    if cut < 2:  # one person's two halves make no different-person pair
        raise CalibrationError(
            f"calibrate needs at least 2 accounts with 2 posts or more (each is cut into two halves, a same-person"
            f" pair); the corpus has {cut} of {len(set(posts['account_id']))} accounts"
        )
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
    same = info.get("all_same_person_pairs")
    band = "none"
    if calibrator.abstain_band is not None:
        band = "[{:.3f}, {:.3f}] ({:.1%} of held-out pairs)".format(
            *calibrator.abstain_band, held["abstain_rate"]
        )
    precision = "n/a" if implied["precision"] is None else f"{implied['precision']:.3f}"
    return [
        f"{info['method']} calibration on {info['pairs_fit']} pairs ({info['pairs_from']}); held-out"
        f" {info['pairs_held_out']} pairs: AUC {held['auc']:.3f}, threshold {calibrator.threshold:.3f}, abstain"
        f" band {band}, c@1 {held['c@1']:.3f}",
        f"  held-out FPR {format_rate(held['fpr_interval'])} different-person pairs, TPR"
        f" {format_rate(held['tpr_interval'])} same-person pairs (95% intervals)",
        f"  over all pairs of the {everyone['accounts']:,} accounts paired (uncut; {info['persons']:,} persons):"
        f" FPR {format_rate(everyone)}"
        + (f" different-person pairs, TPR {format_rate(same)} same-person pairs" if same else "")
        + f"; at the forum prior {implied['prior']:.2g} a 'same' is right {precision} of the time",
        *(f"warning: {w}" for w in info["warnings"]),
        *_cohort_summary(calibrator.cohort),
    ]


def _cohort_summary(fit: Calibrator | None) -> list[str]:
    """What `calibrate` prints of the cohort-normalised fit (none when the corpus had too few accounts)."""
    if fit is None:
        return [f"  no cohort-normalised fit: it needs at least {cohort.MIN_POOL} accounts"]
    info = fit.info
    everyone, same, implied = (
        info["all_negative_pairs"],
        info["all_same_person_pairs"],
        info["implied_precision"],
    )
    precision = "n/a" if implied["precision"] is None else f"{implied['precision']:.3f}"
    return [
        f"  cohort-normalised fit (read by `score`, `cluster` and `link` in pools of >= {cohort.MIN_POOL} accounts):"
        f" held-out AUC {info['held_out']['auc']:.3f}, threshold {fit.threshold:.3f}; over all pairs FPR"
        f" {format_rate(everyone)}, TPR {format_rate(same)}; at the forum prior {implied['prior']:.2g} a 'same'"
        f" is right {precision} of the time",
    ]
