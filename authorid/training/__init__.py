"""Training: the loop that fine-tunes a style encoder on episodes of posts (`fit`), and its settings.

The `train` verb (read a corpus, resume or replace a run folder, export, calibrate) is
`authorid.workflows.train`; this package is what it drives.

- `trainer.py`: the loop (accelerate: DDP, mixed precision, checkpoints, resume); returns the trained parts;
- `arguments.py`: `TrainConfig` and the size presets; `data.py`: sampling and splitting the posts;
- `episode_model.py`: encoder -> pooling -> loss as one module; `validation.py`: linking / attribution metrics;
- `head_init.py`: imprinted class heads; `state.py`: checkpoints and the trainer state; `log.py`: the run log;
- `export.py`, `card.py`, `curves.py`: the model folder.
"""

from authorid.training.arguments import PRESETS, TrainConfig, resolve_config
from authorid.training.errors import TrainingDataError, TrainingError
from authorid.training.trainer import TrainedParts, fit

__all__ = [
    "PRESETS",
    "TrainConfig",
    "TrainedParts",
    "TrainingDataError",
    "TrainingError",
    "fit",
    "resolve_config",
]
