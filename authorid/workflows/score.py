"""`score`: the calibrated P(same person) and a decision (same / different / abstain) for listed account pairs."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from pathlib import Path

from authorid.data.clean import EMPTIED, mask_identifiers
from authorid.errors import InputError
from authorid.evidence.copies import MIN_COPY_CHARS, CopiedPosts
from authorid.evidence.habits import pair_reasons
from authorid.io import atomic_write_text
from authorid.model import StyleModel
from authorid.pretrained import is_packaged
from authorid.vectors import AccountVectors
from authorid.verification import cohort
from authorid.verification.calibrator import Calibrator, check_prior
from authorid.workflows.common import check_calibration_model, load_calibration, pool_cohort

#: cohort_score: the cosine less its pair's cohort shift, what a calibration's cohort fit reads (empty where the
#: cosine fit was used: a calibration without one, or fewer accounts than a cohort needs). copied_posts: the
#: texts both accounts posted word for word (`count_copies`).
SCORE_COLUMNS = ("cosine", "cohort_score", "probability", "decision", "sizes_calibrated", "copied_posts")


def resolve_calibration(calibration, model: StyleModel, *, hint: str, force: bool = False):
    """--calibration FILE, or the calibration already loaded from it (checked to be this model's unless
    `force`), else the model's own calibration.json; a one-line error saying what to run."""
    if calibration is not None:
        calibrator = calibration if hasattr(calibration, "predict") else load_calibration(calibration)
        check_calibration_model(calibrator, model, force=force)
        return calibrator
    if model.calibration is not None:
        return model.calibration
    raise ValueError(no_calibration_message(model.name, hint))


def carries_calibration(spec: str) -> bool:
    """Whether MODEL can carry its own calibration: a model folder, or a packaged model (one that ships)."""
    return Path(spec).is_dir() or is_packaged(spec)


def no_calibration_message(model: str, hint: str) -> str:
    return (
        f"no calibration for model {model!r}: run `authorid calibrate {hint} -o calibration.json` "
        "and pass --calibration calibration.json"
    )


@contextlib.contextmanager
def unreadable_as_input_error(path: Path):
    """A pairs file that is not UTF-8 text or not CSV (a NUL byte, an unclosed quote at the end) is said in one
    line naming it, as any other malformed input."""
    try:
        yield
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a UTF-8 CSV file ({exc})") from None


def check_pairs_file(path: Path, *, on_error: str = "raise") -> list[str]:
    """The header of a pairs CSV, checked to name account_a and account_b and to be followed by a pair: a
    malformed file is said in one line before a corpus is read or embedded. With on_error "raise", every row
    is checked too (a field missing or one too many, an unclosed quote); "skip" leaves them to be counted."""
    with open(path, newline="", encoding="utf-8-sig") as handle, unreadable_as_input_error(path):
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        if not header:
            raise InputError(
                f"{path}: empty (need a header line account_a,account_b, then one pair per line)"
            )
        missing = [c for c in ("account_a", "account_b") if c not in header]
        if missing:
            raise InputError(
                f"{path}: no column {', '.join(missing)} (need account_a, account_b; found"
                f" {', '.join(map(repr, header))})"
            )
        taken = [c for c in header if c in (*SCORE_COLUMNS, "reason")]
        if taken:
            raise InputError(
                f"{path}: column {', '.join(taken)} would be overwritten by score's own output"
                f" ({', '.join(SCORE_COLUMNS)}, reason); rename it"
            )
        first = next(reader, None)
        if first is None:
            raise InputError(f"{path}: no pairs, only a header line")
        if on_error == "raise":
            for row in itertools.chain([first], reader):
                fault = pair_fault(row, header)
                if fault is not None:
                    raise InputError(
                        f"{path} line {reader.line_num}: {fault} (--on-error skip counts such pairs)"
                    )
    return header


def read_pairs(
    path: Path, known, *, on_error: str, emptied=frozenset(), known_from: str = "the corpus"
) -> tuple[list[dict], list[str], list[str]]:
    """(rows, header, skipped): pair rows with account_a / account_b both in `known` (line numbers 1-based), and
    under --on-error skip each pair skipped as "FILE line N: why"; `emptied`: accounts cleaning left without a
    post, named as such when a pair asks for one."""
    header = check_pairs_file(path, on_error="skip")
    with open(path, newline="", encoding="utf-8-sig") as handle, unreadable_as_input_error(path):
        rows, skipped = [], []
        reader = csv.DictReader(handle)
        for row in reader:
            fault = pair_fault(row, header, known, emptied, known_from)
            if fault is None:
                rows.append(row)
            elif on_error == "skip":
                skipped.append(f"{path} line {reader.line_num}: {fault}")
            else:
                raise InputError(
                    f"{path} line {reader.line_num}: {fault} (--on-error skip counts such pairs)"
                )
    return rows, header, skipped


def pair_fault(
    row: dict, header: list[str], known=None, emptied=frozenset(), known_from: str = "the corpus"
) -> str | None:
    """What is wrong with one row of a pairs file, or None: an unclosed quote, a field missing or one too many
    (csv gives None for a missing field and puts extra ones under the key None), or an account not in the corpus
    (`known`; None: not checked)."""
    # an account id never holds a line break: csv read the lines after an unclosed quote into this field (said
    # first: the fields it swallowed are then missing too)
    broken = next(
        (c for c in ("account_a", "account_b") if "\n" in (row[c] or "") or "\r" in (row[c] or "")), None
    )
    if broken is not None:
        return (
            f"field {broken} holds a line break: a quote in this pair is never closed, and the lines after it"
            " were read into it"
        )
    if None in row:
        return f"{len(header) + len(row[None])} fields where the header has {len(header)}"
    missing = next((c for c in header if row[c] is None), None)
    if missing is not None:
        return f"field {missing} is missing (the header has {len(header)} fields)"
    if known is None:
        return None
    unknown = next((row[c] for c in ("account_a", "account_b") if row[c] not in known), None)
    if unknown in emptied:
        return f"account {unknown!r} {EMPTIED}"
    if unknown is not None:
        return f"unknown account {unknown!r} (not in {known_from})"
    return None


def score_pairs(
    vectors: AccountVectors, rows: list[dict], calibration, *, prior: float | None = None
) -> list[dict]:
    """Each row with cosine, cohort_score, probability, decision and `sizes_calibrated`: "no" when an account has
    fewer or more posts than any account the calibration was fitted on (its P is then an extrapolation), else
    "yes". The accounts of `vectors` are the pool: with at least `cohort.MIN_POOL` of them, a calibration's
    cohort fit reads each pair's cosine less its shift in their cohort (`authorid.verification.cohort`)."""
    a, b = [r["account_a"] for r in rows], [r["account_b"] for r in rows]
    cosines = vectors.pair_cosines(a, b)
    rows_a, rows_b = vectors.positions(a), vectors.positions(b)
    sizes = vectors.pair_sizes(rows_a, rows_b) if rows else None
    fit = calibration.for_pool(len(vectors))
    scores, shown = cosines, [""] * len(rows)
    if fit.reads_cohort and rows:
        skip = cohort.skip_weight(fit, prior, len(vectors))
        pool = pool_cohort(vectors, skip=skip, reference_posts=cohort.reference_posts(fit))
        scores = cohort.normalised(cosines, pool.shift(rows_a, rows_b))
        shown = [f"{s:.6f}" for s in scores]
    if prior is not None:  # P moved to the share of same-person pairs the user expects among these pairs
        probabilities = fit.predict(scores, sizes=sizes, prior=prior) if rows else cosines
    else:
        probabilities = fit.predict(scores, sizes=sizes) if rows else cosines
    decisions = fit.decide(probabilities)
    inside = within_calibrated_sizes(vectors, a, b, calibration)
    return [
        {
            **row,
            "cosine": f"{c:.6f}",
            "cohort_score": n,
            "probability": f"{p:.6f}",
            "decision": d,
            "sizes_calibrated": i,
        }
        for row, c, n, p, d, i in zip(rows, cosines, shown, probabilities, decisions, inside, strict=True)
    ]


def count_copies(posts, rows: list[dict]) -> list[str]:
    """Per pair, how many texts both accounts posted word for word (`authorid.evidence.copies`): copied text
    raises P whoever wrote it. Empty strings without posts (pairs scored from --vectors: nothing to compare)."""
    if posts is None:
        return [""] * len(rows)
    named = {r[c] for r in rows for c in ("account_a", "account_b")}
    copies = CopiedPosts.from_posts(posts, named)
    return [str(copies.count(r["account_a"], r["account_b"])) for r in rows]


def pairs_with_copies(rows: list[dict]) -> int | None:
    """How many pairs share a post word for word; None when copies were not counted (pairs scored from
    --vectors: no posts to compare)."""
    if any(r.get("copied_posts") == "" for r in rows):
        return None
    return sum(1 for r in rows if r.get("copied_posts") not in ("0", None))


def copies_warning(rows: list[dict]) -> str | None:
    """The line a command prints when some pairs share posts word for word (or when copies could not be
    counted), or None."""
    n = pairs_with_copies(rows)
    if n is None and rows:
        return (
            "note: posts copied between accounts were not counted (column copied_posts empty): --vectors holds no"
            " posts; score the corpus to count them"
        )
    if not n:
        return None
    return (
        f"warning: {n:,} pair{'s' * (n != 1)} share posts word for word ({MIN_COPY_CHARS}+ characters, spacing,"
        " case and masked links, addresses and mentions aside; column copied_posts): copied text (a template, a"
        " meme, a reposted listing) raises P whoever wrote it; `authorid explain` shows the texts"
    )


def within_calibrated_sizes(vectors: AccountVectors, a: list[str], b: list[str], calibration) -> list[str]:
    """ "yes"/"no" per pair: both accounts' post counts inside the calibration's `account_posts` range, and
    their character counts inside its `account_chars` range when it records one ("yes" for every pair when the
    calibration records neither: fitted before they were recorded)."""
    if not a:
        return []
    inside = calibration.within_sizes(vectors.n_posts, vectors.n_chars)
    pair_inside = inside[vectors.positions(a)] & inside[vectors.positions(b)]
    return ["yes" if i else "no" for i in pair_inside]


def write_scores(out: Path, header: list[str], scored: list[dict]) -> Path:
    buffer = io.StringIO()
    extra = ["reason"] if scored and "reason" in scored[0] else []
    writer = csv.DictWriter(buffer, fieldnames=header + list(SCORE_COLUMNS) + extra, lineterminator="\n")
    writer.writeheader()
    writer.writerows(scored)
    return atomic_write_text(out, buffer.getvalue())


def score(
    model: StyleModel,
    posts,
    *,
    pairs: Path,
    out: Path,
    calibration=None,
    vectors: AccountVectors | None = None,
    on_error: str = "raise",
    progress: bool = False,
    explain: bool = False,
    prior: float | None = None,
    emptied=frozenset(),
) -> tuple[list[dict], list[str], Path]:
    """Score the pairs listed in `pairs` (CSV with account_a, account_b) among the accounts of `posts` (or of
    `vectors` already embedded); returns (scored rows, the pairs skipped as "FILE line N: why", the CSV written).
    Each row's values are the CSV's text (`"0.8123"`, `copied_posts` `"1"`; `""` where nothing was measured).
    `calibration`: a Calibrator (`calibrate`'s), or None for the model's own (`style` ships one).
    `explain`: add a `reason` column, each pair's strongest shared habits (`explain.pair_reasons`; needs
    `posts`). `prior`: the share of same-person pairs expected among the listed pairs (None: the share the
    calibration was fitted on); P(same person) is moved to it by Bayes' rule. `emptied`: accounts cleaning left
    without a post (`IngestReport.emptied_accounts`), named as such when a pair asks for one."""
    if explain and posts is None:
        raise ValueError("--explain needs the corpus (the reasons are read from the accounts' own posts)")
    if calibration is None:
        calibration = getattr(model, "calibration", None)
        if calibration is None:
            raise ValueError(
                f"no calibration for model {model.name!r}: fit one with `authorid calibrate` (the Python API's"
                " `calibrate`) and pass it as calibration="
            )
    known = set(vectors.account_ids) if vectors is not None else set(posts["account_id"])
    # an account missing from a vectors file is not "not in the corpus": no corpus was given (audit 15)
    known_from = "the corpus" if vectors is None else "the account vectors"
    rows, header, skipped = read_pairs(
        pairs, known, on_error=on_error, emptied=emptied, known_from=known_from
    )
    if vectors is None:
        vectors = model.embed_accounts(posts, progress=progress)
    if prior is not None:
        check_prior(prior)
        if not isinstance(calibration, Calibrator):
            raise ValueError(
                f"--prior needs a calibration of one model's cosine, not a {type(calibration).__name__}"
            )
    scored = score_pairs(vectors, rows, calibration, prior=prior)
    copied = count_copies(posts, scored)
    for row, n in zip(scored, copied, strict=True):
        row["copied_posts"] = n
    if explain:
        pairs_read = [(r["account_a"], r["account_b"]) for r in rows]
        cleaned = mask_identifiers(posts)  # identifiers masked: a shared address is never shown as a habit
        for row, reason in zip(scored, pair_reasons(model, cleaned, pairs_read), strict=True):
            row["reason"] = reason
    return scored, skipped, write_scores(out, header, scored)
