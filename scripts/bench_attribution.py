"""Attribution through `authorid attribute`, beside the PAN18 baseline, on the splits users meet.

    .venv/bin/python scripts/bench_attribution.py [--settings c50,blog10,blog50,blog10-all,blog50-all] [--rows ...]

Settings: Reuters C50 (the official 2,500 / 2,500 split); Blog10 and Blog50 as the quality table cuts them (the
seeded 80/10/10 split capped at 250 / 100 training posts per blogger, so that MiniLM fine-tunes fit a CPU hour);
and Blog10 / Blog50 with every post of each blogger in the same seeded split (`-all`: the setting of BertAA and
Contra-X, which the issue's targets come from). Each split's known and test posts are written as Parquet under
--work, and every authorid row is the product's own command on them, e.g.

    authorid attribute style --known WORK/blog10-all/known.parquet WORK/blog10-all/texts.parquet --method svm

(its `--json` summary gives the accuracy). Rows: the PAN18 char 3-gram LinearSVC baseline (scripts/benchlib/
peers.py), then `style` and `stylometric` with `--method svm` (a LinearSVC on the model's sparse n-gram profile)
and `style` with `--method centroid`. Results: benchmarks/results/attribution.json, each row saved as it finishes
(a second run skips the rows it has unless --force).

Open set (`open:` rows): a seeded fifth of the authors is left out of KNOWN (`known_open.parquet`), so that their
texts have no author among the known, and the command runs with `--threshold 0.5`. From its predictions: the
AUROC of telling the texts by known authors from the others by their best author's probability, and at each
threshold the share of known authors' texts given their author and of the others' texts left unknown.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchlib.commands import run_authorid  # noqa: E402
from benchlib.machine import short_description  # noqa: E402
from benchlib.results import load_results, save_stamped  # noqa: E402
from benchlib.settings import PROFILES, blog, load_setting  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "attribution.json"
SETTINGS = {
    # name -> (how the split is cut, what the table says of it)
    "c50": ("c50", "Reuters C50, the official train/test split"),
    "blog10": ("cpu", "Blog10, capped as in the quality table (250 training posts per blogger)"),
    "blog50": ("cpu", "Blog50, capped as in the quality table (100 training posts per blogger)"),
    "blog10-all": ("full", "Blog10, every post (seeded 80/10/10 per blogger; the test part is scored)"),
    "blog50-all": ("full", "Blog50, every post (seeded 80/10/10 per blogger; the test part is scored)"),
}
#: row -> (MODEL, --method) of `authorid attribute`, or None for the peer
ROWS = {
    "char-ngram": None,
    "style:svm": ("style", "svm"),
    "stylometric:svm": ("stylometric", "svm"),
    "style:centroid": ("style", "centroid"),
    "open:style:svm": ("style", "svm"),
    "open:style:centroid": ("style", "centroid"),
}
#: The share of a setting's authors left out of KNOWN for the open-set rows, and the thresholds read off.
OPEN_FRACTION = 0.2
OPEN_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
logger = logging.getLogger("bench_attribution")


def split_of(name: str, cache: Path):
    """(known, test) posts of a setting."""
    how = SETTINGS[name][0]
    if how == "c50":
        data = load_setting("c50", PROFILES["cpu"], cache)
    else:
        data = blog(PROFILES[how], cache, int(name.split("-")[0].removeprefix("blog")))
    return data.train, data.test


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth))))


def peer_row(known, texts) -> dict:
    from benchlib.peers import CharNgramAttribution

    started = time.perf_counter()
    truth = list(texts["account_id"])
    predicted = (
        CharNgramAttribution(seed=0)
        .fit(list(known["text"]), list(known["account_id"]))
        .predict(list(texts["text"]))
    )
    right = sum(p == t for p, t in zip(predicted, truth, strict=True))
    return {
        "accuracy": right / len(truth),
        "macro_f1": macro_f1(truth, predicted),
        "texts": len(truth),
        "seconds": round(time.perf_counter() - started, 1),
    }


def command_row(model: str, method: str, folder: Path) -> dict:
    out = folder / f"{model}-{method}.csv"
    args = [
        "attribute",
        model,
        "--known",
        str(folder / "known.parquet"),
        str(folder / "texts.parquet"),
        "-o",
        str(out),
        "--method",
        method,
        "--overwrite",
    ]
    run = run_authorid(*args, "--json", peak=True)
    summary = run.summary()
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    truth, predicted = [r["true_author"] for r in rows], [r["predicted_author"] for r in rows]
    return {
        "accuracy": summary["accuracy"],
        "macro_f1": macro_f1(truth, predicted),
        "texts": summary["texts"],
        "seconds": round(run.seconds, 1),
        "peak_mb": run.peak_mb,
        "features": summary["params"].get("features"),
        "command": "authorid " + " ".join(args).replace(str(REPO) + "/", ""),
    }


def open_known(known, folder: Path, seed: int = 0) -> list[str]:
    """Write KNOWN less a seeded OPEN_FRACTION of its authors as known_open.parquet; the authors left out."""
    import numpy as np

    authors = sorted(set(known["account_id"]))
    rng = np.random.default_rng(seed)
    out = sorted(np.asarray(authors)[rng.permutation(len(authors))[: round(OPEN_FRACTION * len(authors))]])
    left = set(out)
    known.filter(lambda row: row["account_id"] not in left).to_parquet(str(folder / "known_open.parquet"))
    return [str(a) for a in out]


def open_row(model: str, method: str, folder: Path, unknown: list[str]) -> dict:
    """`authorid attribute ... --threshold 0.5` with the authors `unknown` left out of KNOWN; see the docstring."""
    from authorid.metrics.attribution import open_set_auroc

    out = folder / f"open-{model}-{method}.csv"
    args = ["attribute", model, "--known", str(folder / "known_open.parquet"), str(folder / "texts.parquet")]
    args += ["-o", str(out), "--method", method, "--threshold", "0.5", "--overwrite"]
    run = run_authorid(*args, "--json", peak=True)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    left = set(unknown)
    known_rows = [r for r in rows if r["true_author"] not in left]
    other_rows = [r for r in rows if r["true_author"] in left]
    best = lambda rs: [float(r["probability_1"]) for r in rs]  # noqa: E731
    at = {}
    for threshold in OPEN_THRESHOLDS:
        found = sum(
            r["author_1"] == r["true_author"] and float(r["probability_1"]) >= threshold for r in known_rows
        )
        rejected = sum(float(r["probability_1"]) < threshold for r in other_rows)
        at[str(threshold)] = {
            "known_right": found / len(known_rows),
            "unknown_rejected": rejected / len(other_rows),
            "all_right": (found + rejected) / len(rows),
        }
    said = run.summary()
    unknown_said = sum(r["predicted_author"] == "unknown" for r in rows)
    if unknown_said != said["unknown"]:
        sys.exit(f"{out}: {unknown_said} rows say unknown, the summary {said['unknown']}")
    return {
        "auroc": open_set_auroc(best(known_rows), best(other_rows)),
        "at": at,
        "texts": len(rows),
        "texts_by_unknown": len(other_rows),
        "unknown_authors": len(unknown),
        "known_authors": said["authors"],
        "seconds": round(run.seconds, 1),
        "peak_mb": run.peak_mb,
        "command": "authorid " + " ".join(args).replace(str(REPO) + "/", ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "bench_attribution")
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="recompute rows already in --out")
    args = parser.parse_args()
    settings, rows = args.settings.split(","), args.rows.split(",")
    if set(settings) - set(SETTINGS) or set(rows) - set(ROWS):
        parser.error(f"settings: {', '.join(SETTINGS)}; rows: {', '.join(ROWS)}")
    logging.basicConfig(level=logging.WARNING)
    import datasets

    datasets.disable_progress_bars()
    results = load_results(args.out) or {"settings": {}}
    command = "python scripts/bench_attribution.py " + " ".join(sys.argv[1:])
    for name in settings:
        folder = args.work / name
        folder.mkdir(parents=True, exist_ok=True)
        known, texts = split_of(name, args.cache)
        known.to_parquet(str(folder / "known.parquet"))
        texts.to_parquet(str(folder / "texts.parquet"))
        setting = results["settings"].setdefault(name, {"rows": {}})
        setting.update(
            description=SETTINGS[name][1],
            known_posts=known.num_rows,
            test_posts=texts.num_rows,
            authors=len(set(known["account_id"])),
        )
        unknown = open_known(known, folder) if any(r.startswith("open:") for r in rows) else None
        for row in rows:
            if row in setting["rows"] and not args.force:
                continue
            spec = ROWS[row]
            if spec is None:
                result = peer_row(known, texts)
            elif row.startswith("open:"):
                result = open_row(*spec, folder, unknown)
            else:
                result = command_row(*spec, folder)
            result |= {
                "machine": short_description(),
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            setting["rows"][row] = result
            figure = (
                f"AUROC {result['auroc']:.3f}" if "auroc" in result else f"accuracy {result['accuracy']:.3f}"
            )
            print(f"{name:11} {row:20} {figure}  {result['seconds']:7.1f} s", flush=True)
            save_stamped(args.out, results, command=command)


if __name__ == "__main__":
    main()
