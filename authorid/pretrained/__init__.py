"""Models that ship inside the package: a short name (`style`) for a model folder installed with authorid.

`style` is the n-gram style encoder trained on the reddit_college corpus by `scripts/train_default_model.py`
(its folder, `authorid/pretrained/style/`, holds the weights, the calibration, a model card with every file's
checksum, and the training accounts as salted hashes only). Nothing is downloaded: `pip install .` (or `make
setup`) installs the files as package data, and `load_model("style")` reads them.
"""

from __future__ import annotations

from pathlib import Path

from authorid.errors import AuthoridError

FOLDER = Path(__file__).resolve().parent
#: name -> what it is (shown by `--help` and in errors that list the known names)
PACKAGED_MODELS = {
    "style": "the pretrained n-gram style model (reddit_college; see authorid/pretrained/style/README.md)",
}
#: The stored centre of `minilm`'s account vectors (authorid/encoders/centre.py; README.md in the folder).
MINILM_CENTRE_FOLDER = FOLDER / "minilm_centre"
REINSTALL = "reinstall authorid (`pip install --force-reinstall .` in its source folder, or `make setup`)"


class PackagedModelError(AuthoridError):
    """A packaged model whose files are missing or damaged."""


def is_packaged(name: str | Path) -> bool:
    return str(name) in PACKAGED_MODELS


def packaged_model_path(name: str) -> Path:
    """The installed folder of packaged model `name`; PackagedModelError naming it when it is missing."""
    if name not in PACKAGED_MODELS:
        raise KeyError(f"no packaged model {name!r}; known: {', '.join(PACKAGED_MODELS)}")
    folder = FOLDER / name
    if not folder.is_dir() or not any(folder.iterdir()):
        raise PackagedModelError(f"{folder}: the packaged model {name!r} is missing; {REINSTALL}")
    return folder
