"""`link`: each query account's top-k enrolled accounts in an index, `unknown` when the first does not pass
(open set)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from authorid.data.arrow import read_columns
from authorid.data.clean import mask_identifiers
from authorid.data.readers import check_columns, parse_column_map
from authorid.errors import InputError
from authorid.evidence.habits import pair_reasons
from authorid.index import COLUMNS, Links, VectorIndex, link
from authorid.index.link import check_probability_threshold
from authorid.index.opening import index_calibration, open_index
from authorid.io import atomic_write_text
from authorid.model import StyleModel
from authorid.schema import posts_from_records
from authorid.verification import Calibrator
from authorid.workflows.common import check_calibration_model, load_calibration, load_vectors


def check_explain_columns(corpus: str, columns: str | None, preset: str | None, *, own_map: bool) -> None:
    """The --explain-with corpus' columns, checked before the query corpus is read; without a map of its own
    (--explain-map) it is read with the query's --map, and a refusal says how to give it one (audit 12: two
    markets in two formats could not be linked with reasons)."""
    try:  # a malformed map is the option's own fault, said as such (not as the --explain-with corpus')
        parse_column_map(columns)
    except InputError as exc:
        if own_map:
            raise InputError(str(exc).replace("--map", "--explain-map")) from None
        raise
    try:
        check_columns(corpus, columns, preset)
    except InputError as exc:
        said = str(exc)
        if own_map:  # the reader's advice names --map: here the option is --explain-map
            said = said.replace("--map", "--explain-map")
        elif ": no column for " in said:
            said = said.replace("name it with --map", "name it with --explain-map")
        elif ": --map names column " in said:
            said += "; give the --explain-with corpus a map of its own with --explain-map"
        raise InputError(f"--explain-with {said}") from None


@dataclass
class LinkTarget:
    """An opened index folder: the index, the model it was built with, and the calibration its links read
    (None: scores are cosines) with where it came from."""

    index: VectorIndex
    model: StyleModel
    calibration: Calibrator | None
    calibration_from: str


def open_link_target(
    index: str | Path,
    calibration: Path | None = None,
    *,
    threshold: float | None = None,
    force: bool = False,
) -> LinkTarget:
    """Open an index folder for linking. `calibration`: a calibration.json (default: the index's, else the
    model's; none: scores are cosines); one made for another model is refused unless `force`. `threshold`, the
    one `link` will be given, is checked against it (a probability when calibrated). Done before any query is
    read, so a missing index, a wrong calibration or threshold is said first."""
    vector_index, model = open_index(index)
    if calibration is not None:
        calibrator = load_calibration(calibration)
        check_calibration_model(calibrator, model, force=force)
        source = f"--calibration {calibration}"
    else:
        calibrator, source = index_calibration(index, model)
    if calibrator is not None and threshold is not None:
        check_probability_threshold(threshold)
    return LinkTarget(vector_index, model, calibrator, source)


def link_accounts(
    target: LinkTarget,
    posts,
    *,
    k: int = 10,
    threshold: float | None = None,
    vectors: Path | None = None,
    force: bool = False,
    progress: bool = False,
    explain_with=None,
    hubness: bool = True,
    prior: float | None = None,
) -> tuple[Links, int]:
    """Embed the accounts of `posts` with the index's model (or read them from a `vectors` file the model
    wrote) and link each in `target` (`open_link_target`); (links, number of queries).

    `explain_with`: the posts the index was built from (it keeps no texts): each query's best candidate row
    gets a `reason`, the pair's strongest shared habits (`evidence.habits.pair_reasons`; needs `posts`).
    `hubness`: rank candidates with the hubness correction (`authorid.index.link`). `prior`: the share of
    same-person pairs every P assumes (None: 1 / enrolled accounts, `authorid.index.link.default_prior`).
    """
    if explain_with is not None and posts is None:
        raise ValueError(
            "--explain-with needs the query corpus (the reasons are read from the accounts' posts)"
        )
    model, calibrator = target.model, target.calibration
    if vectors is not None:
        queries = load_vectors(vectors, model, force=force)
    else:
        queries = model.embed_accounts(posts, progress=progress)
    links = link(
        target.index, queries, k=k, calibration=calibrator, threshold=threshold, hubness=hubness, prior=prior
    )
    links.calibration_from = target.calibration_from if calibrator is not None else None
    if explain_with is not None:
        add_reasons(model, links, posts, explain_with, index=target.index)
    return links, len(queries)


#: Put before a query's account id while its posts are read beside the enrolled ones (`add_reasons`).
QUERY_PREFIX = "query\x1f"


def add_reasons(model, links: Links, queries, enrolled, *, index=None) -> None:
    """A `reason` on each query's best candidate row (the others get ""), read from the query and enrolled
    posts cleaned as `ingest` cleans them (identifiers masked). The model is the index's, centred on its
    enrolled accounts, so the contributions are those of the similarity `link` reported. With the `index`, each
    best candidate's posts in `enrolled` must give the vector the index holds for it (`check_built_from`)."""
    records = []
    # A query's posts go under an id no enrolled account can have: a query named as an enrolled account (its
    # other half, or another person who took the name) would otherwise merge with it and be explained against
    # itself.
    for posts, prefix in ((queries, QUERY_PREFIX), (enrolled, "")):
        columns = read_columns(posts, ["account_id", "text"])
        for account, text in zip(
            *(columns.column(c).to_pylist() for c in ("account_id", "text")), strict=True
        ):
            records.append({"post_id": str(len(records)), "account_id": prefix + account, "text": text})
    best = [row for row in links.rows if row["rank"] == 1]
    known = set(read_columns(enrolled, ["account_id"]).column(0).to_pylist())
    absent = [row["account_id"] for row in best if row["account_id"] not in known]
    if absent:
        raise ValueError(
            f"--explain-with: {len(absent):,} of the {len(best):,} best candidates are not accounts of that corpus"
            f" (e.g. {absent[0]!r}): give the corpus the index was built from"
        )
    if index is not None:
        check_built_from(index, model, enrolled, sorted({row["account_id"] for row in best}))
    cleaned = mask_identifiers(posts_from_records(records))  # a shared address is never shown as a habit
    pairs = [(QUERY_PREFIX + row["query_account"], row["account_id"]) for row in best]
    reasons = pair_reasons(model, cleaned, pairs)
    for row in links.rows:
        row["reason"] = ""
    for row, reason in zip(best, reasons, strict=True):
        row["reason"] = reason


#: How close a candidate's vector from the --explain-with corpus must be to the one the index holds (cosine;
#: an IVF index's float16 cells give it back within 2e-4).
SAME_VECTOR = 0.999


def check_built_from(index, model, enrolled, accounts: list[str]) -> None:
    """Refuse an --explain-with corpus that is not the one the index was built from for these accounts: each
    one's posts there, embedded with the index's model, must give the vector the index holds (audit 14: a day-2
    dump gave reasons read from posts the index never embedded, some of them the query's own)."""
    wanted = set(accounts)
    ids = read_columns(enrolled, ["account_id"]).column(0).to_pylist()
    rows = [i for i, a in enumerate(ids) if a in wanted]
    vectors = model.embed_accounts(enrolled.select(rows))
    stored = np.asarray(
        index.vectors_at(np.array([index.positions[a] for a in vectors.account_ids])), dtype=np.float64
    )
    given = np.asarray(vectors.vectors, dtype=np.float64)
    norms = np.linalg.norm(stored, axis=1) * np.linalg.norm(given, axis=1)
    cosines = np.einsum("ij,ij->i", stored, given) / np.where(norms > 0, norms, 1.0)
    differ = [
        a for a, c, n in zip(vectors.account_ids, cosines, norms, strict=True) if n > 0 and c < SAME_VECTOR
    ]
    if differ:
        raise ValueError(
            f"--explain-with: {len(differ):,} of the {len(accounts):,} best candidates' posts there give another"
            f" vector than the index holds (e.g. {differ[0]!r}): the index was built from another corpus, or other"
            " posts of it (an older dump); give the corpus the index was built from, or build the index from this"
            " one"
        )


def write_links(out: str | Path, links: Links) -> Path:
    """Every candidate row of `links` as CSV (columns `authorid.index.COLUMNS`)."""
    buffer = io.StringIO()
    extra = ["reason"] if links.rows and "reason" in links.rows[0] else []
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS) + extra, lineterminator="\n")
    writer.writeheader()
    writer.writerows(links.rows)
    return atomic_write_text(out, buffer.getvalue())
