"""`authorid fuse MODEL_A MODEL_B CORPUS -o DIR`: two style models as one, weights fitted on CORPUS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    MapOption,
    OnErrorOption,
    PresetOption,
    console,
    read_corpus,
    user_errors,
)


@user_errors
def fuse_command(
    first: Annotated[str, typer.Argument(help="The first model: a folder, 'minilm' or 'stylometric:DIM'.")],
    second: Annotated[str, typer.Argument(help="The second model (same kinds).")],
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the fused model.")],
    first_weight: Annotated[
        float | None,
        typer.Option(help="w_A^2, the first model's share of the cosine (default: fitted on CORPUS)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sybil cut and the calibration pairs.")] = 0,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Fuse two style models into one model folder: weighted concatenated vectors, with its own calibration.

    CORPUS should hold accounts neither model trained on (its accounts are cut in two halves to fit the
    weights and the calibration).
    """
    from authorid.workflows.fuse import fuse  # deferred: loads torch; `--help` stays fast

    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, empty="nothing to fit on")
    result = fuse(
        first, second, posts, out=out, first_weight=first_weight, seed=seed, progress=console.is_terminal
    )
    best = result.mrr_per_weight
    a = result.weights[0] ** 2
    console.print(
        f"fused {first} (w^2 {a:.2f}) + {second} (w^2 {1 - a:.2f}): halves' linking MRR {best[f'{a:.2f}']:.4f}"
        f" (first alone {best['1.00']:.4f}, second alone {best['0.00']:.4f})",
        soft_wrap=True,
    )
    console.print(f"model: {result.path}", soft_wrap=True)
