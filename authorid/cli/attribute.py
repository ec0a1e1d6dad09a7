"""`authorid attribute MODEL --known KNOWN TEXTS -o predictions.csv`: which known author wrote each text?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CALIBRATE_HINT,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    err_console,
    last_cleaning,
    read_corpus,
    say,
    styled,
    user_errors,
)

#: The threshold below which `attribute --level account` notes that accounts by none of the known authors pass.
ACCOUNT_THRESHOLD = 0.99


@user_errors
def attribute_command(
    model: ModelArgument,
    texts: Annotated[
        str,
        typer.Argument(
            metavar="TEXTS",
            help="The texts to attribute: a dump (.jsonl/.json/.csv/.tsv/.parquet, .gz allowed), a folder of them, or"
            " a corpus preset name.",
        ),
    ],
    known: Annotated[
        str, typer.Option("--known", help="Corpus of texts by the known authors (same formats).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the predictions (.csv).")] = Path(
        "predictions.csv"
    ),
    level: Annotated[
        str, typer.Option(help="'text': one prediction per post; 'account': per account.")
    ] = "text",
    top_k: Annotated[int, typer.Option("--top-k", help="Candidate authors listed per text.")] = 5,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Open set: predict 'unknown' below this best score (a probability with a calibrated model or "
            "a classifier, a cosine otherwise)."
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            help="'auto' (svm for up to 100 known authors, closed set or open, else centroid), 'centroid', "
            "'logistic' or 'svm'."
        ),
    ] = "auto",
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Attribute texts to known authors (closed set, or open set with --threshold)."""
    from authorid.workflows.attribute import (  # deferred: loads torch
        attribute,
        check_options,
        texts_among_known,
    )
    from authorid.workflows.common import check_output_file, model_before_corpus  # deferred: as above

    if top_k < 1:
        raise ValueError(f"--top-k must be >= 1, got {top_k}")
    if threshold is not None and not -1 <= threshold <= 1:
        raise ValueError(f"--threshold is a probability or a cosine and must lie in [-1, 1], got {threshold}")
    check_output_file(
        out, overwrite=overwrite, option="-o", writes=("attribute", "CSV"), inputs=(texts, known)
    )
    chosen = model_before_corpus(model)  # before the corpora are read, as every option
    calibrated = getattr(chosen, "calibration", None) is not None
    check_options(
        level=level, top_k=top_k, method=method, open_set_threshold=threshold, calibrated=calibrated
    )
    known_posts, _ = read_corpus(
        known, map=map, preset=preset, on_error=on_error, quiet=json, empty="no authors to attribute to"
    )
    # a text its author repeated still gets its answer: no text is dropped as a duplicate
    text_posts, report = read_corpus(
        texts,
        map=map,
        preset=preset,
        on_error=on_error,
        quiet=json,
        empty="nothing to attribute",
        clean_options={"dedupe_within_account": False},
        authors_optional=level == "text",  # texts of unknown authorship are what attribution is for
    )
    texts_have_authors = "account_id" in report.column_map
    if not texts_have_authors:
        err_console.print(
            f"{texts}: no author column, so each text is attributed on its own and no accuracy is measured",
            soft_wrap=True,
        )
    overlap = texts_among_known(known_posts, text_posts, texts_have_authors=texts_have_authors)
    if overlap.by_their_author:
        said = (
            f" {overlap.by_their_author:,} of the {len(text_posts):,} texts are also among their author's known"
            " texts, word for word: they are answered by recall, not attributed, and the accuracy flatters; keep"
            " the texts to attribute out of --known (a corpus with a split column: its train rows as --known, its"
            " test rows as TEXTS)"
        )
        err_console.print(styled("warning:", "yellow", said), soft_wrap=True)
    if overlap.unknown_author:
        said = (
            f" {overlap.unknown_author:,} of the {len(text_posts):,} texts are also among the known texts, word for"
            " word: the answer for each is likely an author who posted it there, whoever wrote it here"
        )
        err_console.print(styled("note:", "yellow", said), soft_wrap=True)
    repeats = (last_cleaning() or {}).get("dropped_at_ingest", {}).get("duplicate_in_account", 0)
    if repeats:  # an ingested file is read as it is: its repeats were dropped when it was ingested
        said = (
            f" {texts} was ingested with the texts its authors repeated dropped ({repeats:,}), so those get no"
            " answer: attribute the raw file, or ingest it with --no-dedupe"
        )
        err_console.print(styled("warning:", "yellow", said), soft_wrap=True)
    result = attribute(
        chosen,
        known_posts,
        text_posts,
        level=level,
        top_k=top_k,
        open_set_threshold=threshold,
        method=method,
        progress=True,
        texts_have_authors=texts_have_authors,
    )
    path = result.to_csv(out)
    summary = {
        "summary": result.summary(),
        "predictions": str(path),
        "authors": len(result.authors),
        "texts": len(result),  # texts or accounts, by --level
        "attributed": len(result) - result.n_unknown,
        "unknown": result.n_unknown,
        "texts_among_known": overlap.total,
        # of those, the ones among their own author's known texts (the ones that flatter the accuracy); the
        # others are another author's (stock replies), or the texts carry no author
        "texts_among_known_by_their_author": overlap.by_their_author if texts_have_authors else None,
        "accuracy": result.accuracy(),  # null when no text's author is among the known ones
        "params": result.params,
    }
    lines = [result.summary()]
    if (
        level == "account"
        and threshold is not None
        and threshold < ACCOUNT_THRESHOLD
        and result.params["method"] == "svm"
    ):
        lines.append(
            f"note: at --level account the svm's probability says which known author is"
            " likeliest, surer the more posts an account has, whoever wrote it: on Blog10's 5-post accounts"
            f" --threshold 0.5 left 24% of the accounts by unknown bloggers unknown, {ACCOUNT_THRESHOLD} 96%; or tune"
            ' it on accounts by strangers (docs/attribution.md, "Open set")'
        )
    if outside := result.params.get("outside_calibrated_sizes"):
        unit = "texts" if level == "text" else "accounts"
        lines.append(
            f"warning: {outside:,} {unit}' best pairs have an account outside the sizes the calibration was fitted"
            f" on ({result.params['calibrated_sizes']}): their P is extrapolated, and an open set's threshold"
            f" may accept a stranger or reject an author{CALIBRATE_HINT}"
        )
    say(summary, [*lines, f"predictions: {path}"], as_json=json)
