"""`authorid attribute MODEL --known KNOWN TEXTS -o predictions.csv`: which known author wrote each text?"""

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
def attribute_command(
    model: ModelArgument,
    texts: CorpusArgument,
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
    method: Annotated[str, typer.Option(help="'centroid', 'logistic' or 'svm'.")] = "centroid",
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Attribute texts to known authors (closed set, or open set with --threshold)."""
    from authorid.workflows.attribute import attribute  # deferred: loads torch; `--help` stays fast

    known_posts, _ = read_corpus(
        known, map=map, preset=preset, on_error=on_error, empty="no authors to attribute to"
    )
    text_posts, _ = read_corpus(
        texts, map=map, preset=preset, on_error=on_error, empty="nothing to attribute"
    )
    result = attribute(
        model,
        known_posts,
        text_posts,
        level=level,
        top_k=top_k,
        open_set_threshold=threshold,
        method=method,
        progress=console.is_terminal,
    )
    path = result.to_csv(out)
    console.print(result.summary(), soft_wrap=True, markup=False)
    console.print(f"predictions: {path}", soft_wrap=True)
