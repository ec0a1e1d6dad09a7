"""`explain`: why two accounts look like one writer, with evidence a person can check.

For one pair of accounts of a corpus: the similarity the model gives them (embedded with the corpus, exactly as
`score` and `cluster` embed it), the calibrated P(same person) and decision, where the similarity falls among
all pairs of the corpus' accounts, and, where the model allows it, the exact split of the similarity over
features (`authorid.evidence.decompose`): for an n-gram model, the n-grams of the two accounts' own texts
(`authorid.evidence.terms`) grouped into habits, those for and against the link, and the posts where the
strongest shared habits occur. A transformer's similarity does not split over features: its page shows the most
similar post pairs instead, labelled as such. Writes OUT/evidence.json and a self-contained OUT/evidence.html.
"""

from __future__ import annotations

import difflib
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from authorid.artefacts import check_output_folder, write_manifest
from authorid.data.arrow import read_columns
from authorid.data.clean import EMPTIED, clean
from authorid.encoders.ngram import summed_counts
from authorid.errors import AuthoridError
from authorid.evidence.copies import CopiedPosts
from authorid.evidence.decompose import Contributions, ngram_contributions, stylometric_contributions
from authorid.evidence.habits import ngram_evidence, stylometric_evidence

# percentile_said: re-exported, the CLI says the percentile as the page does
from authorid.evidence.page import percentile_said as percentile_said
from authorid.evidence.page import render_evidence
from authorid.evidence.terms import Term, highlight_pattern
from authorid.index import hubness
from authorid.index.base import sample_rows
from authorid.index.opening import open_index
from authorid.io import atomic_write_text, write_json
from authorid.model import fitted_on_corpus, load_model
from authorid.vectors import AccountVectors, characters_per_group, group_by_first_appearance, id_order
from authorid.verification import cohort
from authorid.verification.decisions import decide
from authorid.workflows.common import model_for, pool_cohort

logger = logging.getLogger(__name__)

EVIDENCE_FILE, PAGE_FILE = "evidence.json", "evidence.html"
#: Features listed for and against the link; posts shown per account.
TOP_FEATURES, POSTS_SHOWN = 15, 3
#: Pairs of the corpus' accounts the pair's similarity is placed among (all of them below this many), and the
#: enrolled accounts an index lends for it.
PERCENTILE_PAIRS = 50_000
PERCENTILE_ACCOUNTS = 3000


class ExplainError(AuthoridError):
    """A pair that cannot be explained: an unknown account, or one without any usable post."""


def explain(
    model: Any,
    posts,
    account_a: str,
    account_b: str,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    top: int = TOP_FEATURES,
    seed: int = 0,
    clean_first: bool = False,
    index: str | Path | None = None,
    emptied=frozenset(),
) -> dict:
    """The evidence for (account_a, account_b) in `posts` (cleaned canonical posts; `clean_first` cleans them
    as `ingest` does, masking identifiers) under `model` (a StyleModel or a MODEL spec); with `out`, writes
    evidence.json and evidence.html there. Returns the evidence dict.

    `index`: an index folder built from this corpus (`authorid index build`): its model (and, for an n-gram
    model, the centre of its enrolled accounts) is used, so only the pair's posts are embedded and the
    percentile is taken among the enrolled accounts: the fast path (`model` must be the one the index was built
    with, checked; None takes the index's). `emptied`: accounts
    the cleaning of `posts` left without a post (`IngestReport.emptied_accounts`), named as such if asked for."""
    started = time.perf_counter()
    cleaned, as_read = None, posts
    if clean_first:
        posts, report = clean(posts)
        cleaned = {"changed": int(sum(report.changed.values())), "dropped": int(sum(report.dropped.values()))}
    if out is not None:
        out = check_output_folder(out, kind="evidence", overwrite=overwrite)
    enrolled = vector_index = None
    if index is not None:
        vector_index, index_model = open_index(index)
        if model is not None:
            _check_index_model(model, index_model, index)
        model = index_model
        # a seeded sample drawn over the accounts in id order, with their ids, so that `_corpus_pairs` draws its own
        # over them in id order too (audit 16: it drew over the enrolment order, so an index of the same accounts
        # enrolled in another order put the pair at another percentile)
        enrolled_rows = sample_rows(vector_index.positions, PERCENTILE_ACCOUNTS, seed)
        enrolled = vector_index.vectors_at(enrolled_rows)
        enrolled_ids = [vector_index.ids[row] for row in enrolled_rows.tolist()]
    else:
        model = model_for(model, posts)
    table = read_columns(posts, ["account_id", "text"])
    account_ids, groups = group_by_first_appearance(table.column("account_id").to_pylist())
    texts = table.column("text").to_pylist()
    position = {a: i for i, a in enumerate(account_ids)}
    for account in (account_a, account_b):
        if account in emptied or (cleaned is not None and account in report.emptied_accounts):
            raise ExplainError(f"account {account!r} {EMPTIED}")
        if account not in position:
            close = difflib.get_close_matches(account, account_ids, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ExplainError(
                f"account {account!r} is not in the corpus ({len(account_ids):,} accounts){hint}"
            )
    if account_a == account_b:
        raise ExplainError(f"give two different accounts (got {account_a!r} twice)")
    pair = [position[account_a], position[account_b]]
    own_ids = (account_a, account_b)
    own = [[t for t, g in zip(texts, groups, strict=True) if g == i] for i in pair]
    for account, account_texts in zip((account_a, account_b), own, strict=True):
        if not any(t.strip() for t in account_texts):
            raise ExplainError(f"account {account!r} has no usable post (every post is empty after cleaning)")

    # copied texts: the pair's own posts first, then how many accounts of the corpus posted each (a template,
    # or these two), counting only those texts (not a set of every post's text: the index's fast path)
    own_copies = CopiedPosts([(a, t) for a, texts_of in zip(own_ids, own, strict=True) for t in texts_of])
    shared = set(own_copies.shared(*own_ids))
    copied = (CopiedPosts.from_posts(posts, keys=shared) if shared else own_copies).described(*own_ids)
    sizes = _pair_sizes(own)
    if vector_index is not None:  # the index fixed the centre: the pair alone gives the same vectors
        texts = own[0] + own[1]
        groups = np.repeat([0, 1], [len(own[0]), len(own[1])])
        contributions, vectors = _similarity(model, texts, groups, 2, [0, 1])
        pair_vectors = vectors
        # the index was built from the posts as read: checked against them (the same vectors unless cleaned)
        read_vectors = pair_vectors if as_read is posts else _vectors_as_read(model, as_read, own_ids)
        _check_enrolled(vector_index, own_ids, read_vectors, index)
        similarity = float(pair_vectors[0] @ pair_vectors[1])
        verdict = _verdict(
            model,
            similarity,
            sizes,
            len(vector_index),
            lambda skip, least: _index_shift(vector_index, own_ids, skip, least),
        )
    else:
        contributions, vectors = _similarity(model, texts, groups, len(account_ids), pair)
        pair_vectors = vectors[pair]
        similarity = float(pair_vectors[0] @ pair_vectors[1])
        n_posts = np.bincount(groups, minlength=len(account_ids))
        n_chars = characters_per_group(texts, groups, len(account_ids))
        pool = AccountVectors(account_ids, vectors, n_posts, n_chars)
        verdict = _verdict(
            model, similarity, sizes, len(pool), lambda skip, least: _pool_shift(pool, pair, skip, least)
        )
    evidence: dict[str, Any] = {
        "model": model.identity(),
        "accounts": {
            account: {"posts": len(t), "characters": int(sum(len(x) for x in t))}
            for account, t in zip((account_a, account_b), own, strict=True)
        },
        "pair": [account_a, account_b],
        "similarity": similarity,
        "corpus_pairs": _corpus_pairs(vectors, similarity, seed, pair, account_ids)
        if enrolled is None
        else _corpus_pairs(enrolled, similarity, seed, _rows_of(own_ids, enrolled_ids), enrolled_ids),
        "centre": "the index's enrolled accounts" if enrolled is not None else "the corpus' accounts",
        **verdict,
        # what `clean_first` changed and dropped; None when the posts came cleaned (every command reads a corpus
        # cleaned, `workflows.common.read_corpus`)
        "cleaned": cleaned,
        # texts both accounts posted word for word: they raise the similarity whoever wrote them
        "copied_posts": copied,
    }
    if contributions is not None and model.kind == "ngram":
        evidence |= ngram_evidence(model, contributions, own, top)
        evidence["posts"] = _posts_with(evidence["shared"], own, (account_a, account_b))
    elif contributions is not None:
        evidence |= stylometric_evidence(model, contributions, own, top)
        evidence["posts"] = _posts_with(evidence["shared"], own, (account_a, account_b))
    else:
        evidence["decomposition"] = {
            "exact": False,
            "method": f"a {model.kind} model's similarity does not split over features; shown instead: the most"
            " similar pairs of posts (approximate evidence)",
        }
        evidence["post_pairs"] = _post_pairs(model, own)
    evidence["seconds"] = round(time.perf_counter() - started, 2)
    if out is not None:
        write_json(out / EVIDENCE_FILE, evidence)
        atomic_write_text(out / PAGE_FILE, render_evidence(evidence))
        write_manifest(out, "evidence", model=model.identity())
        evidence["outputs"] = {"evidence": str(out / EVIDENCE_FILE), "page": str(out / PAGE_FILE)}
    return evidence


def _similarity(model, texts, groups, n_accounts, pair) -> tuple[Contributions | None, np.ndarray]:
    """(the exact contributions or None, every account's vector) — the vectors as `embed` computes them."""
    if model.kind == "ngram":
        encoder = model.encoder
        summed = summed_counts(encoder.counts(texts), groups, n_accounts)
        raw, has_text = encoder.raw_paths(summed)
        n_posts = np.bincount(groups, minlength=n_accounts)
        centre = encoder.centre_for(raw, has_text, n_posts)
        vectors = encoder.vectors_of(raw, has_text, centre, n_posts)
        return ngram_contributions(encoder, summed[pair], centre.rows(n_posts[list(pair)])), vectors
    vectors = model.embed_groups(texts, groups, n_accounts)
    if model.kind == "stylometric" and model.encoder.params.get("dim") is None:
        return stylometric_contributions(vectors[pair[0]], vectors[pair[1]]), vectors
    return None, vectors


def _pair_sizes(own) -> tuple[int, int, int, int]:
    """(posts_a, posts_b, chars_a, chars_b) of the two accounts' posts: what a size-aware calibration reads."""
    return (len(own[0]), len(own[1]), sum(len(t) for t in own[0]), sum(len(t) for t in own[1]))


def _verdict(model, similarity: float, sizes: tuple[int, ...], pool_size: int, shift) -> dict:
    """P(same person) of the pair and the decision, read as `score` reads a pair of the same pool: the
    calibration's cohort fit on the cosine less the pair's cohort shift (`shift(w, reference posts)`) when the
    pool of `pool_size` accounts is large enough for a cohort and the calibration has one, else its cosine fit;
    at the calibration's own prior and the pool's default twins (`score`'s default, `cohort.skip_weight`).
    `sizes` for a size-aware calibration."""
    calibration = model.calibration
    if calibration is None:
        return {"probability": None, "decision": "unscored", "calibration": None}
    fit = calibration.for_pool(pool_size)
    if fit.reads_cohort:
        skip = cohort.skip_weight(fit, None, pool_size)
        cohort_score = similarity - float(shift(skip, cohort.reference_posts(fit)))
    else:
        cohort_score = None
    read = similarity if cohort_score is None else cohort_score
    probability = float(fit.predict(np.array([read]), sizes=sizes)[0])
    band = getattr(fit, "abstain_band", None)
    return {
        "probability": probability,
        "decision": str(decide(np.array([probability]), fit.threshold, band)[0]),
        "cohort_score": cohort_score,
        "calibration": {
            "fit": "cohort" if fit.reads_cohort else "cosine",
            "why_cosine": calibration.cosine_fit_reason(pool_size),
            "prior": fit.fit_prior,
            "threshold": float(fit.threshold),
            "abstain_band": list(band) if band is not None else None,
            "method": fit.info.get("method"),
            "held_out": fit.info.get("held_out"),
            "pairs_fit": fit.info.get("pairs_fit"),
        },
    }


def _pool_shift(pool: AccountVectors, pair: list[int], skip: float, least: int | None) -> float:
    """The pair's cohort shift among the corpus' accounts, as `score` computes it (`pool_cohort`; `skip`: w;
    `least`: the reference accounts' fewest posts)."""
    cohort_of_pool = pool_cohort(pool, skip=skip, reference_posts=least)
    return float(cohort_of_pool.shift(np.array([pair[0]]), np.array([pair[1]]))[0])


def _index_shift(index, accounts: tuple[str, str], skip: float, least: int | None) -> float:
    """The pair's cohort shift among an index's enrolled accounts, as `link` computes it: each account's
    density among its K nearest other enrolled accounts (`skip`: w), less the median of the enrolled accounts
    with at least `least` posts (`hubness.median_density`)."""
    densities = hubness.index_densities(index, list(accounts), skip=skip)
    median = hubness.median_density(index, skip=skip, least=least)
    return ((densities[accounts[0]] - median) + (densities[accounts[1]] - median)) / 2


def _check_index_model(spec, index_model, index) -> None:
    """Refuse an index built with another model than MODEL (it would silently explain with the index's)."""
    built_with = index_model.identity()
    if isinstance(spec, str) and fitted_on_corpus(spec):
        same = index_model.kind == "stylometric"
    else:
        model = load_model(spec) if isinstance(spec, str | Path) else spec
        # an n-gram index's model is centred on the enrolled accounts: the model it was fixed from is MODEL
        same = model.fingerprint() in (index_model.fingerprint(), index_model.fixed_from)
    if not same:
        asked = str(spec) if isinstance(spec, str | Path) else spec.identity().get("name")
        raise ExplainError(
            f"index {index} was built with model {built_with.get('name')!r}, not {asked!r}: explain with that"
            " model, or build an index of this corpus with this one"
        )


#: How close an account's vector computed from the corpus must be to the one the index holds for it (cosine).
SAME_VECTOR = 0.999


def _vectors_as_read(model, posts, accounts: tuple[str, str]) -> np.ndarray:
    """The two accounts' vectors from their posts before cleaning (what `index build` embedded)."""
    table = read_columns(posts, ["account_id", "text"])
    ids, texts = table.column("account_id").to_pylist(), table.column("text").to_pylist()
    own = [[t for t, a in zip(texts, ids, strict=True) if a == account] for account in accounts]
    groups = np.repeat([0, 1], [len(own[0]), len(own[1])])
    return _similarity(model, own[0] + own[1], groups, 2, [0, 1])[1]


def _check_enrolled(index, accounts: tuple[str, str], vectors: np.ndarray, path) -> None:
    """Refuse an index that does not hold these accounts as this corpus gives them (built from another corpus):
    each account's vector `vectors` (from its posts as read), against the one the index holds."""
    for account, vector in zip(accounts, vectors, strict=True):
        if account not in index.positions:
            raise ExplainError(
                f"account {account!r} is not enrolled in --index {path}: build the index from this corpus"
            )
        stored = np.asarray(index.vectors_at(np.array([index.positions[account]])), dtype=np.float64)[0]
        norms = np.linalg.norm(stored) * np.linalg.norm(vector)
        if norms > 0 and float(stored @ vector) / norms < SAME_VECTOR:
            raise ExplainError(
                f"--index {path} holds another vector for account {account!r} than this corpus gives it: the index"
                " was built from another corpus (or other posts of it); build it from this corpus"
            )


def _rows_of(accounts: tuple[str, str], ids: list[str]) -> list[int] | None:
    """The rows of both accounts among `ids` (an index's sample), or None when either was not drawn: the pair's own
    entry is then not among the sample's pairs."""
    rows = [ids.index(account) for account in accounts if account in ids]
    return rows if len(rows) == 2 else None


def _corpus_pairs(
    vectors: np.ndarray,
    similarity: float,
    seed: int,
    pair: list[int] | None = None,
    ids: list[str] | None = None,
) -> dict:
    """Where the pair's similarity falls among pairs of the corpus' accounts (most are different people): all
    pairs of a small corpus, else all pairs of a seeded sample of accounts (about PERCENTILE_PAIRS pairs).
    `pair`: the two accounts' rows of `vectors`, whose own pair is left out of the others (it counted itself
    as higher or not by the float rounding of a matrix product: audit 15). `ids`: each row's account, so that
    the sample is drawn over the accounts in id order, not in the order the corpus lists them."""
    rows = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
    n = len(rows)
    if n * (n - 1) // 2 > PERCENTILE_PAIRS:  # all pairs of a seeded sample of accounts (one small matmul)
        keep = int((1 + np.sqrt(1 + 8 * PERCENTILE_PAIRS)) / 2)
        if ids is not None:
            rows = rows[id_order([ids[r] for r in rows])]
        rows = np.sort(np.random.default_rng(seed).choice(rows, keep, replace=False))
    sample = vectors[rows]
    first, second = np.triu_indices(len(rows), k=1)
    sims = (sample @ sample.T)[first, second]
    if pair is not None:  # rows are sorted, so the pair's entry is (lower row, higher row)
        sims = sims[~((rows[first] == min(pair)) & (rows[second] == max(pair)))]
    if len(sims) == 0:
        return {"accounts": int(len(rows)), "pairs": 0, "percentile": None}
    # the range the pairs and this pair span (n-gram cosines sit near 0: a fixed [-1, 1] would squash them)
    low, high = min(float(sims.min()), similarity), max(float(sims.max()), similarity)
    pad = max(0.05 * (high - low), 0.01)
    counts, edges = np.histogram(sims, bins=30, range=(low - pad, high + pad))
    return {
        "accounts": int(len(rows)),
        "pairs": int(len(sims)),
        "percentile": float((sims < similarity).mean() * 100),
        "higher_pairs": int((sims >= similarity).sum()),
        "histogram": {"edges": edges.round(4).tolist(), "counts": counts.tolist()},
    }


def _posts_with(shared: list[dict], own: list[list[str]], accounts) -> dict:
    """Per account, up to POSTS_SHOWN posts where the strongest shared habits occur, with their spans."""
    patterns = [
        (
            e["ngrams"][0]["text"],
            highlight_pattern(Term(e["ngrams"][0]["text"], e["ngrams"][0]["block"], 0, "")),
        )
        for e in shared
    ]
    result = {}
    for account, account_texts in zip(accounts, own, strict=True):
        shown = []
        for text in account_texts:
            spans = [
                {"start": m.start(), "end": m.end(), "ngram": label}
                for label, pattern in patterns
                for m in pattern.finditer(text)
            ]
            if spans:
                shown.append({"text": text, "spans": sorted(spans, key=lambda s: s["start"])})
        # most habits first; equal ones by text, not by the file's order (audit 15)
        shown.sort(key=lambda post: (-len({s["ngram"] for s in post["spans"]}), post["text"]))
        result[account] = shown[:POSTS_SHOWN]
    return result


def _post_pairs(model, own: list[list[str]]) -> list[dict]:
    """The most similar pairs of posts across the two accounts (what a non-decomposable model can show)."""
    a, b = (model.embed_posts(texts) for texts in own)
    sims = a @ b.T
    order = np.dstack(np.unravel_index(np.argsort(-sims, axis=None), sims.shape))[0][:POSTS_SHOWN]
    return [{"a": own[0][i], "b": own[1][j], "similarity": float(sims[i, j])} for i, j in order]
