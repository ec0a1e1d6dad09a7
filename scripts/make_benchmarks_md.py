"""Write BENCHMARKS.md (and the README's headline block) from the JSON the benchmark scripts wrote.

    .venv/bin/python scripts/make_benchmarks_md.py            # after bench_quality.py / bench_speed.py
    .venv/bin/python scripts/make_benchmarks_md.py --check    # exit 1 when BENCHMARKS.md is out of date

Nothing in BENCHMARKS.md is typed by hand: tables, machine, dates and commands come from
benchmarks/results/*.json (quality, speed, pretrained, sizes, persons, explain, million), plots are drawn
from the same numbers into benchmarks/plots/.
tests/test_benchmarks_md.py keeps the committed files in step with the committed JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
PLOTS = REPO / "benchmarks" / "plots"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
README = REPO / "README.md"
README_START, README_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"

ROW_NAMES = {
    "char-ngram": "char n-gram TF-IDF (PAN baseline)",
    "burrows-delta": "Burrows' Delta (bitig)",
    "cosine-delta": "Cosine Delta (bitig)",
    "general-impostors": "General Impostors (bitig)",
    "lambdag": "LambdaG",
    "stylometric": "authorid stylometric (char 1-4-gram profile)",
    "minilm": "all-MiniLM-L6-v2, untuned (`minilm`)",
    "minilm:raw": "all-MiniLM-L6-v2, untuned, account vectors as pooled (`minilm:raw`)",
    "ce": "MiniLM fine-tuned, ce",
    "nbc-softmax": "MiniLM fine-tuned, nbc-softmax",
    "nbc-softmax-scaled": "MiniLM fine-tuned, nbc-softmax (scaled)",
    "supcon": "MiniLM fine-tuned, supcon",
    "contrax": "MiniLM fine-tuned, contrax",
    "arcface": "MiniLM fine-tuned, arcface",
    "supcon+attention": "MiniLM fine-tuned, supcon + attention pooling",
    "ce+imprinted": "MiniLM fine-tuned, ce, imprinted head",
    "nbc-softmax+imprinted": "MiniLM fine-tuned, nbc-softmax, imprinted head",
    "nbc-softmax-scaled+imprinted": "MiniLM fine-tuned, nbc-softmax (scaled), imprinted head",
    "contrax+imprinted": "MiniLM fine-tuned, contrax, imprinted head",
    "arcface+imprinted": "MiniLM fine-tuned, arcface, imprinted head",
    "fusion": "fusion: supcon + stylometric",
    "style": "`style`, the packaged pretrained model (n-gram, Reddit)",
}
PEERS = {"char-ngram", "burrows-delta", "cosine-delta", "general-impostors", "lambdag"}
SETTING_TITLES = {
    "reddit": "Reddit sybil linking and verification",
    "c50": "Reuters C50 attribution",
    "blog10": "Blog10 attribution",
    "blog50": "Blog50 attribution",
}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _budget(row: dict) -> list[str]:
    b = row.get("budget", {})
    seen = b.get("posts_seen", 0)
    train = b.get("train_seconds", 0.0)
    # eval s: scoring the setting once the model exists: its embedding when it embeds (runs of an earlier
    # version of bench_quality.py counted the training in eval_seconds), else the whole scoring.
    evaluation = b.get("embed_seconds", b.get("eval_seconds", 0))
    return [_fmt(int(seen)) if seen else "0", f"{train:.0f}" if train else "0", f"{evaluation:.0f}"]


#: The char n-gram peer is a different published baseline per task (see scripts/benchlib/peers.py).
ATTRIBUTION_NAMES = {"char-ngram": "char 3-gram + LinearSVC (PAN18 baseline)"}
LINKING_NAMES = {"char-ngram": "char 4-gram TF-IDF cosine (PAN20 baseline)"}


UNTRAINED_MARK = " †"
UNTRAINED_NOTE = (
    "† the run's validation never beat the untrained encoder within its budget, so the model it exported (the"
    " best validation checkpoint) is the untrained one, truncated to the run's max_seq_length."
)

IMPRINTED_NOTE = (
    "*imprinted head*: the loss's class head starts at the training accounts' mean post vectors"
    ' (`optim.head_init = "centroids"`, authorid\'s default since these rows; `authorid/training/head_init.py`);'
    " the rows without it start from a random head, as the papers do."
)

HUBNESS_NOTE = (
    "*MRR, hubness-corrected*: the same scores, each candidate's less half its mean score with its 10 nearest"
    " other candidates (CSLS; `authorid/index/hubness.py`), which is how `authorid link` ranks; – for rows"
    " measured before it existed (stop 28)."
)


def _kept_untrained(row: dict) -> bool:
    b = row.get("budget", {})
    return b.get("validation_initial") is not None and b.get("validation_best") == b.get("validation_initial")


def _name(key: str, kind: str = "linking") -> str:
    special = ATTRIBUTION_NAMES if kind == "attribution" else LINKING_NAMES
    if key in special or key in ROW_NAMES:
        return special.get(key, ROW_NAMES.get(key, key))
    if key.startswith("ngram-fusion:"):
        return f"fused model: n-gram supcon + {key.split(':', 1)[1]} (authorid fuse)"
    if key.startswith("ngram:"):
        loss, _, batch = key.split(":", 1)[1].partition("@")
        narrow = kind == "linking" and loss not in ("supcon", "ms")
        return (
            f"n-gram encoder, {loss}"
            + (f", {batch} accounts a step" if batch else "")
            + (" (trained path only, 256-d)" if narrow else "")
        )
    return key


def _machines(rows: list[tuple[str, dict]]) -> str:
    """The machines of a table's rows, once each, with the range of load averages the rows finished at."""
    machines, loads = set(), []
    for _, row in rows:
        text = str(row.get("budget", {}).get("machine"))
        machine, _, load = text.partition(", load ")
        machines.add(machine)
        if load:
            loads.append(float(load))
    line = "; ".join(sorted(machines))
    if loads:
        line += f"; load average {min(loads):.1f}-{max(loads):.1f} when the rows finished"
    return line


def _ordered(setting: dict) -> list[tuple[str, dict]]:
    rows = setting.get("rows", {})
    order = [k for k in setting.get("rows_order", []) if k in rows] + sorted(
        set(rows) - set(setting.get("rows_order", []))
    )
    return [(k, rows[k]) for k in order]


def linking_table(setting: dict) -> list[str]:
    head = [
        "row",
        "MRR",
        "MRR, hubness-corrected",
        "R@1",
        "R@8",
        "AUC",
        "EER",
        "c@1",
        "F0.5u",
        "Brier ↓",
        "ECE",
        "posts seen",
        "train s",
        "eval s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in _ordered(setting):
        link = row["metrics"].get("linking", {})
        ver = row["metrics"].get("verification", {})
        name = _name(key) + (f" ({ver['n_pairs']:,} sampled pairs)" if ver.get("sampled") else "")
        name += UNTRAINED_MARK if _kept_untrained(row) else ""
        cells = [
            name,
            _fmt(link.get("mrr")),
            _fmt(row["metrics"].get("linking_hubness", {}).get("mrr")),
            *(_fmt(link.get(k)) for k in ("r@1", "r@8")),
            *(_fmt(ver.get(k)) for k in ("auc", "eer", "c@1", "f_05_u", "brier_score", "ece")),
            *_budget(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def attribution_table(setting: dict) -> list[str]:
    head = ["row", "accuracy", "macro-F1", "posts seen", "train s", "eval s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in _ordered(setting):
        m = row["metrics"]["attribution"]
        name = _name(key, "attribution") + (UNTRAINED_MARK if _kept_untrained(row) else "")
        cells = [name, _fmt(m["accuracy"]), _fmt(m["macro_f1"]), *_budget(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _best(setting: dict, metric: tuple[str, str], peers: bool) -> tuple[str, float] | None:
    scored = [
        (key, row["metrics"].get(metric[0], {}).get(metric[1]))
        for key, row in _ordered(setting)
        if (key in PEERS) == peers
    ]
    scored = [(k, v) for k, v in scored if v is not None]
    return max(scored, key=lambda kv: kv[1]) if scored else None


HEADLINE_METRICS = {
    "linking": (
        (("linking", "mrr"), "linking MRR"),
        (("linking_hubness", "mrr"), "linking MRR as `authorid link` ranks (hubness-corrected)"),
        (("verification", "auc"), "verification AUC"),
    ),
    "attribution": ((("attribution", "accuracy"), "accuracy"),),
}


def headline(quality: dict, attribution: dict | None = None) -> list[str]:
    """Best peer vs best authorid row per setting and headline metric (quoted in the README). An attribution
    split's best authorid row is also sought among `authorid attribute`'s rows on the same split
    (bench_attribution.py), whose splits with every post of each blogger get lines of their own."""
    lines = ["| setting | metric | best peer | best authorid |", "|---|---|---|---|"]
    commands = (attribution or {}).get("settings", {})
    for name, setting in quality.get("settings", {}).items():
        kind = setting["kind"]

        def cell(best: tuple[str, float] | None, kind: str = kind) -> str:
            return f"{best[1]:.3f} ({_name(best[0], kind)})" if best else "–"

        for metric, label in HEADLINE_METRICS[kind]:
            peer, ours = _best(setting, metric, True), _best(setting, metric, False)
            ours_cell = cell(ours)
            command = _best_command(commands.get(name, {}))
            if kind == "attribution" and command and (ours is None or command[1] > ours[1]):
                ours_cell = f"{command[1]:.3f} ({ATTRIBUTION_ROW_NAMES.get(command[0], command[0])})"
            if peer or ours:
                lines.append(f"| {SETTING_TITLES.get(name, name)} | {label} | {cell(peer)} | {ours_cell} |")
    for name, setting in commands.items():
        command = _best_command(setting)
        if name.endswith("-all") and command:
            peer = setting["rows"].get("char-ngram")
            peer_cell = f"{peer['accuracy']:.3f} ({ATTRIBUTION_ROW_NAMES['char-ngram']})" if peer else "–"
            ours_cell = f"{command[1]:.3f} ({ATTRIBUTION_ROW_NAMES.get(command[0], command[0])})"
            lines.append(f"| {ATTRIBUTION_TITLES.get(name, name)} | accuracy | {peer_cell} | {ours_cell} |")
    return lines


def _best_command(setting: dict) -> tuple[str, float] | None:
    """The most accurate `authorid attribute` row of a bench_attribution.py split (the baseline left out)."""
    rows = [(row, r["accuracy"]) for row, r in _closed_rows(setting) if row != "char-ngram"]
    return max(rows, key=lambda item: item[1]) if rows else None


#: Headline lines of the splits the quality table lacks.
ATTRIBUTION_TITLES = {
    "blog10-all": "Blog10 attribution, every post",
    "blog50-all": "Blog50 attribution, every post",
}
#: The split headings of the attribution section (the quality table already has "Reuters C50 attribution").
ATTRIBUTION_SPLITS = {
    "c50": "Reuters C50, official split",
    "blog10": "Blog10, capped",
    "blog50": "Blog50, capped",
    "blog10-all": "Blog10, every post",
    "blog50-all": "Blog50, every post",
}
ATTRIBUTION_ROW_NAMES = {
    "char-ngram": "char 3-gram + LinearSVC (PAN18 baseline)",
    "style:svm": "`authorid attribute style --method svm`",
    "stylometric:svm": "`authorid attribute stylometric --method svm`",
    "style:centroid": "`authorid attribute style` (centroid)",
    "open:style:svm": "`authorid attribute style --threshold 0.5 --method svm` (what `auto` picks)",
    "open:style:centroid": "`authorid attribute style --threshold 0.5 --method centroid`",
}


def _closed_rows(setting: dict) -> list[tuple[str, dict]]:
    """A bench_attribution.py split's closed-set rows (the `open:` rows leave authors out of KNOWN)."""
    return [(row, r) for row, r in setting.get("rows", {}).items() if not row.startswith("open:")]


def open_set_table(setting: dict) -> list[str]:
    """The open-set rows of a bench_attribution.py split, or nothing when it has none."""
    rows = [(row, r) for row, r in setting.get("rows", {}).items() if row.startswith("open:")]
    if not rows:
        return []
    first = rows[0][1]
    thresholds = list(first["at"])
    out = [
        f"Open set: {first['unknown_authors']} of the {first['unknown_authors'] + first['known_authors']} authors"
        f" left out of KNOWN ({first['texts_by_unknown']:,} of the {first['texts']:,} test texts are theirs), the"
        " command run with `--threshold 0.5`. AUROC: telling the texts by known authors from the others by their"
        " best author's probability. At each threshold: the share of known authors' texts given their author /"
        " of the others' texts left unknown / of all texts answered right.",
        "",
        "| row | AUROC | " + " | ".join(f"at {t}" for t in thresholds) + " | s |",
        "|---|---|" + "---|" * len(thresholds) + "---|",
    ]
    for row, r in rows:
        cells = " | ".join(
            f"{a['known_right']:.3f} / {a['unknown_rejected']:.3f} / {a['all_right']:.3f}"
            for a in r["at"].values()
        )
        out.append(
            f"| {ATTRIBUTION_ROW_NAMES.get(row, row)} | {r['auroc']:.3f} | {cells} | {r['seconds']:,.0f} |"
        )
    return ["", *out]


def attribution_section(results: dict) -> list[str]:
    """Attribution through `authorid attribute` (scripts/bench_attribution.py), one table per split."""
    if not results.get("settings"):
        return []
    out = [
        "## Attribution through `authorid attribute`",
        "",
        "`python scripts/bench_attribution.py` (`--settings` and `--rows` re-run a part; the machine and its load"
        " under each table). Each authorid row is the product's own command on the split's known and test posts,"
        " written as Parquet (`runs/bench_attribution/SETTING/`); the baseline is the quality table's PAN18 peer on"
        " the same posts. `--method svm` fits a LinearSVC on the model's sparse n-gram profile"
        " (docs/attribution.md); seconds and peak memory are the whole command's (reading, featurising, the SVM"
        " and its temperature's 3-fold fits).",
        "",
    ]
    order = [*ATTRIBUTION_SPLITS, *sorted(set(results["settings"]) - set(ATTRIBUTION_SPLITS))]
    for name in (n for n in order if n in results["settings"]):
        setting = results["settings"][name]
        out += [
            f"### {ATTRIBUTION_SPLITS.get(name, name)}",
            "",
            f"{setting['description']}: {setting['authors']} authors, {setting['known_posts']:,} known posts,"
            f" {setting['test_posts']:,} test posts.",
            "",
            "| row | accuracy | macro-F1 | s | peak MB | ratio to baseline |",
            "|---|---|---|---|---|---|",
        ]
        base = setting["rows"].get("char-ngram", {}).get("accuracy")
        for row, r in _closed_rows(setting):
            ratio = f"{r['accuracy'] / base:.2f}x" if base else "–"
            peak = f"{r['peak_mb']:,}" if r.get("peak_mb") else "–"
            out.append(
                f"| {ATTRIBUTION_ROW_NAMES.get(row, row)} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |"
                f" {r['seconds']:,.0f} | {peak} | {ratio} |"
            )
        out += open_set_table(setting)
        rows = [(row, {"budget": {"machine": r.get("machine")}}) for row, r in setting["rows"].items()]
        out += ["", f"Machine: {_machines(rows)}.", ""]
    return out


def quality_plot(quality: dict, path: Path) -> Path | None:
    """One bar chart per setting of its headline metric (peers grey, authorid blue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = [(n, s) for n, s in quality.get("settings", {}).items() if s.get("rows")]
    if not settings:
        return None
    fig, axes = plt.subplots(1, len(settings), figsize=(4.2 * len(settings), 4.6), squeeze=False)
    for ax, (name, setting) in zip(axes[0], settings, strict=True):
        metric = ("linking", "mrr") if setting["kind"] == "linking" else ("attribution", "accuracy")
        rows = [(k, r["metrics"].get(metric[0], {}).get(metric[1])) for k, r in _ordered(setting)]
        rows = [(k, v) for k, v in rows if v is not None]
        ax.barh(
            [_name(k, setting["kind"]) for k, _ in rows],
            [v for _, v in rows],
            color=["#9e9e9e" if k in PEERS else "#1f77b4" for k, _ in rows],
        )
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(
            f"{SETTING_TITLES.get(name, name)}\n({'MRR' if metric[1] == 'mrr' else 'accuracy'})", fontsize=9
        )
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def _machine_line(machine: Any) -> str:
    if isinstance(machine, dict):
        return ", ".join(f"{k}: {v}" for k, v in machine.items() if v not in (None, ""))
    return str(machine)


def quality_section(quality: dict) -> list[str]:
    if not quality:
        return ["## Quality", "", "Not measured yet: run `scripts/bench_quality.py`.", ""]
    profile = quality.get("profile", {})
    out = [
        "## Quality: same data, same splits, same seeds",
        "",
        f"Profile `{profile.get('name')}` (sizes in `scripts/benchlib/settings.py`), results updated "
        f"{quality.get('updated', '?')}. Commands:",
        "",
        "```",
        *quality.get("commands", []),
        "```",
        "",
        "Every row of a table is scored by one code path (`scripts/benchlib/scoring.py`) on the same posts:"
        " linking ranks each first half among all second halves; verification probabilities are cross-fitted"
        " Platt calibrations for every row alike (each fold of persons scored by a calibration fitted on the"
        " other). *posts seen* counts the posts a fine-tuning run read (episodes x posts per episode); *train s*"
        " is its training wall time, *eval s* the wall time to score the setting once the model exists"
        " (embedding included), on the machine named under each table with its load average: rows ran while"
        " other jobs shared the two cores, so wall times are pessimistic and differ with the load.",
        "",
    ]
    if (PLOTS / "quality.png").is_file():
        out += ["![quality per setting](benchmarks/plots/quality.png)", ""]
    for name, setting in quality.get("settings", {}).items():
        if not setting.get("rows"):
            continue
        out += [f"### {SETTING_TITLES.get(name, name)}", "", setting.get("description", "") + ".", ""]
        counts = setting.get("counts", {})
        if counts:
            out += [
                "Counts: " + ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in counts.items()) + ".",
                "",
            ]
        out += linking_table(setting) if setting["kind"] == "linking" else attribution_table(setting)
        if any(_kept_untrained(r) for _, r in _ordered(setting)):
            out += ["", UNTRAINED_NOTE]
        if any(k.endswith("+imprinted") for k, _ in _ordered(setting)):
            out += ["", IMPRINTED_NOTE]
        if setting["kind"] == "linking":
            out += ["", HUBNESS_NOTE]
        out += ["", f"Machine: {_machines(_ordered(setting))}.", ""]
        notes = [
            f"- {_name(k, setting['kind'])}: {r['budget']['training']}"
            for k, r in _ordered(setting)
            if isinstance(r.get("budget", {}).get("training"), str)
        ]
        if notes:
            out += ["Training budget of the rows without fine-tuning:", "", *notes, ""]
    return out


PRETRAINED_ROWS = {
    "style": "`style` (pretrained on Reddit)",
    "char-ngram": "char 4-gram TF-IDF (PAN baseline)",
    "stylometric": "`stylometric` (untrained profile)",
    "minilm": "`minilm` (untuned MiniLM)",
    "minilm:raw": "`minilm:raw` (the same, account vectors not centred)",
}


def pretrained_section(pretrained: dict) -> list[str]:
    """The packaged model on corpora it never saw, beside the baselines (scripts/bench_pretrained.py)."""
    if not pretrained:
        return []
    out = [
        "## The pretrained `style` model on corpora it never saw",
        "",
        f"`{pretrained.get('command')}`, updated {pretrained.get('updated')}; {pretrained.get('machine')}. Each row"
        " through `authorid evaluate MODEL CORPUS --protocol sybil,verification` (the PAN baseline as a scorer"
        " fitted on the evaluated texts). Linking MRR / verification AUC; accounts cut in two halves:",
        "",
        "| corpus | accounts | halves | " + " | ".join(PRETRAINED_ROWS.values()) + " |",
        "|---|---|---|" + "---|" * len(PRETRAINED_ROWS),
    ]
    for corpus, entry in pretrained.get("corpora", {}).items():
        settings = entry.get("settings", {})
        halves = f"<= {settings.get('max_posts')} posts, cut by {settings.get('by')}"
        cells = []
        for row in PRETRAINED_ROWS:
            r = entry["rows"].get(row)
            cells.append("–" if r is None else f"{r['sybil']['mrr']:.3f} / {r['verification']['auc']:.3f}")
        out.append(f"| {corpus} | {entry.get('accounts')} | {halves} | " + " | ".join(cells) + " |")
    return [*out, "", *_pretrained_hubness_table(pretrained)]


def _pretrained_hubness_table(pretrained: dict) -> list[str]:
    """The corrected MRR per corpus and row (`sybil_hubness`), for the corpora that have one (>= 50 accounts)."""
    corrected = {
        corpus: {row: (r or {}).get("sybil_hubness") for row, r in entry["rows"].items()}
        for corpus, entry in pretrained.get("corpora", {}).items()
    }
    corrected = {corpus: rows for corpus, rows in corrected.items() if any(rows.values())}
    if not corrected:
        return []
    out = [
        "Linking MRR as `authorid link` ranks, hubness-corrected (cosine less half the candidate's density among"
        " the other candidates, `authorid/index/hubness.py`); not applied below 50 candidates; – where not"
        " measured:",
        "",
        "| corpus | " + " | ".join(PRETRAINED_ROWS.values()) + " |",
        "|---|" + "---|" * len(PRETRAINED_ROWS),
    ]
    for corpus, rows in corrected.items():
        cells = [_fmt((rows.get(row) or {}).get("mrr")) for row in PRETRAINED_ROWS]
        out.append(f"| {corpus} | " + " | ".join(cells) + " |")
    return [*out, ""]


def link_cost_section(link: dict) -> list[str]:
    """What ranking with the hubness correction costs `authorid link` (scripts/bench_link.py)."""
    if not link:
        return []
    batch = link["batch"]
    out = [
        "## What the hubness correction costs `authorid link`",
        "",
        f"`{link['command']}`, updated {link['updated']}; {link['machine']}. `link` reads each of a query's top"
        f" {link['rerank_depth']} candidates' density from the index (its {link['k']} nearest other enrolled"
        " accounts: one search per distinct candidate), so the cost grows with the queries. Synthetic"
        " gaussian-cluster vectors; one query: median of"
        f" {link['single_queries']} queries linked one at a time; batch: {batch:,} queries in one call."
        " *Corrected*: every density searched (a fresh index); *known*: the densities found before, as a second"
        " `link` on the same index finds them (kept in the index folder since stop 30, `hubness.index_densities`):"
        " one query, and the batch on a saved index loaded again:",
        "",
        "| index | accounts x dims | one query: by cosine / corrected / known | ratio, corrected |"
        f" {batch:,} queries: by cosine / corrected / known, saved index |",
        "|---|---|---|---|---|",
    ]
    for row in link["rows"]:
        plain, corrected, known = row["cosine"], row["hubness"], row.get("hubness_known")
        known_query = f"{known['median_query_ms']:.1f}" if known else "–"
        known_batch = f"{known[f'batch_{batch}_saved_index_s']:.1f}" if known else "–"
        out.append(
            f"| {row['kind']} | {row['n']:,} x {row['dim']:,} | {plain['median_query_ms']:.1f} /"
            f" {corrected['median_query_ms']:.1f} / {known_query} ms | {row['query_ratio']:.0f}x |"
            f" {plain[f'batch_{batch}_s']:.1f} / {corrected[f'batch_{batch}_s']:.1f} / {known_batch} s |"
        )
    out += [
        "",
        "`authorid link --no-hubness` ranks by cosine alone, for bulk linking where the order of near candidates"
        " matters less than time; with a calibration's cohort fit it still reads the candidates' densities.",
        "",
    ]
    return out


def train_pool_section(train_pool: dict) -> list[str]:
    """Training the default model on Reddit's whole training pool: time and peak memory
    (scripts/bench_train_pool.py)."""
    if not train_pool:
        return []
    r, t = train_pool["results"], train_pool["targets"]

    def met(ok: bool) -> str:
        return "met" if ok else "missed"

    tree_ok = r["peak_rss_process_tree_mib"] <= t["peak_mib"]
    largest_ok = r["peak_rss_largest_process_mib"] <= t["peak_mib"]
    return [
        "## Training the default model on the whole Reddit pool",
        "",
        f"`{train_pool.get('command')}`, updated {train_pool.get('updated')};"
        f" {_machine_of({'machine': train_pool.get('machine_at_start', {})})}. {train_pool.get('description')}",
        "",
        "| training posts | count non-zeros | featurise s | train s | featurise + train s | steps"
        " | peak RSS, largest process | peak RSS, process tree | whole script s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {r['training_posts']:,} | {r['count_nonzeros']:,} | {r['featurise_s']:.1f} | {r['train_s']:.1f} |"
        f" {r['featurise_plus_train_s']:.1f} | {r['steps']:,} | {r['peak_rss_largest_process_mib']:,} MiB |"
        f" {r['peak_rss_process_tree_mib']:,} MiB (at {r['peak_rss_process_tree_at_s']:.0f} s) |"
        f" {r['script_wall_s']:.0f} |",
        "",
        f"Targets (issue 13): featurise + train <= {t['featurise_plus_train_s']} s:"
        f" {met(r['featurise_plus_train_s'] <= t['featurise_plus_train_s'])}; peak <= 6 GB ({t['peak_mib']:,} MiB):"
        f" {met(largest_ok)} for the largest process, {met(tree_ok)} for the process tree (the script and its"
        " n-gram counting workers together).",
        "",
    ]


def persons_section(persons: dict, validation: dict | None = None, minilm: dict | None = None) -> list[str]:
    """Clustering held-out Reddit accounts into persons, every method (scripts/bench_persons.py); `validation`:
    the same on a training run's validation persons (`--validation-of`); `minilm`: the same halves under
    `minilm` (`--model minilm`)."""
    if not persons:
        return []
    raised = "min_precision" in persons
    head = ["method", "prior", "pairwise P", "pairwise R", "B³ P", "B³ R", "B³ F1", "clusters", "largest"]
    if raised:
        head[2:2] = ["threshold", "expected P"]
    decision = (
        f"decision P >= {persons.get('threshold')} raised, as `authorid cluster` raises it by default, to the"
        f" lowest step at which the clusters' pairwise precision reaches {persons['min_precision']:g} with"
        " probability 0.9, each pair right with its P (column *threshold*; *expected P*: the mean P of the pairs"
        " they form; until stop 40 the threshold stopped where that mean reached it)"
        if raised
        else f"decision P >= {persons.get('threshold')}"
    )
    out = [
        "## Clustering accounts into persons",
        "",
        f"`{persons.get('command')}`, updated {persons.get('updated')}; {persons.get('machine')}. Model"
        f" `{persons.get('model')}` with its own calibration{_read_through(persons)}, {decision}, k ="
        f" {persons.get('k')}; {persons.get('accounts')} (the truth: 1,000 persons of 2 pseudo-accounts)."
        + (
            " Rows *calibrate on training*: the model calibrated instead by `authorid calibrate` on Reddit"
            " training-pool accounts cut as the benchmark cuts (the only Reddit accounts outside these 1,000 it"
            " has), read by its cosine fit alone or by its cohort fit (as `authorid cluster` reads it in a pool of"
            " at least 50 accounts; the next section has the same comparison with a calibration on held-out"
            " persons)."
            if any("calibrate on training" in name for name in persons.get("rows", {}))
            else ""
        ),
        "",
        *_persons_table(persons, head, raised),
    ]
    if validation:
        out += [
            "",
            f"The same on persons the benchmark is not measured on"
            f" (`{validation.get('command')}`, updated {validation.get('updated')}; {validation.get('machine')}):"
            f" {validation.get('accounts')}, each a person with 20 posts or more whom `style` validated on"
            " and its shipped calibration was fitted on.",
            "",
            *_persons_table(validation, head, "min_precision" in validation),
        ]
    if minilm:
        out += [
            "",
            f"The same halves under `minilm`, untuned (`{minilm.get('command')}`, updated {minilm.get('updated')};"
            f" {minilm.get('machine')}). It has no calibration of its own: rows *calibrate on training* read the"
            " one `authorid calibrate` fits on Reddit training-pool accounts, which MiniLM never trained on (issue"
            " 15's protocol for it); the rows without read `evaluate`'s cross-fitted Platt (each fold of the test"
            " persons clustered with a calibration fitted on the other fold).",
            "",
            *_persons_table(minilm, head, "min_precision" in minilm),
        ]
    return [*out, ""]


def few_twins_section(few: dict) -> list[str]:
    """`authorid cluster` where few accounts have a twin (scripts/bench_few_twins.py): the expected pairwise
    precision it prints against the share of its pairs that are one person."""
    if not few:
        return []
    big = few["big_posts"]
    out = [
        "## Clustering where few accounts have a twin",
        "",
        f"`{few['command']}`, updated {few['updated']}; {few['machine']}. The section above reads pools where every"
        " person has two accounts; in a forum few do. Here one account in"
        f" {few['every']} has a twin, and `authorid cluster {few['model']} POOL --prior P` runs at the true share P"
        " of same-person pairs (defaults otherwise: P >= 0.5 raised until the pairwise precision reaches 0.9 with"
        " probability 0.9; until stop 40, until the expected pairwise precision did). *forum*: 488 whole Reddit"
        " accounts of 16-60 posts the model never trained on, every"
        f" {few['every']}th split into two accounts by alternate posts (so twins, halves, are smaller than most"
        f" accounts: among pairs of two big accounts the share of twins is about a third of P). *forum-halves*: the"
        " same accounts each cut to its alternate posts, both halves for the twinned ones, one for the others:"
        " twins sized as the rest. The forum pools are written as the raw dump holds them and `cluster` cleans them"
        " as `authorid ingest` does (every verb cleans a corpus that is not an ingested Parquet file, since stop 37;"
        " read raw, they delivered 0.694 and 0.742). *benchmark*: the clustering benchmark's own halves (8 newest"
        f" posts each), every {few['every']}th of the 1,000 persons with both, the others with one."
        " *benchmark-spread*: the same persons, each half 8 of its alternate posts spaced evenly across the whole"
        " history. Each draw gives the twins to"
        f" different accounts; *big*: the pairs whose two accounts both have {big} posts or more; *draws at 0.9*:"
        " the draws whose pairs came out at least 0.9 right (a draw that formed none counts), which the default"
        " promises 9 times in 10 when P is calibrated.",
        "",
        "| pool | draws | accounts | prior | pairs formed | expected pairwise precision | one person |"
        f" draws at 0.9 | big pairs (both >= {big} posts) | of them one person |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, pool in few["pools"].items():
        draws = pool["draws"]
        share = f"{pool['right']} ({pool['right'] / pool['pairs']:.3f})" if pool["pairs"] else "0"
        big_share = (
            f"{pool['big_right']} ({pool['big_right'] / pool['big_pairs']:.3f})" if pool["big_pairs"] else "–"
        )
        reached = sum(10 * d["right"] >= 9 * d["pairs"] for d in draws)  # integers: no rounding at 0.9
        out.append(
            f"| {name} | {len(draws)} | {draws[0]['accounts']:,} | 1/{1 / draws[0]['prior']:,.0f} | {pool['pairs']} |"
            f" {_fmt(pool['expected_pairwise_precision'])} | {share} | {reached} | {pool['big_pairs']} |"
            f" {big_share} |"
        )
    return [*out, ""]


def _thresholds(used: float | list[float]) -> str:
    """The threshold a clustering used, or each fold's (`0.5 / 0.7`) when a cross-fitted one had two."""
    used = used if isinstance(used, list) else [used]
    return " / ".join(f"{t:g}" for t in used)


def _persons_table(persons: dict, head: list[str], raised: bool) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in persons.get("rows", {}).items():
        cells = [
            name,
            f"{r['prior']:.3g}",
            *((_thresholds(r["threshold_used"]), _fmt(r.get("expected_precision"))) if raised else ()),
            *(_fmt(r.get(k)) for k in ("pairwise_precision", "pairwise_recall", "bcubed_precision")),
            *(_fmt(r.get(k)) for k in ("bcubed_recall", "bcubed_f1", "n_pred", "largest_cluster")),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _read_through(persons: dict) -> str:
    """How the shipped calibration's rows read it: through its cohort fit (stop 30 on) or its cosine fit."""
    first = next(iter(persons.get("rows", {}).values()), {})
    if "cohort-normalised" in str(first.get("calibration", "")):
        return " read through its cohort fit, as `authorid cluster` reads it in a pool of 50 accounts or more"
    return ""


def _sizes_summary(method: str, entry: dict) -> str:
    """One method's line: pairs given P >= 0.5, how many the P's expect to be one person against how many are,
    and in how many pairings the share's 95% interval reaches within 0.05 of the mean P."""
    pairings = entry["pairings"].values()
    with_pairs = [r for r in pairings if r["flagged"]]
    consistent = sum(1 for r in with_pairs if r.get("consistent_with_target"))
    within = sum(1 for r in with_pairs if abs(r["flagged_same_share"] - r["flagged_mean_p"]) <= 0.05)
    pooled = entry.get("pooled") or {}
    expected = (
        f" (their P's expect {pooled['expected_same']:,.0f} of them to be the same person; {pooled['same']:,} are)"
        if pooled
        else ""
    )
    return (
        f"- `{method}` ({entry['fitted_on']}): {sum(r['flagged'] for r in pairings):,} pairs given P >= 0.5"
        f"{expected}; of the {len(with_pairs)} pairings with any, the share's 95% interval reaches within 0.05 of"
        f" the mean P in {consistent} and the share itself is within 0.05 in {within}{_if_calibrated(with_pairs)};"
        f" ECE over all pairs, mean of the pairings {np.mean([r['ece'] for r in pairings]):.4f}."
    )


def _if_calibrated(pairings: list[dict]) -> str:
    """What a perfectly calibrated P would get at the same pairs (bench_sizes' `within_if_calibrated`): the
    number of pairings within 0.05 on average, and the chance that every one of them is."""
    chances = [r.get("within_if_calibrated") for r in pairings]
    if not chances or None in chances:
        return ""  # results written before stop 40
    return (
        f" (were every P exactly right, {sum(chances):.1f} on average, and all {len(chances)} with chance"
        f" {np.prod(chances):.1g})"
    )


def _sizes_table(calibrations: dict, *, accounts: bool = False) -> list[str]:
    """Per pairing of sizes: the median cosines and AUC, and per method the pairs given P >= 0.5, their mean P
    and the share truly one person (x: the share's 95% interval stays further than 0.05 from the mean P);
    `accounts`: a column of each pairing's accounts (bench_sizes --every-account)."""
    methods = list(calibrations)
    head = [
        "A x B posts",
        *(["accounts"] if accounts else []),
        "median cosine same / different",
        "AUC",
        *(f"`{m}`: n, mean P, share" for m in methods),
    ]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for pairing, first in calibrations[methods[0]]["pairings"].items():
        cells = [
            pairing,
            *([f"{first['accounts']:,}"] if accounts else []),
            f"{first['same_median_cosine']:.3f} / {first['different_median_cosine']:.3f}",
            f"{first['auc']:.3f}",
        ]
        for method in methods:
            r = calibrations[method]["pairings"][pairing]
            mark = " x" if r.get("consistent_with_target") is False else ""
            cells.append(
                f"{r['flagged']}, {r['flagged_mean_p']:.2f}, {r['flagged_same_share']:.2f}{mark}"
                if r["flagged"]
                else "0"
            )
        out.append("| " + " | ".join(cells) + " |")
    return out


def _every_account_block(run: dict, what: str) -> list[str]:
    """A `bench_sizes.py --every-account` run below the per-size table: `what` it measured, its command, the
    per-method summaries and the per-pairing table with each pairing's accounts."""
    return [
        "",
        f"{what} (`{run.get('command')}`, updated {run.get('updated')}; {run.get('machine')}):"
        f" {run.get('accounts')}, each pairing at its own true prior, 1/(its accounts):",
        "",
        *(_sizes_summary(method, entry) for method, entry in run["calibrations"].items()),
        "",
        *_sizes_table(run["calibrations"], accounts=True),
    ]


def sizes_section(
    sizes: dict,
    together: dict | None = None,
    minilm: dict | None = None,
    minilm_together: dict | None = None,
    every: dict | None = None,
    large: dict | None = None,
) -> list[str]:
    """Calibrated P at every pairing of account sizes, per calibration method (scripts/bench_sizes.py); the
    shipped calibration on every test account with posts enough (`--every-account`) below it, then on large
    accounts (`--every-account --sizes 20,30,50`), then the same accounts under `minilm` and embedded as one
    corpus (`--embedding together`) summarised."""
    calibrations = sizes.get("calibrations") or {}
    if not calibrations:
        return []
    methods = list(calibrations)
    out = [
        "## Calibration at every account size",
        "",
        f"`{sizes.get('command')}`, updated {sizes.get('updated')}; {sizes.get('machine')}. Model"
        f" `{sizes.get('model')}`; {sizes.get('accounts')}. Side A of each account its oldest posts, side B its"
        f" newest, cut to {', '.join(map(str, sizes.get('sizes', [])))} posts, each side at each size embedded"
        f" on its own; all A x B pairs of a pairing scored at their true prior {sizes.get('prior')} (a"
        " size-aware calibration reads both sides' post and character counts). Per method: pairs given"
        " P >= 0.5, their mean P and the share truly the same person (the target: within 0.05 of the mean P);"
        " x marks a pairing whose share's 95% Wilson interval stays further than 0.05 from the mean P.",
        "",
        *(_sizes_summary(method, calibrations[method]) for method in methods),
    ]
    out += ["", *_sizes_table(calibrations)]
    if every and every.get("calibrations"):
        out += _every_account_block(
            every,
            "The shipped calibration on every test account with posts enough for both sides of a pairing, not the"
            " first 300 with 40",
        )
    if large and large.get("calibrations"):
        out += _every_account_block(
            large,
            "The shipped calibration on large accounts, each side cut to"
            f" {', '.join(map(str, large.get('sizes', [])))} posts",
        )
    if minilm and minilm.get("calibrations"):
        out += [
            "",
            f"The same accounts and cuts under `{minilm.get('model')}` (`{minilm.get('command')}`, updated"
            f" {minilm.get('updated')}; {minilm.get('machine')}):",
            "",
            *(_sizes_summary(method, entry) for method, entry in minilm["calibrations"].items()),
        ]
    for run in (together, minilm_together):
        if run and run.get("calibrations"):
            out += [
                "",
                f"The same accounts and cuts embedded as one corpus under `{run.get('model')}`, as `authorid embed`"
                f" embeds a forum of mixed sizes (`{run.get('command')}`, updated {run.get('updated')};"
                f" {run.get('machine')}):",
                "",
                *(_sizes_summary(method, entry) for method, entry in run["calibrations"].items()),
            ]
    return [*out, ""]


def drift_section(runs: dict[str, dict]) -> list[str]:
    """Does the cosine of two different people drift with their account sizes? Per model, from bench_sizes'
    runs (the same accounts and cuts for each model)."""
    runs = {name: run for name, run in runs.items() if run.get("calibrations")}
    if not runs:
        return []
    commands = "; ".join(f"`{run['command']}`" for run in runs.values())
    first = next(iter(runs.values()))
    out = [
        "## Do scores drift with account size?",
        "",
        f"{commands}; {first.get('machine')}. {first.get('accounts')}; side A of each account its oldest posts,"
        " side B its newest, each cut to 2-20 posts. Per pairing of sizes: the median cosine of different-person"
        " pairs and of same-person pairs, and AUC. Mean-pooled transformer vectors as they are (`minilm:raw`)"
        " make strangers look more alike the more posts each has; `minilm` centres them"
        " (authorid/encoders/centre.py). Each side at each size is embedded on its own, so each is centred on"
        " accounts of its own size; `style, one corpus` embeds all 8 sides together, as `authorid embed` would a"
        " forum of mixed sizes: each account is centred at its own post count"
        " (authorid/encoders/size_centre.py; with one mean for all sizes, until stop 27, that column drifted from"
        " +0.046 at 2x2 to -0.050 at 2x20).",
        "",
        "| A x B posts | " + " | ".join(f"`{name}`: different / same, AUC" for name in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    pairings = {name: next(iter(run["calibrations"].values()))["pairings"] for name, run in runs.items()}
    for pairing in next(iter(pairings.values())):
        cells = []
        for name in runs:
            r = pairings[name][pairing]
            cells.append(
                f"{r['different_median_cosine']:.3f} / {r['same_median_cosine']:.3f}, {r['auc']:.3f}"
            )
        out.append(f"| {pairing} | " + " | ".join(cells) + " |")
    return [*out, ""]


def explain_section(explain: dict) -> list[str]:
    if not explain:
        return []
    return [
        "## Evidence for one pair (`authorid explain`)",
        "",
        f"`{explain.get('command')}`, updated {explain.get('updated')}; {explain.get('machine')}. {explain['corpus']}:"
        f" model loaded in {explain['load_seconds']} s; one pair explained in {explain['median_seconds']} s"
        f" (median of {len(explain['explain_seconds'])}), of which embedding the corpus (its centre and the"
        f" percentile need every account's vector) takes {explain['embedding_the_corpus_seconds']} s. With an"
        f" index built once from the corpus ({explain.get('index_build_seconds')} s; `--index IDX`) only the pair"
        f" is embedded: {explain.get('with_index_median_seconds')} s a pair.",
        "",
    ]


def _machine_of(section: dict) -> str:
    m = section.get("machine", {})
    load = m.get("load_average_at_start")
    gpu = m.get("gpu") or "no GPU"
    text = f"{m.get('cores_usable', '?')} cores {m.get('cpu', '?')}, {m.get('memory_gib', '?')} GiB, {gpu}"
    if load:
        text += f", load average {load[0]:.1f} at start"
    return text


def _section_header(title: str, section: dict) -> list[str]:
    return [
        f"### {title}",
        "",
        f"`{section.get('command', '?')}` — {section.get('date', '?')}, {section.get('seconds', 0):.0f} s on"
        f" {_machine_of(section)}.",
        "",
    ]


def embed_table(section: dict) -> list[str]:
    res = section["results"]
    lines = [
        f"{res['n_posts']:,} seeded Reddit posts; MRR on the sybil halves of"
        f" {section['settings']['linking']['accounts']:,} accounts (same queries for every method).",
        "",
        "| method | posts/s | × encode | linking MRR | MRR − fp32 | keeps MRR within 0.01 |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in res["methods"].items():
        if not m.get("measured", True):
            lines.append(f"| {name} | – | – | – | – | {m.get('reason', 'not measured')} |")
            continue
        link = m.get("linking", {})
        delta = m.get("mrr_minus_fp32")
        keeps = m.get("keeps_mrr_within_0.01")
        lines.append(
            f"| {name} | {m['posts_per_s']:.1f} | {m['ratio_to_encode']:.2f} | {_fmt(link.get('mrr'))} |"
            f" {'–' if delta is None else f'{delta:+.4f}'} | {'–' if keeps is None else ('yes' if keeps else 'no')} |"
        )
    return lines


def train_table(section: dict) -> list[str]:
    lines = ["| loss | examples/s | × ce | steps |", "|---|---|---|---|"]
    for name, m in section["results"]["losses"].items():
        lines.append(f"| {name} | {m['examples_per_s']:.2f} | {m['ratio_to_ce']:.2f} | {m['steps']} |")
    return lines


def scale_table(section: dict) -> list[str]:
    lines = [
        "| accounts | exact ms/query | IVF ms/query | IVF cells scanned | IVF recall@10 | clustering s"
        " | clustering RSS growth MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in section["results"]["sizes"]:
        exact, ivf, clus = row["linking"]["exact"], row["linking"]["ivf"], row["clustering"]
        params = ivf.get("params", {})
        cells = f"{params['nprobe']} / {params['nlist']}" if params.get("nlist") else "–"
        lines.append(
            f"| {row['n']:,} | {exact['median_query_ms']:.2f} | {ivf['median_query_ms']:.2f} | {cells} |"
            f" {ivf['recall@10']:.3f} | {clus['wall_s']:.1f} | {clus['rss_growth_mb']:.0f} |"
        )
    return lines


def speed_section(speed: dict) -> list[str]:
    if not speed:
        return ["## Speed and scale", "", "Not measured yet: run `scripts/bench_speed.py`.", ""]
    out = ["## Speed and scale", ""]
    parts = (
        (
            "embed",
            "Embedding throughput: authorid's embedder vs SentenceTransformer.encode",
            embed_table,
            "speed_embed.png",
        ),
        ("train", "Training throughput per loss (same episodes)", train_table, "speed_train.png"),
        ("scale", "Linking latency and clustering time, 1k to 100k accounts", scale_table, "speed_scale.png"),
    )
    for key, title, table, plot in parts:
        if key not in speed:
            continue
        out += _section_header(title, speed[key]) + table(speed[key]) + [""]
        if (PLOTS / plot).is_file():
            out += [f"![{title}](benchmarks/plots/{plot})", ""]
    return out


def _ms(point: dict | None) -> str:
    return "–" if not point else f"{point['median_query_ms']:.2f}"


def _index_part(index: dict, title: str) -> list[str]:
    out: list[str] = []
    st = index["settings"]
    out += [
        f"### {title}",
        "",
        f"`{index.get('command')}`; load average {index['machine']['load_average_at_start'][0]} at start."
        f" {st['queries']:,} queries ({st['queries_are']}), top-{st['k']}; {st['latency']}; faiss threads"
        f" {st['faiss_threads']}. IVF nlist = {st['ivf_nlist']}; HNSW M {st['hnsw']['m']}, efConstruction"
        f" {st['hnsw']['ef_construction']}. Targets: median <= {st['targets']['median_ms']} ms at recall@10"
        f" >= {st['targets']['recall@10']}. Each row: the first setting of the sweep reaching the target"
        " recall (the whole sweep is in the JSON).",
        "",
    ]
    by_id = any(
        "recall@10_by_id" in p
        for row in index["sizes"]
        for k in ("ivf", "hnsw")
        for p in row.get(k, {}).get("sweep", [])
    )
    if by_id:
        out += [
            "recall@10 counts a returned account as one of the exact 10 when its exact cosine reaches the 10th"
            " one (ties within 1e-6: accounts with identical vectors); *by id* is the share of the exact"
            " search's own 10 ids, which counts an equal account returned in place of its twin as a miss.",
            "",
        ]
    out += [
        "| accounts | index | build s | memory MB | setting at recall >= target | recall@10 |"
        + (" by id |" if by_id else "")
        + " median ms | meets targets |",
        "|---|---|---|---|---|---|---|---|" + ("---|" if by_id else ""),
    ]
    for row in index["sizes"]:
        ex = row["exact"]
        fast = ex["median_query_ms"] <= st["targets"]["median_ms"]
        out.append(
            f"| {row['n']:,} | exact (IndexFlatIP) | {ex['build_s']:.1f} | {ex['memory_mb']:,} | – | 1.000 |"
            + (" 1.000 |" if by_id else "")
            + f" {ex['median_query_ms']:.2f} | {'yes' if fast else 'no'} |"
        )
        for kind in ("ivf", "hnsw"):
            entry = row.get(kind)
            if not entry:
                continue
            point = entry.get("at_target")
            name = "nprobe" if kind == "ivf" else "ef_search"
            params = entry["params"]
            best = max(entry["sweep"], key=lambda p: p["recall@10"])
            shown = point or best
            label = (
                f"nprobe {shown[name]} / nlist {params['nlist']}"
                if kind == "ivf"
                else f"efSearch {shown[name]}"
            )
            # IVF cells stored float32 before the `storage` setting existed (and float16 since)
            shown_kind = f"IVF, {params.get('storage', 'float32')} cells" if kind == "ivf" else "HNSW"
            out.append(
                f"| {row['n']:,} | {shown_kind} | {entry['build_s']:.1f} | {entry['memory_mb']:,} |"
                f" {label if point else f'not reached; best: {label}'} |"
                f" {shown['recall@10']:.4f} |"
                + (f" {shown['recall@10_by_id']:.4f} |" if by_id else "")
                + f" {_ms(shown)} | {'yes' if entry['meets_targets'] else 'no'} |"
            )
    largest = index["sizes"][-1]
    graphs = [
        (kind, largest[kind]["knn_graph"])
        for kind in ("hnsw", "ivf")
        if largest.get(kind, {}).get("knn_graph")
    ]
    if graphs:
        out += [
            "",
            f"As the kNN-graph builder of clustering at {largest['n']:,} accounts (each vector's 10 nearest"
            " others, all searched in batches; recall@10 on a seeded sample of"
            f" {graphs[0][1]['probe_rows']:,} rows against exact):",
            "",
            "| index | setting | recall@10 | build s | search all s | total s |",
            "|---|---|---|---|---|---|",
        ]
        for kind, graph in graphs:
            name, value = next(iter(graph["chosen"].items()))
            build = largest[kind]["build_s"]
            note = f" (extrapolated from {graph['rows_timed']:,} rows)" if graph.get("extrapolated") else ""
            out.append(
                f"| {kind.upper()} | {name} {value} | {graph['chosen']['recall@10']:.3f} | {build:.0f} |"
                f" {graph['search_all_s']:.0f}{note} | {build + graph['search_all_s']:.0f} |"
            )
    out.append("")
    return out


#: When account vectors began to be centred at each account's post count (stop 27,
#: authorid/encoders/size_centre.py): results of mixed-size corpora measured before differ a little.
SIZE_CENTRE_SINCE = "2026-12-04T20:20"


def _before_size_centre(section: dict) -> str:
    """A caveat for a section of mixed-size accounts measured before SIZE_CENTRE_SINCE (or undated)."""
    if _updated(section) >= SIZE_CENTRE_SINCE:
        return ""
    return (
        " Measured before accounts were centred at their post count (stop 27); its accounts differ in size, so"
        " its vectors (not its timings) would differ a little now."
    )


def _updated(section: dict) -> str:
    return str(section.get("updated") or "")


#: When the packaged `style` was trained again (stop 32): vectors made with it before differ.
STYLE_RETRAINED_SINCE = "2026-12-05T09:36"


def _million_sections_before(million: dict) -> str:
    """A caveat naming the sections measured before the current `style` (a section without a date of its own was
    written before sections were dated, so before it)."""
    old = [
        name
        for name, section in million.items()
        if isinstance(section, dict) and _updated(section) < STYLE_RETRAINED_SINCE
    ]
    if not old:
        return ""
    before = (
        "before accounts were centred at their post count (stop 27) and "
        if any(_updated(million[name]) < SIZE_CENTRE_SINCE for name in old)
        else ""
    )
    return (
        f" Sections {', '.join(f'`{name}`' for name in old)} were measured {before}before `style` was trained"
        " again (stop 32), on a compact model of the earlier `style`: their vectors (not their timings) would"
        " differ a little now."
    )


def million_section(million: dict) -> list[str]:
    """1,000,000 accounts with the compact model: width vs quality, index latency / recall, clustering
    (scripts/bench_million.py)."""
    if not million:
        return []
    out = [
        "## One million accounts (compact model)",
        "",
        f"Last run: `{million.get('command')}`, {million.get('updated')}; {million.get('machine')}. Every"
        " section records its own command, machine and load average at start and end in"
        " `benchmarks/results/million.json`; docs/scale.md explains the recipe and the choices."
        + _million_sections_before(million),
        "",
    ]
    compact = million.get("compact")
    if compact:
        load = compact["machine"].get("load_average_at_start", ["?"])[0]
        out += [
            "### Compact model: width against linking quality",
            "",
            f"{compact['protocol']}. Projection fitted on {compact['fit']['sample']}"
            f" ({compact['fit']['accounts']:,} accounts). Load average {load} at start.",
            "",
            "| model | dims | P stored as | linking MRR | R@1 | R@8 | verification AUC | variance kept |"
            " projection MB |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for key, row in compact["rows"].items():
            link, ver = row["metrics"]["linking"], row["metrics"].get("verification", {})
            size = row.get("projection_bytes")
            out.append(
                f"| {key} | {row['dim']:,} | {row['storage']} | {link['mrr']:.4f} | {link['r@1']:.3f} |"
                f" {link['r@8']:.3f} | {_fmt(ver.get('auc'))} | {_fmt(row.get('explained_variance'))} |"
                f" {'–' if size is None else f'{size / 2**20:.1f}'} |"
            )
        out += [
            "",
            f"Chosen width: {compact['chosen_dim']} ({compact.get('chosen_because', '')});"
            f" `authorid compress`'s default --dim is"
            f" {compact['workflow_default_dim']}. A compact model embeds as its base then projects: min cosine"
            f" {compact['embed_check_min_cosine']:.6f} between its own embedding and the projected `style`"
            " vectors.",
            "",
        ]
    vectors = million.get("vectors")
    if vectors:
        check = vectors["check"]
        out += [
            "### The 1,000,000 accounts",
            "",
            f"{vectors['recipe']} Embedded in {vectors['embed_seconds']:.0f} s"
            f" ({vectors['accounts_per_second']:,.0f} accounts/s; centre {vectors['centre_seconds']:.0f} s),"
            f" peak RSS {vectors['peak_rss_mb']:,.0f} MB; {vectors['vectors_mb']:,.0f} MB of float32 vectors"
            f" (style's full width would take {vectors['full_width_would_take_gb']} GB). Check against"
            f" `embed_accounts` on {check['accounts']} accounts ({check['real']} real, {check['pseudo']} pseudo):"
            f" min cosine {check['min_cosine']:.6f}.",
            "",
        ]
    for key, title in (
        ("index", "Linking one query: exact, IVF-Flat and HNSW"),
        ("index_wide", "Linking one query at 1M: the sweep widened to reach recall@10 0.99"),
        (
            "index_fp16",
            "Linking one query: IVF with float16 cells, one query split over the threads (the default)",
        ),
        ("index_ties", "Linking one query: IVF float16, recall with tied accounts counted as found"),
    ):
        if million.get(key):
            out += _index_part(million[key], title)
    runs = sorted(
        (v for k, v in million.items() if k == "cluster" or k.startswith("cluster_")), key=lambda c: c["n"]
    )
    if runs:
        out += ["### Clustering", ""]
    for cluster in runs:
        load = cluster["machine"].get("load_average_at_start", ["?"])[0]
        head = (
            f"`{cluster.get('command')}`: `cluster_accounts` on {cluster['n']:,} accounts, method"
            f" {cluster['method']}, k {cluster['k']}, cosine threshold {cluster['threshold']} (the compact model's"
            " equal-error cosine on the Reddit verification pairs; style's calibration does not apply to its"
            f" cosines), in a fresh process, load average {load} at start (targets at 1M: <= 600 s, <= 8,192 MB): "
        )
        if not cluster.get("finished", True):
            knn = cluster.get("knn_done_after_s")
            out += [
                head
                + f"**not finished after {cluster['stopped_after_s']:.0f} s** (stopped);"
                + (
                    f" the kNN graph was done after {knn:.0f} s."
                    if knn
                    else " the kNN graph was not done yet."
                ),
                "",
            ]
            continue
        t, stats = cluster["timing"], cluster["stats"]
        out += [
            head
            + f"{cluster['wall_s']:.0f} s (kNN {t.get('knn_s', 0):.0f} s, graph {t.get('graph_s', 0):.0f} s,"
            f" clustering {t.get('cluster_s', 0):.0f} s, report {t.get('report_s', 0):.0f} s), peak RSS"
            f" {cluster['peak_rss_mb']:,} MB; {stats['n_clusters']:,} clusters, {stats['n_multi_account']:,} of more"
            f" than one account, largest {stats['largest_cluster']:,}." + _graph_recall(cluster),
            "",
        ]
    return out


def _graph_recall(cluster: dict) -> str:
    recall = cluster.get("knn_graph_recall")
    if not recall:
        return ""
    return (
        f" Its kNN graph holds {recall['recall@10']:.3f} of the exact 10 nearest of {recall['rows']:,} seeded rows,"
        f" and {recall['recall_above_threshold']:.3f} of the {recall['edges_above_threshold']:,} exact edges at or"
        " above the threshold."
    )


def ray_section(ray: dict, dump: dict) -> list[str]:
    """--engine local against ray on the same input (scripts/bench_ray.py), and the whole Reddit dump end to end
    with the product's commands (scripts/bench_dump.py)."""
    out: list[str] = []
    if ray:
        seconds, ratio, equal = ray["seconds"], ray["ratio_ray_to_local"], ray["equal"]
        out += [
            "## Ray against the local engine",
            "",
            f"`{ray['command']}`, updated {ray.get('updated')}: the product's commands on {ray['posts']:,} Reddit"
            f" posts ({ray['accounts']:,} accounts, {ray['dim']:,} dims); {ray['machine']} at the end, load"
            f" {ray['machine_at_start'].get('load_average_at_start', ['?'])[0]} at start."
            + _before_size_centre(ray),
            "",
            "| step | local | ray | ray / local |",
            "|---|---|---|---|",
            f"| embed | {seconds['embed_local']:.1f} s | {seconds['embed_ray']:.1f} s | {ratio['embed']:.2f} |",
            f"| embed, 2 simulated Ray nodes | {seconds['embed_local']:.1f} s | {seconds['embed_ray_2_nodes']:.1f} s"
            f" | {ratio['embed_2_nodes']:.2f} |",
            f"| index build (IVF) | {seconds['index_ivf_local']:.1f} s | {seconds['index_ivf_ray']:.1f} s |"
            f" {ratio['index_ivf']:.2f} |",
            f"| cluster | {seconds['cluster_local']:.1f} s | {seconds['cluster_ray']:.1f} s | {ratio['cluster']:.2f} |",
            "",
            f"Outputs: vectors max difference {max(equal['vectors_max_abs_difference'].values())}, IVF links"
            f" identical {equal['ivf_links_identical_share']:.0%}, cluster assignments identical:"
            f" {equal['cluster_assignments_identical']}.",
            "",
        ]
    if dump:
        out += [
            "## The whole Reddit dump, end to end",
            "",
            "Each command of the sequence timed from start to exit with its peak resident memory (`/usr/bin/time`;"
            " with Ray the workers' memory is not in that figure). Target: <= 15 minutes on 2 cores."
            + _before_size_centre(
                min((dump[e] for e in ("local", "ray") if e in dump), key=_updated, default={})
            ),
            "",
        ]
        engines = [e for e in ("local", "ray") if e in dump]
        steps = list(dict.fromkeys(k for e in engines for k in dump[e]["steps"]))
        out += [
            "| step | " + " | ".join(engines) + " |",
            "|---|" + "---|" * len(engines),
        ]
        for name in steps:
            cells = []
            for engine in engines:
                step = dump[engine]["steps"].get(name)
                cells.append("–" if step is None else f"{step['seconds']:.1f} s, {step['peak_mb']:,} MB")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append(
            "| **total** | "
            + " | ".join(
                f"**{dump[e]['total_seconds']:.1f} s**, peak {dump[e]['peak_mb']:,} MB" for e in engines
            )
            + " |"
        )
        out.append("")
        for engine in engines:
            run = dump[engine]
            load = run["machine_at_start"].get("load_average_at_start", ["?"])[0]
            summary = run["steps"].get("cluster", {}).get("summary", {})
            stats, params = summary.get("stats", {}), summary.get("params", {})
            found = (
                f"; cluster (P >= {params.get('threshold')} at prior {params.get('prior') or 0:.2g}) found"
                f" {stats['n_multi_account']:,} groups of more than one account (largest {stats['largest_cluster']:,})"
                if "n_multi_account" in stats
                else ""
            )
            out.append(f"- {engine}: `{run['command']}`, load {load} at start, model {run['model']}{found}.")
        if len(engines) == 2:
            ratio = dump["ray"]["total_seconds"] / dump["local"]["total_seconds"]
            out.append(f"- ray / local wall time: **{ratio:.2f}x** (target <= 1.3x).")
        compared = dump.get("vectors_local_vs_ray")
        if compared:
            out.append(
                f"- The two engines' account vectors ({compared['accounts']:,} accounts, same order:"
                f" {compared['same_accounts_in_order']}): max absolute difference {compared['max_abs_difference']}."
            )
        out.append("")
    return out


def formats_section(formats: dict) -> list[str]:
    """One dump read in each format `authorid ingest` takes (scripts/bench_formats.py)."""
    if not formats:
        return []
    load = formats["machine_at_start"].get("load_average_at_start", ["?"])[0]
    out = [
        "## Reading a dump in each format",
        "",
        f"`python {formats['command']}`, updated {formats['updated']}; {formats['machine']} at the end, load {load}"
        " at start."
        " The Reddit dump written uncompressed as JSON lines, as one JSON array (as `json.dump` writes it: one"
        " line) and as CSV; `authorid ingest FILE` on each, timed from start to exit with its peak resident memory"
        " (`/usr/bin/time`). Ratios against JSON lines in the same run. Until stop 45 a JSON array was read whole"
        " before its first record was taken.",
        "",
        "| format | file | wall time | peak memory | posts | same posts as JSON lines |",
        "|---|---|---|---|---|---|",
    ]
    for fmt, step in formats["formats"].items():
        out.append(
            f"| {fmt} | {step['file_mb']:,} MB | {step['seconds']:.1f} s ({step['seconds_ratio']:.2f}x) |"
            f" {step['peak_mb']:,} MB ({step['peak_ratio']:.2f}x) | {step['posts']:,} | {step['same_posts_as_jsonl']} |"
        )
    return [*out, ""]


def newuser_section(newuser: dict) -> list[str]:
    """Issue 15's new-user checks with `authorid calibrate` and `authorid score` (scripts/bench_newuser.py)."""
    if not newuser:
        return []
    accounts, targets = newuser["accounts"], newuser["targets"]
    out = [
        "## A new user's same-person decisions",
        "",
        f"`{newuser['command']}`; {newuser['machine']}. Held-out Reddit benchmark accounts:"
        f" {accounts['different']} different users (all their pairs), {accounts['halves']} other users cut in two"
        f" halves by time (their same-user pairs), each model calibrated by `authorid calibrate` on"
        f" {accounts['calibration']} other accounts. Targets: at most {targets['different_share_same_max']:.0%} of the"
        f' different-user pairs called "same", at least {targets["halves_share_same_min"]:.0%} of the same-user'
        " pairs. `authorid score` reads the calibration's cohort-normalised fit for the halves (a pool of"
        f" {2 * accounts['halves']} accounts) and its cosine fit for the {accounts['different']} different users"
        " (a cohort needs 50): until stop 29, which added the cohort fit, the halves were called same 77 (minilm)"
        " and 119 (style) times of 200 at the calibration's prior, 26 and 61 at 1/(n-1).",
        "",
        "| model | calibration | prior | different users called same | same user's halves called same | meets |",
        "|---|---|---|---|---|---|",
    ]
    for model, row in newuser["models"].items():
        method = (row.get("calibration") or {}).get("method", "")
        for prior_name, label in (
            ("calibration_prior", "the calibration's own"),
            ("listing_prior", "1/(n-1)"),
        ):
            part = row[prior_name]
            d, h = part["different"], part["halves"]
            prior = label if d["prior"] is None else f"{label}: {d['prior']:.4f} / {h['prior']:.4f}"
            out.append(
                f"| {model} | {method} | {prior} | {d['same']} of {d['pairs']} ({d['share_same']:.1%}) | {h['same']} of"
                f" {h['pairs']} ({h['share_same']:.1%}) | {'yes' if part['meets_targets'] else 'no'} |"
            )
    return out + [""]


def cohort_section(cohort: dict) -> list[str]:
    """Cohort-normalised scores against cosines under one calibration (scripts/bench_cohort.py)."""
    if not cohort:
        return []
    cal, pool, rows = cohort["calibration"], cohort["pool"], cohort["rows"]
    out = [
        "## Cohort-normalised scores: verification and clustering in a pool",
        "",
        f"`{cohort['command']}`, updated {cohort['updated']}; {cohort['machine']}. Model `{cohort['model']}`. The"
        f" persons of the 1,000 Reddit benchmark test accounts in two seeded folds: `authorid calibrate`'s"
        f" fit (`fit_calibration`, {cal['method']}) on fold A's {cal['accounts']} pseudo-accounts"
        f" ({cal['pairs_from']}),"
        f" which holds a cosine fit and a cohort fit; the pool: fold B's {pool['pseudo_accounts']:,} halves (8"
        f" newest posts each) of {pool['persons']} persons, at the forum prior {pool['prior']:.3g}. *cohort*: each"
        " cosine less each side's excess closeness to its 10 nearest others in the pool over the pool's median"
        " (`authorid/verification/cohort.py`), what `authorid score` and `authorid cluster` read when the"
        " calibration has that fit and the pool holds at least 50 accounts. Since stop 39 the fit measures each"
        " density without the account's own person and the pool's leave out each account's nearest (at the"
        ' forum prior, all of it): docs/calibration.md, "Twin-free densities".'
        + (
            " *shipped*: the model's own calibration (fitted when it was trained), on the same pairs."
            if any(name.startswith("shipped") for name in rows["verification"])
            else ""
        ),
        "",
        "| scores | AUC | ECE | pairs given P >= 0.5 | their mean P | share one person | recall at precision 0.9 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in rows["verification"].items():
        out.append(
            f"| {name} | {r['auc']:.3f} | {r['ece']:.4f} | {r['given_p_0_5']} | {_fmt(r['their_mean_p'])} |"
            f" {_fmt(r['their_share_same'])} | {r['recall_at_precision_0_9']:.3f} |"
        )
    head = ["scores", "prior", "pairwise P", "pairwise R", "B³ P", "B³ R", "B³ F1", "largest"]
    out += [
        "",
        "Clustered by the product's clustering protocol (`authorid cluster`'s path, method `average`, P >= 0.5,"
        " k = 10), at the forum prior and at 3 and 10 times it:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for name, r in rows["clustering"].items():
        cells = [
            name.split("@")[0],
            f"{r['prior']:.3g}",
            *(_fmt(r.get(k)) for k in ("pairwise_precision", "pairwise_recall", "bcubed_precision")),
            *(_fmt(r.get(k)) for k in ("bcubed_recall", "bcubed_f1", "largest_cluster")),
        ]
        out.append("| " + " | ".join(cells) + " |")
    if rows.get("linking"):
        out += [
            "",
            "Linked as `authorid link` links (each person's older half against an exact index of the newer halves,"
            " candidates ranked with the hubness correction, the link the first-ranked candidate when it is called"
            ' "same"; until stop 45 the first called "same" at any rank), P at'
            " `link`'s default prior, one in the enrolled accounts, and at the calibration's own (`link`'s default"
            " until stop 29):",
            "",
            "| scores | prior | queries | linked | right | precision | recall | links' mean P |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, r in rows["linking"].items():
            scores, _, label = name.partition("@")
            out.append(
                f"| {scores} | {label}: {r['prior']:.3g} | {r['queries']} | {r['linked']} | {r['right']} |"
                f" {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['mean_p'])} |"
            )
    return [*out, ""]


def ece_section(ece: dict) -> list[str]:
    """Issue 15's ECE target against the noise floor of its 2,000 pairs (scripts/bench_ece.py)."""
    if not ece:
        return []
    floor, targets = ece["noise_floor"], ece["targets"]
    out = [
        "## How low can ECE go on the Reddit benchmark",
        "",
        f"`{ece['command']}`, updated {ece.get('updated')}; {ece.get('machine')}. Model `{ece['model']}` on the"
        f" Reddit benchmark's verification pairs ({ece['pairs']['same']:,} same-person, {ece['pairs']['different']:,}"
        " different-person; the quality table's pairs), scored by `authorid score` with each calibration."
        " *ECE if perfect*: the ECE a perfectly calibrated verifier shows on as many pairs with the same"
        " probabilities (`authorid.metrics.ece_noise_floor`: labels drawn from the probabilities themselves; mean"
        " and 95th percentile of 200 draws), which `authorid evaluate` now reports beside ECE. The `calibrate`"
        " rows read their calibration's cohort-normalised fit, since the scored vectors (the 2,000 halves) are a"
        " pool of 50 accounts or more; so does the shipped row since stop 30 gave the shipped calibration one (it"
        " scored AUC 0.958, ECE 0.060 before, read by a cosine fit made before stop 27's centring); the last two"
        " rows are the cosine's. Until stop 29 added the cohort fit, the `calibrate` rows scored AUC 0.955-0.960"
        " and ECE 0.0167 (platt), 0.0249 (isotonic), 0.0254 (platt-sizes) and 0.0244 (on training accounts).",
        "",
        "| calibration | AUC | ECE | ECE if perfect (mean / 95%) | mean P same / different |",
        "|---|---|---|---|---|",
    ]
    for name, row in ece["rows"].items():
        out.append(
            f"| {name}: {row['how']} | {row['auc']:.3f} | {row['ece']:.4f} |"
            f" {row['ece_floor']:.4f} / {row['ece_floor_high']:.4f} |"
            f" {row['mean_p_same']:.3f} / {row['mean_p_different']:.3f} |"
        )
    out += [
        "",
        f"The target (ECE <= {targets['ece_max']} at AUC >= {targets['auc_min']}) lies below the noise floor of"
        f" these pairs: a perfectly calibrated verifier with the in-sample probabilities scores ECE {floor['mean']:.4f}"
        f" on average (95% of draws below {floor['p95']:.4f}) and meets the target in"
        f" {ece['noise_floor_share_meeting_target']:.0%} of draws.",
        "",
    ]
    return out


def render(
    quality: dict,
    speed: dict,
    pretrained: dict | None = None,
    persons: dict | None = None,
    explain: dict | None = None,
    sizes: dict | None = None,
    million: dict | None = None,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by scripts/make_benchmarks_md.py from benchmarks/results/*.json; do not edit. -->",
        "",
        "Every figure here is re-run by the command above its table; the JSON under `benchmarks/results/`",
        "holds every number, the settings and the machine. Wall times are of the named machine and comparable",
        "only within one table.",
        "",
    ]
    if quality:
        lines += ["## Headline", "", *headline(quality, _load("attribution")), ""]
    lines += quality_section(quality)
    lines += attribution_section(_load("attribution"))
    lines += pretrained_section(pretrained or {})
    lines += link_cost_section(_load("link"))
    lines += train_pool_section(_load("train_pool"))
    lines += sizes_section(
        sizes or {},
        _load("sizes_together"),
        _load("sizes_minilm"),
        _load("sizes_minilm_together"),
        _load("sizes_every"),
        _load("sizes_large"),
    )
    lines += drift_section(
        {
            "minilm:raw": _load("sizes_minilm_raw"),
            "minilm": _load("sizes_minilm"),
            "style": sizes if sizes is not None else _load("sizes"),
            "style, one corpus": _load("sizes_together"),
            "minilm, one corpus": _load("sizes_minilm_together"),
        }
    )
    lines += persons_section(persons or {}, _load("persons_validation"), _load("persons_minilm"))
    lines += few_twins_section(_load("few_twins"))
    lines += cohort_section(_load("cohort"))
    lines += explain_section(explain or {})
    lines += speed_section(speed)
    lines += million_section(_load("million") if million is None else million)
    lines += ray_section(_load("ray"), _load("dump"))
    lines += formats_section(_load("formats"))
    lines += newuser_section(_load("newuser"))
    lines += ece_section(_load("ece"))
    return "\n".join(lines).rstrip() + "\n"


def readme_block(quality: dict) -> str:
    body = headline(quality, _load("attribution")) if quality else ["Not measured yet."]
    return "\n".join(
        [
            README_START,
            *body,
            "",
            "All tables, budgets and the machine: [BENCHMARKS.md](BENCHMARKS.md).",
            README_END,
        ]
    )


def _load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def with_readme_block(readme: str, block: str) -> str:
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < 0:
        raise SystemExit(f"{README}: the markers {README_START} / {README_END} are missing")
    return readme[:start] + block + readme[end + len(README_END) :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are out of date")
    args = parser.parse_args()
    quality, speed, pretrained = _load("quality"), _load("speed"), _load("pretrained")
    persons, explain, sizes = _load("persons"), _load("explain"), _load("sizes")
    if persons and _load(
        "persons_validation"
    ):  # the same clustering on the training run's validation persons
        persons = {**persons, "validation_run": _load("persons_validation")}
    million = _load("million")
    if not args.check:
        quality_plot(quality, PLOTS / "quality.png")
    markdown = render(quality, speed, pretrained, persons, explain, sizes, million)
    readme = with_readme_block(README.read_text(), readme_block(quality))
    if args.check:
        stale = [
            p.name
            for p, text in ((BENCHMARKS_MD, markdown), (README, readme))
            if not p.is_file() or p.read_text() != text
        ]
        if stale:
            sys.exit(f"out of date: {', '.join(stale)}; run scripts/make_benchmarks_md.py")
        return
    from authorid.io import atomic_write_text

    atomic_write_text(BENCHMARKS_MD, markdown)
    atomic_write_text(README, readme)
    print(f"BENCHMARKS.md: {BENCHMARKS_MD}\nREADME headline: {README}\nplot: {PLOTS / 'quality.png'}")


if __name__ == "__main__":
    main()
