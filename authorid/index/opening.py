"""Opening an index folder with the model it was built with: `open_index(folder)` -> (index, model).

The model is the one recorded in the index (its saved encoder: a stylometric model fitted on the enrolled
corpus, or an n-gram model whose centre was fixed to the enrolled accounts; else its MODEL spec, with the centre
fixed to the enrolled accounts for a centred transformer model such as `minilm`), and its
identity is checked against the index's, so vectors of another model are never searched in it.
"""

from __future__ import annotations

from pathlib import Path

from authorid.artefacts import CALIBRATION_FILE
from authorid.encoders import NgramEncoder, StylometricEncoder
from authorid.encoders.centre import CONFIG_FILE as CENTRE_CONFIG_FILE
from authorid.encoders.centre import AccountCentre
from authorid.encoders.ngram import CONFIG_FILE as NGRAM_CONFIG_FILE
from authorid.index.base import VectorIndexError, generation_folder, read_meta
from authorid.index.build import load_index
from authorid.model import StyleModel, load_model
from authorid.verification import Calibrator

#: The folder of a generation holding the encoder the index was built with (when it differs from MODEL's).
ENCODER_FOLDER = "encoder"


def load_index_model(folder: str | Path) -> StyleModel:
    """The StyleModel an index folder was built with (its saved encoder, or its recorded MODEL spec)."""
    folder = Path(folder)
    meta = read_meta(folder)
    current = generation_folder(folder, meta)
    if (current / ENCODER_FOLDER / "stylometric.json").is_file():
        return StyleModel(
            name=meta.get("model_spec") or "stylometric",
            encoder=StylometricEncoder.load(current / ENCODER_FOLDER),
        )
    spec = meta.get("model_spec") or meta["model"]["name"]
    if Path(spec).is_absolute() and not Path(spec).exists():  # a model folder (recorded by absolute path)
        raise VectorIndexError(
            f"index {folder} was built with the model folder {spec}, which is no longer there: put it (or a copy"
            " of it) back at that path, or build the index again"
        )
    model = load_model(spec)
    built_from = model.fingerprint()
    if (current / ENCODER_FOLDER / NGRAM_CONFIG_FILE).is_file():  # the n-gram model fixed to the enrolled
        # (for a compact model, its n-gram base)
        fixed = model.encoder.base if model.kind == "projected" else model
        fixed.encoder = NgramEncoder.load(current / ENCODER_FOLDER)
        fixed.reset_fingerprint()
        model.reset_fingerprint()
    elif (current / ENCODER_FOLDER / CENTRE_CONFIG_FILE).is_file():
        # a centred transformer model (for a compact model, its base), its centre fixed to the enrolled
        fixed = model.encoder.base if model.kind == "projected" else model
        fixed.centre = AccountCentre.load(current / ENCODER_FOLDER, dim=fixed.dim)
        fixed.reset_fingerprint()
        model.reset_fingerprint()
    if model.fingerprint() != built_from:
        model.fixed_from = built_from
    return model


def open_index(folder: str | Path):
    """(index, model) for an index folder; the model's identity is checked against the index's."""
    model = load_index_model(folder)
    return load_index(folder, model_identity=model.identity()), model


def index_calibration(folder: str | Path, model: StyleModel) -> tuple[Calibrator | None, str]:
    """(calibration, where it came from): the one kept in the index's current generation, else the model's, else
    None."""
    path = generation_folder(folder) / CALIBRATION_FILE
    if path.is_file():
        return Calibrator.load(path), f"the index's ({path})"
    return model.calibration, f"model {model.name}'s own"
