"""`authorid evaluate MODEL CORPUS --protocol ... -o OUT/` and `authorid compare OUT1 OUT2 ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from authorid.cli.common import (
    CorpusArgument,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    check_seed,
    console,
    err_console,
    last_cleaning,
    read_corpus,
    say,
    styled,
    user_errors,
)

Protocol = "Protocol settings"


@user_errors
def evaluate_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for metrics.json, report.html, manifests/.")
    ],
    protocol: Annotated[
        str,
        typer.Option(help="sybil, verification, clustering, attribution, a comma-separated list, or all."),
    ] = "sybil",
    accounts: Annotated[
        int | None,
        typer.Option(help="Evaluate a seeded sample of this many eligible accounts (default: all)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every sample, cut and split.")] = 0,
    min_posts: Annotated[
        int | None,
        typer.Option(
            help="Posts an account needs to be eligible (default 20; 2 for attribution).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    max_posts: Annotated[
        int | None,
        typer.Option(
            help="Cap on posts per (pseudo-)account: the most recent, or a seeded sample without times.",
            rich_help_panel=Protocol,
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="Cut accounts by 'time', 'random' or 'auto' (the default: time if every post is dated, else random).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    recall_at: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated k for R@k (sybil) and top-k accuracy (attribution); default 1,8 and 1,5.",
            rich_help_panel=Protocol,
        ),
    ] = None,
    hard_negatives: Annotated[
        bool,
        typer.Option(
            help="Verification: pair persons active in the same threads first.", rich_help_panel=Protocol
        ),
    ] = False,
    cluster_method: Annotated[
        str | None,
        typer.Option(
            "--cluster-method",
            help="Clustering: average (default), mutual-knn, agglomerative or leiden.",
            rich_help_panel=Protocol,
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Clustering: the threshold on P(same person) it starts from (default 0.5).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option(
            help="Clustering: raise the threshold until the clusters' pairwise precision reaches this with"
            " probability 0.9 (default 0.9, as `authorid cluster`; 0 keeps --threshold).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    confidence: Annotated[
        float | None,
        typer.Option(
            help="Clustering: how sure --min-precision must be (default 0.9, as `authorid cluster`).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    prior: Annotated[
        float | None,
        typer.Option(
            help="Clustering: share of same-person pairs (default 1 / (pseudo-accounts - 1)).",
            rich_help_panel=Protocol,
        ),
    ] = None,
    attribution_method: Annotated[
        str | None,
        typer.Option(
            "--attribution-method",
            help="Attribution: auto (default, as `authorid attribute`), centroid, logistic or svm.",
            rich_help_panel=Protocol,
        ),
    ] = None,
    include_training_accounts: Annotated[
        bool,
        typer.Option(
            help="Keep the accounts MODEL trained or validated on (left out by default: the model knows them).",
            rich_help_panel=Protocol,
        ),
    ] = False,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    limit: Annotated[int | None, typer.Option(help="Stop reading after this many posts.")] = None,
) -> None:
    """Evaluate MODEL on CORPUS with the standard protocols; write metrics.json and an HTML report."""
    check_seed(seed)
    from authorid.workflows.common import check_output_folder  # deferred: loads torch
    from authorid.workflows.evaluate import (  # deferred with the workflow above
        ATTRIBUTION_METHODS,  # deferred: as above
        evaluate,
        protocol_names,
    )

    names = protocol_names(protocol)  # a bad name fails before the corpus is read
    ks = _ks(recall_at)
    if accounts is not None and accounts < 2:
        raise ValueError(f"--accounts must be >= 2, got {accounts}")
    if min_posts is not None and min_posts < 2:
        raise ValueError(
            f"--min-posts must be >= 2, got {min_posts}: every protocol cuts an account in two (two"
            " pseudo-accounts, or known and test posts)"
        )
    if max_posts is not None and max_posts < 1:
        raise ValueError(f"--max-posts must be >= 1, got {max_posts}")
    if by is not None and by not in ("time", "random", "auto"):
        raise ValueError(f"--by must be 'time', 'random' or 'auto', got {by!r}")
    for flag, value in (
        ("--threshold", threshold),
        ("--min-precision", min_precision),
        ("--confidence", confidence),
    ):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"{flag} is a probability and must lie in [0, 1], got {value}")
    if prior is not None and not 0.0 < prior < 1.0:
        raise ValueError(f"--prior must be between 0 and 1 (exclusive), got {prior}")
    clustering = {
        "method": cluster_method,
        "threshold": threshold,
        "min_precision": min_precision,
        "confidence": confidence,
        "prior": prior,
    }
    given = [
        f"--{k.replace('_', '-')}" if k != "method" else "--cluster-method"
        for k, v in clustering.items()
        if v is not None
    ]
    if given and "clustering" not in names:
        raise ValueError(f"{', '.join(given)} set(s) the clustering protocol; add --protocol clustering")
    if attribution_method is not None:
        if attribution_method not in ATTRIBUTION_METHODS:
            raise ValueError(
                f"--attribution-method must be one of {', '.join(ATTRIBUTION_METHODS)}, got {attribution_method!r}"
            )
        if "attribution" not in names:
            raise ValueError("--attribution-method sets the attribution protocol; add --protocol attribution")
    check_output_folder(out, kind="evaluation", overwrite=overwrite)
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, limit=limit, quiet=json)
    run = evaluate(
        model,
        posts,
        protocol=names,
        accounts=accounts,
        seed=seed,
        out=out,
        overwrite=overwrite,
        corpus=corpus,
        include_training_accounts=include_training_accounts,
        cleaning=last_cleaning(),
        progress=True,
        min_posts=min_posts,
        max_posts=max_posts,
        by=by,
        hard_negatives=hard_negatives or None,
        ks=ks,
        attribution_method=attribution_method,
        **clustering,
    )
    if json:
        say(run, [], as_json=True)
        return
    for name, entry in run["protocols"].items():
        headline = ", ".join(
            # a task named as its protocol (clustering: clustering) is said once
            f"{'' if task == name else task + ' '}{key} "
            + (f"{value:.4f}" if isinstance(value, float) else f"{value:,}")
            for task, values in entry["metrics"].items()
            if task != "per_author"
            for key, value in values.items()
            if key in _HEADLINE_KEYS or key.startswith("r@")
        )
        console.print(Text.assemble((name, "bold"), f": {headline}"), soft_wrap=True)
        if name == "clustering":
            console.print(clustering_line(entry["settings"]), soft_wrap=True, markup=False)
    for line in eligibility_lines(run["protocols"]):
        console.print(line, soft_wrap=True, markup=False)
    console.print(f"metrics: {run['outputs']['metrics']}", soft_wrap=True)
    console.print(f"report:  {run['outputs']['report']}", soft_wrap=True)


_HEADLINE_KEYS = {"mrr", "pool_size", "auc", "eer", "ece", "ece_floor", "overall", "bcubed_f1", "ari", "n_pred",
                  "pairwise_precision", "pairwise_recall", "accuracy", "macro_f1",
                  "auroc_known_vs_unknown"}  # fmt: skip


def eligibility_lines(protocols: dict) -> list[str]:
    """One line per --min-posts the protocols applied that left accounts out: a corpus read raw is cleaned
    first, and the posts cleaning drops can take an account below --min-posts, so the count is said after
    cleaning (the `cleaned:` line above says what it dropped)."""
    said = {}
    for name, entry in protocols.items():
        settings = entry.get("settings", {})
        read, eligible, least = (settings.get(k) for k in ("accounts_in", "accounts_eligible", "min_posts"))
        if None not in (read, eligible, least) and eligible < read:
            said.setdefault((read, eligible, least), []).append(name)
    return [
        f"{', '.join(names)}: {eligible:,} of {read:,} accounts have >= {least} posts after cleaning"
        f" (--min-posts {least}): {read - eligible:,} left out"
        for (read, eligible, least), names in said.items()
    ]


def clustering_line(settings: dict) -> str:
    """The threshold the clustering protocol used (raised by --min-precision, per fold) and what it expected."""
    used = ", ".join(f"{t:g}" for t in dict.fromkeys(settings.get("thresholds_used") or []))
    expected = settings.get("expected_pairwise_precision")
    line = f"  threshold used {used or settings.get('threshold_from')}"
    start = settings.get("threshold_from")
    raised = start is not None and any(t > start for t in settings.get("thresholds_used") or [])
    if settings.get("min_precision"):
        sure = f" with probability {settings['confidence']:g}" if settings.get("confidence") else ""
        target = f"--min-precision {settings['min_precision']:g}{sure}"
        # audit 14: "raised" was said of a threshold left where it started (every account alone)
        line += f" (raised from {start:g} to reach {target})" if raised else f" (not raised: {target} asked)"
    if expected is not None:
        line += f"; expected pairwise precision {expected:.3f}"
    elif settings.get("thresholds_used"):
        line += "; no two accounts were grouped, so no precision is expected"
    return line


def _ks(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        ks = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        ks = ()
    if not ks or min(ks) < 1:
        raise ValueError(f"--recall-at must be positive integers separated by commas, got {text!r}")
    return ks


@user_errors
def compare_command(
    runs: Annotated[
        list[Path], typer.Argument(metavar="RUNS", help="Evaluation output folders (or their metrics.json).")
    ],
    json: JsonOption = False,
) -> None:
    """Print the metrics of several evaluation runs side by side."""
    from authorid.workflows.compare import comparison, table_of  # deferred: `--help` stays fast

    compared = comparison(list(runs))
    if json:
        say(compared, [], as_json=True)
    else:
        console.print(table_of(compared))
    why = compared["why_queries_differ"]
    if why:
        reasons = "; ".join(why.values())
        said = f" the runs did not score the same queries, so these figures are not comparable: {reasons}"
        err_console.print(styled("warning:", "yellow", said), soft_wrap=True)
