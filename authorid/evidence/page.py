"""evidence.html: one self-contained page (inline CSS and SVG, no script, no network) from evidence.json."""

from __future__ import annotations

import html
from typing import Any

from authorid.page_style import REPORT_CSS

EXTRA_CSS = """
mark { background: #ffe08a; padding: 0 1px; }
.post { border-left: 3px solid #ccc; padding: 4px 10px; margin: 6px 0; white-space: pre-wrap; }
.up { color: #1a7f37; } .down { color: #b42318; } .leak { color: #b42318; font-weight: bold; }
code.ng { background: #f1f1f1; padding: 0 3px; white-space: pre; }
"""


def render_evidence(evidence: dict[str, Any]) -> str:
    a, b = evidence["pair"]
    title = f"Evidence: {a} and {b}"
    sections = [_verdict(evidence), _copies(evidence), _position(evidence)]
    if evidence["decomposition"]["exact"]:
        sections += [_habits(evidence), _features(evidence, "for"), _features(evidence, "against")]
        sections += [_leaks(evidence), _posts(evidence)]
    else:
        sections += [_post_pairs(evidence)]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{REPORT_CSS}{EXTRA_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>"
        f'<p class="meta">model {html.escape(str(evidence["model"]["name"]))} ({evidence["model"]["kind"]},'
        f" fingerprint {evidence['model']['fingerprint']}) &middot; {_sizes(evidence)}</p>"
        + "".join(sections)
        + "</body></html>"
    )


def _sizes(evidence: dict) -> str:
    return " &middot; ".join(
        f"{html.escape(account)}: {info['posts']} posts, {info['characters']:,} characters"
        for account, info in evidence["accounts"].items()
    )


def _verdict(evidence: dict) -> str:
    p, decision = evidence["probability"], evidence["decision"]
    calibration = evidence["calibration"]
    if p is None:
        verdict = (
            "<p>The model has no calibration: only the similarity is shown (no probability, no decision).</p>"
        )
    else:
        band = calibration.get("abstain_band")
        band_text = f", abstain between {band[0]:.2f} and {band[1]:.2f}" if band else ", no abstain band"
        held = calibration.get("held_out") or {}
        score = evidence.get("cohort_score")
        read = (
            f"its cohort score {score:.4f} (the similarity less the two accounts' excess closeness to everyone in"
            " the pool)"
            if score is not None
            else "the similarity"
        )
        prior = calibration.get("prior")
        verdict = (
            f"<p><b>P(same person) = {p:.3f}</b> &rarr; decision <b>{html.escape(decision)}</b>"
            f" (threshold {calibration['threshold']:.2f}{band_text}). The calibration's {calibration.get('fit', '')}"
            f" fit ({calibration.get('method')}, fitted on {calibration.get('pairs_fit')} pairs) turns {read} into"
            f" P{f' at its own prior {prior:.3g}' if prior is not None else ''}, as <code>authorid score</code> reads"
            " the pair; on its held-out pairs"
            f" it had AUC {held.get('auc', float('nan')):.3f}, FPR {held.get('fpr', float('nan')):.3f},"
            f" TPR {held.get('tpr', float('nan')):.3f}.</p>"
        )
    decomposition = evidence["decomposition"]
    check = ""
    if decomposition["exact"]:
        check = (
            f"<p>The similarity {evidence['similarity']:.4f} is exactly the sum of {decomposition['features']:,}"
            f" feature contributions ({decomposition['sum'] - decomposition['constant']:+.4f}) and the centring"
            f" constant ({decomposition['constant']:+.4f}): {decomposition['sum']:.4f}.</p>"
        )
    return (
        f"<section><h2>Verdict</h2><p>Similarity (cosine) {evidence['similarity']:.4f}.</p>{verdict}{check}"
        "<p>This is evidence to weigh, not proof of identity: check the habits and posts below.</p></section>"
    )


def _position(evidence: dict) -> str:
    pairs = evidence["corpus_pairs"]
    if not pairs.get("pairs"):
        return ""
    edges, counts = pairs["histogram"]["edges"], pairs["histogram"]["counts"]
    width, height, top = 600, 120, max(counts) or 1
    step = width / len(counts)
    bars = "".join(
        f'<rect x="{i * step:.1f}" y="{height - c / top * height:.1f}" width="{step - 1:.1f}"'
        f' height="{c / top * height:.1f}" fill="#9bb7d4"/>'
        for i, c in enumerate(counts)
    )
    x = (evidence["similarity"] - edges[0]) / (edges[-1] - edges[0]) * width
    svg = (
        f'<svg width="{width}" height="{height + 20}" role="img" aria-label="similarities of all pairs">{bars}'
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}" stroke="#b42318" stroke-width="2"/>'
        f'<text x="0" y="{height + 15}" font-size="11">{edges[0]:.2f}</text>'
        f'<text x="{width - 30}" y="{height + 15}" font-size="11">{edges[-1]:.2f}</text></svg>'
    )
    return (
        "<section><h2>Among all pairs of this corpus</h2>"
        f"<p>Higher than {percentile_said(pairs['percentile'])} of {pairs['pairs']:,} pairs of {pairs['accounts']:,}"
        f" accounts ({pairs['higher_pairs']:,} pair{'' if pairs['higher_pairs'] == 1 else 's'} score as high or"
        " higher; most pairs in a forum are two"
        " different people). The red line is this pair.</p>"
        f"{svg}</section>"
    )


def _habits(evidence: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(h['habit'])}</td><td class='num {_sign(h['contribution'])}'>"
        f"{h['contribution']:+.4f}</td><td class='num'>{h['features']:,}</td></tr>"
        for h in evidence["habits"].values()
    )
    return (
        "<section><h2>Habits</h2><p>Every feature's contribution, summed by the kind of habit it shows.</p>"
        f"<table><tr><th>habit</th><th>contribution</th><th>features</th></tr>{rows}</table></section>"
    )


def _features(evidence: dict, which: str) -> str:
    title = "What argues for the link" if which == "for" else "What argues against it"
    a, b = evidence["pair"]
    rows = "".join(
        f"<tr><td>{_ngrams(e)}</td><td>{html.escape(e['habit'])}</td>"
        f"<td class='num {_sign(e['contribution'])}'>{e['contribution']:+.4f}</td>"
        f"<td class='num'>{e['ngrams'][0]['uses'][0]}</td><td class='num'>{e['ngrams'][0]['uses'][1]}</td>"
        f"<td class='num'>{e['share_of_posts_using_it'] * 100:.2g}%</td></tr>"
        for e in evidence[which]
    )
    return (
        f"<section><h2>{title}</h2><table><tr><th>n-gram(s)</th><th>habit</th><th>contribution</th>"
        f"<th>uses by {html.escape(a)}</th><th>uses by {html.escape(b)}</th><th>posts using it (training)</th>"
        f"</tr>{rows}</table></section>"
    )


def _copies(evidence: dict) -> str:
    """The texts both accounts posted word for word (`authorid.evidence.copies`), first on the page: they
    raise the similarity whoever wrote them."""
    copied = evidence.get("copied_posts") or []
    if not copied:
        return ""
    items = "".join(
        f"<li><q>{html.escape(c['text'])}</q> (posted by {c['accounts']:,} accounts of the corpus)</li>"
        for c in copied
    )
    return (
        f"<section><h2 class='leak'>Posts both accounts share word for word: {len(copied):,}</h2><p>As the"
        " commands read them: spacing and case aside, links, e-mail addresses and mentions masked. Every"
        " n-gram of a copied text is shared, so copies raise the similarity and P(same person) whoever wrote"
        " them. A template, a meme or a reposted listing (posted by more accounts than these two) is no"
        f" evidence of one writer; a text only these two posted may be.</p><ul>{items}</ul></section>"
    )


def _leaks(evidence: dict) -> str:
    leaks = evidence.get("possible_leaks") or []
    if not leaks:
        return ""
    items = "".join(f"<li>{_ngrams(e)}: {e['contribution']:+.4f}</li>" for e in leaks)
    return (
        "<section><h2 class='leak'>Possible identity leaks</h2><p>These features touch masked identifiers (a"
        " shared link, address or mention placeholder): they may link the accounts through content, not"
        f" style. Discount them.</p><ul>{items}</ul></section>"
    )


def _posts(evidence: dict) -> str:
    blocks = []
    for account, posts in evidence["posts"].items():
        shown = "".join(f'<div class="post">{_highlight(p["text"], p["spans"])}</div>' for p in posts)
        blocks.append(f"<h3>{html.escape(account)}</h3>{shown or '<p>(no post shows them)</p>'}")
    return "<section><h2>Where the strongest shared habits occur</h2>" + "".join(blocks) + "</section>"


def _post_pairs(evidence: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(p['a'][:300])}</td><td>{html.escape(p['b'][:300])}</td>"
        f"<td class='num'>{p['similarity']:.3f}</td></tr>"
        for p in evidence["post_pairs"]
    )
    return (
        f"<section><h2>Most similar posts</h2><p>{html.escape(evidence['decomposition']['method'])}.</p>"
        f"<table><tr><th>post of A</th><th>post of B</th><th>similarity</th></tr>{rows}</table></section>"
    )


def _ngrams(entry: dict) -> str:
    return ", ".join(f'<code class="ng">{html.escape(n["text"])}</code>' for n in entry["ngrams"])


def _highlight(text: str, spans: list[dict]) -> str:
    out, at = [], 0
    for span in spans:
        if span["start"] < at:
            continue  # overlapping matches: the first wins
        out += [
            html.escape(text[at : span["start"]]),
            f"<mark>{html.escape(text[span['start'] : span['end']])}</mark>",
        ]
        at = span["end"]
    return "".join(out) + html.escape(text[at:])


def _sign(value: float) -> str:
    return "up" if value > 0 else "down"


def percentile_said(percent: float | None) -> str:
    """A percentile as "33.08%", never rounded up to 100% (a pair above 99.995% of the others is "99.99%",
    not above all of them)."""
    value = percent or 0.0
    return f"{min(value, 99.99):.2f}%" if value < 100 else "100%"
