"""`authorid cluster MODEL CORPUS -o clusters/`: group accounts into presumed persons, with the evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CALIBRATE_HINT,
    EngineOption,
    ForceOption,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OptionalCorpusArgument,
    OverwriteOption,
    PresetOption,
    RayAddressOption,
    VectorsOption,
    check_seed,
    err_console,
    need_corpus_or_vectors,
    read_corpus,
    say,
    styled,
    user_errors,
)


@user_errors
def cluster_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for clusters.jsonl and assignments.csv.")],
    corpus: OptionalCorpusArgument = None,
    method: Annotated[
        str,
        typer.Option(
            help="'average' (groups merge only when all their pairs agree on average: no chaining),"
            " 'mutual-knn', 'agglomerative' or 'leiden'."
        ),
    ] = "average",
    k: Annotated[int, typer.Option("--k", help="Nearest neighbours per account in the graph.")] = 10,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Decision threshold: P(same person) with a calibration (default: the calibration's own), "
            "a cosine without one (default 0.5)."
        ),
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option(
            help="With a calibration: raise the threshold until the clusters' pairwise precision reaches this"
            " with probability 0.9, each pair right with its P. Default 0.9 when --threshold is not given; 0"
            " turns it off.",
        ),
    ] = None,
    confidence: Annotated[
        float | None,
        typer.Option(
            help="How sure --min-precision must be: the probability (each pair right with its P) that the"
            " clusters' pairwise precision reaches it. Default 0.9; 0.5 asks about as much as the expected"
            " precision reaching it.",
        ),
    ] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="A calibration.json (default: the model's own, if any).")
    ] = None,
    prior: Annotated[
        float | None,
        typer.Option(
            help="Share of same-person pairs among the accounts' pairs; P(same person) is moved to it"
            " (default 1 / (accounts - 1): each account has at most one sibling on average)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for Leiden and the cohesion sample.")] = 0,
    max_groups: Annotated[int, typer.Option(help="Groups listed in the printed summary.")] = 10,
    vectors: VectorsOption = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add each evidence pair's 5 strongest shared habits to clusters.jsonl (needs CORPUS; the full"
            " evidence of a pair: `authorid explain`).",
        ),
    ] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            help="An earlier run's --out folder: clusters keep the ids of the earlier clusters they share the most"
            " accounts with (the largest overlaps first, each id once), the others get ids never used before"
            " (clusters.jsonl's since_previous says same / changed / new).",
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Cluster a corpus's accounts into presumed persons (no number of persons needed)."""
    check_seed(seed)
    from authorid.workflows.cluster import (  # deferred: loads torch; `--help` stays fast
        check_options,
        cluster,
        read_previous,
    )
    from authorid.workflows.common import (  # deferred with the workflow above
        check_calibration_model,
        check_engine,
        check_output_folder,
        load_calibration,
        load_vectors,
        model_before_corpus,
        model_for,
        training_accounts_in,
    )

    need_corpus_or_vectors(corpus, vectors)
    if explain and corpus is None:  # knowable before the vectors are read (audit 15)
        raise ValueError("--explain needs the corpus (the reasons are read from the accounts' own posts)")
    check_engine(engine, ray_address)
    if k < 1:
        raise ValueError(f"--k must be >= 1 neighbour, got {k}")
    if max_groups < 0:
        raise ValueError(f"--max-groups must be >= 0, got {max_groups}")
    if prior is not None and not 0 < prior < 1:
        raise ValueError(f"--prior must be between 0 and 1 (exclusive), got {prior}")
    earlier = read_previous(previous) if previous is not None else None  # read before --out may replace it
    check_output_folder(out, kind="clusters", overwrite=overwrite)
    calibrator = load_calibration(calibration) if calibration is not None else None
    if min_precision is not None and not 0.0 <= min_precision <= 1.0:
        raise ValueError(f"--min-precision must lie in [0, 1], got {min_precision}")
    if confidence is not None and not 0.0 <= confidence < 1.0:
        raise ValueError(
            f"--confidence is a probability and must lie in [0, 1) (1 is a certainty no calibrated P gives),"
            f" got {confidence}"
        )
    if confidence is not None and threshold is not None and min_precision is None:
        raise ValueError(
            "--confidence says how sure --min-precision must be, and a --threshold given is not raised to one:"
            " add --min-precision, or leave --confidence out"
        )
    early = model_before_corpus(model)
    if calibrator is not None and not isinstance(early, str):
        check_calibration_model(calibrator, early, force=force)
    # said before the corpus is read: a model fitted on the corpus (a spec still) has no calibration of its own
    calibrated = calibrator is not None or (not isinstance(early, str) and early.calibration is not None)
    for flag, value in (("--min-precision", min_precision), ("--confidence", confidence)):
        if value is not None and not calibrated:
            raise ValueError(
                f"{flag} needs a calibration (P(same person) on every edge): {model} has none; pass"
                f" --calibration, or leave {flag} out (the threshold is then a cosine)"
            )
    check_options(method, k, threshold, calibrated=calibrated)
    posts = None
    if corpus is not None:
        posts, _ = read_corpus(
            corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="no accounts to cluster"
        )
    style_model = model_for(early, posts)
    account_vectors = load_vectors(vectors, style_model, force=force) if vectors is not None else None
    if calibrator is None and style_model.calibration is None and not json:
        err_console.print(
            styled(
                "warning:",
                "yellow",
                " no calibration (pass --calibration or a calibrated model): edges are raw cosines and"
                f" --threshold {0.5 if threshold is None else threshold} is a cosine, not a probability",
            ),
            soft_wrap=True,
        )
    known, accounts = (0, 0)
    if calibrated:  # a vectors file names its accounts as a corpus does
        ids = account_vectors.account_ids if posts is None else None
        known, accounts = training_accounts_in(style_model, posts, account_ids=ids)
    if known and not json:  # P is calibrated for accounts the model never saw; its own score otherwise
        said = (
            f" {known:,} of {accounts:,} accounts are ones {model} trained or validated on: the P of their edges is"
            " not calibrated (a model's own accounts score unlike new ones), so neither is the expected precision"
        )
        err_console.print(styled("warning:", "yellow", said), soft_wrap=True)
    outputs = cluster(
        style_model,
        posts,
        out=out,
        method=method,
        k=k,
        threshold=threshold,
        min_precision=min_precision,
        confidence=confidence,
        calibration=calibrator,
        prior=prior,
        vectors=account_vectors,
        overwrite=overwrite,
        force=force,
        seed=seed,
        progress=True,
        explain=explain,
        engine=engine,
        ray_address=ray_address,
        previous=earlier,
    )
    report = outputs.report
    stats = report.stats
    lines = [report.summary(max_groups=max_groups)]
    if stats["largest_cluster"] > 0.1 * stats["n_accounts"] and stats["largest_cluster"] >= 20:
        lines.append(
            f"warning: the largest cluster holds {stats['largest_cluster']:,} of {stats['n_accounts']:,} accounts:"
            " likely chaining; raise --threshold or lower --k"
        )
    used = calibrator if calibrator is not None else style_model.calibration
    if used is not None:  # what an edge means: the calibration, its fit, the prior and the threshold
        params = report.params
        source = f"--calibration {calibration}" if calibration is not None else "the model's own calibration"
        forum = "1/(accounts - 1)" if stats["n_accounts"] >= 3 else "1/(accounts - 1), at most 1/2"
        assumed = "--prior" if prior is not None else f"{forum}; --prior changes it"
        lines.append(
            f"edges: P(same person) >= {params['threshold']:g} at a prior of {params['prior']:.3g} ({assumed}),"
            f" from {source}"
        )
        lines.append(raised_threshold_line(params, stats))
        if params.get("outside_calibrated_sizes"):
            lines.append(
                f"warning: {params['outside_calibrated_sizes']:,} of {stats['n_accounts']:,} accounts lie outside the"
                f" sizes the calibration was fitted on ({used.sizes_seen()}): their edges' P is extrapolated"
                f"{CALIBRATE_HINT}"
            )
        if params.get("scores") == "cohort-normalised":
            lines.append(
                "edges read the calibration's cohort fit: each cosine less its accounts' excess closeness to"
                " everyone here"
            )
        else:
            lines.append(used.cosine_fit_reason(stats["n_accounts"]))
    copied = report.params.get("groups_with_copied_posts")
    if copied:
        lines.append(
            f"warning: {copied:,} group{'s' * (copied != 1)} hold accounts that posted a text word for word"
            " (copied_pairs in clusters.jsonl): copied text (a template, a meme, a repost) joins accounts whoever"
            " wrote it; `authorid explain` shows the texts"
        )
    if outputs.carried is not None:
        lines.append(outputs.carried.line())
    lines += [f"clusters:    {outputs.clusters_path}", f"assignments: {outputs.assignments_path}"]
    summary = {
        "stats": stats,
        "params": report.params,
        "clusters": str(outputs.clusters_path),
        "assignments": str(outputs.assignments_path),
    }
    say(summary, lines, as_json=json)


def raised_threshold_line(params: dict, stats: dict) -> str:
    """What the clusters' pairs are expected to be worth, and whether --min-precision raised the threshold."""
    expected = stats.get("expected_pairwise_precision")
    target = params.get("min_precision")
    tried = params.get("thresholds_tried") or {}
    if expected is None:
        first = min(tried, key=float) if target and tried else None
        if first is None or float(first) >= params["threshold"] or tried[first] is None:
            return "no two accounts were grouped"
        # the raise left nothing to group: say what the threshold it started from would have grouped
        chance = (params.get("chances_tried") or {}).get(first)
        reach = "" if chance is None else f", reaching {target:g} with probability {chance:.2f}"
        return (
            f"no two accounts were grouped: the threshold was raised from {float(first):g} to"
            f" {params['threshold']:g} to reach --min-precision {target:g} (at {float(first):g} the clusters'"
            f" expected pairwise precision was {tried[first]:.3f}{reach}); --min-precision 0 keeps {float(first):g}"
        )
    pairs = stats.get("pairs_formed")
    over = f" over {pairs:,} pairs" if pairs else ""
    said = f"expected pairwise precision {expected:.3f}{over} (the mean P of the pairs the clusters form)"
    if not target:
        return said
    lowest = min(float(step) for step in tried)
    chance, confidence = stats.get("chance_of_min_precision"), params.get("confidence")
    sure = ""  # a report written before stop 40 asked the expected precision: no chance recorded
    if chance is not None and confidence is not None:
        if chance < confidence:
            return (
                f"warning: {said}; it reaches --min-precision {target:g} only with probability {chance:.2f} even"
                f" at the highest threshold tried ({params['threshold']:g})"
            )
        sure = f" with probability {chance:.2f} (P read as calibrated; {confidence:g} asked)"
    if params["threshold"] > lowest:
        return (
            f"threshold raised from {lowest:g} to {params['threshold']:g} to reach --min-precision {target:g}"
            f"{sure}: {said}; --min-precision 0 keeps {lowest:g}"
        )
    return f"{said}: it reaches --min-precision {target:g}{sure} without raising the threshold"
