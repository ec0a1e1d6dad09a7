"""The HTML report of an evaluation run: one self-contained page (inline CSS, figures as base64 PNG).

`figures_for(result)` draws the figures a protocol makes (see `authorid.evaluation.plots`);
`render_report(run, figures)` lays out the run's metrics.json content and the figures. The page loads nothing
from anywhere: it can be mailed, archived or opened offline.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from typing import Any

import numpy as np

from authorid.data.report import cleaning_said
from authorid.evaluation import plots
from authorid.evaluation.protocols.base import ProtocolResult
from authorid.page_style import REPORT_CSS


@dataclass(frozen=True)
class ReportFigure:
    """A titled PNG figure with a one-sentence caption saying how to read it."""

    title: str
    caption: str
    png: bytes

    def to_html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(self.title)}">'
            f"<figcaption><b>{html.escape(self.title)}.</b> {html.escape(self.caption)}</figcaption></figure>"
        )


def figures_for(result: ProtocolResult) -> list[ReportFigure]:
    """The figures of one protocol's result, from its `plot_data`."""
    data, out = result.plot_data, []
    if "scores" in data and len(data["scores"]["different"]):
        out.append(
            ReportFigure(
                "Scores of same vs different persons",
                "Cosine similarity of pairs of (pseudo-)accounts of one person (green) and of two persons (red);"
                " the less they overlap, the better the model tells people apart.",
                plots.score_distributions(data["scores"]["same"], data["scores"]["different"]),
            )
        )
    if "roc" in data:
        scores, labels = data["roc"]
        out.append(
            ReportFigure(
                "ROC curve",
                "True positive rate against false positive rate as the cosine threshold moves; the area under it"
                " is the probability that a same-person pair scores above a different-person pair.",
                plots.roc_curve(scores, labels, auc=result.metrics["cosine"]["roc_auc"]),
            )
        )
    if "reliability" in data:
        out.append(
            ReportFigure(
                "Reliability diagram",
                "Observed share of same-person pairs per bin of predicted probability; bars on the diagonal mean"
                " the probabilities can be taken at face value.",
                plots.reliability_diagram(data["reliability"], ece=result.metrics["verification"]["ece"]),
            )
        )
    for key, task, what in (
        ("linking_ranks", "linking", "half-account"),
        ("episode_ranks", "episodes", "episode"),
    ):
        if key in data:
            out.append(
                ReportFigure(
                    f"Rank histogram ({task})",
                    f"Rank of the true match of each {what} query among all candidates (1 = found first; for pools"
                    " over 20, each bar covers a doubling range of ranks).",
                    plots.rank_histogram(data[key], pool_size=result.metrics[task]["pool_size"]),
                )
            )
    if "cluster_sizes" in data:
        out.append(
            ReportFigure(
                "Cluster sizes",
                "How many predicted clusters (blue) and true persons (grey) hold 1, 2, ... accounts.",
                plots.cluster_sizes(data["cluster_sizes"], data["true_sizes"]),
            )
        )
    if "truth" in data:
        out.append(
            ReportFigure(
                "Confusion matrix (closed set)",
                "Share of each true author's test posts attributed to each author; a strong diagonal is good."
                " At most 30 authors are shown (the most frequent).",
                plots.confusion_matrix(data["truth"], data["predicted"], data["authors"]),
            )
        )
    return out


#: The headline numbers of each protocol, shown as cards: (task, metric, label).
_HEADLINES = {
    "sybil": [
        ("linking", "mrr", "MRR"),
        ("linking", "r@1", "R@1"),
        ("linking", "r@8", "R@8"),
        ("linking", "pool_size", "pool"),
        # ranked as `authorid link` ranks: cosine less half the candidate's neighbourhood density
        ("linking_hubness", "mrr", "MRR, hubness-corrected"),
        ("episodes", "mrr", "episode MRR"),
    ],
    "verification": [
        ("verification", "auc", "ROC AUC"),
        ("verification", "eer", "EER"),
        ("verification", "ece", "ECE"),
        # what a perfectly calibrated verifier would score on as many pairs: an ECE near it is sampling noise
        ("verification", "ece_floor", "ECE if perfectly calibrated"),
        ("verification", "overall", "PAN overall"),
    ],
    "clustering": [
        ("clustering", "bcubed_f1", "B³ F1"),
        ("clustering", "ari", "ARI"),
        ("clustering", "n_true", "true persons"),
        ("clustering", "n_pred", "predicted"),
    ],
    "attribution": [
        ("closed_set", "accuracy", "accuracy"),
        ("closed_set", "macro_f1", "macro-F1"),
        ("open_set", "auroc_known_vs_unknown", "open-set AUROC"),
    ],
}


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return html.escape(str(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4f}"
    return html.escape(str(value))


def html_table(rows: dict[str, Any], header: tuple[str, str] = ("", "")) -> str:
    head = (
        f"<tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>" if any(header) else ""
    )
    body = "".join(
        f'<tr><td>{html.escape(str(k))}</td><td class="num">{_format(v)}</td></tr>'
        if not isinstance(v, list)
        else f'<tr><td>{html.escape(str(k))}</td><td class="num">{", ".join(_format(x) for x in v)}</td></tr>'
        for k, v in rows.items()
        if not isinstance(v, dict)
        and not (isinstance(v, list) and any(isinstance(x, dict | list) for x in v))
    )
    return f"<table>{head}{body}</table>"


def _per_author(rows: dict[str, dict[str, float]]) -> str:
    header = "<tr><th>author</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(author)}</td>"
        + "".join(f'<td class="num">{_format(v[k])}</td>' for k in ("precision", "recall", "f1", "support"))
        + "</tr>"
        for author, v in sorted(rows.items(), key=lambda item: -item[1]["support"])
    )
    summary = f"<summary>per-author breakdown ({len(rows)} authors)</summary>"
    return f"<details>{summary}<table>{header}{body}</table></details>"


def _section(name: str, entry: dict, figures: list[ReportFigure]) -> str:
    metrics = entry["metrics"]
    cards = "".join(
        f'<div class="card"><div class="v">{_format(metrics[task][key])}</div><div class="k">{label}</div></div>'
        for task, key, label in _HEADLINES.get(name, [])
        if key in metrics.get(task, {})
    )
    tables = "".join(
        f"<div><h3>{html.escape(task.replace('_', ' '))}</h3>{html_table(values)}</div>"
        for task, values in metrics.items()
        if task != "per_author"
    )
    tables = f'<div class="tables">{tables}</div>'
    if "per_author" in metrics:
        tables += _per_author(metrics["per_author"])
    settings = html_table(entry["settings"])
    timing = html_table(entry.get("timing_s", {}))  # as measured: rounding first printed 0.0061 s as 0.0100
    figure_html = "".join(f.to_html() for f in figures)
    return (
        f'<section id="{html.escape(name)}"><h2>{html.escape(name)}</h2><div class="cards">{cards}</div>'
        f'{tables}<div class="figures">{figure_html}</div>'
        f"<details><summary>settings</summary>{settings}</details>"
        f"<details><summary>timing (seconds)</summary>{timing}</details>"
        f'<p class="meta">queries sha256: <code>{html.escape(entry.get("queries_sha256", ""))}</code></p>'
        "</section>"
    )


def _excluded_said(data: dict, model: dict) -> str:
    """The accounts evaluate left out because the model trained or validated on them: the page is what people
    share, and its corpus counts are those left."""
    excluded = data.get("excluded_training_accounts") or 0
    if not excluded:
        return ""
    return (
        f" &middot; left out {_format(excluded)} of its {_format(excluded + (data.get('accounts') or 0))} accounts:"
        f" {html.escape(str(model.get('name', 'the model')))} trained or validated on them"
        " (--include-training-accounts keeps them)"
    )


def render_report(run: dict, figures: dict[str, list[ReportFigure]]) -> str:
    """The report page for a run (the content of its metrics.json) and each protocol's figures."""
    model, data = run.get("model", {}), run.get("data", {})
    meta = (
        f"model <b>{html.escape(str(model.get('name', '?')))}</b> ({html.escape(str(model.get('kind', '?')))},"
        f" {_format(model.get('dim'))} dims, fingerprint <code>{html.escape(str(model.get('fingerprint')))}</code>)"
        f" &middot; corpus <b>{html.escape(str(data.get('corpus', '?')))}</b> ({_format(data.get('posts'))} posts,"
        f" {_format(data.get('accounts'))} accounts, fingerprint"
        f" <code>{html.escape(str(data.get('fingerprint', ''))[:16])}</code>;"
        f" {html.escape(cleaning_said(data.get('cleaning')))})"
        f"{_excluded_said(data, model)}"
        f" &middot; seed {_format(run.get('seed'))} &middot; {html.escape(str(run.get('created', '')))}"
    )
    sections = "".join(
        _section(name, entry, figures.get(name, [])) for name, entry in run.get("protocols", {}).items()
    )
    versions = html_table(run.get("versions", {}))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>authorid evaluation: {html.escape(str(model.get('name', '')))}</title>"
        f"<style>{REPORT_CSS}</style></head>"
        f'<body><h1>authorid evaluation</h1><p class="meta">{meta}</p>{sections}'
        f"<h2>environment</h2>{versions}</body></html>"
    )
