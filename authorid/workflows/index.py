"""`index build` and `index add`: enrol a corpus's accounts into an index folder, together with the model its
vectors came from, so `add` and `link` embed the same way.

index.json records the MODEL spec. A stylometric model is fitted on the corpus it is given, so its fitted
encoder is saved in `<index>/encoder/` and reloaded from there (queries then use the enrolled vocabulary).
A model folder is recorded by absolute path; `minilm` by name. The reloaded model's identity must match the
one recorded, else a one-line error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from authorid.artefacts import CALIBRATION_FILE
from authorid.encoders import StylometricEncoder
from authorid.index import VectorIndex, build_index, load_index
from authorid.index.base import read_meta
from authorid.model import StyleModel, load_model
from authorid.verification import Calibrator

ENCODER_FOLDER = "encoder"


def model_spec_to_record(spec: str) -> str:
    path = Path(spec).expanduser()
    return str(path.resolve()) if path.is_dir() else spec


def build_account_index(
    model: StyleModel,
    spec: str,
    posts,
    out: str | Path,
    *,
    kind: str = "auto",
    calibration=None,
    progress: bool = False,
    **params,
) -> VectorIndex:
    """Embed `posts` with `model`, build the index, save it with the model's encoder/calibration when needed."""
    out = Path(out)
    vectors = model.embed_accounts(posts, progress=progress)
    index = build_index(
        vectors, kind=kind, model_identity=model.identity(), model_spec=model_spec_to_record(spec), **params
    )
    if model.kind == "stylometric" and model.path is None:
        if (out / ENCODER_FOLDER).exists():
            shutil.rmtree(out / ENCODER_FOLDER)
        model.encoder.save(out / ENCODER_FOLDER)
    if calibration is not None:
        calibration.save(out / CALIBRATION_FILE)
    index.save(out)
    return index


def load_index_model(folder: str | Path):
    """The StyleModel an index folder was built with (its saved encoder, or its recorded MODEL spec)."""
    folder = Path(folder)
    meta = read_meta(folder)
    if (folder / ENCODER_FOLDER / "stylometric.json").is_file():
        model = StyleModel(
            name=meta.get("model_spec") or "stylometric",
            encoder=StylometricEncoder.load(folder / ENCODER_FOLDER),
        )
    else:
        model = load_model(meta.get("model_spec") or meta["model"]["name"])
    return model


def open_index(folder: str | Path):
    """(index, model) for an index folder; the model's identity is checked against the index's."""
    model = load_index_model(folder)
    return load_index(folder, model_identity=model.identity()), model


def index_calibration(folder: str | Path, model):
    """The calibration saved in the index folder, else the model's, else None."""
    path = Path(folder) / CALIBRATION_FILE
    if path.is_file():
        return Calibrator.load(path)
    return model.calibration


def search_params(kind: str, ef_search: int | None, nprobe: int | None) -> dict:
    """The faiss search settings given (none for an exact index, which has nothing to tune)."""
    params = {}
    if ef_search is not None:
        params["ef_search"] = ef_search
    if nprobe is not None:
        params["nprobe"] = nprobe
    if params and kind == "exact":
        raise ValueError("--ef-search / --nprobe apply to faiss indexes (--kind hnsw|ivf|auto), not exact")
    return params


def add_accounts(folder: str | Path, posts, *, on_duplicate: str = "raise", progress: bool = False):
    """Embed `posts` with the index's own model and enrol their accounts; (index, added, offered)."""
    vector_index, model = open_index(folder)
    vectors = model.embed_accounts(posts, progress=progress)
    added = vector_index.add(vectors, on_duplicate=on_duplicate)
    vector_index.save(folder)
    return vector_index, added, len(vectors)
