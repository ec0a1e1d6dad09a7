"""Benchmark `authorid train`: validation linking MRR before / after training and throughput, per loss.

    .venv/bin/python scripts/bench_train.py --preset quick --losses ce,nbc-softmax,supcon,contrax \
        --out runs/bench_train.json

Every loss trains on the same accounts (the preset's sample of the corpus), with the same seed and step
budget; the "before" figure is the untrained encoder on the same validation accounts. Writes JSON (one entry
per loss, plus the machine) to --out and prints a table. Never imported by the package; `bench_speed.py`
reuses `read_posts_for` and `train_run`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.machine import machine  # noqa: E402  (after HF_HUB_OFFLINE, which transformers reads at import)


def read_posts_for(corpus: str, preset: str, overrides: dict) -> tuple[object, float]:
    """The posts every loss trains on (the preset's seeded sample of the corpus, cleaned), and the seconds
    reading took. Read once, so every loss sees the very same accounts and posts."""
    from authorid.training import resolve_config
    from authorid.workflows.train import read_training_posts

    cfg = resolve_config(preset=preset, overrides=overrides)
    tic = time.perf_counter()
    posts = read_training_posts(corpus, cfg.data, seed=cfg.run.seed)
    return posts, time.perf_counter() - tic


def train_run(posts, loss: str, *, preset: str, overrides: dict, out: Path) -> dict:
    """Train `loss` into `out` and return the model's metadata, the wall time and the per-step examples/s
    from the training log (the first step pays for allocation, so a median over steps is steadier than the
    run's mean). `out` is left in place; the caller removes it."""
    from authorid.training.log import LOG_FILE, read_log
    from authorid.workflows.train import train

    tic = time.perf_counter()
    model = train(posts, out=out, preset=preset, loss=loss, overrides=overrides, progress=False)
    wall = time.perf_counter() - tic
    steps = [r["examples_per_s"] for r in read_log(out / LOG_FILE) if r.get("kind") == "step"]
    meta = model.metadata
    return {
        "metadata": meta,
        "wall_seconds": wall,
        "step_examples_per_s": steps,
        "median_step_examples_per_s": statistics.median(steps[1:] or steps) if steps else None,
    }


def quality_row(run: dict, before: dict | None) -> dict:
    """One loss's row of this benchmark: MRR / R@8 before and after, steps, throughput, sizes."""
    meta = run["metadata"]
    val, training = meta["validation"], meta["training"]
    initial = before or val["initial"]
    best = val["best"]
    return {
        "mrr_before": initial["mrr"] if initial else None,
        "mrr_after": best["mrr"] if best else None,
        "r@8_before": initial["r@8"] if initial else None,
        "r@8_after": best["r@8"] if best else None,
        "mrr_final": val["history"][-1]["mrr"] if val["history"] else None,  # at the last step
        "best_step": val["best_step"],
        "history": val["history"],
        "steps": training["steps"],
        "examples_per_s": round(training["examples_per_s"], 3),
        "posts_per_s": round(training["examples_per_s"] * meta["episodes"]["posts_per_episode"], 2),
        "train_seconds": training["train_seconds"],
        "wall_seconds": round(run["wall_seconds"], 1),
        "train_accounts": meta["data"]["train_accounts"],
        "val_accounts": meta["data"]["val_accounts"],
        "val_pool": initial["pool_size"] if initial else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="reddit_college")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--losses", default="ce,nbc-softmax,supcon,contrax")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--set", action="append", default=[], help="extra override KEY=VALUE (repeatable)")
    parser.add_argument("--out", default="runs/bench_train.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from authorid.io import atomic_write_text

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = dict(kv.split("=", 1) for kv in args.set)
    started = machine()
    posts, read_s = read_posts_for(args.corpus, args.preset, overrides)
    result = {
        "corpus": args.corpus,
        "preset": args.preset,
        "overrides": overrides,
        "machine": started,
        "read_and_clean_s": round(read_s, 1),
        "posts_after_sampling": posts.num_rows,
        "runs": {},
    }
    out_path = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="bench_train_"))
    before = None
    for loss in args.losses.split(","):
        # The untrained encoder scores the same on the same validation accounts whatever the loss: measure
        # "before" once, in the first run, and reuse it.
        again = {"run.eval_at_start": False} if before is not None else {}
        run = train_run(posts, loss, preset=args.preset, overrides={**overrides, **again}, out=work / loss)
        before = before or run["metadata"]["validation"]["initial"]
        result["runs"][loss] = r = quality_row(run, before)
        shutil.rmtree(work / loss, ignore_errors=True)
        atomic_write_text(out_path, json.dumps(result, indent=2) + "\n")  # after every loss: partial results
        print(
            f"{loss:14s} MRR {r['mrr_before']:.4f} -> best {r['mrr_after']:.4f} (final {r['mrr_final']:.4f})"
            f"  R@8 {r['r@8_before']:.3f} -> {r['r@8_after']:.3f}"
            f"  {r['examples_per_s']:.2f} episodes/s  {r['wall_seconds']:.0f} s",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    print(f"results: {out_path}")


if __name__ == "__main__":
    main()
