"""Benchmark: training the default model on Reddit's whole training pool, timed and its memory watched (issue 13).

    .venv/bin/python scripts/bench_train_pool.py            # ~11 min on 2 cores; the shipped model is untouched

Runs `scripts/train_default_model.py` (the recipe of the packaged `style` model) in a child process on a fresh
work folder, so nothing is cached, and records in `benchmarks/results/train_pool.json`:
- featurising: the trainer's own figure for counting every training post's n-grams (its log line);
- training: the optimisation's wall time and steps (`training` in the trained model's authorid.json);
- peak memory, two ways: the largest single process (the kernel's maximum RSS of the script and of each of its
  worker processes, what `/usr/bin/time -v` reports), and the whole process tree (the script and its n-gram
  counting workers together, sampled every 0.25 s), which is what the machine has to hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib.machine import machine, rss_mb
from benchlib.results import save_stamped

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "train_pool.json"
COUNTS_LINE = re.compile(r"n-gram counts of (\d+) training posts \((\d+) non-zeros\) in ([\d.]+) s")
POLL_S = 0.25


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc/PID/task/*/children)."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                stack += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return out


class TreeWatcher(threading.Thread):
    """Samples the summed RSS of a process tree until stopped; keeps the peak and when it happened."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.peak_at_s, self.done = pid, 0.0, 0.0, threading.Event()
        self.started = time.perf_counter()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(rss_mb(p) for p in _tree(self.pid))
            if total > self.peak_mb:
                self.peak_mb, self.peak_at_s = total, time.perf_counter() - self.started
            self.done.wait(POLL_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--work", type=Path, default=None, help="work folder (default: a fresh temporary one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (the trained model)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="authorid-train-pool-"))
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work}: not empty; the benchmark needs a fresh folder (nothing cached)")
    log_path = work / "train.log"
    work.mkdir(parents=True, exist_ok=True)
    started_on = machine()
    command = [
        sys.executable,
        str(REPO / "scripts" / "train_default_model.py"),
        "--work",
        str(work),
        "--out",
        str(work / "style"),
    ]
    tic = time.perf_counter()
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        watcher = TreeWatcher(child.pid)
        watcher.start()
        code = child.wait()
        watcher.done.set()
        watcher.join()
    wall = time.perf_counter() - tic
    if code != 0:
        raise SystemExit(f"train_default_model.py exited with {code}; its log: {log_path}")
    # ru_maxrss of the children: the largest maximum RSS among the reaped child and its reaped descendants.
    largest_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    counted = COUNTS_LINE.search(log_path.read_text())
    if counted is None:
        raise SystemExit(f"{log_path}: no 'n-gram counts of ...' line; cannot time the featurising")
    training = json.loads((work / "model" / "authorid.json").read_text())["training"]
    featurise_s, train_s = float(counted.group(3)), float(training["train_seconds"])
    result = {
        "description": (
            "scripts/train_default_model.py on a fresh work folder: ingest reddit_college, the benchmark's split"
            " (1,000 test accounts out), train preset 'ngram' on every other account with >= 4 posts, validate,"
            " calibrate, package."
        ),
        "results": {
            "training_posts": int(counted.group(1)),
            "count_nonzeros": int(counted.group(2)),
            "featurise_s": featurise_s,
            "train_s": train_s,
            "featurise_plus_train_s": round(featurise_s + train_s, 1),
            "steps": training["steps"],
            "posts_seen": training["posts_seen"],
            "script_wall_s": round(wall, 1),
            "peak_rss_largest_process_mib": round(largest_mb),
            "peak_rss_process_tree_mib": round(watcher.peak_mb),
            "peak_rss_process_tree_at_s": round(watcher.peak_at_s, 1),
        },
        # issue 13: <= 10 minutes and <= 6 GB, read as 10^9 bytes (5,722 MiB), the stricter of the two readings
        "targets": {"featurise_plus_train_s": 600, "peak_mib": 5722},
        "machine_at_start": started_on,
    }
    path = save_stamped(args.out, result, command="python scripts/bench_train_pool.py")
    print(json.dumps(result["results"], indent=1))
    print(f"wrote {path}")
    if not args.keep and args.work is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
