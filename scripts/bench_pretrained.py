"""The pretrained `style` model on corpora it never saw, beside the baselines, in one run.

    .venv/bin/python scripts/bench_pretrained.py [--rows style,char-ngram,stylometric,minilm,minilm:raw] [--model style]

For each corpus (Reuters C50, Blog10, Blog50, Enron; none of them trained on), every row is scored with the
product's own protocols, as `authorid evaluate MODEL CORPUS --protocol sybil,verification` would: the sybil
protocol (each account cut in two halves; a half ranks all other halves: MRR, R@k) and the verification
protocol (pairs of halves, same author or not: AUC). Model rows go through `authorid.workflows.evaluate`; the
PAN char 4-gram TF-IDF baseline (scripts/benchlib/peers.py) is a scorer fitted on the evaluated texts.
Results: benchmarks/results/pretrained.json (read by make_benchmarks_md.py and by the packaged model's card).
Also the off-domain test of issue 13 (a model trained on Reddit against the untrained `stylometric`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.machine import short_description  # noqa: E402
from benchlib.peers import CharNgramLinking  # noqa: E402
from benchlib.settings import blog_ranks, ingested  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "pretrained.json"
ROWS = ("style", "char-ngram", "stylometric", "minilm", "minilm:raw")
#: corpus -> (preset, bloggers' top rank or None, protocol settings). Halves are capped so that the task is
#: not trivial: C50's 50 texts per half would make every method perfect, so 2 texts per half; Blog halves keep
#: their 20 most recent posts; Enron authors with >= 4 e-mails, 8 per half at most.
CORPORA = {
    "C50": ("reuters_c50", None, {"min_posts": 20, "max_posts": 2, "by": "random"}),
    "Blog10": ("blog50", 10, {"min_posts": 20, "max_posts": 20, "by": "time"}),
    "Blog50": ("blog50", 50, {"min_posts": 20, "max_posts": 20, "by": "time"}),
    "Enron": ("enron_pan11", None, {"min_posts": 4, "max_posts": 8, "by": "random"}),
}
logger = logging.getLogger("bench_pretrained")


def char_ngram_subject(chosen):
    """The PAN baseline fitted on the evaluated (pseudo-)accounts' texts (transductive, no labels)."""
    from authorid.data.arrow import read_columns

    table = read_columns(chosen.posts, ["account_id", "text"])
    groups: dict[str, list[str]] = {}
    for account, text in zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True):
        groups.setdefault(account, []).append(text)
    return CharNgramLinking().fit(groups)


def corpus_posts(preset: str, top: int | None, cache: Path):
    posts = ingested(preset, cache)
    if top is not None and top < 50:
        keep = {author for author, rank in blog_ranks().items() if rank <= top}
        posts = posts.filter(lambda batch: [a in keep for a in batch["account_id"]], batched=True)
    return posts


def run_row(row: str, model_spec: str, posts, settings: dict, seed: int) -> dict:
    from authorid.evaluation.protocols.sybil import sybil_protocol
    from authorid.evaluation.protocols.verification import verification_protocol
    from authorid.workflows.evaluate import evaluate

    started = time.perf_counter()
    if row == "char-ngram":
        sybil = sybil_protocol(char_ngram_subject, posts, seed=seed, **settings)
        verification = verification_protocol(char_ngram_subject, posts, seed=seed, **settings)
        result = {
            "sybil": sybil.metrics["linking"],
            "sybil_hubness": sybil.metrics.get("linking_hubness"),
            "verification": verification.metrics["verification"],
            "accounts": sybil.settings["accounts"],
        }
    else:
        spec = model_spec if row == "style" else row
        run = evaluate(spec, posts, protocol=["sybil", "verification"], seed=seed, **settings)
        protocols = run["protocols"]
        result = {
            "sybil": protocols["sybil"]["metrics"]["linking"],
            "sybil_hubness": protocols["sybil"]["metrics"].get("linking_hubness"),
            "verification": protocols["verification"]["metrics"]["verification"],
            "accounts": protocols["sybil"]["settings"]["accounts"],
            "model": run["model"],
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--model", default="style", help="the model of the 'style' row (a name or folder)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"corpora": {}}
    for corpus in args.corpora.split(","):
        preset, top, settings = CORPORA[corpus]
        posts = corpus_posts(preset, top, args.cache)
        entry = results["corpora"].setdefault(corpus, {"rows": {}})
        entry |= {"preset": preset, "settings": settings, "top": top}
        for row in args.rows.split(","):
            print(f"{corpus} / {row} ...", file=sys.stderr, flush=True)
            entry["rows"][row] = run_row(row, args.model, posts, settings, args.seed)
            entry["accounts"] = entry["rows"][row]["accounts"]
            metrics = entry["rows"][row]
            print(
                f"  MRR {metrics['sybil']['mrr']:.3f}  AUC {metrics['verification']['auc']:.3f}"
                f"  ({metrics['seconds']} s)",
                file=sys.stderr,
            )
            results |= {
                "machine": short_description(),
                "updated": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": "python scripts/bench_pretrained.py",
                "model": args.model,
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
