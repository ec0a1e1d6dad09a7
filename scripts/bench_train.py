"""Benchmark `authorid train`: validation linking MRR before / after training and throughput, per loss.

    .venv/bin/python scripts/bench_train.py --preset quick --losses ce,nbc-softmax,supcon,contrax \
        --out runs/bench_train.json

Every loss trains on the same accounts (the preset's sample of the corpus), with the same seed and step
budget; the "before" figure is the untrained encoder on the same validation accounts. Writes JSON (one entry
per loss, plus the machine) to --out and prints a table. Never imported by the package.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_at_start": os.getloadavg(),
        "torch": torch.__version__,
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

    if args.threads:
        torch.set_num_threads(args.threads)
    from authorid.training import resolve_config, train
    from authorid.training.data import read_training_posts

    overrides = dict(kv.split("=", 1) for kv in args.set)
    cfg = resolve_config(preset=args.preset, overrides=overrides)
    tic = time.perf_counter()
    posts = read_training_posts(args.corpus, cfg.data, seed=cfg.run.seed)
    read_s = time.perf_counter() - tic
    result = {
        "corpus": args.corpus,
        "preset": args.preset,
        "overrides": overrides,
        "machine": machine(),
        "read_and_clean_s": round(read_s, 1),
        "posts_after_sampling": posts.num_rows,
        "runs": {},
    }
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_train_"))
    before = None
    for loss in args.losses.split(","):
        tic = time.perf_counter()
        # The untrained encoder scores the same on the same validation accounts whatever the loss: measure
        # "before" once, in the first run, and reuse it.
        again = {"run.eval_at_start": False} if before is not None else {}
        model = train(
            posts,
            out=work / loss,
            preset=args.preset,
            loss=loss,
            overrides={**overrides, **again},
            progress=False,
        )
        wall = time.perf_counter() - tic
        meta = model.metadata
        val, run = meta["validation"], meta["training"]
        before = before or val["initial"]
        val = {**val, "initial": before}
        result["runs"][loss] = {
            "mrr_before": val["initial"]["mrr"] if val["initial"] else None,
            "mrr_after": val["best"]["mrr"] if val["best"] else None,
            "r@8_before": val["initial"]["r@8"] if val["initial"] else None,
            "r@8_after": val["best"]["r@8"] if val["best"] else None,
            "mrr_final": val["history"][-1]["mrr"] if val["history"] else None,  # at the last step
            "best_step": val["best_step"],
            "history": val["history"],
            "steps": run["steps"],
            "examples_per_s": round(run["examples_per_s"], 3),
            "posts_per_s": round(run["examples_per_s"] * meta["episodes"]["posts_per_episode"], 2),
            "train_seconds": run["train_seconds"],
            "wall_seconds": round(wall, 1),
            "train_accounts": meta["data"]["train_accounts"],
            "val_accounts": meta["data"]["val_accounts"],
            "val_pool": val["initial"]["pool_size"] if val["initial"] else None,
        }
        shutil.rmtree(work / loss, ignore_errors=True)
        out_path.write_text(json.dumps(result, indent=2) + "\n")  # after every loss: partial results survive
        r = result["runs"][loss]
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
