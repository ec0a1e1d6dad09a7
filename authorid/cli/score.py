"""`authorid calibrate MODEL CORPUS` and `authorid score MODEL CORPUS --pairs pairs.csv`.

calibrate: fit a Calibrator on account pairs of CORPUS (see `authorid.verification.fit_calibration`).
score: the calibrated P(same person) and a decision (same / different / abstain) for each listed pair.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import numpy as np
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
from authorid.cli.embed import model_for
from authorid.errors import InputError
from authorid.io import atomic_write_text


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
    from authorid.verification import fit_calibration

    if out is None:
        if not Path(model).is_dir():
            raise ValueError(f"model {model!r} is not a folder: give --out/-o for the calibration file")
        out = Path(model) / "calibration.json"
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    calibrator = fit_calibration(
        model_for(model, posts), posts, method=method, target_fpr=target_fpr, abstain=abstain, seed=seed
    )
    calibrator.info["model_spec"] = model
    calibrator.save(out)
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


def resolve_calibration(calibration: Path | None, style_model, *, hint: str):
    """--calibration FILE, else the model's own calibration.json; a one-line error saying what to run."""
    from authorid.verification import Calibrator

    if calibration is not None:
        return Calibrator.load(calibration)
    if style_model.calibration is not None:
        return style_model.calibration
    raise ValueError(no_calibration_message(style_model.name, hint))


def no_calibration_message(model: str, hint: str) -> str:
    return (
        f"no calibration for model {model!r}: run `authorid calibrate {hint} -o calibration.json` "
        "and pass --calibration calibration.json"
    )


def read_pairs(path: Path, known, *, on_error: str) -> tuple[list[dict], list[str], int]:
    """(rows, header, skipped): pair rows with account_a / account_b both in `known` (line numbers 1-based)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        missing = [c for c in ("account_a", "account_b") if c not in header]
        if missing:
            raise InputError(f"{path}: no column {', '.join(missing)} (need account_a, account_b)")
        rows, skipped = [], 0
        for line, row in enumerate(reader, start=2):
            unknown = next((row[c] for c in ("account_a", "account_b") if row[c] not in known), None)
            if unknown is None:
                rows.append(row)
            elif on_error == "skip":
                skipped += 1
            else:
                raise InputError(
                    f"{path} line {line}: unknown account {unknown!r} (not in the corpus; --on-error skip counts them)"
                )
    return rows, header, skipped


def score_pairs(style_model, vectors, rows: list[dict], calibration) -> list[dict]:
    """Each row with cosine, probability and decision added."""
    a = vectors.vectors[[vectors.index_of(r["account_a"]) for r in rows]]
    b = vectors.vectors[[vectors.index_of(r["account_b"]) for r in rows]]
    cosines = np.einsum("ij,ij->i", a, b) if rows else np.zeros(0)
    probabilities = calibration.predict(cosines) if rows else np.zeros(0)
    decisions = calibration.decide(probabilities)
    return [
        {**row, "cosine": f"{c:.6f}", "probability": f"{p:.6f}", "decision": d}
        for row, c, p, d in zip(rows, cosines, probabilities, decisions, strict=True)
    ]


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
    if calibration is None and not Path(model).is_dir():  # only a model folder can carry a calibration
        raise ValueError(no_calibration_message(model, f"{model} {corpus}"))
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error)
    rows, header, skipped = read_pairs(pairs, set(posts["account_id"]), on_error=on_error)
    style_model = model_for(model, posts)
    calibrator = resolve_calibration(calibration, style_model, hint=f"{model} {corpus}")
    vectors = style_model.embed_accounts(posts, progress=console.is_terminal)
    scored = score_pairs(style_model, vectors, rows, calibrator)

    def render() -> str:
        import io

        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=header + ["cosine", "probability", "decision"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(scored)
        return buffer.getvalue()

    atomic_write_text(out, render())
    counts = {d: sum(1 for r in scored if r["decision"] == d) for d in ("same", "different", "abstain")}
    console.print(
        f"scored {len(scored):,} pairs: {counts['same']} same, {counts['different']} different, "
        f"{counts['abstain']} abstain"
        + (f" ([yellow]{skipped} pairs with unknown accounts skipped[/yellow])" if skipped else ""),
        soft_wrap=True,
    )
    console.print(f"scores: {out}", soft_wrap=True)
