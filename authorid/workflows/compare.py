"""`compare`: the metrics of several evaluation runs side by side, and whether they ran on the same queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from authorid.artefacts import METRICS_FILE, verify_manifest
from authorid.data.report import cleaning_said
from authorid.errors import ProtocolError


def load_run(path: str | Path) -> dict:
    """A run's metrics.json, from the file or its folder; ProtocolError when it is not there."""
    path = Path(path)
    if path.is_dir():
        verify_manifest(path, "evaluation")  # every file as written (an unfinished run has no manifest)
    file = path / METRICS_FILE if path.is_dir() else path
    if not file.is_file():
        raise ProtocolError(
            f"{file}: no such file (give an `authorid evaluate` output folder or its metrics.json)"
        )
    try:
        run = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: not JSON, or not UTF-8
        raise ProtocolError(
            f"{file}: not the metrics.json of an evaluation run (not JSON; `authorid evaluate` writes one)"
        ) from None
    if not isinstance(run, dict) or not isinstance(run.get("protocols"), dict):
        raise ProtocolError(
            f"{file}: not the metrics.json of an evaluation run (`authorid evaluate` writes one)"
        )
    return run


def _flat_metrics(run: dict) -> dict[str, Any]:
    flat = {}
    for name, entry in run.get("protocols", {}).items():
        for task, values in entry["metrics"].items():
            if task == "per_author":
                continue
            label = name if task == name else f"{name} {task}"  # "verification auc", not twice
            for key, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    flat[f"{label} {key}"] = value
    return flat


#: What `evaluate` records that decides which queries a protocol scores (besides the corpus itself).
_QUERY_SETTINGS = (
    "accounts",
    "accounts_requested",
    "min_posts",
    "seed",
    "cut_by",
    "max_posts_per_account",
    "cap",
)


def _why_queries_differ(name: str, runs: list[dict], labels: list[str]) -> str:
    """Why runs scored different queries for protocol `name`: a run without it, another corpus, training
    accounts left out, or the settings that differ (each with its values per run)."""
    missing = [label for label, run in zip(labels, runs, strict=True) if name not in run.get("protocols", {})]
    if missing:
        return f"{name}: not run by {', '.join(missing)}"
    reasons = []
    names = [str(run.get("data", {}).get("corpus") or "?") for run in runs]
    excluded = [run.get("data", {}).get("excluded_training_accounts", 0) for run in runs]
    read = [run.get("data", {}).get("corpus_fingerprint") for run in runs]  # before leaving accounts out
    if all(read):
        other_posts = len(set(read)) > 1
    else:  # runs before stop 45 fingerprinted only the posts they evaluated, after leaving accounts out
        evaluated = {run.get("data", {}).get("fingerprint") for run in runs}
        other_posts = len(set(names)) > 1 or (len(set(excluded)) == 1 and len(evaluated) > 1)
    if other_posts:  # said first: nothing else makes the queries the same (audit 12: it went unsaid)
        # named when the names tell them apart (one file under two spellings is one corpus, by fingerprint)
        reasons.append(f"another corpus: {' / '.join(names)}" if len(set(names)) > 1 else "another corpus")
    elif len(set(excluded)) > 1:  # the posts evaluated then differ too
        reasons.append(
            f"training accounts left out {' / '.join(map(str, excluded))} (each model leaves out its own)"
        )
    cleaned = [cleaning_said(run.get("data", {}).get("cleaning")) for run in runs]
    if len(set(cleaned)) > 1:  # raw and cleaned posts of one corpus are different text
        reasons.append(f"cleaning: {' / '.join(cleaned)}")
    settings = [run["protocols"][name].get("settings", {}) for run in runs]
    for key in _QUERY_SETTINGS:
        values = [setting.get(key) for setting in settings]
        if len({repr(v) for v in values}) > 1:
            reasons.append(f"{key} {' / '.join(map(str, values))}")
    return f"{name}: {', '.join(reasons) or 'other accounts or posts'}"


def comparison(paths: list[str | Path]) -> dict[str, Any]:
    """The runs' metrics side by side, as data: {"runs": [{"run", "model", "metrics"}], "same_queries":
    {protocol: bool}, "why_queries_differ": {protocol: reason}} (a protocol whose runs scored different
    queries, or one that some runs lack, is False: their figures are not comparable; empty for one run)."""
    if len(paths) < 1:
        raise ProtocolError("give at least one evaluation run folder to compare")
    runs = [load_run(p) for p in paths]
    protocols = dict.fromkeys(name for run in runs for name in run.get("protocols", {}))
    same, why, as_first = {}, {}, {}
    labels = [Path(path).name for path in paths]
    for name in protocols:
        hashes = [run.get("protocols", {}).get(name, {}).get("queries_sha256") for run in runs]
        same[name] = len({h for h in hashes if h}) == 1 and all(hashes)
        # per run, whether it scored the queries of the first run that ran the protocol (None: it did not run
        # it); three runs of which two agree were all "NO" (audit 12)
        first = next((h for h in hashes if h), None)
        as_first[name] = [None if not h else h == first for h in hashes]
        if not same[name]:
            why[name] = _why_queries_differ(name, runs, labels)
    return {
        "runs": [
            {"run": str(path), "model": run.get("model", {}).get("name", "?"), "metrics": _flat_metrics(run)}
            for path, run in zip(paths, runs, strict=True)
        ],
        "same_queries": same if len(runs) > 1 else {},  # one run has nothing to be the same as
        "same_queries_as_first": as_first if len(runs) > 1 else {},
        "why_queries_differ": why if len(runs) > 1 else {},
    }


def comparison_table(paths: list[str | Path]) -> Table:
    """A rich table of the runs: one row per metric, one column per run; a last row per protocol says if the
    queries were identical."""
    return table_of(comparison(paths))


def table_of(compared: dict[str, Any]) -> Table:
    """`comparison_table` of what `comparison` returned."""
    table = Table(title="authorid evaluation runs", show_lines=False)
    table.add_column("metric")
    runs = compared["runs"]
    for run in runs:
        table.add_column(f"{Path(run['run']).name}\n{run['model']}", justify="right")
    keys = list(dict.fromkeys(key for run in runs for key in run["metrics"]))
    for key in keys:
        cells = []
        for run in runs:
            value = run["metrics"].get(key)
            cells.append("-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
        table.add_row(key, *cells)
    for name, per_run in compared.get("same_queries_as_first", {}).items():
        first = next(
            (Path(r["run"]).name for r, same in zip(runs, per_run, strict=True) if same is not None), ""
        )
        cells = ["-" if same is None else "yes" if same else "NO" for same in per_run]
        table.add_row(f"{name} same queries as {first}", *cells)
    return table
