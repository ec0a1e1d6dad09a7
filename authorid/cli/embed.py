"""`authorid embed MODEL CORPUS -o vectors.parquet`: one vector per account (or per post with --level post)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    CorpusArgument,
    EngineOption,
    JsonOption,
    MapOption,
    ModelArgument,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    RayAddressOption,
    read_corpus,
    say,
    user_errors,
)


@user_errors
def embed_command(
    model: ModelArgument,
    corpus: CorpusArgument,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the vectors (.parquet).")],
    level: Annotated[
        str, typer.Option(help="'account': one vector per account; 'post': one per post.")
    ] = "account",
    batch_size: Annotated[int, typer.Option(help="Posts per encoder batch.")] = 64,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
    engine: EngineOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Embed a corpus with a style model: account vectors (default) or post vectors, as Parquet.

    Account vectors record the model's fingerprint: `link`, `index build`, `cluster` and `score` take them
    with --vectors instead of embedding the corpus again. MODEL may be an index folder: its model, centred on
    its enrolled accounts as `link` embeds queries, so `link --vectors` takes the file.
    """
    from authorid.workflows.common import check_engine, check_output_file, model_for  # deferred: loads torch
    from authorid.workflows.embed import (  # deferred: as above
        check_level,
        embed,
        embedding_model,
        parquet_ray_can_read,
    )

    check_level(level)  # before the (slow) reading and model loading
    check_engine(engine, ray_address)
    if batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {batch_size}")
    # Parquet: `--vectors` and every reader take the file by its suffix
    check_output_file(out, overwrite=overwrite, option="-o", writes=("embed", "Parquet"), inputs=(corpus,))
    early = embedding_model(model)  # an index folder: its model, centred as `link` embeds queries
    posts, _ = read_corpus(corpus, map=map, preset=preset, on_error=on_error, quiet=json)
    style_model = model_for(early, posts)
    parquet = parquet_ray_can_read(corpus, posts, mapped=bool(map or preset)) if engine == "ray" else None
    path = embed(
        style_model,
        posts,
        out=out,
        level=level,
        batch_size=batch_size,
        progress=True,
        engine=engine,
        ray_address=ray_address,
        parquet=parquet,
        overwrite=overwrite,
    )
    rows = len(posts) if level == "post" else len(set(posts["account_id"]))
    summary = {
        "level": level,
        "rows": rows,
        "model": style_model.identity(),
        "engine": engine,
        "vectors": str(path),
    }
    lines = [
        f"embedded {rows:,} {level}s with {style_model.name} ({style_model.dim} dims"
        + (", on Ray)" if engine == "ray" else ")"),
        f"vectors: {path}",
    ]
    say(summary, lines, as_json=json)
