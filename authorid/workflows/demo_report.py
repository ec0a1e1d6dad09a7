"""The demo's one-page HTML report (`OUT/report.html`): every step's numbers, figures inline, links to the
per-step reports. Built on authorid.evaluation.report's page style and tables. It owns the names the demo's
outputs use for its two models and the headline metrics it shows (`BEFORE`, `AFTER`, `HEADLINES`)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from authorid.clustering import ClusterReport
from authorid.evaluation import plots
from authorid.evaluation.report import ReportFigure, html_table
from authorid.page_style import REPORT_CSS

#: Names of the two evaluated models: the pretrained default model and that model fine-tuned by the demo.
BEFORE, AFTER = "pretrained style", "fine-tuned"
#: Headline metrics of the sybil protocol: (task, metric, label), in the order the tables show them.
HEADLINES = (
    ("linking", "mrr", "linking MRR"),
    ("linking", "r@1", "linking R@1"),
    ("linking", "r@8", "linking R@8"),
    ("episodes", "mrr", "episode MRR"),
    ("episodes", "r@1", "episode R@1"),
    ("episodes", "r@8", "episode R@8"),
)


@dataclass
class DemoClusters:
    """The clustering of the held-out pseudo-accounts and how it compares with their true authors."""

    report: ClusterReport
    person_of: dict[str, str]  #: pseudo-account -> true author (the account it was cut from)
    metrics: dict[str, float]  #: `clustering_metrics` against the true authors
    calibrated: bool
    outputs: dict[str, Path]


def render_demo_report(summary: dict, *, out: Path, clusters: DemoClusters) -> str:
    """One self-contained page for the whole demo: every step's numbers, figures inline, links to the rest."""

    sections = "".join(
        (
            _ingest_section(summary),
            _training_section(summary, out),
            _linking_section(summary, out),
            _clustering_section(summary, clusters),
            _outputs_section(summary, out),
        )
    )
    timing = summary.get("timing_s", {})
    meta = (
        f"corpus <b>{html.escape(summary['corpus'])}</b> &middot; seed {summary['seed']} &middot; "
        + ", ".join(f"{html.escape(k)} {v:.1f} s" for k, v in timing.items())
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>authorid demo: {html.escape(summary['corpus'])}</title><style>{REPORT_CSS}</style></head>"
        "<body><h1>authorid demo</h1>"
        "<p>Ingest a corpus, hold out some authors, fine-tune the pretrained <code>style</code> model on the"
        " others, then measure on the held-out authors how much better the fine-tuned model links their"
        " accounts than the pretrained one, and how well it groups them into persons.</p>"
        f'<p class="meta">{meta}</p>{sections}</body></html>'
    )


def _link(path: str | Path, out: Path) -> str:
    target = os.path.relpath(Path(path), out)
    return f'<a href="{html.escape(target)}">{html.escape(target)}</a>'


def _ingest_section(summary: dict) -> str:

    ingest_report, counts = summary["ingest"], summary["split"]["counts"]
    read = {f"read: {k}": v for k, v in ingest_report.get("read", {}).items()}
    changed = {f"changed: {k}": v for k, v in ingest_report.get("changed", {}).items()}
    dropped = {f"dropped: {k}": v for k, v in ingest_report.get("dropped", {}).items()}
    kept = {"posts out": ingest_report.get("posts_out"), "accounts out": ingest_report.get("accounts_out")}
    parts = {
        f"{part} accounts / posts": f"{counts.get(f'{part}_accounts', 0):,}"
        f" / {counts.get(f'{part}_posts', 0):,}"
        for part in ("train", "val", "test")
    }
    return (
        "<section><h2>1. Ingest and split</h2>"
        f"<p>Read and cleaned (every change counted); then the accounts are split author-disjoint: the test"
        f" accounts are held out from training and validation.</p>"
        f'<div class="tables"><div><h3>ingest</h3>{html_table(read | kept)}</div>'
        f"<div><h3>cleaning</h3>{html_table(changed | dropped)}</div>"
        f"<div><h3>open-world split</h3>{html_table(parts)}</div></div></section>"
    )


def _training_section(summary: dict, out: Path) -> str:

    t, nan = summary["training"], float("nan")
    validation = t["validation"]
    initial, best = validation.get("initial") or {}, validation.get("best") or {}
    rows = {
        "loss": t["loss"],
        "preset": t["preset"] + " (" + ", ".join(f"{k}={v}" for k, v in t["settings"].items()) + ")",
        "training accounts / posts": f"{t['data']['train_accounts']:,} / {t['data']['train_posts']:,}",
        "validation accounts": t["data"]["val_accounts"],
        "posts per episode": t["episodes"]["posts_per_episode"],
        "started from": t.get("base") or "-",
        "steps": t["training"]["steps"],
        "training seconds": f"{t['training']['train_seconds']:.1f}",
        "episodes per second": f"{t['training']['examples_per_s']:.1f}",
        "validation MRR before / best": f"{initial.get('mrr', nan):.3f} / {best.get('mrr', nan):.3f}"
        f" (step {validation.get('best_step')})",
    }
    if t["calibration"] is not None:
        held = t["calibration"].get("held_out") or {}
        rows["calibration threshold"] = t["calibration"]["threshold"]
        rows["calibration held-out AUC"] = held.get("auc")
    curves = out / "model" / "training_curves.png"
    figure = ""
    if curves.is_file():
        figure = ReportFigure(
            "Training curves",
            "Training loss per step (left) and the linking MRR of the validation accounts' halves (right);"
            " the weights of the best validation step are the ones kept.",
            curves.read_bytes(),
        ).to_html()
    return (
        "<section><h2>2. Training</h2>"
        "<p>Fine-tuned on the training accounts only; model card:"
        f" {_link(out / 'model' / 'README.md', out)}.</p>"
        f'{html_table(rows)}<div class="figures">{figure}</div></section>'
    )


def _change(before: float, after: float) -> str:
    delta = after - before
    colour = "#1b7837" if delta > 0 else "#b2182b" if delta < 0 else "#555"
    return f'<span style="color:{colour}">{delta:+.3f}</span>'


def _linking_section(summary: dict, out: Path) -> str:
    linking = summary["linking"]
    before, after = linking["metrics"][BEFORE], linking["metrics"][AFTER]
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td class='num'>{before[task][key]:.3f}</td>"
        f"<td class='num'>{after[task][key]:.3f}</td><td class='num'>"
        f"{_change(before[task][key], after[task][key])}</td></tr>"
        for task, key, label in HEADLINES
        if key in before.get(task, {}) and key in after.get(task, {})
    )
    pools = ", ".join(
        f"{task}: {before[task]['n_queries']} queries in a pool of {before[task]['pool_size']}"
        for task in ("linking", "episodes")
        if task in before
    )
    same = "identical" if linking["same_queries"] else "NOT identical"
    reports = " &middot; ".join(
        f"{html.escape(name)}: {_link(Path(summary['outputs'][f'{name} report']), out)}"
        for name in (BEFORE, AFTER)
    )
    return (
        "<section><h2>3. Before / after: linking held-out accounts</h2>"
        "<p>Sybil protocol on the held-out accounts: each is cut in two pseudo-accounts and each first half"
        " ranks every second half (linking); episodes of posts rank all other episodes (episode retrieval)."
        f" {html.escape(pools)}.</p>"
        f"<table><tr><th>metric</th><th>{BEFORE}</th><th>{AFTER}</th><th>change</th></tr>"
        f"{rows}</table>"
        f'<p class="meta">queries {same} for both models (sha256'
        f" <code>{html.escape(linking['queries_sha256'][AFTER][:16])}</code>).</p>"
        f"<p>Full evaluation reports: {reports}.</p></section>"
    )


def _clustering_section(summary: dict, clusters: DemoClusters) -> str:

    c = summary["clustering"]
    m = c["metrics"]
    rows = {
        "pseudo-accounts clustered": c["accounts"],
        "true authors": c["true_persons"],
        "predicted clusters": m["n_pred"],
        "authors recovered exactly": m["persons_recovered"],
        "B³ precision / recall / F1": " / ".join(
            f"{m[f'bcubed_{k}']:.3f}" for k in ("precision", "recall", "f1")
        ),
        "adjusted Rand index": m["ari"],
        "edge weights": "calibrated P(same person)" if c["calibrated"] else "cosine (no calibration)",
        "threshold": c["params"]["threshold"],
        "cut": c.get("cut", "-"),
        "k (neighbours)": c["params"]["k"],
    }
    report = clusters.report
    groups = "".join(_cluster_row(cluster, clusters.person_of) for cluster in report.multi_account)
    alone = sum(cluster.size == 1 for cluster in report.clusters)
    truth = np.unique(list(clusters.person_of.values()), return_counts=True)[1]
    figure = ReportFigure(
        "Cluster sizes",
        "How many predicted clusters (blue) and true authors (grey) hold 1, 2, ... pseudo-accounts.",
        plots.cluster_sizes(np.bincount(report.labels), truth),
    ).to_html()
    return (
        "<section><h2>4. Clustering held-out accounts into persons</h2>"
        "<p>The trained model's vectors of the held-out pseudo-accounts, grouped without being told how many"
        f" persons there are (mutual {c['params']['k']}-nearest-neighbour graph, edges cut at the"
        " calibration's threshold), then compared with the true authors.</p>"
        f'<div class="tables"><div>{html_table(rows)}</div><div class="figures">{figure}</div></div>'
        "<h3>groups of two or more pseudo-accounts</h3><table><tr><th>cluster</th><th>size</th>"
        "<th>cohesion</th><th>members</th><th>true authors</th><th>pure</th></tr>"
        f"{groups}</table><p>{alone} pseudo-accounts are in no group (linked to nothing).</p></section>"
    )


def _cluster_row(cluster, person_of: dict[str, str]) -> str:
    authors = sorted({person_of[a] for a in cluster.members})
    cohesion = "-" if cluster.cohesion is None else f"{cluster.cohesion:.3f}"
    return (
        f"<tr><td>#{cluster.id}</td><td class='num'>{cluster.size}</td><td class='num'>{cohesion}</td>"
        f"<td>{html.escape(', '.join(cluster.members))}</td><td>{html.escape(', '.join(authors))}</td>"
        f"<td>{'yes' if len(authors) == 1 else 'no'}</td></tr>"
    )


def _outputs_section(summary: dict, out: Path) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(what)}</td><td>{_link(path, out)}</td></tr>"
        for what, path in summary["outputs"].items()
    )
    return f"<section><h2>Outputs</h2><table>{rows}</table></section>"
