"""Contributions read as habits: what `authorid explain` lists for and against a link, and the compact reason
`score --explain` and `cluster --explain` add to each row.

`ngram_evidence` / `stylometric_evidence` turn an exact decomposition (`authorid.evidence.decompose`) into
entries, one per feature: its contribution, the habit it shows and the accounts' own n-grams behind it
(`authorid.evidence.terms`); `summary` groups them; `pair_reasons` gives the strongest shared habits of many
pairs at once.
"""

from __future__ import annotations

import math

import numpy as np

from authorid.data.arrow import read_columns
from authorid.encoders.ngram import summed_counts
from authorid.evidence.decompose import Contributions, ngram_contributions, stylometric_contributions
from authorid.evidence.terms import KINDS, account_terms, habit_kind
from authorid.vectors import group_by_first_appearance

#: Shared habits kept in a summary (and whose posts `explain` shows).
TOP_SHARED = 5

#: Shared habits in the compact reason that `score` and `cluster` add with --explain.
REASON_HABITS = 5


def pair_reasons(model, posts, pairs: list[tuple[str, str]], *, top: int = REASON_HABITS) -> list[str]:
    """A compact reason per account pair of `posts` (canonical posts, cleaned as `ingest` cleans them so no
    identifier is ever shown; `model` a StyleModel): its `top`
    strongest shared habits, as `'lol' (word choice or spelling) +0.0123; ...`, each with its exact
    contribution to the similarity. For a model whose similarity does not split over features (a transformer)
    the reason says so. The vectors, and so the n-gram model's centre, are those of every account of `posts`,
    as `embed` gives."""
    if not pairs:
        return []
    table = read_columns(posts, ["account_id", "text"])
    account_ids, groups = group_by_first_appearance(table.column("account_id").to_pylist())
    texts = table.column("text").to_pylist()
    position = {a: i for i, a in enumerate(account_ids)}
    own_of = {}
    for text, group in zip(texts, groups, strict=True):
        own_of.setdefault(int(group), []).append(text)
    decomposable = model.kind == "ngram" or (
        model.kind == "stylometric" and model.encoder.params.get("dim") is None
    )
    if not decomposable:
        return [
            f"a {model.kind} model's similarity does not split over habits: see `authorid explain`"
        ] * len(pairs)
    if model.kind == "ngram":
        encoder = model.encoder
        summed = summed_counts(encoder.counts(texts), groups, len(account_ids))
        raw, has_text = encoder.raw_paths(summed)
        n_posts = np.bincount(groups, minlength=len(account_ids))
        centre = encoder.centre_for(raw, has_text, n_posts)
    else:
        vectors = model.embed_groups(texts, groups, len(account_ids))
    reasons = []
    for a, b in pairs:
        if a not in position or b not in position:
            reasons.append("no usable post (every post is empty after cleaning)")
            continue
        i, j = position[a], position[b]
        own = [own_of.get(i, []), own_of.get(j, [])]
        if model.kind == "ngram":
            contributions = ngram_contributions(encoder, summed[[i, j]], centre.rows(n_posts[[i, j]]))
            found = ngram_evidence(model, contributions, own, top)
        else:
            found = stylometric_evidence(model, stylometric_contributions(vectors[i], vectors[j]), own, top)
        reasons.append(
            "; ".join(
                f"{text!r} ({habit}) {contribution:+.3g}"
                for text, habit, contribution in _by_text(found["shared"])[:top]
            )
            or "no shared habit raises the similarity"
        )
    return reasons


def _by_text(shared: list[dict]) -> list[tuple[str, str, float]]:
    """(n-gram, habit, contribution) per n-gram a reason shows, strongest first: features shown by the same
    n-gram (a character n-gram and a word n-gram of one string) are summed, so no string is listed twice."""
    merged: dict[str, list] = {}
    for entry in shared:
        text = entry["ngrams"][0]["text"]
        if text in merged:
            merged[text][1] += entry["contribution"]
        else:
            merged[text] = [entry["habit"], entry["contribution"]]
    return sorted(((t, h, c) for t, (h, c) in merged.items()), key=lambda item: -item[2])


def ngram_evidence(model, contributions: Contributions, own: list[list[str]], top: int) -> dict:
    """The decomposition, and the features for / against the link with the n-grams behind them."""
    encoder = model.encoder
    terms = account_terms(encoder.params, own[0], own[1])
    idf = encoder.idf.detach().cpu().numpy()
    entries = []
    for bucket, value in contributions.values.items():
        # most used first; equal uses by the n-gram itself, so `explain A B` and `explain B A` agree (audit 15)
        found = sorted(terms.get(bucket, []), key=lambda t: (-(t.uses[0] + t.uses[1]), t.block, t.text))
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
    return summary(
        entries,
        contributions,
        top,
        "n-gram encoder: both paths are linear in the profile; contributions averaged over the two accounts'"
        " sides, plus the centring constant",
    )


def summary(entries: list[dict], contributions: Contributions, top: int, method: str) -> dict:
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


def stylometric_evidence(model, contributions: Contributions, own: list[list[str]], top: int) -> dict:
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
    return summary(entries, contributions, top, "stylometric profile: the cosine of unit tf-idf profiles")
