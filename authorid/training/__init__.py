"""Training: fine-tune a style encoder on episodes of posts (`train`), with its settings (`TrainConfig`).

- `trainer.py`: the loop (accelerate: DDP, mixed precision, checkpoints, resume) and `train`;
- `arguments.py`: `TrainConfig` and the size presets; `data.py`: reading, sampling and splitting the posts;
- `episode_model.py`: encoder -> pooling -> loss as one module; `validation.py`: linking / attribution metrics;
- `state.py`: checkpoints and the trainer state; `export.py`, `card.py`, `curves.py`: the model folder.
"""

from authorid.training.arguments import PRESETS, TrainConfig, resolve_config
from authorid.training.trainer import TrainingError, train

__all__ = ["PRESETS", "TrainConfig", "TrainingError", "resolve_config", "train"]
