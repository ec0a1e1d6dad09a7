"""`authorid calibrate MODEL CORPUS` and `authorid score MODEL CORPUS --pairs pairs.csv`.

calibrate: fit a Calibrator on account pairs of CORPUS (see `authorid.workflows.calibrate`).
score: the calibrated P(same person) and a decision (same / different / abstain) for each listed pair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CALIBRATE_HINT,
    CorpusArgument,
    ForceOption,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OptionalCorpusArgument,
    OverwriteOption,
    PresetOption,
    VectorsOption,
    need_corpus_or_vectors,
    read_corpus,
    say,
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
    method: Annotated[
        str,
        typer.Option(
            help="'platt-sizes' (the cosine and both accounts' post and character counts: fitted on accounts cut"
            " to 1-50 posts, holds at every account size), 'platt' (logistic on the cosine alone) or 'isotonic'."
        ),
    ] = "platt-sizes",  # workflows.calibrate.DEFAULT_METHOD, not imported here: `--help` stays fast
    target_fpr: Annotated[
        float | None,
        typer.Option(help="Choose the threshold for this false-positive rate on held-out pairs."),
    ] = None,
    abstain: Annotated[
        str | None, typer.Option(help="'c@1': choose an abstain band maximising PAN's c@1.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sybil cut, the pairs and the halves.")] = 0,
    include_training_accounts: Annotated[
        bool,
        typer.Option(
            help="Keep the accounts MODEL trained or validated on (left out by default: a calibration fitted on"
            " them promises too much on new accounts)."
        ),
    ] = False,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Fit a calibration (cosine -> P(same person)) on account pairs of CORPUS, with threshold and abstain band."""
    from authorid.workflows.calibrate import (  # deferred: loads torch
        calibrate,
        calibration_summary,
        check_calibrate_options,
        default_calibration_path,
    )
    from authorid.workflows.common import (  # deferred with the workflow above
        check_output_file,
        model_before_corpus,
        model_for,
    )

    check_calibrate_options(method, target_fpr, abstain, seed)
    if out is None:
        out = default_calibration_path(model)
        if (
            out.exists() and not overwrite
        ):  # audit 15: the error named `-o MODEL/calibration.json`, never typed
            raise ValueError(
                f"{model} already holds its calibration ({out}, written with the model): pass --overwrite to"
                " replace it with one fitted on CORPUS, or -o FILE to write another"
            )
    out = check_output_file(
        out,
        overwrite=overwrite,
        option="-o",
        writes=("calibrate", "JSON"),
    )
    early = model_before_corpus(model)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, quiet=json)
    calibrator, out = calibrate(
        model_for(early, posts),
        posts,
        out=out,
        model_spec=model,
        method=method,
        target_fpr=target_fpr,
        abstain=abstain,
        seed=seed,
        include_training_accounts=include_training_accounts,
    )
    lines = [*calibration_summary(calibrator), f"calibration: {out}"]
    say({**calibrator.to_dict(), "calibration": str(out)}, lines, as_json=json)


#: Skipped pairs named on the terminal, and in the --json summary (all are counted).
SKIPPED_SHOWN, SKIPPED_LISTED = 5, 100


@user_errors
def score_command(
    model: ModelArgument,
    corpus: OptionalCorpusArgument = None,
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="CSV with columns account_a, account_b (required; other columns are kept, none named as one"
            " score writes: cosine, cohort_score, probability, decision, sizes_calibrated, copied_posts, reason)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the scored pairs (.csv; required).")
    ] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json (default: the model folder's calibration.json).")
    ] = None,
    vectors: VectorsOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Add a reason column: each pair's 5 strongest shared habits (needs CORPUS)."
        ),
    ] = False,
    prior: Annotated[
        float | None,
        typer.Option(
            help="The share of same-person pairs you expect among the listed pairs (default: the share the"
            " calibration was fitted on, about 1/31 with `authorid calibrate`); P(same person) is moved to it."
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Calibrated P(same person) and a decision (same / different / abstain) for each account pair."""
    from authorid.workflows.common import (  # deferred: loads torch
        check_output_file,
        load_calibration,
        load_vectors,
        model_before_corpus,
        model_for,
    )
    from authorid.workflows.score import (  # deferred
        carries_calibration,
        check_pairs_file,
        copies_warning,
        no_calibration_message,
        pairs_with_copies,
        resolve_calibration,
        score,
    )

    need_corpus_or_vectors(corpus, vectors)
    if prior is not None and not 0 < prior < 1:
        raise ValueError(f"--prior must be between 0 and 1 (exclusive), got {prior}")
    if pairs is None:
        raise ValueError(
            "give --pairs: a CSV of the account pairs to score, with columns account_a, account_b"
        )
    if pairs.is_dir():
        raise IsADirectoryError(f"--pairs {pairs} is a folder: give the CSV file of account pairs")
    if not pairs.is_file():
        raise FileNotFoundError(f"--pairs {pairs}: no such file")
    check_pairs_file(pairs, on_error=on_error)  # a malformed file is said before the corpus is read
    if out is None:
        raise ValueError("give --out/-o: the CSV file to write the scored pairs to")
    check_output_file(
        out, overwrite=overwrite, option="-o", writes=("score", "CSV"), inputs=(corpus, pairs, vectors)
    )
    hint = f"{model} {corpus or 'CORPUS'}"
    # a wrong model name is said first: "no calibration for model X" would send the user to calibrate it
    early = model_before_corpus(model)
    if calibration is None and not carries_calibration(model):  # said before reading anything
        raise ValueError(no_calibration_message(model, hint))
    # a damaged file is said before the corpus is read
    loaded = load_calibration(calibration) if calibration is not None else None
    # a calibration for another model is said before the corpus is read (a stylometric model, fitted on the
    # corpus, is checked once fitted)
    calibrator = (
        None if isinstance(early, str) else resolve_calibration(loaded, early, hint=hint, force=force)
    )
    posts = None
    if corpus is not None:
        posts, report = read_corpus(corpus, map=map, preset=preset, on_error=on_error, quiet=json)
    style_model = model_for(early, posts)
    if calibrator is None:
        calibrator = resolve_calibration(loaded, style_model, hint=hint, force=force)
    account_vectors = load_vectors(vectors, style_model, force=force) if vectors is not None else None
    scored, skipped, out = score(
        style_model,
        posts,
        pairs=pairs,
        out=out,
        calibration=calibrator,
        vectors=account_vectors,
        on_error=on_error,
        progress=True,
        explain=explain,
        prior=prior,
        emptied=report.emptied_accounts if posts is not None else frozenset(),
    )
    counts = {d: sum(1 for r in scored if r["decision"] == d) for d in ("same", "different", "abstain")}
    # the share of same-person pairs every P assumes: --prior, else the one the calibration was fitted at
    assumed = prior if prior is not None else getattr(calibrator, "fit_prior", None)
    lines = [
        f"scored {len(scored):,} pairs: {counts['same']} same, {counts['different']} different, "
        f"{counts['abstain']} abstain"
        + (f" ({len(skipped):,} pair{'s' if len(skipped) != 1 else ''} skipped)" if skipped else ""),
        *(f"skipped: {message}" for message in skipped[:SKIPPED_SHOWN]),
        *([f"skipped: and {len(skipped) - SKIPPED_SHOWN:,} more"] if len(skipped) > SKIPPED_SHOWN else []),
        f"scores: {out}",
    ]
    if assumed is not None:
        recorded = calibrator.info.get("fit_prior") is not None  # none recorded: Calibrator assumes 0.5
        if prior is not None:
            source = "--prior"
        elif recorded:
            source = "the calibration's own; --prior changes it"
        else:
            source = "the calibration records none, so balanced pairs are assumed; --prior changes it"
        lines.insert(1, f"P(same person) assumes a share of {assumed:.3g} same-person pairs ({source})")
    scored_on = "cohort-normalised" if any(r["cohort_score"] for r in scored) else "cosine"
    if scored_on == "cohort-normalised":
        lines.insert(
            1,
            "P(same person) read from each cosine less its accounts' excess closeness to everyone in this"
            " corpus (column cohort_score)",
        )
    elif scored:  # say why not: a small pool, or a calibration without a cohort fit
        pool = len(account_vectors) if account_vectors is not None else report.accounts_out
        reason = calibrator.cosine_fit_reason(pool)
        if reason:
            lines.insert(
                1, reason + ("; column cohort_score left empty" if calibrator.cohort is not None else "")
            )
    itself = sum(1 for r in scored if r["account_a"] == r["account_b"])
    if itself:
        lines.insert(
            1,
            f"note: {itself:,} {'pairs pair' if itself != 1 else 'pair pairs'} an account with itself (cosine 1:"
            " 'same' by construction)",
        )
    copied = copies_warning(scored)
    if copied:
        lines.insert(1, copied)
    outside = sum(1 for r in scored if r["sizes_calibrated"] == "no")
    if outside:
        lines.insert(
            1,
            f"warning: {outside:,} pairs have an account outside the sizes the calibration was fitted on"
            f" ({calibrator.sizes_seen()}): their probability is extrapolated (column sizes_calibrated)"
            f"{CALIBRATE_HINT}",
        )
    say(
        {
            "pairs": len(scored),
            "decisions": counts,
            "skipped": len(skipped),
            "skipped_pairs": skipped[:SKIPPED_LISTED],
            "outside_calibrated_sizes": outside,
            "pairs_of_an_account_with_itself": itself,
            "pairs_with_copied_posts": pairs_with_copies(scored),  # null: not counted (--vectors)
            "prior": assumed,
            "scored_on": scored_on,
            "scores": str(out),
        },
        lines,
        as_json=json,
    )
