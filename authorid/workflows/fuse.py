"""`fuse`: two style models as one model folder, their vectors concatenated with weights fitted on a corpus.

The weights are chosen on the corpus' accounts cut in two halves (`labelled_accounts`: its persons, else a
sybil cut): for a = w_A² in 0, 0.05, ..., 1 the fused cosine a·cos_A + (1 - a)·cos_B ranks every first half
against all second halves, and the a with the best linking MRR wins (ties: the larger a, the first model).
The fused model then gets its own calibration, fitted on the same corpus (`fit_calibration`), and works
wherever a MODEL does: index, link, cluster, score, evaluate, attribute.

Both fits read only accounts neither part trained or validated on (a part's own accounts score higher than new
ones: the calibration would promise too much), and the fused folder records the accounts it was fitted on
(`training_accounts.json`), so `evaluate` and `calibrate` leave them out, with each part's own.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from authorid.account_hashes import write_training_accounts
from authorid.artefacts import (
    CALIBRATION_FILE,
    MANIFEST_FILE,
    METADATA_FILE,
    check_output_folder,
    write_manifest,
)
from authorid.data.arrow import read_columns
from authorid.encoders import StylometricEncoder
from authorid.encoders.fused import FusedEncoder
from authorid.io import atomic_write_text, write_json
from authorid.metrics.ranking import mean_reciprocal_rank, ranks_of_true
from authorid.model import StyleModel
from authorid.workflows.calibrate import fit_calibration, labelled_accounts, person_of_accounts
from authorid.workflows.common import model_for, without_training_accounts

if TYPE_CHECKING:
    import datasets

#: Weights of the first model's cosine tried (a = w_A^2; the second gets 1 - a).
WEIGHT_GRID = tuple(round(a, 2) for a in np.linspace(0.0, 1.0, 21))
#: Bundled models a fused folder refers to by name instead of copying their weights.
BUNDLED = ("minilm", "minilm:raw")


@dataclass
class FuseResult:
    model: StyleModel
    weights: list[float]  #: w_A, w_B (unit: w_A^2 + w_B^2 = 1)
    mrr_per_weight: dict[str, float]  #: a = w_A^2 -> linking MRR of the halves
    path: Path


def fuse(
    first: Any,
    second: Any,
    posts: datasets.Dataset,
    *,
    out: str | Path,
    first_weight: float | None = None,
    seed: int = 0,
    calibrate: bool = True,
    overwrite: bool = False,
    progress: bool = False,
) -> FuseResult:
    """Fuse two models (StyleModels or MODEL arguments; `stylometric[:DIM]` is fitted on `posts`) into `out`.

    `first_weight`: a = w_A^2 given instead of fitted. See the module docstring for the fit. `out` must be new,
    empty, or a model folder replaced with `overwrite`.
    """
    if first_weight is not None and not 0 <= first_weight <= 1:
        raise ValueError(f"--first-weight is w_A^2 and must lie in [0, 1], got {first_weight}")
    out = check_output_folder(out, kind="model", overwrite=overwrite)
    if any(out.iterdir()):
        shutil.rmtree(out)
    models = [model_for(first, posts), model_for(second, posts)]
    specs = [m.name if isinstance(m, StyleModel) else str(m) for m in (first, second)]
    # The weights and the calibration are fitted on accounts neither part trained on: a part's own accounts
    # score higher than new ones, which would pull the weight toward it and make the calibration promise too much.
    excluded = 0
    for model in models:
        posts, left_out = without_training_accounts(model, posts, keep=None)
        excluded += left_out
    if len(posts) == 0:
        raise ValueError(
            "every account of the corpus is one a part trained or validated on: fuse on other accounts"
        )
    labelled, source = labelled_accounts(posts, seed=seed)
    person_of = person_of_accounts(labelled)
    queries, candidates = _halves(person_of)
    scores = []
    for model in models:
        vectors = model.embed_accounts(labelled, progress=progress)
        scores.append(vectors.rows(queries) @ vectors.rows(candidates).T)
    mrr = {}
    for a in WEIGHT_GRID:
        ranks = ranks_of_true(a * scores[0] + (1 - a) * scores[1], np.arange(len(queries)))
        mrr[f"{a:.2f}"] = mean_reciprocal_rank(ranks)
    if first_weight is None:
        best = max(mrr.values())
        first_weight = max(float(a) for a, value in mrr.items() if value == best)
    if not 0 <= first_weight <= 1:
        raise ValueError(f"--first-weight is w_A^2 and must lie in [0, 1], got {first_weight}")
    weights = [float(np.sqrt(first_weight)), float(np.sqrt(1 - first_weight))]
    encoder = FusedEncoder(models, weights, [_part_name(s) for s in specs])
    out.mkdir(parents=True, exist_ok=True)
    locations = [
        _save_part(m, spec, out / f"part{i}") for i, (m, spec) in enumerate(zip(models, specs, strict=True))
    ]
    encoder.save(out, locations)
    fused = StyleModel(name=str(out), encoder=encoder, path=out)
    fused.metadata = {
        "kind": "fused",
        "parts": [{"model": spec, "identity": m.identity()} for spec, m in zip(specs, models, strict=True)],
        "weights": weights,
        "fitted_on": {
            "pairs_from": source,
            "queries": len(queries),
            "mrr_per_first_weight": mrr,
            "excluded_training_accounts": excluded,
        },
    }
    write_json(out / METADATA_FILE, fused.metadata)
    # The accounts the weights and calibration were fitted on: `evaluate` and `calibrate` leave them out too
    # (with each part's own, kept in the part folders).
    write_training_accounts(out, dict.fromkeys(read_columns(posts, ["account_id"]).column(0).to_pylist()))
    if calibrate:
        fused.calibration = fit_calibration(fused, posts, seed=seed)
        fused.calibration.save(out / CALIBRATION_FILE)
    write_manifest(out, "model", model=fused.identity())
    return FuseResult(model=fused, weights=weights, mrr_per_weight=mrr, path=out)


def _halves(person_of: dict[str, str]) -> tuple[list[str], list[str]]:
    by_person: dict[str, list[str]] = {}
    for account in sorted(person_of):
        by_person.setdefault(person_of[account], []).append(account)
    pairs = [accounts[:2] for _, accounts in sorted(by_person.items()) if len(accounts) >= 2]
    if len(pairs) < 2:
        raise ValueError("fusing needs at least 2 persons with two (pseudo-)accounts in the corpus")
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _part_name(spec: str) -> str:
    return Path(spec).name if Path(spec).is_dir() else spec


def _save_part(model: StyleModel, spec: str, folder: Path) -> dict:
    """Where part `model` lives in the fused folder: a copy of its folder, its fitted stylometric encoder, or
    the name of a bundled model."""
    if spec in BUNDLED:
        return {"spec": spec}
    if folder.exists():
        shutil.rmtree(folder)
    if model.path is not None:
        shutil.copytree(model.path, folder, ignore=shutil.ignore_patterns("training_state", CALIBRATION_FILE))
        _list_only_what_was_copied(folder)
    elif isinstance(model.encoder, StylometricEncoder):
        model.encoder.save(folder)
    else:
        raise ValueError(f"cannot store part {spec!r} in a fused model: give a model folder")
    return {"folder": folder.name}


def _list_only_what_was_copied(folder: Path) -> None:
    """A part's copied manifest, less the files left behind (its calibration: the fused model has its own):
    listed but absent, they would make the part, and so the fused model, read as incomplete."""
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        return
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["files"] = {
        name: entry for name, entry in (data.get("files") or {}).items() if (folder / name).is_file()
    }
    atomic_write_text(manifest, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
