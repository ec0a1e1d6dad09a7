"""What a training run is told: `TrainConfig`, a tree of small dataclasses, and the size presets.

Every leaf is settable from a TOML file (``[optim] lr = 3e-5``), a dotted CLI override (``--optim.lr 3e-5``)
or the Python API (``train(..., overrides={"optim.lr": 3e-5})``); see :mod:`authorid.config`. Loss
hyper-parameters default to each loss's paper values (the keyword defaults of its class in
:mod:`authorid.losses`); ``[loss.params]`` overrides single ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authorid.config import ConfigError, apply_overrides, from_dict, load_toml
from authorid.data.presets import get_preset

TASKS = ("open-world", "attribution")
ENCODERS = ("transformer", "ngram")
SPARSE_OPTIMIZERS = ("sparse-adam", "adagrad")
POOLINGS = ("mean", "attention")
SCHEDULERS = ("cosine", "linear", "constant")
HEAD_INITS = ("random", "centroids")
MIXED_PRECISION = ("auto", "no", "bf16", "fp16")


@dataclass
class DataArgs:
    """Which posts, and how they are held out for validation."""

    corpus: str | None = None  #: dump, cleaned Parquet, folder or preset name (or pass posts to `train`)
    map: str | None = None  #: column map SOURCE=CANONICAL,...
    corpus_preset: str | None = None  #: corpus preset whose column map applies
    on_error: str = "raise"
    limit: int | None = None  #: read at most this many posts
    clean: bool = True  #: run `authorid.data.clean` with its defaults on a raw dump (not on Parquet)
    task: str = "open-world"  #: open-world (linking, author-disjoint) | attribution (closed set)
    min_posts: int = 4  #: accounts with fewer posts are neither trained nor validated on
    max_accounts: int | None = None  #: seeded sample of this many accounts (after min_posts)
    max_posts_per_account: int | None = None  #: seeded cap on each account's posts
    #: open-world: accounts held out for validation (0: no validation); fewer on a small corpus, so that four
    #: fifths of its accounts still train (`authorid.training.data.validation_accounts`)
    val_accounts: int = 200
    #: open-world: validation accounts need at least this many posts (None: min_posts). Larger accounts let the
    #: calibration fitted at export, on the validation accounts' every post, see the sizes it will score.
    val_min_posts: int | None = None
    #: open-world: seeded cap on each validation account's posts during validation (not for the calibration)
    val_posts_per_account: int | None = 64
    val_fraction: float = 0.1  #: attribution: fraction of each author's training posts held out
    profile_posts: int = 32  #: attribution: posts per author in the validation centroids


@dataclass
class ModelArgs:
    #: transformer: fine-tune a sentence-transformers encoder (`base`); ngram: train the hashed n-gram encoder
    #: (settings in [ngram]; `base` may name a trained n-gram model folder to continue from)
    encoder: str = "transformer"
    base: str = "minilm"  #: bundled name, local folder or cached hub name
    max_seq_length: int = 128
    projection_dim: int | None = None
    pooling: str = "mean"  #: episode pooling: mean of normalised post vectors | attention (LUAR)
    attention_heads: int = 4
    gradient_checkpointing: bool = False


@dataclass
class NgramArgs:
    """The n-gram encoder (`model.encoder = "ngram"`, `authorid.encoders.NgramEncoder`) and its optimiser."""

    char_ngrams: list[int] = field(default_factory=lambda: [1, 4])
    char_buckets: int = 2**18
    word_ngrams: list[int] = field(default_factory=lambda: [1, 2])
    word_buckets: int = 2**18  #: 0: no word n-grams
    lowercase_words: bool = False
    block_weights: list[float] = field(default_factory=lambda: [1.0, 1.0])
    dim: int = 128  #: trained table width (0: sketch path only)
    table_rows: int = (
        2**17
    )  #: rows of the trained table; bucket i reads row i mod table_rows (0: one per bucket)
    init_scale: float = 0.1  #: the table's random start, N(0, (init_scale^2) / dim)
    sketch_dim: int = 16384  #: width of the count sketch of the weighted profile (0: trained path only)
    sketch_weights: bool = True  #: learn a weight per bucket in the sketch path
    mix: float = 0.1  #: the trained path's share of the cosine when scoring
    train_mix: float = 0.3  #: ... and when training
    centre: str = (
        "corpus"  #: corpus: accounts embedded together are centred on their mean; fixed: stored mean
    )
    table_storage: str = "int8"  #: int8 | float32: how the exported model stores the table
    lr: float = 0.05  #: learning rate of the trained table (sparse rows)
    optimizer: str = "adagrad"  #: adagrad | sparse-adam (the table's optimiser)
    #: Adam's learning rate of the per-bucket weights g. 3e-3 since stop 28 (the packaged `style` since stop 32):
    #: at 1e-2 g drifts toward Reddit; 3e-3 raised the Reddit benchmark's hubness-corrected MRR 0.447 -> 0.458
    #: and off-domain C50 / Blog50 (docs/ngram.md)
    sketch_lr: float = 3e-3
    idf_posts: int | None = 200_000  #: seeded sample of training posts the idf is fitted on (None: all)
    #: folder keeping the training posts' n-gram counts between runs on the same posts (None: count each run)
    counts_cache: str | None = None


@dataclass
class EpisodeArgs:
    accounts_per_batch: int = 16  #: P
    episodes_per_account: int = 2  #: K
    posts_per_episode: int | list[int] = 8  #: N, or [lo, hi] drawn per batch
    #: an account's episodes never share a post: each gets min(N, posts // K) posts (n-gram encoder only; a
    #: transformer batch needs equal episodes)
    disjoint: bool = False


@dataclass
class LossArgs:
    name: str = "nbc-softmax"  #: a loss or a weighted sum: "ce+supcon:0.5"
    params: dict = field(default_factory=dict)  #: hyper-parameters over the paper defaults


@dataclass
class OptimArgs:
    lr: float = 2e-5  #: encoder (and attention pooling) learning rate
    head_lr: float = 1e-3  #: learning rate of the loss's class head (it starts far from trained, so faster)
    #: class-head start: "centroids" (imprinted from the accounts' mean post vectors; training/head_init.py)
    #: or "random" (nn.Linear / Xavier, as the papers do)
    head_init: str = "centroids"
    weight_decay: float = 0.01
    scheduler: str = "cosine"  #: cosine | linear | constant (after warm-up)
    warmup_ratio: float = 0.1
    gradient_accumulation_steps: int = 1
    max_grad_norm: float | None = 1.0


@dataclass
class RunArgs:
    max_steps: int | None = None  #: optimizer steps; None: `epochs` passes over the training accounts
    #: stop after this many seconds of training (forward, backward, step; validation not counted) even before
    #: max_steps: equal wall-clock budgets for comparisons. A time limit makes a resumed run end at another step.
    max_seconds: float | None = None
    epochs: int = 1
    eval_every: int = 0  #: validate every N steps; 0: after every epoch; -1: never
    eval_at_start: bool = True  #: validate the untrained model too (the "before" of the curves)
    checkpoint_every: int = 100  #: save a resumable checkpoint every N steps
    checkpoints_to_keep: int = 2
    keep_checkpoints: bool = False  #: keep the training state folder after a finished run
    stop_after_steps: int | None = None  #: pause after this step (checkpoint written); resume continues
    patience: int | None = 3  #: stop after this many validations without improvement
    seed: int = 0
    mixed_precision: str = "auto"  #: auto (bf16 on a GPU that has it, else no) | no | bf16 | fp16
    cpu: bool = False  #: train on CPU even when a GPU is there
    calibrate: bool = True  #: fit `calibration.json` on the validation accounts when possible
    progress: bool = True


@dataclass
class TrainConfig:
    data: DataArgs = field(default_factory=DataArgs)
    model: ModelArgs = field(default_factory=ModelArgs)
    ngram: NgramArgs = field(default_factory=NgramArgs)
    episodes: EpisodeArgs = field(default_factory=EpisodeArgs)
    loss: LossArgs = field(default_factory=LossArgs)
    optim: OptimArgs = field(default_factory=OptimArgs)
    run: RunArgs = field(default_factory=RunArgs)

    @property
    def primary_metric(self) -> str:
        """The validation metric that picks the checkpoint: linking MRR (open world) or accuracy (attribution)."""
        return "mrr" if self.data.task == "open-world" else "accuracy"

    def check(self) -> TrainConfig:
        """Raise ConfigError (one line) for values outside their range; returns self."""
        choices = {
            "data.task": (self.data.task, TASKS),
            "model.encoder": (self.model.encoder, ENCODERS),
            "model.pooling": (self.model.pooling, POOLINGS),
            "ngram.optimizer": (self.ngram.optimizer, SPARSE_OPTIMIZERS),
            "optim.scheduler": (self.optim.scheduler, SCHEDULERS),
            "optim.head_init": (self.optim.head_init, HEAD_INITS),
            "run.mixed_precision": (self.run.mixed_precision, MIXED_PRECISION),
        }
        for key, (value, valid) in choices.items():
            if value not in valid:
                raise ConfigError(f"{key} must be one of {', '.join(valid)}, got {value!r}")
        positive = {
            "model.max_seq_length": self.model.max_seq_length,
            "episodes.accounts_per_batch": self.episodes.accounts_per_batch,
            "optim.gradient_accumulation_steps": self.optim.gradient_accumulation_steps,
            "run.epochs": self.run.epochs,
            "run.checkpoint_every": self.run.checkpoint_every,
            "run.checkpoints_to_keep": self.run.checkpoints_to_keep,
            "data.min_posts": self.data.min_posts,
        }
        for key, value in positive.items():
            if value < 1:
                raise ConfigError(f"{key} must be >= 1, got {value}")
        if self.data.val_min_posts is not None and self.data.val_min_posts < self.data.min_posts:
            raise ConfigError(
                f"data.val_min_posts must be >= data.min_posts ({self.data.min_posts}),"
                f" got {self.data.val_min_posts}"
            )
        if self.run.max_seconds is not None and self.run.max_seconds <= 0:
            raise ConfigError(f"run.max_seconds must be > 0, got {self.run.max_seconds}")
        if self.run.max_steps is not None and self.run.max_steps < 1:
            raise ConfigError(f"run.max_steps must be >= 1, got {self.run.max_steps}")
        if self.model.encoder == "ngram" and self.model.pooling != "mean":
            raise ConfigError(
                "the n-gram encoder pools an episode by summing its n-gram counts: model.pooling mean"
            )
        if self.episodes.disjoint and self.model.encoder != "ngram":
            raise ConfigError(
                "episodes.disjoint needs model.encoder ngram (transformer episodes must be equal)"
            )
        for key in ("lr", "sketch_lr"):
            if getattr(self.ngram, key) <= 0:
                raise ConfigError(f"ngram.{key} must be > 0, got {getattr(self.ngram, key)}")
        if self.optim.lr <= 0 or self.optim.head_lr <= 0:
            raise ConfigError("optim.lr and optim.head_lr must be > 0")
        if not 0 <= self.optim.warmup_ratio < 1:
            raise ConfigError(f"optim.warmup_ratio must be in [0, 1), got {self.optim.warmup_ratio}")
        if not 0 < self.data.val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1), got {self.data.val_fraction}")
        self._check_ranges()
        self._check_optim_for_encoder()
        return self

    def _check_ranges(self) -> None:
        """Settings that trained on without a word when out of range (audit 12): a negative clip norm turned
        the dense gradients around, `data.max_accounts 0` was blamed on the corpus."""
        at_least = {  # key: (value, least); None (where allowed) is not checked
            "data.max_accounts": (self.data.max_accounts, 1),
            "data.max_posts_per_account": (self.data.max_posts_per_account, 1),
            "data.val_accounts": (self.data.val_accounts, 0),
            "data.profile_posts": (self.data.profile_posts, 1),
            "episodes.episodes_per_account": (self.episodes.episodes_per_account, 1),
            "run.patience": (self.run.patience, 1),
            "run.eval_every": (self.run.eval_every, -1),
            "run.stop_after_steps": (self.run.stop_after_steps, 1),
            "ngram.dim": (self.ngram.dim, 0),
            "ngram.sketch_dim": (self.ngram.sketch_dim, 0),
            "ngram.table_rows": (self.ngram.table_rows, 0),
            "ngram.char_buckets": (self.ngram.char_buckets, 1),
            "ngram.word_buckets": (self.ngram.word_buckets, 0),
        }
        for key, (value, least) in at_least.items():
            if value is not None and value < least:
                raise ConfigError(f"{key} must be >= {least}, got {value}")
        posts = self.episodes.posts_per_episode
        bounds = posts if isinstance(posts, list) else [posts]
        if not 1 <= len(bounds) <= 2 or min(bounds) < 1 or bounds != sorted(bounds):
            raise ConfigError(
                f"episodes.posts_per_episode must be >= 1, or [lo, hi] with 1 <= lo <= hi, got {posts}"
            )
        if self.optim.weight_decay < 0:
            raise ConfigError(f"optim.weight_decay must be >= 0, got {self.optim.weight_decay}")
        if self.optim.max_grad_norm is not None and self.optim.max_grad_norm <= 0:
            raise ConfigError(
                f"optim.max_grad_norm must be > 0 (or none: no clipping), got {self.optim.max_grad_norm}"
            )
        for key in ("mix", "train_mix"):
            if not 0 <= getattr(self.ngram, key) <= 1:
                raise ConfigError(f"ngram.{key} must be in [0, 1], got {getattr(self.ngram, key)}")

    def _check_optim_for_encoder(self) -> None:
        """The n-gram encoder's table and weights have learning rates of their own (ngram.lr, ngram.sketch_lr)
        and no weight decay: optim.lr and optim.weight_decay set for it would be recorded as the run's settings
        and used by nothing (audit 12: a sweep of optim.lr gave identical models)."""
        if self.model.encoder != "ngram":
            return
        defaults = OptimArgs()
        for key, own in (
            ("lr", "ngram.lr (the table) and ngram.sketch_lr (the weights)"),
            ("weight_decay", None),
        ):
            if getattr(self.optim, key) != getattr(defaults, key):
                instead = f"; set {own}" if own else ""
                raise ConfigError(
                    f"optim.{key} is the transformer's and does not apply to the n-gram encoder{instead}"
                    " (optim.head_lr sets a loss head's)"
                )


#: Size presets: dotted overrides applied over the defaults (and under the user's own settings).
PRESETS: dict[str, dict[str, Any]] = {
    # Meant to learn something measurable on 2 CPU cores in ~10 minutes: 300 accounts (50 for validation),
    # short posts, 16 accounts x 2 episodes x 2 posts per step (see scripts/bench_train.py for what it reaches).
    "quick": {
        "data.max_accounts": 300,
        "data.min_posts": 16,
        "data.max_posts_per_account": 64,
        "data.val_accounts": 50,
        "data.val_posts_per_account": 8,
        "model.max_seq_length": 48,
        "episodes.accounts_per_batch": 16,
        "episodes.episodes_per_account": 2,
        "episodes.posts_per_episode": 2,
        "optim.lr": 5e-5,
        "optim.head_lr": 5e-3,
        "run.max_steps": 48,
        "run.eval_every": 24,
        "run.checkpoint_every": 48,
        "run.patience": None,
    },
    # A longer CPU run: a few thousand accounts, more posts per episode.
    "cpu": {
        "data.max_accounts": 3000,
        "data.min_posts": 16,
        "data.max_posts_per_account": 256,
        "data.val_accounts": 200,
        "model.max_seq_length": 128,
        "episodes.accounts_per_batch": 32,
        "episodes.posts_per_episode": 8,
        "run.max_steps": 1000,
        "run.eval_every": 200,
        "run.checkpoint_every": 100,
    },
    # The n-gram encoder on a whole forum dump, on CPU (what the packaged `style` model is trained with;
    # docs/ngram.md): every account with >= 4 posts trains, 256 accounts x 2 disjoint episodes of <= 8 posts
    # per step, SupCon, for 7 minutes of optimisation (the sparse table learns most in its first epoch).
    # Validation: 400 accounts of >= 20 posts, 16 of their posts each (halves of 8, as the Reddit benchmark
    # cuts); the calibration fitted at export reads all their posts, so it sees accounts of 1 to 50+ posts.
    "ngram": {
        "model.encoder": "ngram",
        "loss.name": "supcon",
        "data.min_posts": 4,
        "data.val_accounts": 400,
        "data.val_min_posts": 20,
        "data.val_posts_per_account": 16,
        "episodes.accounts_per_batch": 256,
        "episodes.episodes_per_account": 2,
        "episodes.posts_per_episode": 8,
        "episodes.disjoint": True,
        "optim.scheduler": "constant",
        "optim.warmup_ratio": 0.0,
        "run.max_steps": 100_000,
        "run.max_seconds": 420,
        "run.eval_every": 50,
        "run.checkpoint_every": 50,
        "run.patience": None,
    },
    # One GPU (or several under torchrun): whole corpus, LUAR-sized episodes, bf16.
    "gpu": {
        "data.min_posts": 8,
        "data.val_accounts": 1000,
        "model.max_seq_length": 256,
        "episodes.accounts_per_batch": 64,
        "episodes.posts_per_episode": 16,
        "run.epochs": 20,
        "run.eval_every": 500,
        "run.checkpoint_every": 500,
        "run.mixed_precision": "auto",
    },
}


def resolve_config(
    config: TrainConfig | str | Path | dict | None = None,
    *,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Defaults, then the preset, then the config (file, dict or object), then dotted `overrides`."""
    if preset is not None and preset not in PRESETS:
        try:
            get_preset(preset)
        except ValueError:
            raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}") from None
        raise ConfigError(
            f"{preset!r} is a corpus preset: `train` reads it with --corpus-preset {preset} (its --preset names a"
            f" training preset: {', '.join(PRESETS)})"
        )
    base = apply_overrides(TrainConfig(), PRESETS[preset]) if preset else TrainConfig()
    if isinstance(config, str | Path):
        config = load_toml(config)
    if isinstance(config, dict):
        # A file's settings go over the preset: apply them as overrides, leaf by leaf.
        from_dict(TrainConfig, config)  # validates keys, with the full list of valid ones on error
        base = apply_overrides(base, dict(_flatten(config)))
    elif isinstance(config, TrainConfig):
        if preset:
            raise ConfigError("give either a TrainConfig or a preset, not both (apply PRESETS yourself)")
        base = config
    elif config is not None:
        raise ConfigError(f"config must be a TrainConfig, a dict or a TOML path, got {type(config).__name__}")
    return apply_overrides(base, overrides or {}).check()


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        if isinstance(value, dict) and key != "params":
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
