"""`authorid fuse MODEL_A MODEL_B CORPUS -o DIR`: two style models as one, weights fitted on CORPUS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    JsonOption,
    MapOption,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    check_seed,
    read_corpus,
    say,
    user_errors,
)


@user_errors
def fuse_command(
    first: Annotated[
        str, typer.Argument(metavar="FIRST", help="The first model: a folder, 'minilm' or 'stylometric:DIM'.")
    ],
    second: Annotated[str, typer.Argument(metavar="SECOND", help="The second model (same kinds).")],
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the fused model.")],
    first_weight: Annotated[
        float | None,
        typer.Option(help="w_A^2, the first model's share of the cosine (default: fitted on CORPUS)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sybil cut and the calibration pairs.")] = 0,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Fuse two style models into one model folder: weighted concatenated vectors, with its own calibration.

    CORPUS should hold accounts neither model trained on (its accounts are cut in two halves to fit the
    weights and the calibration).
    """
    check_seed(seed)
    from authorid.workflows.calibrate import calibration_summary  # deferred: loads torch
    from authorid.workflows.common import check_output_folder, model_before_corpus  # deferred: loads torch
    from authorid.workflows.fuse import fuse  # deferred with the workflows above

    if first_weight is not None and not 0 <= first_weight <= 1:
        raise ValueError(f"--first-weight is w_A^2 and must lie in [0, 1], got {first_weight}")
    if first == second:
        raise ValueError(f"give two different models to fuse (got {first!r} twice)")
    check_output_folder(out, kind="model", overwrite=overwrite)
    # a wrong name or a damaged folder is said before the corpus is read (a stylometric part stays a spec)
    models = model_before_corpus(first), model_before_corpus(second)
    posts, _ = read_corpus(
        corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="nothing to fit on"
    )
    result = fuse(
        *models,
        posts,
        out=out,
        first_weight=first_weight,
        seed=seed,
        overwrite=overwrite,
        progress=True,
    )
    best = result.mrr_per_weight
    a = result.weights[0] ** 2
    calibration = result.model.calibration
    lines = [
        f"fused {first} (w^2 {a:.2f}) + {second} (w^2 {1 - a:.2f}): halves' linking MRR {best[f'{a:.2f}']:.4f}"
        f" (first alone {best['1.00']:.4f}, second alone {best['0.00']:.4f})",
        # audit 8: the calibration fitted here was never mentioned, nor that it reads the weight's own accounts
        *(calibration_summary(calibration) if calibration is not None else ()),
        *(
            [
                "note: the calibration is fitted on the accounts that chose the weight; for probabilities you will"
                f" act on, `authorid calibrate {result.path} held_out.jsonl --overwrite` on other accounts"
            ]
            if calibration is not None
            else ()
        ),
        f"model: {result.path}",
    ]
    say(
        {
            "weights": result.weights,
            "mrr_per_first_weight": best,
            "model": str(result.path),
            "calibration": calibration.info if calibration is not None else None,
        },
        lines,
        as_json=json,
    )
