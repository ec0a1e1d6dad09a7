"""`authorid compress MODEL CORPUS --dim 256 -o DIR`: a compact model, MODEL's vectors through a PCA projection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

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
def compress_command(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL", help="The base model: 'style', a model folder, 'minilm' or 'stylometric[:DIM]'."
        ),
    ],
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the compact model.")],
    dim: Annotated[int, typer.Option(help="Dimensions of the compact vectors.")] = 256,
    max_accounts: Annotated[
        int, typer.Option(help="Accounts of CORPUS (a seeded sample) the projection is fitted on.")
    ] = 20_000,
    min_posts: Annotated[int, typer.Option(help="Posts an account needs to be sampled.")] = 8,
    storage: Annotated[
        Literal["float16", "float32"], typer.Option(help="How the projection is stored on disk.")
    ] = "float16",
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate/--no-calibrate",
            help="Also fit a calibration of the compact model (cosine -> P(same person)) on accounts neither the"
            " projection nor the base was fitted on (else on the sampled ones the base never saw, with a warning).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the account sample and the randomized SVD.")] = 0,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Compress a style model: its account vectors through a PCA projection fitted on CORPUS's accounts.

    The compact model folder is self-contained (the base is named, `style`, or copied inside it) and works
    wherever a MODEL does. Fit it on accounts you will not evaluate on; with 256 dimensions a million accounts
    take 1 GB instead of style's 66 GB.
    """
    check_seed(seed)
    from authorid.workflows.calibrate import calibration_summary  # deferred with the workflow above
    from authorid.workflows.common import check_output_folder  # deferred: loads torch
    from authorid.workflows.compress import compress  # deferred with the workflow above

    if dim < 1:
        raise ValueError(f"--dim must be a positive number of dimensions, got {dim}")
    if max_accounts <= dim:
        raise ValueError(
            f"--dim {dim} must be below --max-accounts ({max_accounts}): the accounts the projection is fitted on"
        )
    check_output_folder(out, kind="model", overwrite=overwrite)
    posts, _ = read_corpus(
        corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="nothing to fit on"
    )
    result = compress(
        model,
        posts,
        out=out,
        dim=dim,
        max_accounts=max_accounts,
        min_posts=min_posts,
        storage=storage,
        seed=seed,
        calibrate=calibrate,
        overwrite=overwrite,
        progress=True,
    )
    lines = [
        f"compressed {model} ({result.base_dim:,} dims) to {result.dim} dims, fitted on {result.accounts:,}"
        f" accounts: {result.explained_variance:.1%} of their variance kept",
        *(calibration_summary(result.model.calibration) if result.model.calibration is not None else ()),
        f"model: {result.path}",
    ]
    summary = {
        "model": str(result.path),
        "base": model,
        "dim": result.dim,
        "base_dim": result.base_dim,
        "accounts": result.accounts,
        "explained_variance": result.explained_variance,
        "fingerprint": result.model.fingerprint(),
        "calibration": result.model.calibration.info if result.model.calibration is not None else None,
    }
    say(summary, lines, as_json=json)
