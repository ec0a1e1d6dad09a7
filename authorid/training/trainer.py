"""`fit`: the training loop. Episodes of posts in, the trained encoder, pooling and loss out.

Why `accelerate` and a short loop of our own, not the sentence-transformers / Hugging Face `Trainer`: a
training example here is an *episode* (N posts of one account, pooled into one vector) and a batch is P
accounts x K episodes drawn by `EpisodeBatchSampler`. The HF Trainer wants a Dataset of independent rows and
its own collator and sampler, so episode batches, the pooled forward pass and a loss that owns a class head
would all fight its hooks; its checkpoints would also not know the sampler's position. `accelerate` gives the
parts we need and nothing else: DDP under `torchrun`, mixed precision, `no_sync` for gradient accumulation,
and `save_state` / `load_state` (model, optimizer, scheduler, RNG states) with automatic checkpoint naming
and rotation.

Determinism: `accelerate.utils.set_seed(seed)` before the model and head are built; the sampler is a pure
function of (seed, epoch, batch); dropout draws from torch's RNG, whose state every checkpoint saves. So a
run interrupted and resumed ends with the same weights as an uninterrupted one: bit for bit on one thread (the
tests); on several, parallel floating-point sums (the n-gram encoder's sparse gradients) may round in another
order, and two uninterrupted runs differ as much (in the last digits of a weight).

Steps are optimizer steps (one per `gradient_accumulation_steps` sampler batches); under DDP each process
takes every world_size-th batch, so one step sees P x world_size accounts.

The loop only trains: reading the corpus, resuming or replacing a run folder, exporting the model and
calibrating it are the `train` workflow's (`authorid.workflows.train`), which calls `fit`.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
import torch
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration, broadcast, broadcast_object_list, set_seed
from transformers import get_scheduler

from authorid import losses
from authorid.config import to_dict
from authorid.data.arrow import read_columns
from authorid.data.episodes import EpisodeBatchSampler, batch_accounts
from authorid.data.splits import fingerprint
from authorid.encoders import AttentionPooling, NgramEncoder, build_style_encoder, embedding_dim
from authorid.encoders.ngram import DEFAULTS as NGRAM_DEFAULTS
from authorid.encoders.ngram import HASHING_KEYS, ngram_model_folder
from authorid.io import atomic_write, write_json
from authorid.progress import training_progress
from authorid.training.arguments import TrainConfig
from authorid.training.episode_model import EpisodeModel, NgramEpisodeModel
from authorid.training.errors import TrainingDataError, TrainingError
from authorid.training.head_init import class_centroids, class_heads, imprint
from authorid.training.log import TrainLog
from authorid.training.state import (
    CONFIG_FILE,
    STATE_DIR,
    TrainerState,
    checkpoint_number,
    load_weights,
    save_weights,
)
from authorid.training.validation import AttributionValidator, LinkingValidator

if TYPE_CHECKING:
    from authorid.training.data import TrainingData

logger = logging.getLogger(__name__)
# torch's SparseAdam builds its own sparse tensors on every step of a sparse (n-gram) table and warns that their
# invariant checks are off: nothing a user did or can change, printed into every training run's output.
warnings.filterwarnings(
    "ignore", message="Sparse invariant checks are implicitly disabled", category=UserWarning
)


class _NoRotationNotes(logging.Filter):
    """accelerate warns "Deleting N checkpoints to make room for new checkpoint" at every checkpoint once
    `run.checkpoints_to_keep` are kept: the rotation asked for, not a fault, so it is not shown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "to make room for new checkpoint" not in record.getMessage()


logging.getLogger("accelerate.accelerator").addFilter(_NoRotationNotes())


@dataclass
class TrainedParts:
    """What `fit` returns: the trained modules (best validated weights), where the run stands, and how it ran.

    `paused` is True when the run stopped at `run.stop_after_steps` (a checkpoint was written; nothing else).
    `is_main` is True on the process that writes outputs (always, without DDP).
    """

    encoder: torch.nn.Module
    pooling: AttentionPooling | None
    loss: torch.nn.Module
    state: TrainerState
    paused: bool
    is_main: bool
    total_steps: int
    batches_per_epoch: int
    world_size: int
    device: str
    mixed_precision: str


def fit(
    cfg: TrainConfig, prepared: TrainingData, *, out: Path, checkpoint: Path | None = None
) -> TrainedParts:
    """Train on `prepared` posts as `cfg` says, checkpointing under ``out/training_state``; resume from
    `checkpoint` when given (its state must have been made from the same posts)."""
    return _Run(cfg, out, checkpoint).fit(prepared)


class _Run:
    """One training run: `fit` starts (or resumes) it, loops over optimizer steps, and finishes it."""

    def __init__(self, cfg: TrainConfig, out: Path, checkpoint: Path | None):
        self.cfg, self.out, self.checkpoint = cfg, out, checkpoint
        self.state_dir = out / STATE_DIR

    # ---------------------------------------------------------------------------------------------- setup

    def _accelerator(self) -> Accelerator:
        run = self.cfg.run
        precision = run.mixed_precision
        if precision == "auto":
            on_gpu = torch.cuda.is_available() and not run.cpu
            precision = "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"
        project = ProjectConfiguration(
            project_dir=str(self.state_dir),
            automatic_checkpoint_naming=True,
            total_limit=run.checkpoints_to_keep,
        )
        # step_scheduler_with_optimizer=False: we step the scheduler once per optimizer step ourselves (accelerate
        # would otherwise step it world_size times, assuming a per-process schedule).
        return Accelerator(
            cpu=run.cpu,
            mixed_precision=precision,
            project_config=project,
            step_scheduler_with_optimizer=False,
        )

    def _sampler(self, prepared: TrainingData) -> EpisodeBatchSampler:
        ep = self.cfg.episodes
        ep.accounts_per_batch = batch_accounts(  # saved with the run's settings: a resumed run uses it too
            prepared.train, ep.accounts_per_batch, self.accelerator.num_processes
        )
        return EpisodeBatchSampler(
            prepared.train,
            disjoint=ep.disjoint,
            accounts_per_batch=ep.accounts_per_batch,
            episodes_per_account=ep.episodes_per_account,
            posts_per_episode=ep.posts_per_episode
            if isinstance(ep.posts_per_episode, int)
            else tuple(ep.posts_per_episode),
            min_posts=2,
            seed=self.cfg.run.seed,
            rank=self.accelerator.process_index,
            world_size=self.accelerator.num_processes,
        )

    def _build(self, n_classes: int, prepared: TrainingData) -> EpisodeModel | NgramEpisodeModel:
        if self.cfg.model.encoder == "ngram":
            encoder, post_counts = build_ngram_encoder(self.cfg, prepared.train)
            loss = losses.build(self.cfg.loss.name, encoder.dim, n_classes, **self.cfg.loss.params)
            return NgramEpisodeModel(encoder, loss, post_counts).train()
        m = self.cfg.model
        encoder = build_style_encoder(
            m.base, max_seq_length=m.max_seq_length, projection_dim=m.projection_dim, seed=self.cfg.run.seed
        )
        auto_model = encoder[0].auto_model
        for name, parameter in auto_model.named_parameters():
            # BERT-style pooler heads feed nothing we use (we mean-pool token states): frozen, so DDP does not
            # wait for gradients that never come, and weight decay does not shrink them for nothing.
            if name.startswith("pooler."):
                parameter.requires_grad_(False)
        if m.gradient_checkpointing:  # transformers 5 renamed it activation checkpointing
            enable = getattr(auto_model, "activation_checkpointing_enable", None)
            (enable or auto_model.gradient_checkpointing_enable)()
        dim = m.projection_dim or embedding_dim(encoder)
        pooling = AttentionPooling(dim, m.attention_heads) if m.pooling == "attention" else None
        loss = losses.build(self.cfg.loss.name, dim, n_classes, **self.cfg.loss.params)
        return EpisodeModel(encoder, pooling, loss).train()

    def _optimizers(self, model: EpisodeModel | NgramEpisodeModel, total_steps: int) -> tuple[list, list]:
        """(optimizers, schedulers): AdamW over dense parameters; for the n-gram encoder, a sparse optimiser
        over its table (only the rows a step touched move) and AdamW over the loss head."""
        o = self.cfg.optim
        if isinstance(model, NgramEpisodeModel):
            encoder = model.encoder
            optimizers = (
                [_sparse_optimizer(self.cfg, encoder.table.weight)] if encoder.table is not None else []
            )
            if isinstance(encoder.sketch_weight, torch.nn.Parameter):
                optimizers.append(torch.optim.Adam([encoder.sketch_weight], lr=self.cfg.ngram.sketch_lr))
            head = list(model.loss.parameters())
            if head:
                optimizers.append(torch.optim.AdamW(head, lr=o.head_lr, weight_decay=0.0))
            return optimizers, [self._schedule(opt, total_steps) for opt in optimizers]
        decay, no_decay = [], []
        for name, p in itertools.chain(model.encoder.named_parameters(), _named(model.pooling)):
            if not p.requires_grad:
                continue
            # No weight decay on biases and LayerNorm weights (the BERT recipe).
            (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
        groups = [
            {"params": decay, "lr": o.lr, "weight_decay": o.weight_decay},
            {"params": no_decay, "lr": o.lr, "weight_decay": 0.0},
        ]
        head = list(model.loss.parameters())
        if head:
            groups.append({"params": head, "lr": o.head_lr, "weight_decay": 0.0})
        optimizer = torch.optim.AdamW(groups, lr=o.lr)
        return [optimizer], [self._schedule(optimizer, total_steps)]

    def _schedule(self, optimizer, total_steps: int):
        o = self.cfg.optim
        name = {"constant": "constant_with_warmup"}.get(o.scheduler, o.scheduler)
        return get_scheduler(
            name,
            optimizer,
            num_warmup_steps=round(o.warmup_ratio * total_steps),
            num_training_steps=total_steps,
        )

    def _imprint(self, prepared: TrainingData) -> None:
        """Class heads from the training accounts' centroids (`authorid.training.head_init`). Every process
        computes them (each holds all training posts) and takes rank 0's copy, so DDP replicas start from
        bit-identical weights. A fresh run only: a resumed run's heads come from its checkpoint."""
        if not class_heads(self.inner.loss):
            logger.info("optim.head_init=centroids: loss %s has no class head", self.cfg.loss.name)
            return
        started = time.perf_counter()
        accounts = self.sampler.accounts
        counts = getattr(self.inner, "post_counts", None)
        centroids = class_centroids(
            self.inner.encoder, prepared.train, accounts, seed=self.cfg.run.seed, counts=counts
        )
        tensor = broadcast(torch.from_numpy(centroids).to(self.accelerator.device), from_process=0)
        heads = imprint(self.inner.loss, tensor)
        logger.info(
            "imprinted %d class head(s) from %d account centroids in %.1f s",
            heads,
            len(accounts),
            time.perf_counter() - started,
        )

    def _validator(self, prepared: TrainingData):
        if prepared.val is None or self.cfg.run.eval_every < 0:
            return None
        if self.cfg.data.task == "open-world":
            return LinkingValidator(prepared.val, seed=self.cfg.run.seed)
        return AttributionValidator(
            prepared.train, prepared.val, profile_posts=self.cfg.data.profile_posts, seed=self.cfg.run.seed
        )

    # ------------------------------------------------------------------------------------------------ fit

    def fit(self, prepared: TrainingData) -> TrainedParts:
        self._start(prepared)
        paused = self._loop(prepared)
        return self._finish(paused, prepared)

    def _start(self, prepared: TrainingData) -> None:
        """Build everything the loop needs; restore the checkpoint's state, or imprint and save the config."""
        cfg, run = self.cfg, self.cfg.run
        self.accelerator = accelerator = self._accelerator()
        self.main = accelerator.is_main_process
        saved = TrainerState.load(self.checkpoint) if self.checkpoint is not None else None
        if saved is not None and saved.data_fingerprint != prepared.fingerprint:
            raise TrainingError(
                f"cannot resume {self.out}: these posts (fingerprint {prepared.fingerprint[:12]}) are not"
                f" the ones the run started with ({saved.data_fingerprint[:12]}); pass the same corpus"
            )
        self.sampler = self._sampler(prepared)
        accum = cfg.optim.gradient_accumulation_steps
        self.total_steps = run.max_steps or run.epochs * len(self.sampler) // accum
        if self.total_steps < 1:
            raise TrainingDataError(
                f"{len(self.sampler)} batches per epoch cannot make one step of {accum} accumulated batches;"
                " lower optim.gradient_accumulation_steps or episodes.accounts_per_batch"
            )
        self.validator = self._validator(prepared) if self.main else None
        self.has_validation = bool(broadcast_object_list([self.validator is not None])[0])

        set_seed(run.seed)
        model = self._build(len(self.sampler.accounts), prepared)
        optimizers, schedulers = self._optimizers(model, self.total_steps)
        prepared_parts = accelerator.prepare(model, *optimizers, *schedulers)
        self.model = prepared_parts[0]
        self.optimizers = list(prepared_parts[1 : 1 + len(optimizers)])
        self.schedulers = list(prepared_parts[1 + len(optimizers) :])
        self.inner: EpisodeModel | NgramEpisodeModel = accelerator.unwrap_model(self.model)

        self.state = TrainerState(data_fingerprint=prepared.fingerprint)
        if self.checkpoint is not None:
            self._resume(saved)
        else:
            if cfg.optim.head_init == "centroids":
                self._imprint(prepared)
            if self.main:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                write_json(self.state_dir / CONFIG_FILE, to_dict(cfg))
        self.log = TrainLog(
            self.out, enabled=self.main, resume_step=self.state.step if self.checkpoint else None
        )

    def _resume(self, saved: TrainerState) -> None:
        self.accelerator.load_state(str(self.checkpoint))
        self.state = saved
        self.accelerator.project_configuration.iteration = checkpoint_number(self.checkpoint) + 1
        if self.main:  # a checkpoint the interruption left half-written would block the next save's name
            for folder in self.checkpoint.parent.iterdir():
                if checkpoint_number(folder) > checkpoint_number(self.checkpoint):
                    shutil.rmtree(folder)
        logger.info("resumed from %s at step %d", self.checkpoint, self.state.step)

    def _loop(self, prepared: TrainingData) -> bool:
        """Optimizer steps until the budget, early stopping or a pause; returns True when paused."""
        cfg, run, state = self.cfg, self.cfg.run, self.state
        if self.has_validation and run.eval_at_start and state.step == 0 and not state.evaluations:
            self._consider(self._validate())
        ep = cfg.episodes
        self.episodes_per_batch = (
            ep.accounts_per_batch * ep.episodes_per_account * self.accelerator.num_processes
        )
        paused = last = False
        with training_progress(self.main and run.progress) as bar:
            self.bar = bar
            self.task = bar.add_task(
                "train", total=self.total_steps, completed=state.step, loss="-", lr="-", speed="-"
            )
            self.sums: dict[str, float] = {}
            self.tic = time.perf_counter()
            try:
                while state.step < self.total_steps and not state.stopped_early and not paused and not last:
                    self.sampler.set_epoch(state.epoch)
                    batches = itertools.islice(iter(self.sampler), state.batch_in_epoch, None)
                    for batch in batches:
                        if not self._micro_step(batch, prepared):
                            continue
                        epoch_done = self._after_optimizer_step()
                        out_of_time = run.max_seconds is not None and state.train_seconds >= run.max_seconds
                        last = state.step >= self.total_steps or out_of_time
                        if self.has_validation and self._validation_due(epoch_done, last):
                            self._consider(self._validate())
                        paused = run.stop_after_steps is not None and state.step >= run.stop_after_steps
                        paused = paused and not last
                        if state.step % run.checkpoint_every == 0 or paused:
                            self._checkpoint()
                        self.tic = time.perf_counter()
                        if last or state.stopped_early or paused or epoch_done:
                            break
                    else:
                        # The epoch ran out between two optimizer steps (gradient accumulation): next epoch.
                        state.epoch, state.batch_in_epoch = state.epoch + 1, 0
            except torch.OutOfMemoryError:
                raise TrainingError(_oom_hint(cfg, state.step)) from None
        return paused

    def _micro_step(self, batch, prepared: TrainingData) -> bool:
        """Forward and backward one sampler batch; True when it completed an optimizer step's accumulation."""
        state, accelerator = self.state, self.accelerator
        accum = self.cfg.optim.gradient_accumulation_steps
        state.batch_in_epoch += 1
        state.micro_batches += 1
        state.posts_seen += sum(len(e.indices) for e in batch) * self.accelerator.num_processes
        features, labels = self.inner.collate(batch, prepared.train, accelerator.device)
        sync = state.micro_batches % accum == 0
        with contextlib.nullcontext() if sync else accelerator.no_sync(self.model):
            with accelerator.autocast():
                parts = self.model(features, labels)
                objective = losses.total_loss(parts)
            accelerator.backward(objective / accum)
        for name, value in parts.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value.detach()) / accum
        self.sums["loss"] = self.sums.get("loss", 0.0) + float(objective.detach()) / accum
        return sync

    def _after_optimizer_step(self) -> bool:
        """Clip, step, log and show progress; returns True when this step ended an epoch."""
        cfg, state = self.cfg, self.state
        accum = cfg.optim.gradient_accumulation_steps
        if cfg.optim.max_grad_norm is not None:
            # Sparse gradients (the n-gram table) are not clipped: each step touches few rows, and Adam's per-row
            # normalisation already bounds their updates.
            dense = [p for p in self.model.parameters() if p.grad is not None and not p.grad.is_sparse]
            if dense:
                self.accelerator.clip_grad_norm_(dense, cfg.optim.max_grad_norm)
        for optimizer in self.optimizers:
            optimizer.step()
        for scheduler in self.schedulers:
            scheduler.step()
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        state.step += 1
        state.episodes_seen += self.episodes_per_batch * accum
        toc = time.perf_counter()
        state.train_seconds += toc - self.tic
        epoch_done = state.batch_in_epoch >= len(self.sampler)
        if epoch_done:
            state.epoch, state.batch_in_epoch = state.epoch + 1, 0
        speed = self.episodes_per_batch * accum / max(toc - self.tic, 1e-9)
        lr = self.schedulers[0].get_last_lr()[0]
        self.log.write(
            {
                "kind": "step",
                "step": state.step,
                "epoch": state.epoch,
                "lr": lr,
                "examples_per_s": round(speed, 3),
                **{k: round(v, 6) for k, v in self.sums.items()},
            }
        )
        self.bar.update(
            self.task,
            completed=state.step,
            total=self._expected_steps(),
            loss=f"{self.sums['loss']:.4f}",
            lr=f"{lr:.2e}",
            speed=f"{speed:.1f}",
        )
        self.sums = {}
        return epoch_done

    def _expected_steps(self) -> int:
        """The steps this run will end at: max_steps, or fewer when a time budget (run.max_seconds) ends it first,
        at the pace so far; so the bar's total and remaining time are the budget's (the n-gram preset's 100,000
        steps would say "eta 70h" for a 7-minute run)."""
        state, budget = self.state, self.cfg.run.max_seconds
        if budget is None or state.train_seconds <= 0:
            return self.total_steps
        pace = state.step / state.train_seconds
        return min(
            self.total_steps, max(state.step, round(state.step + (budget - state.train_seconds) * pace))
        )

    def _validation_due(self, epoch_done: bool, last: bool) -> bool:
        every = self.cfg.run.eval_every
        return (every > 0 and self.state.step % every == 0) or (every == 0 and epoch_done) or last

    def _validate(self) -> dict | None:
        """The validator's metrics on the main process, shared with every process."""
        metrics = None
        if self.main and self.validator is not None:
            with self.accelerator.autocast():
                metrics = self.validator(self.inner.encoder, self.inner.pooling)
            self.log.write(
                {"kind": "eval", "step": self.state.step, "epoch": self.state.epoch, "metrics": metrics}
            )
        return broadcast_object_list([metrics])[0]

    def _consider(self, metrics: dict | None) -> None:
        """Record a validation; keep the weights when the primary metric improved, else count toward patience."""
        if metrics is None:
            return
        state, run = self.state, self.cfg.run
        state.evaluations.append({"step": state.step, **metrics})
        value = metrics[self.cfg.primary_metric]
        # A tie keeps the later weights: they saw more data, and a saturated validation (a perfect score on a
        # handful of accounts) must not pin the run to its starting point.
        if state.best_metric is None or value >= state.best_metric:
            state.best_metric, state.best_step, state.bad_evals = value, state.step, 0
            if self.main:
                save_weights(self._modules(), self.state_dir / "best")
            self.accelerator.wait_for_everyone()  # the other ranks may read them at the end
        else:
            state.bad_evals += 1
            if run.patience is not None and state.bad_evals >= run.patience:
                state.stopped_early = True

    def _checkpoint(self) -> None:
        folder = Path(self.accelerator.save_state())
        if self.main:
            self.state.save(folder)
        self.accelerator.wait_for_everyone()

    def _finish(self, paused: bool, prepared: TrainingData) -> TrainedParts:
        """Paused: stop here. Else load the best validated weights on every process and stop (an n-gram
        encoder then stores its mean over the training accounts: the centre of accounts embedded alone)."""
        if paused:
            logger.info("paused at step %d of %d; resume to continue", self.state.step, self.total_steps)
        else:
            if self.has_validation and self.state.best_step is not None:
                load_weights(self._modules(), self.state_dir / "best")
            self.accelerator.wait_for_everyone()  # every rank has read the best weights before main removes them
            self.inner.eval()
            if isinstance(self.inner, NgramEpisodeModel):
                self.inner.store_centre(prepared.train, seed=self.cfg.run.seed)
        self.accelerator.end_training()
        return TrainedParts(
            encoder=self.inner.encoder,
            pooling=self.inner.pooling,
            loss=self.inner.loss,
            state=self.state,
            paused=paused,
            is_main=self.main,
            total_steps=self.total_steps,
            batches_per_epoch=len(self.sampler),
            world_size=self.accelerator.num_processes,
            device=str(self.accelerator.device),
            mixed_precision=str(self.accelerator.mixed_precision),
        )

    def _modules(self) -> dict:
        return {"encoder": self.inner.encoder, "pooling": self.inner.pooling, "loss": self.inner.loss}


def build_ngram_encoder(cfg: TrainConfig, posts) -> tuple[NgramEncoder, sp.csr_matrix]:
    """(the n-gram encoder to train, every training post's counts). A fresh encoder with the [ngram] settings
    and an idf fitted on (a seeded sample of) the training posts; or, when `model.base` is a trained n-gram
    model folder, that model (its settings, idf and table) to continue from."""
    base = ngram_model_folder(cfg.model.base)
    started = time.perf_counter()
    if base is not None:
        encoder = NgramEncoder.load(base).train()
        counts = _post_counts(encoder, posts, cfg.ngram.counts_cache)
    else:
        settings = {k: v for k, v in to_dict(cfg.ngram).items() if k in NGRAM_DEFAULTS}
        encoder = NgramEncoder(**settings, seed=cfg.run.seed)
        counts = _post_counts(encoder, posts, cfg.ngram.counts_cache)
        n = counts.shape[0]
        sample = cfg.ngram.idf_posts
        rows = (
            np.arange(n)
            if sample is None or n <= sample
            else np.sort(np.random.default_rng([cfg.run.seed, 5]).choice(n, size=sample, replace=False))
        )
        encoder.fit(counts=counts, rows=rows)
    logger.info(
        "n-gram counts of %d training posts (%d non-zeros) in %.1f s",
        counts.shape[0],
        counts.nnz,
        time.perf_counter() - started,
    )
    return encoder, counts


def _post_counts(encoder: NgramEncoder, posts, cache: str | None) -> sp.csr_matrix:
    """Every post's n-gram counts; with `cache`, kept in `cache/<posts fingerprint>-<hashing settings>.npz`
    (scipy's npz: arrays only, no pickle) so runs on the same posts count them once."""
    hashing = {k: encoder.params[k] for k in HASHING_KEYS}
    key = f"{fingerprint(posts)[:16]}-{hashlib.sha256(json.dumps(hashing, sort_keys=True).encode()).hexdigest()[:12]}"
    path = Path(cache) / f"{key}.npz" if cache is not None else None
    if path is not None and path.is_file():
        logger.info("n-gram counts from %s", path)
        return sp.load_npz(path).tocsr()
    counts = encoder.counts(read_columns(posts, ["text"]).column("text").to_pylist())
    if path is not None:
        atomic_write(path, lambda tmp: _save_npz(tmp, counts))
    return counts


def _save_npz(path: Path, matrix: sp.csr_matrix) -> None:
    with open(path, "wb") as handle:  # a file object: save_npz adds no ".npz" to the temporary name
        sp.save_npz(handle, matrix, compressed=False)


def _sparse_optimizer(cfg: TrainConfig, table: torch.nn.Parameter):
    if cfg.ngram.optimizer == "adagrad":
        return torch.optim.Adagrad([table], lr=cfg.ngram.lr)
    return torch.optim.SparseAdam([table], lr=cfg.ngram.lr)


def _named(module):
    return module.named_parameters() if module is not None else ()


def _oom_hint(cfg: TrainConfig, step: int) -> str:
    ep = cfg.episodes
    posts = (
        ep.accounts_per_batch
        * ep.episodes_per_account
        * (ep.posts_per_episode if isinstance(ep.posts_per_episode, int) else max(ep.posts_per_episode))
    )
    return (
        f"out of memory at step {step} with {posts} posts of up to {cfg.model.max_seq_length} tokens per batch;"
        " lower --episodes.accounts_per_batch, --episodes.posts_per_episode or --model.max_seq_length, raise"
        " --optim.gradient_accumulation_steps, or set --model.gradient_checkpointing true"
    )
