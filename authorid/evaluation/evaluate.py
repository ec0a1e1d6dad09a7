"""`evaluate(model, posts, protocol=...)`: run the standard protocols, write metrics.json and report.html.

metrics.json holds, per protocol, its metrics, every setting (defaults included), pool sizes, timing and the
sha256 of exactly what was evaluated (`queries_sha256`: equal for two runs iff they ran on the same queries);
plus the model's identity, the corpus fingerprint (`authorid.data.splits.fingerprint`) and library versions.
The full manifests (post ids per pseudo-account, pairs, splits) go to ``manifests/<protocol>.json``.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from authorid.evaluation.protocols import PROTOCOLS, ProtocolError, ProtocolResult

if TYPE_CHECKING:
    import datasets
    from rich.table import Table

logger = logging.getLogger(__name__)

METRICS_FILE, REPORT_FILE, MANIFEST_DIR = "metrics.json", "report.html", "manifests"
#: A stylometric MODEL is fitted (vocabulary and idf, no labels) on at most this many posts of the corpus.
STYLOMETRIC_FIT_POSTS = 50_000
_VERSIONED = (
    "authorid",
    "numpy",
    "torch",
    "transformers",
    "sentence-transformers",
    "scikit-learn",
    "datasets",
    "pyarrow",
    "faiss-cpu",
    "matplotlib",
)
#: Settings each protocol accepts besides accounts, seed and progress.
_ACCEPTS = {
    "sybil": {"min_posts", "by", "max_posts", "episode_posts", "ks"},
    "verification": {"min_posts", "by", "max_posts", "hard_negatives"},
    "clustering": {"min_posts", "by", "max_posts", "method", "k", "threshold"},
    "attribution": {"min_posts", "unknown_fraction", "ks"},
}


def protocol_names(protocol: str | list[str]) -> list[str]:
    """`"all"`, one name, a comma-separated list or a list -> validated protocol names."""
    names = protocol.split(",") if isinstance(protocol, str) else list(protocol)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return list(PROTOCOLS)
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown or not names:
        raise ProtocolError(
            f"unknown protocol {', '.join(unknown) or repr(protocol)}; valid: {', '.join(PROTOCOLS)}, all"
        )
    return names


def _load(model: Any, posts: datasets.Dataset, seed: int) -> tuple[Any, dict]:
    """A StyleModel from a StyleModel or a MODEL spec; a stylometric spec is fitted on (a sample of) posts."""
    from authorid.model import load_model

    if not isinstance(model, str | Path):
        return model, {}
    if str(model).startswith("stylometric"):
        fit = posts
        if len(posts) > STYLOMETRIC_FIT_POSTS:
            rows = np.sort(
                np.random.default_rng(seed).choice(len(posts), STYLOMETRIC_FIT_POSTS, replace=False)
            )
            fit = posts.select(rows)
        return load_model(model, fit_corpus=fit), {
            "fitted_on": f"{len(fit):,} posts of the corpus (no labels)"
        }
    return load_model(model), {}


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def evaluate(
    model: Any,
    posts: datasets.Dataset,
    *,
    protocol: str | list[str] = "sybil",
    accounts: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    corpus: str | None = None,
    progress: bool = False,
    **settings: Any,
) -> dict:
    """Run `protocol` ("sybil", "verification", "clustering", "attribution", a list, or "all") for `model`
    (a StyleModel or a MODEL spec for `authorid.model.load_model`) on `posts`; returns the metrics.json content.

    `settings` go to the protocols that accept them (min_posts, by, max_posts, episode_posts, hard_negatives,
    method, k, threshold, unknown_fraction, ks); one no protocol accepts raises ProtocolError. With `out`,
    writes OUT/metrics.json, OUT/report.html and OUT/manifests/<protocol>.json.
    """
    from authorid.data.splits import fingerprint

    names = protocol_names(protocol)
    settings = {k: v for k, v in settings.items() if v is not None}
    unknown = sorted(set(settings) - set().union(*(_ACCEPTS[n] for n in names)))
    if unknown:
        raise ProtocolError(f"unknown setting(s) {', '.join(unknown)} for protocol(s) {', '.join(names)}")
    started = time.perf_counter()
    style_model, fitted = _load(model, posts, seed)
    loaded = time.perf_counter()
    results: dict[str, ProtocolResult] = {}
    cache: dict = {}  # post vectors shared by protocols that evaluate the same (pseudo-)accounts
    for name in names:
        kwargs = {k: v for k, v in settings.items() if k in _ACCEPTS[name] and v is not None}
        if name != "attribution":
            kwargs["cache"] = cache
        logger.info("running the %s protocol", name)
        results[name] = PROTOCOLS[name](
            style_model, posts, accounts=accounts, seed=seed, progress=progress, **kwargs
        )
    account_count = len(
        set(posts.select_columns(["account_id"]).with_format("arrow")[:].column(0).to_pylist())
    )
    run = {
        "authorid_version": _versions().get("authorid"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": int(seed),
        "model": style_model.identity() | fitted,
        "data": {
            "corpus": corpus,
            "fingerprint": fingerprint(posts),
            "posts": len(posts),
            "accounts": account_count,
        },
        "protocols": {
            name: {
                "metrics": result.metrics,
                "settings": result.settings,
                "timing_s": result.timing_s,
                "queries_sha256": result.queries_sha256(),
            }
            for name, result in results.items()
        },
        "timing_s": {"load_model": loaded - started, "total": time.perf_counter() - started},
        "versions": _versions(),
    }
    if out is not None:
        run["outputs"] = write_run(out, run, results)
    return run


def write_run(out: str | Path, run: dict, results: dict[str, ProtocolResult]) -> dict[str, str]:
    """Write metrics.json, report.html and the manifests into folder `out`; returns the paths written."""
    from authorid.evaluation.report import figures_for, render_report
    from authorid.io import atomic_write_text

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ProtocolError(f"output {folder} exists and is not a folder")
    (folder / MANIFEST_DIR).mkdir(parents=True, exist_ok=True)
    paths = {"metrics": str(folder / METRICS_FILE), "report": str(folder / REPORT_FILE)}
    for name, result in results.items():
        path = folder / MANIFEST_DIR / f"{name}.json"
        atomic_write_text(path, json.dumps(result.manifest, ensure_ascii=False, default=_jsonable))
        paths[f"manifest_{name}"] = str(path)
    run = run | {"outputs": paths}
    atomic_write_text(folder / METRICS_FILE, json.dumps(run, indent=2, ensure_ascii=False, default=_jsonable))
    figures = {name: figures_for(result) for name, result in results.items()}
    atomic_write_text(folder / REPORT_FILE, render_report(run, figures))
    return paths


def load_run(path: str | Path) -> dict:
    """A run's metrics.json, from the file or its folder; ProtocolError when it is not there."""
    path = Path(path)
    file = path / METRICS_FILE if path.is_dir() else path
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ProtocolError(f"cannot read evaluation run {file}: {err}") from err


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
    from rich.table import Table

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
