"""Small real samples of the shared corpora for tests; each helper skips the test when ../shared is absent.

Import as `from samples import raw_records` (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPORA = REPO.parent / "shared" / "corpora"
CORPUS_FILES = {
    "reddit": SHARED_CORPORA / "reddit_college" / "reddit_college.jsonl.gz",
    "reuters": SHARED_CORPORA / "reuters_c50" / "reuters_c50.jsonl.gz",
    "blog": SHARED_CORPORA / "blog50" / "blog50.jsonl.gz",
    "enron": SHARED_CORPORA / "enron_pan11" / "enron_pan11.jsonl.gz",
}


def corpus_path(name: str) -> Path:
    path = CORPUS_FILES[name]
    if not path.exists():
        pytest.skip(f"shared corpus {path} is absent")
    return path


def raw_records(name: str, limit: int | None = None) -> list[dict]:
    """The first `limit` raw records of a shared corpus, as written in its file (skips when absent)."""
    out = []
    with gzip.open(corpus_path(name), "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if limit is not None and len(out) >= limit:
                break
    return out


def canonical_sample(name: str, limit: int) -> list[dict]:
    """Raw records mapped onto canonical columns by hand (independent of authorid's readers)."""
    rows = []
    for r in raw_records(name, limit):
        row = {"post_id": r["id"], "account_id": r["author"], "text": r["text"]}
        if name == "reddit":
            row["created_at"] = datetime.fromisoformat(r["timestamp"])
            row["thread_id"] = r["thread"]
            row["parent_id"] = r["parent"]
            row["forum"] = r["source"]
        if "split" in r:
            row["split"] = r["split"]
        rows.append(row)
    return rows
