"""Draw the bundled demo corpus (corpora/enron_demo/) from the shared PAN 2011 Enron corpus.

Seeded and repeatable: the same shared file and seed give the same bytes. The sample keeps authors with enough
e-mails of a readable length, so that each account can be cut into two pseudo-accounts for linking.

    python scripts/make_demo_corpus.py            # writes corpora/enron_demo/enron_demo.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "corpora" / "enron_pan11" / "enron_pan11.jsonl.gz"
TARGET = REPO / "corpora" / "enron_demo" / "enron_demo.jsonl.gz"
MAX_BYTES = 1_000_000  # the shared corpora's terms allow at most 1 MB of Enron in the project


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--authors", type=int, default=40)
    parser.add_argument("--per-author", type=int, default=24)
    parser.add_argument("--min-chars", type=int, default=40)
    parser.add_argument("--max-chars", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    by_author: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(args.source, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if args.min_chars <= len(record["text"]) <= args.max_chars:
                by_author[record["author"]].append(record)
    rng = random.Random(args.seed)
    eligible = sorted(a for a, texts in by_author.items() if len(texts) >= args.per_author)
    if len(eligible) < args.authors:
        raise SystemExit(f"only {len(eligible)} authors have {args.per_author} e-mails; lower --authors")
    chosen = sorted(rng.sample(eligible, args.authors))
    records = []
    for author in chosen:
        texts = sorted(by_author[author], key=lambda r: r["id"])
        records += sorted(rng.sample(texts, args.per_author), key=lambda r: r["id"])

    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    if len(payload) > MAX_BYTES:
        raise SystemExit(
            f"sample is {len(payload):,} bytes uncompressed, over {MAX_BYTES:,}; lower --per-author"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes identical across runs
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(payload)
    print(
        f"wrote {args.out}: {len(records)} e-mails of {len(chosen)} authors, {len(payload):,} bytes uncompressed"
    )


if __name__ == "__main__":
    main()
