"""`train`: fine-tune a style encoder on a corpus and write a model folder that every other verb can load.

The steps: resolve the settings (defaults, preset, config file, overrides; or a resumed run's saved ones),
read and clean the CORPUS, sample and split the posts (`authorid.training.data.prepare_data`), run the loop
(`authorid.training.fit`), export the best weights with the model card (`authorid.training.export`), fit
the calibration on the validation accounts (`authorid.workflows.calibrate.fit_calibration`), and return the
`StyleModel`. Several GPUs or machines: run it under `torchrun`; every process trains, only rank 0 writes.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import datasets

from authorid.account_hashes import write_training_accounts
from authorid.artefacts import CALIBRATION_FILE, MANIFEST_FILE, check_output_folder, write_manifest
from authorid.config import ConfigError, apply_overrides, load_toml, to_dict
from authorid.data.arrow import read_columns
from authorid.data.clean import clean
from authorid.data.readers import read_posts
from authorid.encoders import NgramEncoder, resolve_base
from authorid.encoders.ngram import DEFAULTS as NGRAM_SHAPE
from authorid.encoders.ngram import ngram_model_folder
from authorid.io import read_json
from authorid.losses import build as build_loss
from authorid.losses import parse_spec
from authorid.model import StyleModel, check_model_folder
from authorid.pretrained import is_packaged, packaged_model_path
from authorid.training import TrainConfig, TrainingError, fit, resolve_config
from authorid.training.arguments import DataArgs
from authorid.training.data import TrainingData, prepare_data, sample_accounts
from authorid.training.errors import TrainingDataError
from authorid.training.export import export_model, run_metadata
from authorid.training.state import CONFIG_FILE, STATE_DIR, STATE_FILE, usable_checkpoint
from authorid.workflows.calibrate import fit_calibration
from authorid.workflows.common import ingested

logger = logging.getLogger(__name__)

#: Settings a resumed run may change (everything else comes from the run's saved config).
RESUMABLE = (
    "run.max_steps",
    "run.max_seconds",
    "run.progress",
    "run.stop_after_steps",
    "run.keep_checkpoints",
    "run.calibrate",
)


def train(
    data: datasets.Dataset | str | Path | None = None,
    *,
    val: datasets.Dataset | None = None,
    out: str | Path,
    config: TrainConfig | str | Path | dict | None = None,
    preset: str | None = None,
    loss: str | None = None,
    encoder: str | None = None,
    base: str | None = None,
    task: str | None = None,
    max_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
) -> StyleModel:
    """Fine-tune a style encoder and write it to `out`; returns the trained, calibrated `StyleModel`.

    `data`: posts (a canonical Dataset) or a CORPUS (dump, cleaned Parquet, folder, preset name; default
    `config.data.corpus`). `val`: validation posts (default: held out from `data`, see
    `authorid.training.data`). Settings: the defaults, then `preset` (quick | cpu | ngram | gpu; ngram when the
    encoder is the n-gram one and no preset or config is given), then `config` (a
    TrainConfig, a dict or a TOML file), then `overrides` (dotted keys, e.g. ``{"optim.lr": 3e-5}``), then the
    shortcuts `loss`, `encoder`, `base`, `task`, `max_steps`. `resume=True` continues the run in `out` from its last
    checkpoint, with its saved settings (only those in `RESUMABLE`, such as `run.max_steps`, may change) and
    the same posts (checked by fingerprint; a CORPUS given by name is read again by itself). An existing
    `out` is refused unless `overwrite`.
    """
    out = Path(out)
    cfg, checkpoint = _settings(
        data,
        out=out,
        config=config,
        preset=preset,
        shortcuts={
            "loss.name": loss,
            "model.encoder": encoder,
            "model.base": base,
            "data.task": task,
            "run.max_steps": max_steps,
        },
        overrides=overrides,
        resume=resume,
        overwrite=overwrite,
        progress=progress,
    )
    _check_names(cfg)
    prepared = _training_data(cfg, data, val)
    if checkpoint is None and overwrite:
        _replace_old_model(out)
    parts = fit(cfg, prepared, out=out, checkpoint=checkpoint)
    if parts.paused:  # a checkpoint only: no model folder yet
        return StyleModel(name=str(out), encoder=parts.encoder, pooling=parts.pooling, metadata={}, path=out)
    metadata = run_metadata(cfg, prepared, parts)
    model = StyleModel(
        name=str(out), encoder=parts.encoder, pooling=parts.pooling, metadata=metadata, path=out
    )
    if parts.is_main:
        export_model(
            out,
            encoder=parts.encoder,
            pooling=parts.pooling,
            loss=parts.loss,
            metadata=metadata,
            split_manifest=prepared.split_manifest,
        )
        # Salted hashes of every account the run trained or validated on, and those its base did (a model adapted
        # from `style` has seen `style`'s accounts too): `evaluate` leaves them out.
        write_training_accounts(out, _accounts(prepared), inherit=_base_folder(metadata.get("base")))
        if (
            model.kind == "ngram"
        ):  # the model as stored (int8 table rows), so calibration and fingerprint match it
            model.encoder = NgramEncoder.load(out)
        model.calibration = _calibrate(cfg, model, prepared, out)
        # The manifest first, the checkpoints after: a run stopped between the two is a finished model (with
        # leftover checkpoints), never a model with neither a manifest nor a checkpoint to resume from.
        leave_out = () if cfg.run.keep_checkpoints else (STATE_DIR,)
        write_manifest(out, "model", model=model.identity(), leave_out=leave_out)
        if not cfg.run.keep_checkpoints:
            shutil.rmtree(out / STATE_DIR, ignore_errors=True)
    return model


def resume_point(out: str | Path) -> str | None:
    """Where `train --resume --out OUT` will continue, as a line says it; None when it has no usable checkpoint."""
    state_logger = logging.getLogger("authorid.training.state")
    state_logger.disabled = True  # a damaged checkpoint is warned about once, when `train` resumes
    try:
        checkpoint = usable_checkpoint(Path(out) / STATE_DIR)
    finally:
        state_logger.disabled = False
    if checkpoint is None:
        return None
    step = read_json(checkpoint / STATE_FILE).get("step")
    return f"resuming {out} from {checkpoint.name} (step {step:,})"


def resume_hint(out: str | Path) -> str:
    """What to run after an interrupted `train --out OUT`: --resume when a usable checkpoint is there, else
    training again (a run stopped before its first checkpoint, or after its model was finished)."""
    out = Path(out)
    if (out / MANIFEST_FILE).is_file():
        return f"the model in {out} was finished"
    if usable_checkpoint(out / STATE_DIR) is not None:
        return f"continue from the last checkpoint: authorid train --resume --out {out}"
    if not out.is_dir() or not any(out.iterdir()):
        return "no checkpoint was written yet: run the same command again"
    return f"no checkpoint was written yet: train again with --overwrite --out {out}"


def _saved_value(saved: dict, key: str) -> Any:
    """The value of dotted `key` ("loss.name") in a saved config dict (None when absent)."""
    value: Any = saved
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _settings(
    data,
    *,
    out: Path,
    config,
    preset: str | None,
    shortcuts: dict[str, Any],
    overrides: dict[str, Any] | None,
    resume: bool,
    overwrite: bool,
    progress: bool | None,
) -> tuple[TrainConfig, Path | None]:
    """(settings, checkpoint to resume from or None). A fresh run refuses or replaces an existing `out`."""
    shortcuts = {k: v for k, v in shortcuts.items() if v is not None}
    if progress is not None:
        shortcuts["run.progress"] = progress
    state_dir = out / STATE_DIR
    if resume:
        checkpoint = usable_checkpoint(state_dir)
        if checkpoint is None:
            if (out / MANIFEST_FILE).is_file():
                # a finished run keeps no resumable checkpoint, whatever run.keep_checkpoints (audit 12): a run
                # to continue later is paused, not finished
                raise TrainingError(
                    f"nothing to resume in {out}: it holds a finished model, and a finished run cannot go on"
                    " (to continue a run later, pause it with --run.stop_after_steps N and resume that); train"
                    " another with --overwrite"
                )
            if not out.exists():
                raise TrainingError(f"nothing to resume: {out} does not exist; train without --resume")
            raise TrainingError(
                f"nothing to resume in {out}: it holds no usable checkpoint; train again with --overwrite"
            )
        # The saved settings win; only the step budget and the display may change on resume. Anything else
        # given is refused, not dropped: `--resume --loss ce` trained on with the saved loss, without a word.
        wanted = {**(overrides or {}), **shortcuts}
        saved = read_json(state_dir / CONFIG_FILE)
        # compared as resolved (a command line's "10" is the saved 10), before the settings are checked together:
        # `--encoder transformer` on an n-gram run is a change to refuse, not a clash of the saved episodes with it
        asked = to_dict(
            apply_overrides(resolve_config(saved), {k: v for k, v in wanted.items() if k not in RESUMABLE})
        )
        changed = sorted(
            k for k in wanted if k not in RESUMABLE and _saved_value(saved, k) != _saved_value(asked, k)
        )
        # a preset or config file under the saved settings changes nothing (the saved ones are complete)
        for name, given in (("preset", preset), ("config", config)):
            if given is not None:
                logger.warning(
                    "--%s %s is not read on --resume: the run continues with its saved settings", name, given
                )
        if changed:
            raise TrainingError(
                f"--resume continues {out} with the settings it started with; it cannot change {', '.join(changed)}"
                f" (only {', '.join(RESUMABLE)} may change): drop them, or train anew with --overwrite"
            )
        cfg = resolve_config(
            saved,
            overrides={
                "run.stop_after_steps": None,  # a pause applies to one invocation
                **{k: v for k, v in wanted.items() if k in RESUMABLE},
            },
        )
        return cfg, checkpoint
    if isinstance(data, str | Path):  # saved with the config, so `--resume` needs no CORPUS again
        # absolute when it is a path, so `--resume` finds it from any working directory (a preset stays a name)
        shortcuts["data.corpus"] = str(Path(data).resolve()) if Path(data).exists() else str(data)
    if isinstance(config, str | Path):
        config = load_toml(config)  # read once: its model settings choose the preset below
    from_file = config.get("model") if isinstance(config, dict) else None
    from_file = from_file if isinstance(from_file, dict) else {}  # a malformed file is refused below
    ngram_file = config.get("ngram") if isinstance(config, dict) else None
    ngram_file = ngram_file if isinstance(ngram_file, dict) else {}
    base = shortcuts.get("model.base") or (overrides or {}).get("model.base") or from_file.get("base")
    if base is not None and not is_packaged(base) and Path(base).expanduser().is_dir():
        # as a MODEL argument is checked: an interrupted run is no base (an n-gram one was blamed for having no
        # Hugging Face config.json; one killed during export was trained on without a word)
        check_model_folder(Path(base).expanduser())
    if (
        base is not None and ngram_model_folder(base) is not None
    ):  # `--base style`: continue training an n-gram model
        shortcuts.setdefault("model.encoder", "ngram")
        _check_base_shape_kept(
            base, {**(overrides or {}), **{f"ngram.{k}": v for k, v in ngram_file.items()}}
        )
    encoder = (
        shortcuts.get("model.encoder") or (overrides or {}).get("model.encoder") or from_file.get("encoder")
    )
    if preset is None and encoder == "ngram":
        # the n-gram encoder's own sizes (whole corpus, 256 accounts a step), not the transformer's defaults; a
        # config file's settings go over it (they once replaced it: a file setting only run.eval_every trained
        # nbc-softmax on 16 accounts a step with no time limit)
        preset = "ngram"
    if base is not None:
        _check_base_fits_encoder(base, encoder or ("ngram" if preset == "ngram" else None))
    if encoder is not None:  # before the settings are checked, which would blame the preset's episodes
        _check_preset_fits_encoder(preset, encoder)
    cfg = resolve_config(config, preset=preset, overrides={**(overrides or {}), **shortcuts})
    _check_preset_fits_encoder(preset, cfg.model.encoder)  # the encoder a config file chose
    if out.exists() and not out.is_dir():  # the user's file is never replaced by a model folder
        raise TrainingError(f"--out {out} is a file, not a folder: give a folder for the model")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise TrainingError(f"output folder {out} exists; pass --overwrite to replace it or --resume")
        check_output_folder(out, kind="model", overwrite=True)  # a model folder only, never the user's files
        # replaced by `train` once the corpus is read and split (`_replace_old_model`), not here
    return cfg, None


def _replace_old_model(out: Path) -> None:
    """Remove the model a fresh run with --overwrite replaces, once its corpus has been read and split: a wrong
    path, a bad line or too few accounts then keeps the old model (audit 9: it was deleted first). Only the main
    process deletes; the others write nothing there before the first (synchronised) checkpoint."""
    if out.is_dir() and any(out.iterdir()) and _is_main_process():
        logger.info("replacing the model in %s (--overwrite)", out)
        shutil.rmtree(out)


def _check_base_shape_kept(base: str, settings: dict[str, Any]) -> None:
    """An n-gram base is continued with its own buckets, widths and idf: an [ngram] shape setting given with it
    was ignored without a word (and the model card described it as trained)."""
    shape = sorted(k for k in settings if k.startswith("ngram.") and k.split(".", 1)[1] in NGRAM_SHAPE)
    if shape:
        raise ConfigError(
            f"--base {base} is continued with its own n-gram settings, so {', '.join(shape)} cannot apply: drop"
            " them, or train a new encoder with --encoder ngram (no --base)"
        )


def _check_base_fits_encoder(base: str, encoder: str | None) -> None:
    """A --base given belongs to one encoder: an n-gram model (style, or a folder `--encoder ngram` wrote)
    continues as one; a transformer checkpoint cannot start an n-gram encoder, which was silently trained from
    scratch instead."""
    ngram_base = ngram_model_folder(base) is not None
    if ngram_base and encoder == "transformer":
        raise ConfigError(
            f"--base {base} is an n-gram model: it trains on as the n-gram encoder; drop --encoder transformer"
            " (or give a transformer --base such as minilm)"
        )
    if not ngram_base and encoder == "ngram":
        raise ConfigError(
            f"--base {base} is not an n-gram model, and this run trains the n-gram encoder (--encoder ngram or"
            " --preset ngram), which starts from scratch or from an n-gram model (style, or a folder"
            " `authorid train --encoder ngram` wrote): drop --base, or drop the n-gram option to fine-tune it"
        )


def _check_preset_fits_encoder(preset: str | None, encoder: str) -> None:
    """A size preset belongs to one encoder: the transformer's (quick, cpu, gpu) would train an n-gram model
    with 16 accounts a step for 48 steps, which barely moves it, and said nothing."""
    if preset is None:
        return
    if preset == "ngram" and encoder != "ngram":
        raise ConfigError(
            f"--preset ngram sizes the n-gram encoder, but this run trains model.encoder {encoder}: drop --preset"
            " (or give one of the transformer's: quick, cpu, gpu)"
        )
    if preset != "ngram" and encoder == "ngram":
        raise ConfigError(
            f"--preset {preset} sizes a transformer fine-tune, but this run trains the n-gram encoder (--encoder"
            " ngram or an n-gram --base such as style): drop --preset (its own, ngram, is implied); shorten a run"
            " with --max-steps or --run.max_seconds"
        )


def _check_names(cfg: TrainConfig) -> None:
    """Fail before any data is read: an unknown loss or base, or a loss parameter it does not take or cannot
    have (built once on a toy size: audit 12 met them after the corpus was read, cleaned and split), is a
    one-line error."""
    parse_spec(cfg.loss.name)
    build_loss(cfg.loss.name, 8, 4, **cfg.loss.params)
    if cfg.model.encoder == "transformer":
        resolve_base(cfg.model.base)


def _training_data(cfg: TrainConfig, data, val: datasets.Dataset | None) -> TrainingData:
    """The posts given, or the CORPUS read (on resume, the one the run started with), sampled and split."""
    source = "posts"
    if data is None:
        data = cfg.data.corpus
    if data is None:
        raise TrainingDataError("no training data: give a CORPUS (or data.corpus in the config)")
    if not isinstance(data, datasets.Dataset):
        source = str(data)
        show = cfg.run.progress and _is_main_process()
        data, cleaning = read_training_posts(data, cfg.data, seed=cfg.run.seed, progress=show)
        prepared = prepare_data(data, cfg.data, seed=cfg.run.seed, val=val, source=source)
        prepared.cleaning = cleaning
        return prepared
    return prepare_data(data, cfg.data, seed=cfg.run.seed, val=val, source=source)


def read_training_posts(
    corpus: str | Path, args: DataArgs, *, seed: int, progress: bool = False
) -> tuple[datasets.Dataset, dict | None]:
    """(posts, what cleaning did: None when nothing was cleaned) of a CORPUS (dump, Parquet, folder or preset),
    read with the shared reader and cleaned unless it is an ingested Parquet file (`workflows.common.ingested`).

    With `max_accounts`, accounts are sampled before cleaning (cleaning a whole forum to keep 300 accounts
    would be wasted work), and `prepare_data` drops those that cleaning left below `min_posts`.
    """
    posts, read = read_posts(
        corpus,
        columns=args.map,
        preset=args.corpus_preset,
        on_error=args.on_error,
        limit=args.limit,
        progress=progress,
    )
    # What reading skipped (--on-error skip) and the records it kept that look wrong (a quote that may have
    # swallowed records, bytes not UTF-8): said and recorded as every command says them (audit 9: train did not).
    read_notes: dict = (
        {"malformed_records_skipped": n} if (n := int(read.read.get("skipped_errors", 0))) else {}
    )
    if read.warnings:
        read_notes["read_warnings"] = read.warnings[:5]
    if not args.clean or ingested(corpus):
        return posts, read_notes or None
    if args.max_accounts is not None:
        posts = sample_accounts(posts, args, seed=seed)
    before = len(posts)
    posts, report = clean(posts, progress=progress)
    return posts, {
        "posts_read": before,
        "posts_kept": report.posts_out,
        "changed": report.changed,
        "dropped": report.dropped,
        "accounts_left_with_no_post": len(report.emptied_accounts),
        **read_notes,
    }


def _base_folder(base: str | None) -> Path | None:
    """The folder of the model a run adapts (`--base style` or a trained folder), whose training accounts it
    inherits; None for a base that is not a folder here."""
    if not base:
        return None
    if is_packaged(base):
        return packaged_model_path(base)
    return Path(base) if Path(base).is_dir() else None


def _accounts(prepared: TrainingData) -> list:
    """Every account the run trained or validated on (recorded as salted hashes, so evaluate can leave them
    out)."""
    parts = [prepared.train] + ([prepared.val] if prepared.val is not None else [])
    return sorted(
        {a for part in parts for a in read_columns(part, ["account_id"]).column(0).to_pylist()}, key=str
    )


def _calibrate(cfg: TrainConfig, model: StyleModel, prepared: TrainingData, out: Path):
    """Fit `calibration.json` on the validation accounts, every post of them (open world); None when there
    are too few."""
    if not cfg.run.calibrate or prepared.val is None or cfg.data.task != "open-world":
        return None
    try:
        calibrator = fit_calibration(model, prepared.calibration_posts, seed=cfg.run.seed)
    except ValueError as err:  # too few validation accounts for a calibration: the model is still fine
        logger.warning("no calibration fitted: %s", err)
        return None
    calibrator.save(out / CALIBRATION_FILE)
    return calibrator


def _is_main_process() -> bool:
    """Rank 0 under torchrun (RANK is set), or the only process."""
    return int(os.environ.get("RANK", "0")) == 0
