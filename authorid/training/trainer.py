"""`train`: fine-tune a style encoder on episodes of posts, validate, checkpoint, resume, export.

Why `accelerate` and a short loop of our own, not the sentence-transformers / Hugging Face `Trainer`: a
training example here is an *episode* (N posts of one account, pooled into one vector) and a batch is P
accounts x K episodes drawn by `EpisodeBatchSampler`. The HF Trainer wants a Dataset of independent rows and
its own collator and sampler, so episode batches, the pooled forward pass and a loss that owns a class head
would all fight its hooks; its checkpoints would also not know the sampler's position. `accelerate` gives the
parts we need and nothing else: DDP under `torchrun`, mixed precision, `no_sync` for gradient accumulation,
and `save_state` / `load_state` (model, optimizer, scheduler, RNG states) with automatic checkpoint naming
and rotation. The loop itself is one screen.

Determinism: `accelerate.utils.set_seed(seed)` before the model and head are built; the sampler is a pure
function of (seed, epoch, batch); dropout draws from torch's RNG, whose state every checkpoint saves. So a
run interrupted and resumed (`resume=True`) ends with the same weights as an uninterrupted one.

Steps are optimizer steps (one per `gradient_accumulation_steps` sampler batches); under DDP each process
takes every world_size-th batch, so one step sees P x world_size accounts.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import datasets
import torch

from authorid.config import to_dict
from authorid.encoders.build import embedding_dim
from authorid.errors import AuthoridError
from authorid.training.arguments import TrainConfig, resolve_config
from authorid.training.data import TrainingData, TrainingDataError, prepare_data, read_training_posts
from authorid.training.episode_model import EpisodeModel
from authorid.training.progress import TrainLog, training_progress
from authorid.training.state import (
    CONFIG_FILE,
    STATE_DIR,
    TrainerState,
    checkpoint_number,
    latest_checkpoint,
    load_weights,
    save_weights,
)

logger = logging.getLogger(__name__)


#: Settings a resumed run may change (everything else comes from the run's saved config).
_RESUMABLE = (
    "run.max_steps",
    "run.progress",
    "run.stop_after_steps",
    "run.keep_checkpoints",
    "run.calibrate",
)


class TrainingError(AuthoridError):
    """A run that cannot start or go on as asked: existing output, nothing to resume, out of memory."""


def train(
    data: datasets.Dataset | str | Path | None = None,
    *,
    val: datasets.Dataset | None = None,
    out: str | Path,
    config: TrainConfig | str | Path | dict | None = None,
    preset: str | None = None,
    loss: str | None = None,
    base: str | None = None,
    task: str | None = None,
    max_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
):
    """Fine-tune a style encoder and write it to `out`; returns the trained `authorid.model.StyleModel`.

    `data`: posts (a canonical Dataset) or a CORPUS (dump, cleaned Parquet, folder, preset name; default
    `config.data.corpus`). `val`: validation posts (default: held out from `data`, see
    `authorid.training.data`). Settings: the defaults, then `preset` (quick | cpu | gpu), then `config` (a
    TrainConfig, a dict or a TOML file), then `overrides` (dotted keys, e.g. ``{"optim.lr": 3e-5}``), then the
    shortcuts `loss`, `base`, `task`, `max_steps`. `resume=True` continues the run in `out` from its last
    checkpoint, with its saved settings (only those in `_RESUMABLE`, such as `run.max_steps`, may change) and
    the same posts (checked by fingerprint; a CORPUS given by name is read again by itself). An existing
    `out` is refused unless `overwrite`.
    """
    out = Path(out)
    state_dir = out / STATE_DIR
    shortcuts = {"loss.name": loss, "model.base": base, "data.task": task, "run.max_steps": max_steps}
    shortcuts = {k: v for k, v in shortcuts.items() if v is not None}
    if progress is not None:
        shortcuts["run.progress"] = progress
    if resume:
        checkpoint = latest_checkpoint(state_dir)
        if checkpoint is None:
            what = (
                "a finished model (its training state was removed)"
                if (out / "modules.json").exists()
                else ("no checkpoint")
            )
            raise TrainingError(f"nothing to resume in {out}: it holds {what}; train without --resume")
        # The saved settings win; only the step budget and the display may change on resume.
        cfg = resolve_config(
            _read_json(state_dir / CONFIG_FILE),
            overrides={
                "run.stop_after_steps": None,  # a pause applies to one invocation
                **{k: v for k, v in {**(overrides or {}), **shortcuts}.items() if k in _RESUMABLE},
            },
        )
    else:
        checkpoint = None
        if isinstance(data, str | Path):  # saved with the config, so `--resume` needs no CORPUS again
            shortcuts["data.corpus"] = str(data)
        cfg = resolve_config(config, preset=preset, overrides={**(overrides or {}), **shortcuts})
        if out.exists() and any(out.iterdir()):
            if not overwrite:
                raise TrainingError(f"output folder {out} exists; pass --overwrite to replace it or --resume")
            _remove_output(out)
    _check_names(cfg)
    return _Run(cfg, out, checkpoint).fit(data, val)


def _read_json(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def _remove_output(out: Path) -> None:
    import os

    # Only the main process deletes; the others write nothing there before the first (synchronised) checkpoint.
    if int(os.environ.get("RANK", "0")) == 0:
        shutil.rmtree(out)


def _check_names(cfg: TrainConfig) -> None:
    """Fail before any data is read: an unknown loss or base is a one-line error."""
    from authorid.encoders import resolve_base
    from authorid.losses import parse_spec

    parse_spec(cfg.loss.name)
    resolve_base(cfg.model.base)


class _Run:
    """One training run: built in `fit`, which is the whole loop."""

    def __init__(self, cfg: TrainConfig, out: Path, checkpoint: Path | None):
        self.cfg, self.out, self.checkpoint = cfg, out, checkpoint
        self.state_dir = out / STATE_DIR

    # ---------------------------------------------------------------------------------------------- setup

    def _accelerator(self):
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration

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

    def _data(self, data, val, accelerator) -> TrainingData:
        args = self.cfg.data
        source = "posts"
        if data is None:
            data = args.corpus  # on resume, the CORPUS the run started with
        if data is None:
            raise TrainingDataError("no training data: give a CORPUS (or data.corpus in the config)")
        if not isinstance(data, datasets.Dataset):
            source = str(data)
            show = self.cfg.run.progress and accelerator.is_main_process
            data = read_training_posts(data, args, seed=self.cfg.run.seed, progress=show)
        return prepare_data(data, args, seed=self.cfg.run.seed, val=val, source=source)

    def _build(self, n_classes: int):
        from authorid.encoders import AttentionPooling, build_style_encoder
        from authorid.losses import build

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
        loss = build(self.cfg.loss.name, dim, n_classes, **self.cfg.loss.params)
        return EpisodeModel(encoder, pooling, loss).train()

    def _optimizer(self, model: EpisodeModel, total_steps: int):
        from transformers import get_scheduler

        o = self.cfg.optim
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
        name = {"constant": "constant_with_warmup"}.get(o.scheduler, o.scheduler)
        scheduler = get_scheduler(
            name,
            optimizer,
            num_warmup_steps=round(o.warmup_ratio * total_steps),
            num_training_steps=total_steps,
        )
        return optimizer, scheduler

    def _imprint(self, inner: EpisodeModel, prepared: TrainingData, accounts, accelerator) -> None:
        """Class heads from the training accounts' centroids (`authorid.training.head_init`). Every process
        computes them (each holds all training posts) and takes rank 0's copy, so DDP replicas start from
        bit-identical weights. A fresh run only: a resumed run's heads come from its checkpoint."""
        from accelerate.utils import broadcast

        from authorid.training.head_init import class_centroids, class_heads, imprint

        if not class_heads(inner.loss):
            logger.info("optim.head_init=centroids: loss %s has no class head", self.cfg.loss.name)
            return
        started = time.perf_counter()
        centroids = class_centroids(inner.encoder, prepared.train, accounts, seed=self.cfg.run.seed)
        tensor = broadcast(torch.from_numpy(centroids).to(accelerator.device), from_process=0)
        heads = imprint(inner.loss, tensor)
        logger.info(
            "imprinted %d class head(s) from %d account centroids in %.1f s",
            heads,
            len(accounts),
            time.perf_counter() - started,
        )

    def _validator(self, prepared: TrainingData):
        from authorid.training.validation import AttributionValidator, LinkingValidator

        if prepared.val is None or self.cfg.run.eval_every < 0:
            return None
        if self.cfg.data.task == "open-world":
            return LinkingValidator(prepared.val, seed=self.cfg.run.seed)
        return AttributionValidator(
            prepared.train, prepared.val, profile_posts=self.cfg.data.profile_posts, seed=self.cfg.run.seed
        )

    # ------------------------------------------------------------------------------------------------ fit

    def fit(self, data, val):
        from accelerate.utils import broadcast_object_list, set_seed

        from authorid.data.episodes import EpisodeBatchSampler, collate_episodes
        from authorid.losses import total_loss

        cfg, run = self.cfg, self.cfg.run
        accelerator = self._accelerator()
        main = accelerator.is_main_process
        prepared = self._data(data, val, accelerator)
        saved = TrainerState.load(self.checkpoint) if self.checkpoint is not None else None
        if saved is not None and saved.data_fingerprint != prepared.fingerprint:
            raise TrainingError(
                f"cannot resume {self.out}: these posts (fingerprint {prepared.fingerprint[:12]}) are not"
                f" the ones the run started with ({saved.data_fingerprint[:12]}); pass the same corpus"
            )
        ep = cfg.episodes
        sampler = EpisodeBatchSampler(
            prepared.train,
            accounts_per_batch=ep.accounts_per_batch,
            episodes_per_account=ep.episodes_per_account,
            posts_per_episode=ep.posts_per_episode
            if isinstance(ep.posts_per_episode, int)
            else tuple(ep.posts_per_episode),
            min_posts=2,
            seed=run.seed,
            rank=accelerator.process_index,
            world_size=accelerator.num_processes,
        )
        accum = cfg.optim.gradient_accumulation_steps
        total_steps = run.max_steps or run.epochs * len(sampler) // accum
        if total_steps < 1:
            raise TrainingDataError(
                f"{len(sampler)} batches per epoch cannot make one step of {accum} accumulated batches;"
                " lower optim.gradient_accumulation_steps or episodes.accounts_per_batch"
            )
        validator = self._validator(prepared) if main else None
        has_validation = bool(broadcast_object_list([validator is not None])[0])

        set_seed(run.seed)
        model = self._build(len(sampler.accounts))
        optimizer, scheduler = self._optimizer(model, total_steps)
        model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
        inner: EpisodeModel = accelerator.unwrap_model(model)

        state = TrainerState(data_fingerprint=prepared.fingerprint)
        if self.checkpoint is not None:
            accelerator.load_state(str(self.checkpoint))
            state = saved
            accelerator.project_configuration.iteration = checkpoint_number(self.checkpoint) + 1
            if main:  # a checkpoint the interruption left half-written would block the next save's name
                for folder in self.checkpoint.parent.iterdir():
                    if checkpoint_number(folder) > checkpoint_number(self.checkpoint):
                        shutil.rmtree(folder)
            logger.info("resumed from %s at step %d", self.checkpoint, state.step)
        else:
            if cfg.optim.head_init == "centroids":
                self._imprint(inner, prepared, sampler.accounts, accelerator)
            if main:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                (self.state_dir / CONFIG_FILE).write_text(_json(to_dict(cfg)), encoding="utf-8")
        log = TrainLog(self.out, enabled=main, resume_step=state.step if self.checkpoint else None)

        def validate() -> dict | None:
            metrics = None
            if main and validator is not None:
                with accelerator.autocast():
                    metrics = validator(inner.encoder, inner.pooling)
                log.write({"kind": "eval", "step": state.step, "epoch": state.epoch, "metrics": metrics})
            return broadcast_object_list([metrics])[0]

        validator_primary = "mrr" if cfg.data.task == "open-world" else "accuracy"

        def consider(metrics: dict | None) -> None:
            if metrics is None:
                return
            state.evaluations.append({"step": state.step, **metrics})
            value = metrics[validator_primary]
            if state.best_metric is None or value > state.best_metric:
                state.best_metric, state.best_step, state.bad_evals = value, state.step, 0
                if main:
                    save_weights(self._modules(inner), self.state_dir / "best")
                accelerator.wait_for_everyone()  # the other ranks may read them at the end
            else:
                state.bad_evals += 1
                if run.patience is not None and state.bad_evals >= run.patience:
                    state.stopped_early = True

        if has_validation and run.eval_at_start and state.step == 0 and not state.evaluations:
            consider(validate())

        world = accelerator.num_processes
        episodes_per_batch = ep.accounts_per_batch * ep.episodes_per_account * world
        paused = False
        with training_progress(main and run.progress) as bar:
            task = bar.add_task("train", total=total_steps, completed=state.step, loss="-", lr="-", speed="-")
            sums: dict[str, float] = {}
            tic = time.perf_counter()
            try:
                while state.step < total_steps and not state.stopped_early and not paused:
                    sampler.set_epoch(state.epoch)
                    batches = itertools.islice(iter(sampler), state.batch_in_epoch, None)
                    for batch in batches:
                        state.batch_in_epoch += 1
                        state.micro_batches += 1
                        texts, labels = collate_episodes(batch, prepared.train, relabel=False)
                        features = _to_device(inner.tokenize(texts), accelerator.device)
                        labels = labels.to(accelerator.device)
                        sync = state.micro_batches % accum == 0
                        with contextlib.nullcontext() if sync else accelerator.no_sync(model):
                            with accelerator.autocast():
                                parts = model(features, labels)
                                objective = total_loss(parts)
                            accelerator.backward(objective / accum)
                        for name, value in parts.items():
                            sums[name] = sums.get(name, 0.0) + float(value.detach()) / accum
                        sums["loss"] = sums.get("loss", 0.0) + float(objective.detach()) / accum
                        if not sync:
                            continue
                        if cfg.optim.max_grad_norm is not None:
                            accelerator.clip_grad_norm_(model.parameters(), cfg.optim.max_grad_norm)
                        optimizer.step()
                        scheduler.step()
                        optimizer.zero_grad(set_to_none=True)
                        state.step += 1
                        state.episodes_seen += episodes_per_batch * accum
                        toc = time.perf_counter()
                        state.train_seconds += toc - tic
                        epoch_done = state.batch_in_epoch >= len(sampler)
                        if epoch_done:
                            state.epoch, state.batch_in_epoch = state.epoch + 1, 0
                        speed = episodes_per_batch * accum / max(toc - tic, 1e-9)
                        lr = scheduler.get_last_lr()[0]
                        log.write(
                            {
                                "kind": "step",
                                "step": state.step,
                                "epoch": state.epoch,
                                "lr": lr,
                                "examples_per_s": round(speed, 3),
                                **{k: round(v, 6) for k, v in sums.items()},
                            }
                        )
                        bar.update(
                            task,
                            completed=state.step,
                            loss=f"{sums['loss']:.4f}",
                            lr=f"{lr:.2e}",
                            speed=f"{speed:.1f}",
                        )
                        sums = {}
                        last = state.step >= total_steps
                        due = run.eval_every > 0 and state.step % run.eval_every == 0
                        due = due or (run.eval_every == 0 and epoch_done) or last
                        if has_validation and due:
                            consider(validate())
                        paused = (
                            run.stop_after_steps is not None
                            and state.step >= run.stop_after_steps
                            and not last
                        )
                        stopping = last or state.stopped_early
                        if state.step % run.checkpoint_every == 0 or paused:
                            self._checkpoint(accelerator, state)
                        tic = time.perf_counter()
                        if stopping or paused or epoch_done:
                            break
                    else:
                        # The epoch ran out between two optimizer steps (gradient accumulation): next epoch.
                        state.epoch, state.batch_in_epoch = state.epoch + 1, 0
            except torch.OutOfMemoryError:
                raise TrainingError(_oom_hint(cfg, state.step)) from None
        if paused:
            logger.info(
                "paused at step %d of %d; run again with resume=True to continue", state.step, total_steps
            )
            accelerator.end_training()
            return self._style_model(inner, metadata={}, calibration=None)
        if has_validation and state.best_step is not None:
            load_weights(self._modules(inner), self.state_dir / "best")
        accelerator.wait_for_everyone()  # every rank has read the best weights before main removes them
        inner.eval()
        metadata = self._metadata(prepared, state, accelerator, total_steps, len(sampler))
        calibration = None
        if main:
            from authorid.training.export import export_model

            export_model(
                self.out,
                encoder=inner.encoder,
                pooling=inner.pooling,
                loss=inner.loss,
                metadata=metadata,
                split_manifest=prepared.split_manifest,
            )
            calibration = self._calibrate(inner, prepared)
            if not run.keep_checkpoints:
                shutil.rmtree(self.state_dir, ignore_errors=True)
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return self._style_model(inner, metadata=metadata, calibration=calibration)

    # ------------------------------------------------------------------------------------------- helpers

    @staticmethod
    def _modules(inner: EpisodeModel) -> dict:
        return {"encoder": inner.encoder, "pooling": inner.pooling, "loss": inner.loss}

    def _checkpoint(self, accelerator, state: TrainerState) -> None:
        folder = Path(accelerator.save_state())
        if accelerator.is_main_process:
            state.save(folder)
        accelerator.wait_for_everyone()

    def _calibrate(self, inner: EpisodeModel, prepared: TrainingData):
        """Fit `calibration.json` on the validation accounts when `authorid.verification` offers it."""
        if not self.cfg.run.calibrate or prepared.val is None or self.cfg.data.task != "open-world":
            return None
        try:
            from authorid.verification import fit_calibration
        except ImportError:
            logger.info("authorid.verification.fit_calibration is not available; no calibration.json written")
            return None
        model = self._style_model(inner, metadata={}, calibration=None)
        try:
            calibrator = fit_calibration(model, prepared.val, seed=self.cfg.run.seed)
        except ValueError as err:  # too few validation accounts for a calibration: the model is still fine
            logger.warning("no calibration fitted: %s", err)
            return None
        from authorid.model import CALIBRATION_FILE

        calibrator.save(self.out / CALIBRATION_FILE)
        return calibrator

    def _style_model(self, inner: EpisodeModel, *, metadata: dict, calibration):
        from authorid.model import StyleModel

        return StyleModel(
            name=str(self.out),
            encoder=inner.encoder,
            pooling=inner.pooling,
            calibration=calibration,
            metadata=metadata,
            path=self.out,
        )

    def _metadata(
        self, prepared: TrainingData, state: TrainerState, accelerator, total_steps, batches
    ) -> dict:
        from authorid.encoders import resolve_base
        from authorid.losses import LOSSES, hyperparameters, parse_spec

        cfg = self.cfg
        evaluations = state.evaluations
        best = next((e for e in evaluations if e["step"] == state.best_step), None)
        defaults = {name: hyperparameters(LOSSES[name]) for name, _ in parse_spec(cfg.loss.name)}
        return {
            "base": cfg.model.base,
            "base_path": str(resolve_base(cfg.model.base)),
            "task": cfg.data.task,
            "pooling": cfg.model.pooling,
            "max_seq_length": cfg.model.max_seq_length,
            "loss": {"name": cfg.loss.name, "params": cfg.loss.params, "defaults": _jsonable(defaults)},
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
            },
            "validation": {
                "primary": ("mrr" if cfg.data.task == "open-world" else "accuracy") if evaluations else None,
                "initial": _strip_step(evaluations[0])
                if evaluations and evaluations[0]["step"] == 0
                else None,
                "best": _strip_step(best) if best else None,
                "best_step": state.best_step,
                "history": evaluations,
            },
            "training": {
                "steps": state.step,
                "planned_steps": total_steps,
                "epochs": state.step * cfg.optim.gradient_accumulation_steps / max(batches, 1),
                "stopped_early": state.stopped_early,
                "episodes_seen": state.episodes_seen,
                "train_seconds": round(state.train_seconds, 2),
                "examples_per_s": state.episodes_seen / max(state.train_seconds, 1e-9),
                "posts_per_episode": cfg.episodes.posts_per_episode,
                "world_size": accelerator.num_processes,
                "device": str(accelerator.device),
                "mixed_precision": str(accelerator.mixed_precision),
            },
        }


def _to_device(features: dict, device) -> dict:
    # preprocess() also returns non-tensor entries (e.g. the modality); only tensors move.
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}


def _named(module):
    return module.named_parameters() if module is not None else ()


def _strip_step(evaluation: dict) -> dict:
    return {k: v for k, v in evaluation.items() if k != "step"}


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, default=str))


def _json(value) -> str:
    import json

    return json.dumps(value, indent=2)


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
