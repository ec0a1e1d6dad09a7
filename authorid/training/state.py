"""Where a run stands (`TrainerState`) and the resumable checkpoints that hold it.

A checkpoint is an `accelerate` state folder (`save_state`: model, loss head, optimizer, scheduler, RNG states
of random / numpy / torch / CUDA, per process) plus `trainer_state.json`: step, epoch and batch position in
the epoch (the episode sampler is a pure function of (seed, epoch, batch), so the position is all it needs),
best validation so far and the early-stopping count. Checkpoints live in ``OUT/training_state/checkpoints/``
(`ProjectConfiguration(automatic_checkpoint_naming=True, total_limit=...)`), the best weights so far in
``OUT/training_state/best/`` as safetensors.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from authorid.artefacts import TRAINING_STATE_DIR
from authorid.io import atomic_write, atomic_write_text

logger = logging.getLogger(__name__)

STATE_DIR = TRAINING_STATE_DIR
STATE_FILE = "trainer_state.json"
CONFIG_FILE = "config.json"


@dataclass
class TrainerState:
    step: int = 0  #: optimizer steps done
    epoch: int = 0  #: current epoch (passes over the training accounts)
    batch_in_epoch: int = 0  #: sampler batches of the current epoch already consumed
    micro_batches: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    bad_evals: int = 0  #: validations since the last improvement
    stopped_early: bool = False
    episodes_seen: int = 0
    posts_seen: int = 0  #: posts in the episodes of every micro-batch (on this process)
    train_seconds: float = 0.0  #: wall time in forward/backward/step (not validation or checkpoints)
    evaluations: list[dict] = field(default_factory=list)
    data_fingerprint: str = ""  #: of the training posts: a resumed run must see the same ones

    def save(self, folder: Path) -> None:
        atomic_write_text(folder / STATE_FILE, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, folder: Path) -> TrainerState:
        return cls(**json.loads((folder / STATE_FILE).read_text(encoding="utf-8")))


def checkpoint_number(folder: Path) -> int:
    """N of an accelerate ``checkpoint_N`` folder (-1 for anything else)."""
    match = re.fullmatch(r"checkpoint_(\d+)", folder.name)
    return int(match.group(1)) if match else -1


def latest_checkpoint(state_dir: Path) -> Path | None:
    """The newest complete checkpoint (one with trainer_state.json) under `state_dir`, or None."""
    root = state_dir / "checkpoints"
    if not root.is_dir():
        return None
    complete = [f for f in root.iterdir() if checkpoint_number(f) >= 0 and (f / STATE_FILE).is_file()]
    return max(complete, key=checkpoint_number) if complete else None


def usable_checkpoint(state_dir: Path) -> Path | None:
    """The newest complete checkpoint whose files all load, else None. A damaged checkpoint (a truncated or
    foreign file: interrupted copy, disk full) is skipped for the one before it, with a warning; a checkpoint
    whose random state alone cannot be read is used, with a warning that the resumed run is no longer
    bit-exact (its data order and dropout then differ from an uninterrupted run's)."""
    root = state_dir / "checkpoints"
    if not root.is_dir():
        return None
    complete = sorted(
        (f for f in root.iterdir() if checkpoint_number(f) >= 0 and (f / STATE_FILE).is_file()),
        key=checkpoint_number,
        reverse=True,
    )
    for folder in complete:
        problem = _damaged_file(folder, lambda name: not name.startswith("random_states"))
        if problem is not None:
            logger.warning("checkpoint %s is damaged (%s); trying the one before it", folder, problem)
            continue
        rng = _damaged_file(folder, lambda name: name.startswith("random_states"))
        if rng is not None:
            logger.warning(
                "checkpoint %s: the random state cannot be restored (%s); the resumed run will not be"
                " bit-exact with an uninterrupted one",
                folder,
                rng,
            )
        return folder
    return None


def _damaged_file(folder: Path, wanted) -> str | None:
    """'file: reason' for the first file of `folder` (those `wanted(name)` selects) that does not load."""
    from accelerate.utils import (
        load as safe_load,  # accelerate's torch.load with weights_only (no pickle code)
    )
    from safetensors import safe_open

    try:
        json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return f"{STATE_FILE}: {err}"
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or not wanted(path.name):
            continue
        try:
            if path.suffix == ".safetensors":
                with safe_open(str(path), framework="pt") as handle:
                    for key in handle.keys():
                        handle.get_slice(key)
            elif path.suffix in (".bin", ".pkl", ".pt"):
                safe_load(path, map_location="cpu")
        except Exception as err:  # noqa: BLE001 - torch / safetensors raise many types for a damaged file
            reason = " ".join(str(err).split())[:160] or type(err).__name__
            return f"{path.name}: {reason}"
    return None


def save_weights(modules: dict[str, torch.nn.Module | None], folder: Path) -> None:
    """Each module's state dict as ``<name>.safetensors`` in `folder` (None modules are skipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        if module is None:
            continue
        tensors = {k: v.detach().cpu().contiguous().clone() for k, v in module.state_dict().items()}
        atomic_write(folder / f"{name}.safetensors", lambda tmp, t=tensors: save_file(t, str(tmp)))


def load_weights(modules: dict[str, torch.nn.Module | None], folder: Path) -> None:
    for name, module in modules.items():
        if module is not None:
            module.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
