"""`authorid index build|add|remove` (enrol or remove accounts) and `authorid link` (open-set top-k linking of
query accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from authorid.cli.common import (
    CALIBRATE_HINT,
    CorpusArgument,
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
    console,
    need_corpus_or_vectors,
    read_corpus,
    say,
    user_errors,
)

index_app = typer.Typer(
    help="Build an index of account vectors, enrol more accounts into one, or remove some.",
    no_args_is_help=True,
)
IndexArgument = Annotated[
    Path, typer.Argument(metavar="INDEX", help="An index folder written by `authorid index build`.")
]


@index_app.command("build")
@user_errors
def index_build_command(
    model: ModelArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Index folder to write.")],
    corpus: OptionalCorpusArgument = None,
    kind: Annotated[
        str, typer.Option(help="'auto' (exact below 50k accounts, else ivf), 'exact', 'hnsw', 'ivf'.")
    ] = "auto",
    ef_search: Annotated[int | None, typer.Option(help="HNSW efSearch (recall vs speed).")] = None,
    nprobe: Annotated[int | None, typer.Option(help="IVF cells scanned per query.")] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json to keep in the index for `link`.")
    ] = None,
    vectors: VectorsOption = None,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Embed the accounts of CORPUS (or take --vectors) and build a searchable index of them."""
    from authorid.workflows.common import (  # deferred: loads torch; `--help` stays fast
        check_calibration_model,
        check_engine,
        check_output_folder,
        load_calibration,
        load_vectors,
        model_before_corpus,
        model_for,
    )
    from authorid.workflows.index import build_account_index, search_params  # deferred: as above

    need_corpus_or_vectors(corpus, vectors)
    check_engine(engine, ray_address)
    params = search_params(kind, ef_search, nprobe)
    check_output_folder(out, kind="index", overwrite=overwrite)
    calibrator = load_calibration(calibration) if calibration is not None else None
    early = model_before_corpus(model)
    if calibrator is not None and not isinstance(early, str):
        check_calibration_model(calibrator, early, force=force)
    posts = None
    if corpus is not None:
        posts, _ = read_corpus(
            corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="nothing to enrol"
        )
    style_model = model_for(early, posts)
    account_vectors = load_vectors(vectors, style_model, force=force) if vectors is not None else None
    index = build_account_index(
        style_model,
        model,
        posts,
        out,
        kind=kind,
        calibration=calibrator,
        vectors=account_vectors,
        overwrite=overwrite,
        force=force,
        progress=True,
        engine=engine,
        ray_address=ray_address,
        **params,
    )
    lines = [
        f"enrolled {len(index):,} accounts ({index.kind} index, {index.dim} dims, model {model})",
        f"calibration kept with the index for `link`: {calibration}"
        if calibration is not None
        else "no calibration kept: `link` reads the model's own, if it has one (--calibration keeps another)",
        f"index: {out}",
    ]
    summary = {"accounts": len(index), "kind": index.kind, "dim": index.dim, "index": str(out)}
    say(summary | {"calibration": str(calibration) if calibration else None}, lines, as_json=json)


@index_app.command("add")
@user_errors
def index_add_command(
    index: IndexArgument,
    corpus: CorpusArgument,
    on_duplicate: Annotated[
        str,
        typer.Option(
            help="An account already enrolled: 'raise' stops (before any embedding); 'skip' keeps its enrolled"
            " vector; 'replace' embeds it again from CORPUS's posts (give all of them, not only the new ones)."
        ),
    ] = "raise",
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Enrol the accounts of CORPUS into an existing index (same model, no rebuild; crash-safe)."""
    from authorid.workflows.common import check_engine  # deferred: loads torch; `--help` stays fast
    from authorid.workflows.index import (  # deferred: as above
        GROWTH_LIMIT,
        ON_DUPLICATE,
        add_accounts,
        fixed_at_build,
        index_to_grow,
    )

    check_engine(engine, ray_address)
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"--on-duplicate must be one of {', '.join(ON_DUPLICATE)}, got {on_duplicate!r}")
    target = index_to_grow(index)  # the index and its model are checked before the corpus is read
    posts, _ = read_corpus(
        corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="nothing to enrol"
    )
    done = add_accounts(
        target, posts, on_duplicate=on_duplicate, progress=True, engine=engine, ray_address=ray_address
    )
    vector_index = done.index
    needs_rebuild = bool(getattr(vector_index, "needs_rebuild", False))  # an exact index never does
    fates = [
        f"{done.replaced:,} already enrolled, embedded again from these posts" if done.replaced else "",
        f"{done.skipped:,} already enrolled, skipped" if done.skipped else "",
    ]
    fates = [fate for fate in fates if fate]
    lines = [
        f"enrolled {done.added:,} new accounts, {len(vector_index):,} in all"
        + (f" ({'; '.join(fates)})" if fates else ""),
        f"index: {index}",
    ]
    if done.replaced and vector_index.kind == "hnsw":
        lines.append(HNSW_REBUILT.format(count=len(vector_index)))
    # audit 14: the accounts that had gained posts kept their old vectors without a word
    if done.skipped_with_other_posts:
        lines.append(
            f"note: {done.skipped_with_other_posts:,} of the skipped accounts have another number of posts here"
            " than when they were enrolled: their enrolled vectors are kept; --on-duplicate replace embeds them"
            " again from these posts"
        )
    if (done.added or done.replaced) and fixed_at_build(index):
        embedded = "the new accounts" if not done.replaced else "the accounts embedded"
        lines.append(
            f"note: {embedded} were centred as the accounts enrolled at build time are (the model the index"
            " keeps: their centre, or a stylometric model's vocabulary); `authorid index build` on every account"
            " refits it to all of them"
        )
    if needs_rebuild:
        lines.append(
            f"note: the index holds {len(vector_index):,} accounts, more than {GROWTH_LIMIT} times the"
            f" {vector_index.params['trained_on']:,} its IVF cells were trained on; queries slow down as the"
            " cells fill: rebuild it with `authorid index build`"
        )
    say(
        {
            "added": done.added,
            "replaced": done.replaced,
            "skipped": done.skipped,
            "skipped_with_other_posts": done.skipped_with_other_posts,
            "accounts": len(vector_index),
            "needs_rebuild": needs_rebuild,
            "index": str(index),
        },
        lines,
        as_json=json,
    )


#: An HNSW graph cannot drop a node: removing or replacing accounts builds it again (minutes at a million).
HNSW_REBUILT = (
    "note: an HNSW graph cannot drop an account, so it was built again from the {count:,} accounts enrolled"
)


@index_app.command("remove")
@user_errors
def index_remove_command(
    index: IndexArgument,
    account_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ACCOUNT_IDS", help="Account ids to remove (or --ids-file).", show_default=False
        ),
    ] = None,
    ids_file: Annotated[
        Path | None, typer.Option("--ids-file", help="A text file of account ids to remove, one a line.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Remove accounts from an index (deleted or erased accounts; crash-safe, the model and calibration kept)."""
    from authorid.workflows.index import (  # deferred: loads torch; `--help` stays fast
        index_to_grow,
        read_ids_file,
        remove_accounts,
    )

    wanted = list(account_ids or [])
    if ids_file is not None:
        wanted += read_ids_file(ids_file)
    if not wanted:
        raise ValueError("no account to remove: give account ids, or --ids-file FILE")
    vector_index, removed, absent = remove_accounts(index_to_grow(index), wanted)
    lines = [f"removed {removed:,} accounts, {len(vector_index):,} left", f"index: {index}"]
    if removed and vector_index.kind == "hnsw":
        lines.append(HNSW_REBUILT.format(count=len(vector_index)))
    if absent:
        shown = ", ".join(repr(a) for a in absent[:3]) + (", ..." if len(absent) > 3 else "")
        lines.insert(1, f"note: {len(absent):,} of the ids given are not enrolled ({shown})")
    summary = {
        "removed": removed,
        "not_enrolled": len(absent),
        "accounts": len(vector_index),
        "index": str(index),
    }
    say(summary, lines, as_json=json)


#: Queries whose best candidate the printed table shows when the links are written to a file.
TABLE_ROWS = 20


@user_errors
def link_command(
    index: IndexArgument,
    query_corpus: Annotated[
        str | None,
        typer.Argument(
            metavar="QUERY_CORPUS",
            help="The accounts to link: a dump (.jsonl/.json/.csv/.tsv/.parquet, .gz allowed), a folder of them, or a"
            " corpus preset name (not needed with --vectors).",
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Candidates per query account.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write every candidate row to this CSV.")
    ] = None,
    calibration: Annotated[
        Path | None, typer.Option(help="calibration.json (default: the index's, else the model's).")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Link only above this (probability when calibrated, else cosine); default: the calibration's."
        ),
    ] = None,
    prior: Annotated[
        float | None,
        typer.Option(
            help="Share of same-person pairs among a query's pairs with the enrolled accounts, which every"
            " P(same person) assumes; default: 1/(enrolled accounts), one account of its person among them.",
        ),
    ] = None,
    vectors: VectorsOption = None,
    hubness: Annotated[
        bool,
        typer.Option(
            help="Rank candidates by cosine less half their neighbourhood density (CSLS), so accounts close to"
            " everyone do not crowd every list; --no-hubness ranks by cosine.",
        ),
    ] = True,
    explain_with: Annotated[
        str | None,
        typer.Option(
            help="The corpus the index was built from (an index keeps no texts): each query's best candidate"
            " row gets a reason, the pair's 5 strongest shared habits.",
        ),
    ] = None,
    explain_map: Annotated[
        str | None,
        typer.Option(
            help="Column map SOURCE=CANONICAL,... of the --explain-with corpus, when its columns are not the"
            " query corpus' (two markets in two formats); default: --map (none for a Parquet file `ingest` wrote).",
            rich_help_panel="Reading the corpus",
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Rank enrolled accounts for each query account (QUERY_CORPUS or --vectors); a query whose best
    candidate is below --threshold is answered 'unknown' (open set)."""
    from authorid.workflows.common import (  # deferred: loads torch; `--help` stays fast
        check_output_file,
        ingested,
    )
    from authorid.workflows.link import (  # deferred: as above
        check_explain_columns,
        link_accounts,
        open_link_target,
        write_links,
    )

    need_corpus_or_vectors(query_corpus, vectors)
    if k < 1:
        raise ValueError(f"-k must be >= 1 candidate, got {k}")
    if prior is not None and not 0 < prior < 1:
        raise ValueError(f"--prior must be between 0 and 1 (exclusive), got {prior}")
    if out is not None:
        check_output_file(
            out, overwrite=overwrite, option="-o", writes=("link", "CSV"), inputs=(query_corpus, vectors)
        )
    # the index, its calibration and --threshold against it (a probability when calibrated), before any query
    target = open_link_target(index, calibration, threshold=threshold, force=force)
    if threshold is not None and not -1 <= threshold <= 1:
        raise ValueError(
            f"--threshold is a cosine without a calibration and must lie in [-1, 1], got {threshold}"
        )
    if explain_map is not None and explain_with is None:
        raise ValueError(
            "--explain-map maps the columns of the --explain-with corpus; give --explain-with too"
        )
    explain_columns = explain_map
    if explain_map is None and explain_with is not None and not ingested(explain_with):
        explain_columns = map  # one format for both corpora, unless the explain corpus is `ingest`'s Parquet
    if explain_with is not None:  # its columns before the query corpus is read (a long read, then a refusal)
        check_explain_columns(explain_with, explain_columns, preset, own_map=explain_map is not None)
    posts = None
    if query_corpus is not None:
        posts, _ = read_corpus(
            query_corpus, map=map, preset=preset, on_error=on_error, quiet=json, empty="nothing to link"
        )
    enrolled = None
    if explain_with is not None:
        enrolled, _ = read_corpus(
            explain_with, map=explain_columns, preset=preset, on_error=on_error, quiet=json
        )
    links, n_queries = link_accounts(
        target,
        posts,
        k=k,
        threshold=threshold,
        vectors=vectors,
        force=force,
        progress=True,
        explain_with=enrolled,
        hubness=hubness,
        prior=prior,
    )
    written = (
        write_links(out, links) if out is not None else None
    )  # before printing: a closed pipe loses nothing
    linked = n_queries - links.n_unknown()
    enrolled_ids = set(target.index.ids)
    named_as_enrolled = {row["query_account"] for row in links.rows if row["query_account"] in enrolled_ids}
    decided = links.calibrated or threshold is not None  # else the candidates are only ranked
    summary = {
        "queries": n_queries,
        "linked": linked,
        "unknown": links.n_unknown(),
        "calibrated": links.calibrated,
        "ranked_by": "hubness-corrected cosine" if links.hubness else "cosine",
        "probability_from": None if not links.calibrated else "cohort_score" if links.cohort else "cosine",
        "prior": links.prior,
        "calibration": links.calibration_from,
        "enrolled": links.enrolled,
        "outside_calibrated_sizes": links.outside_sizes,
        "tied_best": links.tied_best,
        "links": str(written) if written else None,
        "best": {row["query_account"]: row for row in links.rows if row["rank"] == 1},
        # queries named as an enrolled account (audit 8: the same accounts find themselves first), and of those
        # the ones whose best candidate is that account
        "named_as_enrolled": len(named_as_enrolled),
        "linked_to_themselves": sum(
            1 for row in links.rows if row["rank"] == 1 and row["account_id"] == row["query_account"]
        ),
        "decided": decided,
    }
    if json:
        say(summary, [], as_json=True)
        return
    table = Table(
        title=f"top candidate per query ({'calibrated P(same person)' if links.calibrated else 'cosine'})"
    )
    for column in ("query", "best candidate", "P(same)" if links.calibrated else "cosine", "link"):
        table.add_column(column, overflow="fold")
    best = [r for r in links.rows if r["rank"] == 1]
    # with -o the file holds every row: the terminal gets the first few (500 queries printed 500 rows)
    shown = best[:TABLE_ROWS] if written is not None else best
    for row in shown:
        score = row["probability"] if links.calibrated else row["cosine"]
        table.add_row(row["query_account"], row["account_id"], f"{score:.3f}", row["link"])
    if len(shown) < len(best):
        table.caption = f"the first {len(shown):,} of {len(best):,} queries; every one in {written}"
    console.print(table)
    if decided:
        lines = [
            f"linked {linked:,} of {n_queries:,} query accounts; {links.n_unknown():,} unknown"
            + ("" if links.calibrated else " (no calibration: scores are cosines)")
        ]
    else:
        lines = [
            f"ranked the enrolled accounts for {n_queries:,} query accounts; nothing decided (column link says"
            " unknown): this index's model has no calibration, and a raw cosine says nothing about P(same"
            " person); give --threshold COSINE, or --calibration from `authorid calibrate`"
        ]
    if links.hubness:
        lines.append(
            "candidates ranked by cosine less half their neighbourhood density (--no-hubness: by cosine)"
        )
    elif links.hubness_reason:
        lines.append(links.hubness_reason)
    if links.calibration_from is not None:
        lines.append(f"calibration: {links.calibration_from}")
    if links.prior is not None:
        lines.append(
            f"P(same person) assumes a share of {links.prior:.3g} same-person pairs among a query's pairs with"
            " the enrolled accounts"
            + (" (--prior)" if prior is not None else " (one of them its person's; --prior changes it)")
        )
    if links.cohort:
        lines.append(
            "P(same person) read from each cosine less both accounts' excess closeness to the enrolled accounts"
            " (column cohort_score)"
        )
    elif links.cosine_fit_reason:
        lines.append(links.cosine_fit_reason)
    if links.outside_sizes:
        lines.append(
            f"warning: {links.outside_sizes:,} queries' best candidate pairs have an account outside the sizes the"
            f" calibration was fitted on ({links.sizes_seen}): their P is extrapolated (column sizes_calibrated)"
            f"{CALIBRATE_HINT}"
        )
    if links.tied_best:
        whose = "query's" if links.tied_best == 1 else "queries'"
        lines.append(
            f"note: {links.tied_best:,} {whose} first two candidates have the same score (an account enrolled twice"
            " under two names, or posts copied between accounts): rank 1 goes to the lower account id; the rows"
            " list both, with the same score"
        )
    if named_as_enrolled:
        lines.append(
            f"warning: {len(named_as_enrolled):,} query accounts have the id of an enrolled account"
            f" ({summary['linked_to_themselves']:,} of them rank it first): a query the index already holds is"
            " found as itself, so link accounts the index does not hold"
        )
    if written is not None:
        lines.append(f"links: {written}")
    say(summary, lines, as_json=False)
