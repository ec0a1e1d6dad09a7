"""`authorid demo`: the main job on the bundled demo corpus (or any CORPUS), printing where outputs went."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from authorid.cli.common import console, user_errors


@user_errors
def demo_command(
    corpus: Annotated[str, typer.Option(help="Corpus file, folder or preset.")] = "enron_demo",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option(help="Seed of the sybil cut.")] = 0,
) -> None:
    """Ingest a corpus, cut each account in two, and report how well two encoders link the halves.

    The encoders are the untuned default (all-MiniLM-L6-v2) and the stylometric one; metrics MRR, R@1, R@8.
    """
    from authorid.demo import run_demo

    result = run_demo(corpus=corpus, out=out, seed=seed, progress=console.is_terminal)
    table = Table(title="Sybil linking: each account cut in two, first half ranked against all second halves")
    for column in ("encoder", "MRR", "R@1", "R@8", "pool", "seconds"):
        table.add_column(column, justify="left" if column == "encoder" else "right")
    for name, m in result.metrics.items():
        table.add_row(
            name,
            f"{m['mrr']:.3f}",
            f"{m['r@1']:.3f}",
            f"{m['r@8']:.3f}",
            f"{m['pool_size']:.0f}",
            f"{m['seconds']:.1f}",
        )
    console.print(table)
    for what, path in result.outputs.items():
        console.print(f"{what + ':':<20} {path}", soft_wrap=True)
