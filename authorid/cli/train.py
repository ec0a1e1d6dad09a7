"""`authorid train CORPUS --loss nbc-softmax --base minilm --out models/reddit-nbc`: fine-tune a style encoder.

Settings: `--preset quick|cpu|ngram|gpu`, then `--config train.toml`, then dotted overrides (`--optim.lr 3e-5`,
`--episodes.accounts_per_batch 32`; any key of `authorid.training.TrainConfig`), then the named options.
Several GPUs or machines: `torchrun --nproc_per_node N -m authorid train ...` trains data-parallel.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from authorid.cli.common import (
    JsonOption,
    MapOption,
    OnErrorOption,
    OverwriteOption,
    PresetOption,
    check_seed,
    console,
    counted,
    err_console,
    interrupted_line,
    say,
    user_errors,
)
from authorid.config import parse_overrides

#: typer settings the command must be registered with, so `--section.key value` overrides reach it.
CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}


@user_errors
def train_command(
    ctx: typer.Context,
    corpus: Annotated[
        str | None,
        typer.Argument(
            metavar="CORPUS",
            help="A dump (.jsonl/.csv/.parquet, .gz allowed), a cleaned Parquet from `ingest`, a folder, or a "
            "corpus preset name. Optional with --config (data.corpus) or --resume.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path(
        "models/authorid"
    ),
    loss: Annotated[
        str | None,
        typer.Option(
            help="Loss, or a weighted sum: ce, nbc-softmax, nbc-softmax-scaled, supcon, contrax, arcface,"
            " cosface, ms, 'ce+supcon:0.5'."
        ),
    ] = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="'ngram' (hashed char + word n-grams, trains on a whole forum on CPU) or 'transformer'."
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            help="Start from: minilm, style (the packaged n-gram model), a local folder (a trained model folder) or a"
            " cached hub name."
        ),
    ] = None,
    task: Annotated[str | None, typer.Option(help="open-world (linking, default) or attribution.")] = None,
    pooling: Annotated[str | None, typer.Option(help="Episode pooling: mean (default) or attention.")] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            help="ngram (the n-gram encoder on a whole dump, ~9 min on 2 cores; implied by --encoder ngram or"
            " --base style), or the transformer's sizes: quick, cpu, gpu.",
        ),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of settings.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many optimizer steps.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for splits, sampling and initialisation.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")] = False,
    overwrite: OverwriteOption = False,
    json: JsonOption = False,
    map: MapOption = None,
    corpus_preset: PresetOption = None,
    on_error: OnErrorOption = "raise",
) -> None:
    """Fine-tune a style encoder on a corpus (episodes of posts), validate, checkpoint, export.

    Extra options `--section.key value` override any setting (e.g. --optim.lr 3e-5 --run.eval_every 200).
    """
    from authorid.workflows.train import resume_hint, resume_point, train  # deferred: loads torch

    extra = list(ctx.args)
    if corpus is not None and corpus.startswith("--"):
        # without a CORPUS, click hands the first `--section.key` override to it (`train --resume --out M
        # --run.max_seconds 900` failed, audit 9): it is an override, and there is no CORPUS
        extra, corpus = [corpus, *extra], None
    overrides = parse_overrides(extra)
    reader = {"data.map": map, "data.corpus_preset": corpus_preset}
    overrides.update({k: v for k, v in reader.items() if v is not None})
    if on_error != "raise":
        overrides["data.on_error"] = on_error
    if pooling is not None:
        overrides["model.pooling"] = pooling
    if seed is not None:
        check_seed(seed)
        given = overrides.get("run.seed")
        if given is not None and str(given) != str(seed):  # audit 12: one of the two was dropped in silence
            raise ValueError(f"--seed {seed} and --run.seed {given} disagree: give one")
        overrides["run.seed"] = seed
    if resume and (point := resume_point(out)) is not None:
        err_console.print(point, soft_wrap=True)
    try:
        model = train(
            corpus,
            out=out,
            config=config,
            preset=preset,
            loss=loss,
            encoder=encoder,
            base=base,
            task=task,
            max_steps=max_steps,
            overrides=overrides,
            resume=resume,
            overwrite=overwrite,
            progress=True if not resume else None,
        )
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (`stop_on_sigterm`)
        line, code = interrupted_line(exc, f"; {resume_hint(out)}")
        err_console.print(line, soft_wrap=True)
        raise typer.Exit(code) from None
    if int(os.environ.get("RANK", "0")) == 0:
        _summary(model, as_json=json)


def _summary(model, *, as_json: bool) -> None:
    meta = model.metadata
    if not meta:  # paused by run.stop_after_steps: no model folder yet
        say(
            {"paused": True, "out": str(model.path)},
            [f"paused; continue with: authorid train --resume --out {model.path}"],
            as_json=as_json,
        )
        return
    calibration = getattr(model, "calibration", None)
    warnings = list(calibration.info.get("warnings", [])) if calibration is not None else []
    if as_json:
        say(
            {
                "model": str(model.path),
                "training": meta["training"],
                "validation": meta["validation"],
                "cleaning": meta["data"].get("cleaning"),
                "calibration_warnings": warnings,
            },
            [],
            as_json=True,
        )
        return
    run, val = meta["training"], meta["validation"]
    cleaning = meta["data"].get("cleaning") or {}
    if skipped := cleaning.get("malformed_records_skipped"):
        err_console.print(f"read: {skipped:,} malformed records skipped (--on-error skip)", soft_wrap=True)
    for message in cleaning.get("read_warnings", []):
        err_console.print(f"warning: {message}", soft_wrap=True)
    if "dropped" in cleaning:
        dropped = sum(cleaning["dropped"].values())
        why = counted(cleaning["dropped"])
        err_console.print(
            f"cleaned as `authorid ingest` cleans: {dropped:,} of {cleaning['posts_read']:,} posts dropped"
            + (f" ({why})" if why else ""),
            soft_wrap=True,
        )
    console.print(
        f"trained {meta['loss']['name']} on {meta['data']['train_accounts']:,} accounts: {run['steps']} steps, "
        f"{run['epochs']:.2f} epochs, {run['examples_per_s']:.1f} episodes/s"
        + (" (stopped early)" if run["stopped_early"] else ""),
        soft_wrap=True,
    )
    primary = val.get("primary")
    if primary and val.get("best"):
        before = val["initial"][primary] if val.get("initial") else float("nan")
        extra = ", ".join(
            f"{k} {int(v):,}"
            if isinstance(v, int) or k == "posts"
            else f"{k} {v:.3f}"  # a count is no metric
            for k, v in val["best"].items()
            if k not in (primary, "pool_size", "n_queries")
        )
        console.print(
            f"validation {primary}: {before:.4f} before -> {val['best'][primary]:.4f} best (step {val['best_step']})"
            + (f"; {extra}" if extra else ""),
            soft_wrap=True,
        )
        if (
            val["best_step"] == 0 and run["steps"] > 0
        ):  # audit 12: said by demo and BENCHMARKS.md, not by train
            start = f"the base's ({meta['base']})" if meta.get("base") else "the untrained start's"
            err_console.print(
                f"warning: validation never beat the starting weights in {run['steps']} steps: the weights"
                f" exported are {start} (step 0); train longer, or try another loss or learning rate",
                soft_wrap=True,
            )
    # the calibration `score`, `cluster` and `link` read by default: too few validation pairs is said here, as
    # `calibrate` says it, not only inside calibration.json
    for warning in warnings:
        err_console.print(f"warning: the model's calibration (calibration.json): {warning}", soft_wrap=True)
    console.print(f"model: {model.path}", soft_wrap=True)
