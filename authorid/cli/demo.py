"""`authorid demo`: the main job on the bundled demo corpus (or any CORPUS), printing where outputs went."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from authorid.cli.common import check_seed, console, user_errors


@user_errors
def demo_command(
    corpus: Annotated[str, typer.Option(help="Corpus file, folder or preset.")] = "enron_demo",
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output folder (the demo's outputs in it are replaced on a re-run)."
        ),
    ] = Path("runs/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the split, training, evaluation and clustering.")] = 0,
    max_steps: Annotated[
        int | None, typer.Option(help="Training steps (default: the demo's budget).")
    ] = None,
) -> None:
    """Ingest, fine-tune `style` on some authors, evaluate before/after on held-out authors, cluster, report.

    The held-out accounts are cut in two halves; the pretrained `style` model (trained on Reddit) and the same
    model fine-tuned on the corpus' other authors rank the halves (sybil protocol: MRR, R@1, R@8) on identical
    queries. OUT/report.html shows
    every step.
    """
    check_seed(seed)
    # Before torch loads OpenMP: threads that sleep, not spin, while they wait. On cores shared with other
    # jobs, spinning threads fight those jobs and each other: a training step took 10 s instead of 3.3 s.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from authorid.workflows.demo import DEMO_STEPS, run_demo  # deferred: loads torch

    result = run_demo(
        corpus=corpus,
        out=out,
        seed=seed,
        max_steps=DEMO_STEPS if max_steps is None else max_steps,
        progress=True,
    )
    console.print(before_after_table(result.summary))
    left = result.summary["held_out_left_out"]
    if left["accounts"]:
        console.print(
            f"warning: {left['accounts']} of {left['of']} held-out accounts are ones the pretrained `style` trained"
            f" or validated on: the evaluation and the clustering leave them out, so their figures rest on"
            f" {left['of'] - left['accounts']}; the demo means most on a corpus `style` never saw",
            soft_wrap=True,
            markup=False,
        )
    validation = (result.summary.get("training") or {}).get("validation") or {}
    if (
        validation.get("best_step") == 0
    ):  # the export keeps the best validation checkpoint: the pretrained one
        console.print(
            f"fine-tuning never beat the pretrained model on the {validation['initial'].get('n_queries', 0):.0f}"
            " validation accounts, so the model kept (the best validation checkpoint) is the pretrained one:"
            " its column repeats the pretrained column",
            soft_wrap=True,
            markup=False,
        )
    clustering = result.summary["clustering"]
    m = clustering["metrics"]
    console.print(
        f"clustering (trained): {clustering['accounts']} held-out pseudo-accounts of"
        f" {clustering['true_persons']} authors -> {m['n_pred']} clusters;"
        f" {m['persons_recovered']} authors recovered exactly,"
        f" B³ F1 {m['bcubed_f1']:.3f}, ARI {m['ari']:.3f}; cut at {clustering['cut']}",
        soft_wrap=True,
    )
    console.print(
        f"total {result.summary['timing_s']['total']:.0f} s (the demo's steps; loading Python and torch not counted)",
        soft_wrap=True,
    )
    width = max(len(what) for what in result.outputs) + 1
    for what, path in result.outputs.items():
        console.print(f"{what + ':':<{width}} {path}", soft_wrap=True, markup=False)


def before_after_table(summary: dict) -> Table:
    """Rows: the sybil protocol's headline metrics; columns: pretrained, fine-tuned, and the change."""
    from authorid.workflows.demo_report import AFTER, BEFORE, HEADLINES  # deferred with the demo

    linking = summary["linking"]
    before, after = linking["metrics"][BEFORE], linking["metrics"][AFTER]
    pool = before["linking"]["pool_size"]
    same = "identical" if linking["same_queries"] else "NOT identical"
    table = Table(
        title=f"Held-out accounts cut in two, each first half ranked against {pool} second halves"
        f" (queries {same})"
    )
    for column in ("metric", BEFORE, AFTER, "change"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for task, key, label in HEADLINES:
        if key in before.get(task, {}) and key in after.get(task, {}):
            a, b = before[task][key], after[task][key]
            table.add_row(label, f"{a:.3f}", f"{b:.3f}", f"{b - a:+.3f}")
    return table
