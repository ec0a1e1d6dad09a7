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
import platform
from pathlib import Path

from safetensors.torch import save_file
from torch import nn

from authorid.encoders import save_pooling
from authorid.io import atomic_write, atomic_write_text
from authorid.model import METADATA_FILE
from authorid.training.card import model_card
from authorid.training.curves import CURVES_FILE, plot_curves
from authorid.training.progress import LOG_FILE, read_log

logger = logging.getLogger(__name__)

LOSS_HEAD_FILE = "loss_head.safetensors"
FORMAT = "authorid.trained"
FORMAT_VERSION = 1


def library_versions() -> dict[str, str]:
    import accelerate
    import sentence_transformers
    import torch
    import transformers

    from authorid import __version__

    return {
        "authorid": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "accelerate": accelerate.__version__,
    }


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
        atomic_write_text(out / "split_manifest.json", json.dumps(split_manifest, ensure_ascii=False))
    metadata = {"format": FORMAT, "version": FORMAT_VERSION, **metadata, "versions": library_versions()}
    atomic_write_text(out / METADATA_FILE, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    plot_curves(
        read_log(out / LOG_FILE), out / CURVES_FILE, primary=metadata["validation"].get("primary") or "mrr"
    )
    atomic_write_text(out / "README.md", model_card(metadata))
    logger.info("model written to %s", out)
    return out
