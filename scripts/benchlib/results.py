"""The benchmark results file: one JSON, merged row by row and written atomically, so a long run that is
interrupted keeps every finished row and the next run goes on from there.

Layout (`quality.json`)::

    {"profile": {...}, "created": ..., "updated": ..., "commands": [...],
     "settings": {NAME: {"kind", "description", "counts", "rows_order", "rows": {ROW: {"metrics", "budget",
                                                                                      ...}}}}}

Rows of a different profile are never mixed: saving a setting under another profile starts that setting anew.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from authorid.io import atomic_write_text


def load_results(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SystemExit(f"{path}: not valid JSON ({err}); move it away to start a new results file") from err


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the results file across processes (settings may run side by side)."""
    lock = Path(path).with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(path: Path, results: dict[str, Any]) -> None:
    results["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(path), json.dumps(results, indent=1, sort_keys=False) + "\n")


def save_setting(path: Path, name: str, info: dict[str, Any], *, profile: dict, command: str) -> None:
    """Record a setting's description and counts (keeping its finished rows when the profile is the same)."""
    with _locked(path):
        _save_setting(path, name, info, profile=profile, command=command)


def _save_setting(path: Path, name: str, info: dict[str, Any], *, profile: dict, command: str) -> None:
    results = load_results(path)
    results.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    settings = results.setdefault("settings", {})
    previous = settings.get(name, {})
    same_profile = results.get("profile", {}).get("name") == profile["name"]
    if not same_profile and settings:
        # Another profile's rows cannot share a table with these: start over.
        settings.clear()
        results["commands"] = []
        previous = {}
    results["profile"] = profile
    rows = previous.get("rows", {}) if previous.get("counts") == info.get("counts") else {}
    settings[name] = {**info, "rows": rows}
    commands = results.setdefault("commands", [])
    if command not in commands:
        commands.append(command)
    _write(path, results)


def save_row(path: Path, setting: str, row: str, result: dict[str, Any]) -> None:
    with _locked(path):
        results = load_results(path)
        results["settings"][setting]["rows"][row] = result
        _write(path, results)


def save_stamped(path: Path, result: dict[str, Any], *, command: str) -> Path:
    """Write a single-run results file (bench_explain, bench_persons, bench_sizes, bench_pretrained) with the
    machine, the time and the command that made it, atomically; returns the path."""
    from benchlib.machine import short_description

    _write(path, {**result, "machine": short_description(), "command": command})
    return Path(path)
