"""Write a trained model folder that plain sentence-transformers and `authorid.model.load_model` both load.

Layout of OUT:
- the sentence-transformers model (`modules.json`, `config.json`, `model.safetensors`, tokenizer, ...);
- `authorid.json`: base, task, loss and hyper-parameters, episode settings, split manifests, data
  fingerprint, validation metrics, training figures, library versions;
- `loss_head.safetensors` when the loss has parameters (class weights: useful for closed-set attribution
  over the training authors, and to continue training);
- `authorid_pooling/` with attention pooling; `calibration.json` when a calibration was fitted;
- `split_manifest.json` (the full split, to re-create it), `train_log.jsonl`, `training_curves.png`,
  and the model card `README.md`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors.torch import save_file
from torch import nn

from authorid.artefacts import LOSS_HEAD_FILE, METADATA_FILE, SPLIT_MANIFEST_FILE
from authorid.config import to_dict
from authorid.encoders import resolve_base, save_pooling
from authorid.encoders.ngram import DEFAULTS as NGRAM_DEFAULTS
from authorid.encoders.ngram import ngram_model_folder
from authorid.io import atomic_write, atomic_write_text, dumps_json, write_json
from authorid.losses import LOSSES, hyperparameters, parse_spec
from authorid.pretrained import is_packaged
from authorid.training.arguments import TrainConfig
from authorid.training.card import model_card
from authorid.training.curves import CURVES_FILE, plot_curves
from authorid.training.log import LOG_FILE, read_log
from authorid.versions import library_versions

if TYPE_CHECKING:
    from authorid.training.data import TrainingData
    from authorid.training.trainer import TrainedParts

logger = logging.getLogger(__name__)

FORMAT = "authorid.trained"
FORMAT_VERSION = 1


def _ngram_settings(cfg: TrainConfig, encoder) -> dict:
    """The [ngram] training settings, with the encoder's own shape over them: an encoder continued from an
    n-gram base keeps the base's buckets, widths and idf whatever [ngram] says (the card once described the
    settings asked, a 64-dim encoder in 1,024 buckets where style's 128-dim one in 262,144 was trained)."""
    shape = {k: v for k, v in encoder.params.items() if k in NGRAM_DEFAULTS and k != "seed"}
    return {
        **to_dict(cfg.ngram),
        **shape,
        "idf_from": "the training posts"
        if ngram_model_folder(cfg.model.base) is None
        else f"the base model {cfg.model.base}",
    }


def run_metadata(cfg: TrainConfig, prepared: TrainingData, parts: TrainedParts) -> dict:
    """What `authorid.json` records of a run: settings, data, validation history and training figures."""
    state = parts.state
    evaluations = state.evaluations
    best = next((e for e in evaluations if e["step"] == state.best_step), None)
    defaults = {name: hyperparameters(LOSSES[name]) for name, _ in parse_spec(cfg.loss.name)}
    ngram = cfg.model.encoder == "ngram"
    return {
        "encoder": cfg.model.encoder,
        "base": cfg.model.base
        if not ngram or is_packaged(cfg.model.base) or Path(cfg.model.base).is_dir()
        else None,
        "base_path": str(resolve_base(cfg.model.base)) if not ngram else None,
        "ngram": _ngram_settings(cfg, parts.encoder) if ngram else None,
        "task": cfg.data.task,
        "pooling": cfg.model.pooling,
        "max_seq_length": cfg.model.max_seq_length,
        "loss": {"name": cfg.loss.name, "params": cfg.loss.params, "defaults": _plain(defaults)},
        "episodes": to_dict(cfg.episodes),
        "config": to_dict(cfg),
        "data": {
            "source": prepared.source,
            "fingerprint": prepared.fingerprint,
            "train_posts": prepared.train.num_rows,
            "train_accounts": len(set(prepared.train["account_id"])),
            "val_posts": prepared.val.num_rows if prepared.val is not None else 0,
            "val_accounts": len(set(prepared.val["account_id"])) if prepared.val is not None else 0,
            "splits": prepared.manifests,
            "cleaning": prepared.cleaning,
        },
        "validation": {
            "primary": cfg.primary_metric if evaluations else None,
            "initial": _strip_step(evaluations[0]) if evaluations and evaluations[0]["step"] == 0 else None,
            "best": _strip_step(best) if best else None,
            "best_step": state.best_step,
            "history": evaluations,
        },
        "training": {
            "steps": state.step,
            "planned_steps": parts.total_steps,
            "epochs": state.step * cfg.optim.gradient_accumulation_steps / max(parts.batches_per_epoch, 1),
            "stopped_early": state.stopped_early,
            "episodes_seen": state.episodes_seen,
            "posts_seen": state.posts_seen,
            "train_seconds": round(state.train_seconds, 2),
            "examples_per_s": state.episodes_seen / max(state.train_seconds, 1e-9),
            "posts_per_episode": cfg.episodes.posts_per_episode,
            "world_size": parts.world_size,
            "device": parts.device,
            "mixed_precision": parts.mixed_precision,
        },
    }


def _strip_step(evaluation: dict) -> dict:
    return {k: v for k, v in evaluation.items() if k != "step"}


def _plain(value):
    """`value` as plain JSON types (loss defaults may hold tuples or other reprs)."""
    return json.loads(json.dumps(value, default=str))


def export_model(
    out: Path,
    *,
    encoder,
    pooling: nn.Module | None,
    loss: nn.Module,
    metadata: dict,
    split_manifest: dict | None = None,
) -> Path:
    """Write everything but the calibration into `out` (see module docstring); returns `out`."""
    out.mkdir(parents=True, exist_ok=True)
    encoder.save(str(out), safe_serialization=True)
    if pooling is not None:
        save_pooling(pooling, out)
    head = {k: v.detach().cpu().contiguous().clone() for k, v in loss.state_dict().items()}
    if head:
        atomic_write(
            out / LOSS_HEAD_FILE,
            lambda tmp: save_file(head, str(tmp), metadata={"loss": metadata["loss"]["name"]}),
        )
    if split_manifest is not None:
        atomic_write_text(out / SPLIT_MANIFEST_FILE, dumps_json(split_manifest, indent=None))
    metadata = {"format": FORMAT, "version": FORMAT_VERSION, **metadata, "versions": library_versions()}
    write_json(out / METADATA_FILE, metadata)
    plot_curves(
        read_log(out / LOG_FILE), out / CURVES_FILE, primary=metadata["validation"].get("primary") or "mrr"
    )
    atomic_write_text(out / "README.md", model_card(metadata))
    logger.info("model written to %s", out)
    return out
