"""What several verbs share: reading a CORPUS argument and turning a MODEL argument into a StyleModel."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from authorid.data.readers import read_posts
from authorid.data.report import IngestReport
from authorid.model import StyleModel, load_model
from authorid.verification import Calibrator

if TYPE_CHECKING:
    import datasets


def read_corpus(
    corpus: str | Path,
    *,
    columns: dict[str, str] | str | None = None,
    preset: str | None = None,
    on_error: str = "raise",
    limit: int | None = None,
    progress: bool = False,
    empty: str | None = None,
) -> tuple[datasets.Dataset, IngestReport]:
    """(posts, report) of a CORPUS (file, folder or preset name; see `authorid.data.readers.read_posts`).

    `empty`: why the caller needs posts; when given, a corpus without posts is a one-line error
    ("corpus X has no posts: <empty>").
    """
    posts, report = read_posts(
        corpus, columns=columns, preset=preset, on_error=on_error, limit=limit, progress=progress
    )
    if empty is not None and len(posts) == 0:
        raise ValueError(f"corpus {corpus} has no posts: {empty}")
    return posts, report


def model_for(model: str | Path | Any, posts: datasets.Dataset | None = None) -> StyleModel:
    """A StyleModel from a MODEL argument (a name or folder; a StyleModel passes through). A model fitted on
    the corpus (`stylometric`) is fitted on `posts` (no labels are used)."""
    if isinstance(model, StyleModel):
        return model
    return load_model(model, fit_corpus=posts)


def load_calibration(path: str | Path) -> Calibrator:
    """The calibration in `path` (a --calibration FILE); a one-line error when the file is not there."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--calibration {path}: no such file")
    return Calibrator.load(path)
