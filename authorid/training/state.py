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
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from authorid.io import atomic_write, atomic_write_text

STATE_DIR = "training_state"
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
