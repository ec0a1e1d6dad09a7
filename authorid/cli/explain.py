"""`authorid explain MODEL CORPUS A B -o DIR`: why two accounts look like one writer (evidence.json + .html)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    console,
    read_corpus,
    say,
    user_errors,
)


def read_as_lines(evidence: dict) -> list[str]:
    """How the P was read (as `score` reads the pair: the cohort or the cosine fit, at the calibration's own
    prior) and whether cleaning changed the corpus, so a figure that differs from `score`'s says why."""
    calibration = evidence.get("calibration")
    lines = []
    if calibration is not None:
        fit = calibration.get("fit")
        read = (
            f"its cohort score {evidence['cohort_score']:.4f} (the cosine less the pair's excess closeness to"
            " everyone in the pool)"
            if fit == "cohort"
            else "the cosine"
        )
        lines.append(
            f"P(same person) read from {read} by the calibration's {fit} fit, at its own prior"
            f" {calibration['prior']:.3g}, as `score` reads the pair"
        )
        if calibration.get("why_cosine"):
            lines.append(calibration["why_cosine"])
    return lines


@user_errors
def explain_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    account_a: Annotated[str, typer.Argument(metavar="ACCOUNT_A", help="The first account id.")],
    account_b: Annotated[str, typer.Argument(metavar="ACCOUNT_B", help="The second account id.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for evidence.json and evidence.html.")
    ] = Path("evidence"),
    top: Annotated[int, typer.Option(help="Features listed for and against the link.")] = 15,
    index: Annotated[
        Path | None,
        typer.Option(
            help="An index built from this corpus with MODEL (`authorid index build`): only the pair is"
            " embedded (the fast path; the percentile is among the enrolled accounts)."
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Explain the similarity of two accounts: P(same person), the habits for and against, the posts behind them.

    For the n-gram models (`style`, `authorid train --preset ngram`) and the stylometric profile the similarity
    splits exactly over features; for a transformer, the most similar post pairs are shown instead."""
    from authorid.workflows.common import check_output_folder  # deferred: loads torch
    from authorid.workflows.explain import explain, percentile_said  # deferred with the workflow above

    if top < 1:
        raise ValueError(f"--top must be >= 1, got {top}")
    check_output_folder(out, kind="evidence", overwrite=overwrite)
    # read as every verb reads a corpus (cleaned as `ingest` cleans it, identifiers masked, unless it is an ingested
    # Parquet file), so the pair's P is the one `score` gives it
    posts, report = read_corpus(corpus, map=map, preset=preset, on_error=on_error, empty="nothing to explain")
    evidence = explain(
        model,
        posts,
        account_a,
        account_b,
        out=out,
        overwrite=overwrite,
        top=top,
        index=index,
        emptied=report.emptied_accounts,
    )
    if json:
        say(evidence, [], as_json=True)
        return
    p = evidence["probability"]
    verdict = f"P(same person) {p:.3f}, decision {evidence['decision']}" if p is not None else "uncalibrated"
    among = "the index's enrolled accounts' pairs" if index is not None else "the corpus' pairs"
    console.print(
        f"{account_a} ~ {account_b}: similarity {evidence['similarity']:.4f}, {verdict};"
        f" higher than {percentile_said(evidence['corpus_pairs'].get('percentile'))} of {among}",
        soft_wrap=True,
        markup=False,
    )
    for line in read_as_lines(evidence):
        console.print(line, soft_wrap=True, markup=False)
    copied = evidence["copied_posts"]
    if copied:
        first = copied[0]
        text = first["text"] if len(first["text"]) <= 60 else first["text"][:59] + "…"  # the page has more
        console.print(
            f"warning: the two accounts share {len(copied):,} post{'s' * (len(copied) != 1)} word for word (as"
            " cleaned: links, addresses and mentions masked);"
            f" copied text raises P whoever wrote it (a template or a meme is no evidence of one writer):"
            f" {text!r}, posted by {first['accounts']:,} accounts of the corpus"
            + (f", and {len(copied) - 1:,} more on the page" if len(copied) > 1 else ""),
            soft_wrap=True,
            markup=False,
        )
    for entry in evidence.get("for", [])[:5]:
        grams = ", ".join(repr(n["text"]) for n in entry["ngrams"][:2])
        console.print(
            f"  + {entry['contribution']:+.4f} {entry['habit']}: {grams}", soft_wrap=True, markup=False
        )
    for what, path in evidence["outputs"].items():
        console.print(f"{what}: {path}", soft_wrap=True, markup=False)
