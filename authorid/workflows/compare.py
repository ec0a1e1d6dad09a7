"""`compare`: the metrics of several evaluation runs side by side, and whether they ran on the same queries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from authorid.artefacts import METRICS_FILE, verify_manifest
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
            for key, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    flat[f"{name} {task} {key}"] = value
    return flat


def comparison_table(paths: list[str | Path]) -> Table:
    """A rich table: one row per metric, one column per run; a last row says if the queries were identical."""
    if len(paths) < 1:
        raise ProtocolError("give at least one evaluation run folder to compare")
    runs = [load_run(p) for p in paths]
    table = Table(title="authorid evaluation runs", show_lines=False)
    table.add_column("metric")
    for path, run in zip(paths, runs, strict=True):
        table.add_column(f"{Path(path).name}\n{run.get('model', {}).get('name', '?')}", justify="right")
    flats = [_flat_metrics(run) for run in runs]
    keys = list(dict.fromkeys(key for flat in flats for key in flat))
    for key in keys:
        cells = []
        for flat in flats:
            value = flat.get(key)
            cells.append("-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
        table.add_row(key, *cells)
    protocols = dict.fromkeys(name for run in runs for name in run.get("protocols", {}))
    for name in protocols:
        hashes = [run.get("protocols", {}).get(name, {}).get("queries_sha256") for run in runs]
        same = len({h for h in hashes if h}) == 1 and all(hashes)
        table.add_row(f"{name} same queries", *(["yes" if same else "NO"] * len(runs)))
    return table
