"""`authorid calibrate MODEL CORPUS` and `authorid score MODEL CORPUS --pairs pairs.csv`.

calibrate: fit a Calibrator on account pairs of CORPUS (see `authorid.workflows.calibrate`).
score: the calibrated P(same person) and a decision (same / different / abstain) for each listed pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    MapOption,
    ModelArgument,
    OnErrorOption,
    PresetOption,
    console,
    read_corpus,
    user_errors,
)


@user_errors
def calibrate_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write calibration.json (default: MODEL/calibration.json)."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="'platt' (logistic on the cosine) or 'isotonic'.")] = "platt",
    target_fpr: Annotated[
        float | None,
        typer.Option(help="Choose the threshold for this false-positive rate on held-out pairs."),
    ] = None,
    abstain: Annotated[
        str | None, typer.Option(help="'c@1': choose an abstain band maximising PAN's c@1.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sybil cut, the pairs and the halves.")] = 0,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Fit a calibration (cosine -> P(same person)) on account pairs of CORPUS, with threshold and abstain band."""
    from authorid.workflows.calibrate import calibrate, default_calibration_path  # deferred: loads torch
    from authorid.workflows.common import model_for  # deferred with the workflow above

    out = out if out is not None else default_calibration_path(model)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    calibrator, out = calibrate(
        model_for(model, posts),
        posts,
        out=out,
        model_spec=model,
        method=method,
        target_fpr=target_fpr,
        abstain=abstain,
        seed=seed,
    )
    held = calibrator.info["held_out"]
    band = "none" if calibrator.abstain_band is None else "[{:.3f}, {:.3f}]".format(*calibrator.abstain_band)
    console.print(
        f"{method} calibration on {calibrator.info['pairs_fit']} pairs ({calibrator.info['pairs_from']}); "
        f"held-out {calibrator.info['pairs_held_out']} pairs: AUC {held['auc']:.3f}, threshold "
        f"{calibrator.threshold:.3f} (FPR {held['fpr']:.3f}, TPR {held['tpr']:.3f}), abstain band {band}, "
        f"c@1 {held['c@1']:.3f}",
        soft_wrap=True,
    )
    console.print(f"calibration: {out}", soft_wrap=True)


@user_errors
def score_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    pairs: Annotated[Path, typer.Option(help="CSV with columns account_a, account_b (others are kept).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the scored pairs (.csv).")],
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json (default: the model folder's calibration.json).")
    ] = None,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Calibrated P(same person) and a decision (same / different / abstain) for each account pair."""
    from authorid.workflows.common import model_for  # deferred: loads torch; `--help` stays fast
    from authorid.workflows.score import no_calibration_message, resolve_calibration, score  # deferred

    if calibration is None and not Path(model).is_dir():  # only a model folder can carry a calibration
        raise ValueError(no_calibration_message(model, f"{model} {corpus}"))
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    style_model = model_for(model, posts)
    calibrator = resolve_calibration(calibration, style_model, hint=f"{model} {corpus}")
    scored, skipped, out = score(
        style_model,
        posts,
        pairs=pairs,
        out=out,
        calibration=calibrator,
        on_error=on_error,
        progress=console.is_terminal,
    )
    counts = {d: sum(1 for r in scored if r["decision"] == d) for d in ("same", "different", "abstain")}
    console.print(
        f"scored {len(scored):,} pairs: {counts['same']} same, {counts['different']} different, "
        f"{counts['abstain']} abstain"
        + (f" ([yellow]{skipped} pairs with unknown accounts skipped[/yellow])" if skipped else ""),
        soft_wrap=True,
    )
    console.print(f"scores: {out}", soft_wrap=True)
