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
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from authorid.artefacts import check_output_folder, write_manifest
from authorid.data.arrow import read_columns
from authorid.data.clean import clean
from authorid.encoders.ngram import summed_counts
from authorid.errors import AuthoridError
from authorid.evidence.decompose import Contributions, ngram_contributions, stylometric_contributions
from authorid.evidence.page import render_evidence
from authorid.evidence.terms import KINDS, Term, account_terms, habit_kind, highlight_pattern
from authorid.io import atomic_write_text, write_json
from authorid.vectors import group_by_first_appearance
from authorid.verification.decisions import decide
from authorid.workflows.common import model_for
from authorid.workflows.index import open_index

logger = logging.getLogger(__name__)

EVIDENCE_FILE, PAGE_FILE = "evidence.json", "evidence.html"
#: Features listed for and against the link; shared habits whose posts are shown; posts shown per account.
TOP_FEATURES, TOP_SHARED, POSTS_SHOWN = 15, 5, 3
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
) -> dict:
    """The evidence for (account_a, account_b) in `posts` (cleaned canonical posts; `clean_first` cleans them
    as `ingest` does, masking identifiers) under `model` (a StyleModel or a MODEL spec); with `out`, writes
    evidence.json and evidence.html there. Returns the evidence dict.

    `index`: an index folder built from this corpus (`authorid index build`): its model (and, for an n-gram
    model, the centre of its enrolled accounts) is used, so only the pair's posts are embedded and the
    percentile is taken among the enrolled accounts: the fast path (`model` is then ignored)."""
    started = time.perf_counter()
    if clean_first:
        posts, _ = clean(posts)
    if out is not None:
        out = check_output_folder(out, kind="evidence", overwrite=overwrite)
    enrolled = None
    if index is not None:
        vector_index, model = open_index(index)
        enrolled = vector_index.sample(PERCENTILE_ACCOUNTS, seed)
    else:
        model = model_for(model, posts)
    table = read_columns(posts, ["account_id", "text"])
    account_ids, groups = group_by_first_appearance(table.column("account_id").to_pylist())
    texts = table.column("text").to_pylist()
    position = {a: i for i, a in enumerate(account_ids)}
    for account in (account_a, account_b):
        if account not in position:
            close = difflib.get_close_matches(account, account_ids, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ExplainError(
                f"account {account!r} is not in the corpus ({len(account_ids):,} accounts){hint}"
            )
    if account_a == account_b:
        raise ExplainError(f"give two different accounts (got {account_a!r} twice)")
    pair = [position[account_a], position[account_b]]
    own = [[t for t, g in zip(texts, groups, strict=True) if g == i] for i in pair]
    for account, account_texts in zip((account_a, account_b), own, strict=True):
        if not any(t.strip() for t in account_texts):
            raise ExplainError(f"account {account!r} has no usable post (every post is empty after cleaning)")

    if enrolled is not None:  # the index fixed the centre: the pair alone gives the same vectors
        texts = own[0] + own[1]
        groups = np.repeat([0, 1], [len(own[0]), len(own[1])])
        contributions, vectors = _similarity(model, texts, groups, 2, [0, 1])
        pair_vectors = vectors
    else:
        contributions, vectors = _similarity(model, texts, groups, len(account_ids), pair)
        pair_vectors = vectors[pair]
    similarity = float(pair_vectors[0] @ pair_vectors[1])
    evidence: dict[str, Any] = {
        "model": model.identity(),
        "accounts": {
            account: {"posts": len(t), "characters": int(sum(len(x) for x in t))}
            for account, t in zip((account_a, account_b), own, strict=True)
        },
        "pair": [account_a, account_b],
        "similarity": similarity,
        "corpus_pairs": _corpus_pairs(vectors if enrolled is None else enrolled, similarity, seed),
        "centre": "the index's enrolled accounts" if enrolled is not None else "the corpus' accounts",
        **_verdict(model, similarity, (len(own[0]), len(own[1]))),
    }
    if contributions is not None and model.kind == "ngram":
        evidence |= _features(model, contributions, own, top)
        evidence["posts"] = _posts_with(evidence["shared"], own, (account_a, account_b))
    elif contributions is not None:
        evidence |= _stylometric_features(model, contributions, own, top)
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
        centre = encoder.centre_for(raw, has_text)
        vectors = encoder.vectors_of(raw, has_text, centre)
        return ngram_contributions(encoder, summed[pair], centre), vectors
    vectors = model.embed_groups(texts, groups, n_accounts)
    if model.kind == "stylometric" and model.encoder.params.get("dim") is None:
        return stylometric_contributions(vectors[pair[0]], vectors[pair[1]]), vectors
    return None, vectors


def _verdict(model, similarity: float, posts: tuple[int, int]) -> dict:
    """P(same person) of the pair (its post counts `posts` for a size-aware calibration) and the decision."""
    calibration = model.calibration
    if calibration is None:
        return {"probability": None, "decision": "unscored", "calibration": None}
    probability = float(calibration.predict(np.array([similarity]), sizes=posts)[0])
    band = getattr(calibration, "abstain_band", None)
    return {
        "probability": probability,
        "decision": str(decide(np.array([probability]), calibration.threshold, band)[0]),
        "calibration": {
            "threshold": float(calibration.threshold),
            "abstain_band": list(band) if band is not None else None,
            "method": calibration.info.get("method"),
            "held_out": calibration.info.get("held_out"),
            "pairs_fit": calibration.info.get("pairs_fit"),
        },
    }


def _corpus_pairs(vectors: np.ndarray, similarity: float, seed: int) -> dict:
    """Where the pair's similarity falls among pairs of the corpus' accounts (most are different people): all
    pairs of a small corpus, else all pairs of a seeded sample of accounts (about PERCENTILE_PAIRS pairs)."""
    rows = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
    n = len(rows)
    if n * (n - 1) // 2 > PERCENTILE_PAIRS:  # all pairs of a seeded sample of accounts (one small matmul)
        keep = int((1 + np.sqrt(1 + 8 * PERCENTILE_PAIRS)) / 2)
        rows = np.sort(np.random.default_rng(seed).choice(rows, keep, replace=False))
    sample = vectors[rows]
    sims = (sample @ sample.T)[np.triu_indices(len(rows), k=1)]
    if len(sims) == 0:
        return {"accounts": int(len(rows)), "pairs": 0, "percentile": None}
    counts, edges = np.histogram(sims, bins=30, range=(min(-0.2, sims.min()), max(1.0, sims.max())))
    return {
        "accounts": int(len(rows)),
        "pairs": int(len(sims)),
        "percentile": float((sims < similarity).mean() * 100),
        "higher_pairs": int((sims >= similarity).sum()),
        "histogram": {"edges": edges.round(4).tolist(), "counts": counts.tolist()},
    }


def _features(model, contributions: Contributions, own: list[list[str]], top: int) -> dict:
    """The decomposition, and the features for / against the link with the n-grams behind them."""
    encoder = model.encoder
    terms = account_terms(encoder.params, own[0], own[1])
    idf = encoder.idf.detach().cpu().numpy()
    entries = []
    for bucket, value in contributions.values.items():
        found = sorted(terms.get(bucket, []), key=lambda t: -(t.uses[0] + t.uses[1]))
        if not found:
            continue
        main = found[0]
        entries.append(
            {
                "bucket": int(bucket),
                "contribution": float(value),
                "kind": main.kind,
                "habit": KINDS[main.kind],
                "ngrams": [
                    {"text": t.text, "block": t.block, "uses": list(t.uses), "kind": t.kind}
                    for t in found[:4]
                ],
                # idf = ln((1 + n) / (1 + df)) + 1, so df / n is about exp(1 - idf)
                "share_of_posts_using_it": float(min(1.0, math.exp(1 - float(idf[bucket])))),
            }
        )
    return _summary(
        entries,
        contributions,
        top,
        "n-gram encoder: both paths are linear in the profile; contributions averaged over the two accounts'"
        " sides, plus the centring constant",
    )


def _summary(entries: list[dict], contributions: Contributions, top: int, method: str) -> dict:
    """The decomposition's record, habits, features for and against, shared habits and possible leaks."""
    entries.sort(key=lambda e: -e["contribution"])
    by_kind: dict[str, dict] = {}
    for entry in entries:
        kind = by_kind.setdefault(
            entry["kind"], {"habit": entry["habit"], "contribution": 0.0, "features": 0}
        )
        kind["contribution"] += entry["contribution"]
        kind["features"] += 1
    shared = [e for e in entries if e["contribution"] > 0 and all(u > 0 for u in e["ngrams"][0]["uses"])]
    leaks = [e for e in entries if e["kind"] == "leak" and e["contribution"] > 0]
    return {
        "decomposition": {
            "exact": True,
            "method": method,
            "features": len(contributions.values),
            "constant": contributions.constant,
            "sum": contributions.total(),
            "similarity": contributions.similarity,
        },
        "habits": dict(sorted(by_kind.items(), key=lambda kv: -kv[1]["contribution"])),
        "for": entries[:top],
        "against": sorted(entries, key=lambda e: e["contribution"])[:top],
        "shared": shared[:TOP_SHARED],
        "possible_leaks": leaks[:top],
    }


def _stylometric_features(model, contributions: Contributions, own: list[list[str]], top: int) -> dict:
    """The stylometric profile's features (named n-grams, function words, POS n-grams) for / against."""
    names = model.encoder.feature_names()
    entries = []
    for index, value in contributions.values.items():
        block, _, text = names[index].partition(":")
        kind = habit_kind(text, "char" if block == "char" else "word")
        uses = [sum(t.count(text) for t in texts) if block == "char" else 0 for texts in own]
        entries.append(
            {
                "bucket": int(index),
                "contribution": float(value),
                "kind": kind,
                "habit": KINDS[kind] if block in ("char", "fw") else f"{block} feature",
                "ngrams": [{"text": text, "block": "char" if block == "char" else "word", "uses": uses}],
                "share_of_posts_using_it": float("nan"),
            }
        )
    return _summary(entries, contributions, top, "stylometric profile: the cosine of unit tf-idf profiles")


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
        shown.sort(key=lambda post: -len({s["ngram"] for s in post["spans"]}))
        result[account] = shown[:POSTS_SHOWN]
    return result


def _post_pairs(model, own: list[list[str]]) -> list[dict]:
    """The most similar pairs of posts across the two accounts (what a non-decomposable model can show)."""
    a, b = (model.embed_posts(texts) for texts in own)
    sims = a @ b.T
    order = np.dstack(np.unravel_index(np.argsort(-sims, axis=None), sims.shape))[0][:POSTS_SHOWN]
    return [{"a": own[0][i], "b": own[1][j], "similarity": float(sims[i, j])} for i, j in order]
