"""Training curves as a PNG: training loss (smoothed) and the validation metric against the step."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CURVES_FILE = "training_curves.png"


def plot_curves(log: list[dict], path: Path, *, primary: str) -> Path | None:
    """Two panels from `train_log.jsonl` records: loss vs step, validation `primary` vs step. None if empty."""
    steps = [r for r in log if r.get("kind") == "step"]
    evals = [r for r in log if r.get("kind") == "eval" and primary in r.get("metrics", {})]
    if not steps and not evals:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display: a file, never a window
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    if steps:
        x = np.array([r["step"] for r in steps])
        y = np.array([r["loss"] for r in steps], dtype=float)
        left.plot(x, y, color="0.75", lw=0.8, label="per step")
        window = max(1, len(y) // 20)
        if window > 1:
            smooth = np.convolve(y, np.ones(window) / window, mode="valid")
            left.plot(x[window - 1 :], smooth, color="C0", lw=1.6, label=f"mean of {window}")
        left.legend(frameon=False)
    left.set(title="training loss", xlabel="step", ylabel="loss")
    if evals:
        right.plot([r["step"] for r in evals], [r["metrics"][primary] for r in evals], "o-", color="C1")
    right.set(title=f"validation {primary}", xlabel="step", ylabel=primary)
    for axis in (left, right):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
