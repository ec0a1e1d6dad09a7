"""Reading one forum dump in each format `authorid ingest` takes: wall time, peak memory, the same posts.

    .venv/bin/python scripts/bench_formats.py [--limit N]

The Reddit dump (reddit_college) is written as the formats users have it (JSON lines, one JSON array as
`json.dump` writes it, CSV), uncompressed, and each is read with

    authorid ingest FILE -o WORK/FORMAT.parquet

timed from start to exit with its peak resident memory (`/usr/bin/time -f %M`). The JSON lines file is the
baseline (read a line at a time); the ratios are measured in the same run. The posts each format gives are
compared with the baseline's (ids, accounts and texts, in order).

Results: benchmarks/results/formats.json.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.commands import run_authorid  # noqa: E402
from benchlib.machine import machine, short_description  # noqa: E402
from benchlib.settings import corpus_file  # noqa: E402

from authorid.io import atomic_write_text  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "formats.json"
FORMATS = ("jsonl", "json", "csv")
#: The dump's fields, the CSV's columns (a field a record lacks is an empty cell).
FIELDS = ("id", "author", "text", "timestamp", "thread", "parent", "source", "title")


def raw_records(limit: int | None):
    """The Reddit dump's records as its file holds them."""
    with gzip.open(corpus_file("reddit_college"), "rt", encoding="utf-8") as f:
        for number, line in enumerate(f):
            if limit is not None and number >= limit:
                return
            yield json.loads(line)


def write_formats(work: Path, limit: int | None) -> dict[str, Path]:
    """The dump written once in each format, named by how many records it holds (kept for the next run: a
    file is renamed into place only once all three are written whole)."""
    paths = {fmt: work / f"reddit-{limit or 'all'}.{fmt}" for fmt in FORMATS}
    if all(p.is_file() for p in paths.values()):
        return paths
    partial = {fmt: path.with_name(path.name + ".partial") for fmt, path in paths.items()}
    with (
        partial["jsonl"].open("w", encoding="utf-8") as lines,
        partial["json"].open("w", encoding="utf-8") as array,
        partial["csv"].open("w", encoding="utf-8", newline="") as table,
    ):
        writer = csv.DictWriter(table, fieldnames=FIELDS)
        writer.writeheader()
        array.write("[")
        for number, record in enumerate(raw_records(limit)):
            text = json.dumps(record, ensure_ascii=False)
            lines.write(text + "\n")
            array.write(("," if number else "") + text)
            writer.writerow({k: "" if record.get(k) is None else record[k] for k in FIELDS})
        array.write("]")
    for fmt, path in paths.items():
        partial[fmt].replace(path)
    return paths


def same_posts(a: Path, b: Path) -> bool:
    """Whether two ingested files hold the same posts (ids, accounts, texts) in the same order."""
    import pyarrow.parquet as pq

    columns = ["post_id", "account_id", "text"]
    return pq.read_table(a, columns=columns).equals(pq.read_table(b, columns=columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N records (a quick check)")
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "formats")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    paths = write_formats(args.work, args.limit)
    stamp = machine()
    steps = {}
    for fmt, path in paths.items():
        out = args.work / f"{fmt}.parquet"
        run = run_authorid("ingest", str(path), "-o", str(out), "--overwrite", "--json", peak=True)
        steps[fmt] = {
            "file_mb": round(path.stat().st_size / 2**20),
            "seconds": round(run.seconds, 1),
            "peak_mb": run.peak_mb,
            "posts": run.summary()["posts_out"],
            "same_posts_as_jsonl": same_posts(out, args.work / "jsonl.parquet"),
        }
    base = steps["jsonl"]
    for step in steps.values():
        step["seconds_ratio"] = round(step["seconds"] / base["seconds"], 2)
        step["peak_ratio"] = round(step["peak_mb"] / base["peak_mb"], 2)
    result = {
        "machine_at_start": stamp,
        "machine": short_description(),
        "command": "scripts/bench_formats.py" + (f" --limit {args.limit}" if args.limit else ""),
        "records": args.limit,
        "formats": steps,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    for fmt, step in steps.items():
        print(
            f"{fmt:6} {step['seconds']:7.1f} s ({step['seconds_ratio']}x)  {step['peak_mb']:6,} MB "
            f"({step['peak_ratio']}x)  same posts: {step['same_posts_as_jsonl']}"
        )
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
