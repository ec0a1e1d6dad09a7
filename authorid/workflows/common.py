"""What several verbs share: reading a CORPUS argument and turning a MODEL argument into a StyleModel."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from authorid.account_hashes import training_accounts_mask
from authorid.data.arrow import read_columns
from authorid.data.clean import EmptyCorpusError, clean
from authorid.data.readers import read_posts, resolve_corpus
from authorid.data.report import IngestReport, report_path_for
from authorid.errors import AuthoridError
from authorid.index.knn import knn
from authorid.model import StyleModel, fitted_on_corpus, load_model
from authorid.scaleout import check_engine
from authorid.vectors import AccountVectors, VectorsFileError
from authorid.verification import Calibrator, cohort
from authorid.workflows.outputs import check_output_file, check_output_folder, settle_outputs

if TYPE_CHECKING:
    import datasets


# re-exported for the CLI, which imports the package through workflows only
__all__ = ["check_engine", "check_output_file", "check_output_folder", "settle_outputs"]

logger = logging.getLogger(__name__)


def _parquet_files(folder: Path) -> list[Path]:
    """The Parquet files in `folder` and below (any suffix case; hidden files are not posts)."""
    return [p for p in folder.rglob("*.[pP][aA][rR][qQ][uU][eE][tT]") if not p.name.startswith(".")]


def ingested(corpus: str | Path) -> bool:
    """Whether CORPUS is a Parquet file `authorid ingest` wrote (its IngestReport beside it, `report_path_for`):
    its posts are cleaned already, as its report says."""
    path = Path(corpus)
    if path.is_dir():  # a folder of ingested files (their reports beside them) is ingested
        files = _parquet_files(path)
        return bool(files) and len(files) == len(resolve_corpus(path)[0]) and all(map(ingested, files))
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return False
    report = report_path_for(path)
    try:
        said = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(said, dict) and {"posts_out", "dropped", "changed"} <= set(said)


def ingest_drops(corpus: str | Path) -> dict[str, int]:
    """What `authorid ingest` dropped from an ingested CORPUS (`ingested`), by why, as its report(s) say: summed
    over a folder's files; {} for a corpus that is not ingested. A command reading it as it is can then say what
    the file no longer holds (a texts file ingested with dedupe lost the texts its authors repeated)."""
    if not ingested(corpus):
        return {}
    path = Path(corpus)
    drops: dict[str, int] = {}
    for file in _parquet_files(path) if path.is_dir() else [path]:
        dropped = json.loads(report_path_for(file).read_text(encoding="utf-8"))["dropped"]
        for why, n in (dropped if isinstance(dropped, dict) else {}).items():
            if isinstance(n, int) and n:
                drops[why] = drops.get(why, 0) + n
    return drops


def read_corpus(
    corpus: str | Path,
    *,
    columns: dict[str, str] | str | None = None,
    preset: str | None = None,
    on_error: str = "raise",
    limit: int | None = None,
    progress: bool = False,
    empty: str | None = None,
    clean_posts: bool = True,
    clean_options: dict[str, Any] | None = None,
    authors_optional: bool = False,
) -> tuple[datasets.Dataset, IngestReport]:
    """(posts, report) of a CORPUS (file, folder or preset name; see `authorid.data.readers.read_posts`),
    cleaned as `authorid ingest` cleans (default `CleanConfig`) unless it is an ingested Parquet file
    (`ingested`) or `clean_posts` is False. Models are trained and calibrated on cleaned posts: raw forum text
    (quoted replies, URLs, HTML entities, a post pasted twice) makes strangers look alike (BENCHMARKS.md,
    "Clustering where few accounts have a twin"). The report counts the posts cleaning changed and dropped
    (`report.read["posts_before_cleaning"]` is the count before it). `clean_options`: `CleanConfig` fields that
    differ from ingest's defaults (`attribute` keeps a text repeated by its author: each text gets its answer).
    `authors_optional`: see `read_posts`.

    `empty`: why the caller needs posts; when given, a corpus without posts is a one-line error
    ("corpus X has no posts: <empty>").
    """
    posts, report = read_posts(
        corpus,
        columns=columns,
        preset=preset,
        on_error=on_error,
        limit=limit,
        progress=progress,
        authors_optional=authors_optional,
    )
    if empty is not None and len(posts) == 0:
        raise ValueError(f"corpus {corpus} has no posts: {empty}")
    if clean_posts and len(posts) and not ingested(corpus):
        report.read["posts_before_cleaning"] = len(posts)
        report.read["accounts_before_cleaning"] = report.accounts_out
        try:
            posts, report = clean(posts, report=report, progress=progress, **(clean_options or {}))
        except EmptyCorpusError as exc:
            raise EmptyCorpusError(f"corpus {corpus}: {exc}") from None
    return posts, report


def model_for(model: str | Path | Any, posts: datasets.Dataset | None = None) -> StyleModel:
    """A StyleModel from a MODEL argument (a name or folder; a StyleModel passes through). A model fitted on
    the corpus (`stylometric`) is fitted on `posts` (no labels are used)."""
    if isinstance(model, StyleModel):
        return model
    if posts is None and fitted_on_corpus(str(model)):
        raise ValueError(
            f"model {str(model)!r} is fitted on the corpus it embeds, so it needs the CORPUS: --vectors cannot"
            " stand in for it (vectors it made of another corpus are in another vocabulary)"
        )
    return load_model(model, fit_corpus=posts)


def model_before_corpus(spec: str) -> StyleModel | str:
    """MODEL loaded before any corpus is read, so a wrong name or a damaged model folder is said before a long
    read; a model fitted on the corpus (`stylometric[:DIM]`, its form checked here) stays a spec, which
    `model_for` fits once the corpus is read."""
    return spec if fitted_on_corpus(spec) else load_model(spec)


def load_calibration(path: str | Path) -> Calibrator:
    """The calibration in `path` (a --calibration FILE); a one-line error when the file is not there."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"--calibration {path} is a folder: give its calibration file (a model folder's own calibration.json"
            " is read without --calibration)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"--calibration {path}: no such file")
    return Calibrator.load(path)


class CalibrationMismatchError(AuthoridError):
    """A calibration fitted for one model, asked to turn another model's cosines into probabilities."""


def check_calibration_model(calibration, model: StyleModel, *, force: bool = False) -> None:
    """Refuse a calibration made for another model (it records the model's fingerprint), unless `force`.

    A model fitted on the corpus it reads (`stylometric`) is a new model on every corpus: a calibration
    fitted with it on one corpus does not carry to another, and the message says so.
    """
    recorded = (getattr(calibration, "info", {}) or {}).get("model") or {}
    made_for = recorded.get("fingerprint")
    if force or made_for is None:
        return
    here = model.fingerprint()
    if made_for in (here, model.fixed_from):  # fixed_from: an index's model, centred on its enrolled accounts
        return
    source = getattr(calibration, "source", None)
    named = f"{source}: " if source is not None else ""
    if model.kind == "stylometric" and model.path is None and recorded.get("kind") in (None, "stylometric"):
        raise CalibrationMismatchError(
            f"{named}the calibration was fitted with a stylometric model fitted on another corpus ({made_for}); a"
            f" stylometric model is refitted on each corpus ({here} here), so fit a calibration on this one"
            " (`authorid calibrate`) or save the fitted model and calibrate that; --force applies it anyway"
        )
    raise CalibrationMismatchError(
        f"{named}the calibration was fitted for model {recorded.get('name')!r} (fingerprint {made_for}), not for"
        f" {model.name!r} ({here}); fit one for this model with `authorid calibrate`, or pass --force"
    )


def load_vectors(path: str | Path, model: StyleModel, *, force: bool = False) -> AccountVectors:
    """The account vectors `authorid embed` wrote to `path`, checked to come from `model` (its fingerprint is in
    the file) unless `force`; so a command can reuse them instead of embedding the corpus again."""
    vectors = AccountVectors.from_parquet(path)
    made_by = (vectors.model or {}).get("fingerprint")
    if force:
        return vectors
    if made_by is None:
        raise VectorsFileError(
            f"{path}: records no model (written before authorid kept one); embed again, or pass --force"
        )
    if made_by != model.fingerprint() and made_by == getattr(model, "fixed_from", None):
        # an index's model centres every account on its enrolled ones; `embed` centred these on their own corpus
        raise VectorsFileError(
            f"{path}: embedded by {model.name!r} centred on their own corpus, while this index centres accounts on"
            " its enrolled ones: give the query CORPUS instead of --vectors, or embed it with the index as MODEL"
            " (`authorid embed INDEX CORPUS -o FILE`; --force uses these as they are)"
        )
    if made_by != model.fingerprint():
        name = (vectors.model or {}).get("name")
        # audit 14: "made by 'style' (...), not by 'style' (...)" did not say what differs
        otherwise = (
            " (the same name, fitted or centred otherwise: embedded for another index, or a model changed since)"
            if name == model.name
            else ""
        )
        raise VectorsFileError(
            f"{path}: made by model {name!r} (fingerprint {made_by}), not by {model.name!r} ({model.fingerprint()})"
            f"{otherwise}; embed with this model, or pass --force"
        )
    return vectors


def pool_cohort(
    vectors: AccountVectors, *, skip: float = 0.0, reference_posts: int | None = None
) -> cohort.Cohort | None:
    """The cohort of a pool of accounts (`authorid.verification.cohort`), its densities read from each account's
    K nearest others (`authorid.index.knn`: exact below its EXACT_BELOW accounts, approximate above, so a pool of
    a million accounts costs a kNN graph, not a million squared cosines); None below `cohort.MIN_POOL`.
    `skip`: w, the weight of the density that leaves out the nearest (`cohort.skip_weight`); `reference_posts`:
    the median is read over the accounts with at least that many posts (`cohort.reference_rows`)."""
    if not cohort.applies(len(vectors)):
        return None
    cosines, _ = knn(vectors, cohort.K + (1 if skip else 0))
    reference = cohort.reference_rows(vectors.n_posts, reference_posts)
    return cohort.Cohort.of_neighbours(cosines, skip=skip, reference=reference)


def model_folders(model) -> list[Path]:
    """The folders whose training accounts a model knows: its own, and for a fused model each part's (a part
    folder keeps its model's `training_accounts.json`; a compact model's own file already holds its base's)."""
    folders = [] if model.path is None else [Path(model.path)]
    for part in getattr(model.encoder, "parts", None) or []:
        if isinstance(part, StyleModel):
            folders += model_folders(part)
    return folders


def _training_mask(model, posts=None, ids=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the account names of `posts` (or `ids`), each post's (id's) index into them, whether the model knows
    each name)."""
    if ids is None:
        ids = read_columns(posts, ["account_id"]).column(0).to_numpy(zero_copy_only=False)
    names, codes = np.unique(np.asarray(ids).astype(str), return_inverse=True)
    seen = np.zeros(len(names), dtype=bool)
    for folder in model_folders(model):
        mask = training_accounts_mask(folder, names)
        if mask is not None:
            seen |= mask
    return names, codes, seen


def training_accounts_in(model, posts=None, *, account_ids=None) -> tuple[int, int]:
    """(how many of the corpus's accounts (or of `account_ids`, e.g. a vectors file's) the model trained or
    validated on, how many accounts there are): a calibration's P is for accounts the model never saw; its own
    score differently."""
    names, _, seen = _training_mask(model, posts, account_ids)
    return int(seen.sum()), len(names)


def without_training_accounts(
    model, posts, *, keep: str | None = "--include-training-accounts", purpose: str = ""
) -> tuple[Any, int]:
    """(posts of accounts the model never trained or validated on, how many accounts were left out): what
    `evaluate` and `calibrate` read by default, since a model knows its own accounts (their scores are
    optimistic). The accounts are kept in the model folder as salted hashes (`training_accounts.json`); a
    fused model knows its parts' too. `keep`: the option that keeps them, said in the warning (None: the
    command has none). `purpose`: what they are left out of, when not the whole command (" of the calibration")."""
    names, codes, seen = _training_mask(model, posts)
    if not seen.any():
        return posts, 0
    logger.warning(
        "left out %d of %d accounts%s: %s trained or validated on them%s",
        int(seen.sum()),
        len(names),
        purpose,
        model.name,
        f" ({keep} keeps them)" if keep else "",
    )
    return posts.select(np.flatnonzero(~seen[codes])), int(seen.sum())
