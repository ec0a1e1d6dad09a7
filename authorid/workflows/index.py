"""`index build` and `index add`: enrol a corpus's accounts into an index folder, together with the model its
vectors came from, so `add` and `link` embed the same way.

index.json records the MODEL spec. A stylometric model is fitted on the corpus it is given, and an n-gram
model's vectors are centred on the mean of the enrolled accounts, so their fitted encoder is kept with the
vectors (`gen-N/encoder/`) and reloaded from there (queries then use the enrolled vocabulary, or are centred
on the enrolled accounts' mean); a calibration given to `index build` is kept there too
(`gen-N/calibration.json`). Both belong to the generation they were written with, so a rebuild never leaves a
previous model's encoder or calibration behind. A model folder is recorded by absolute path; `minilm` by name.
The reloaded model's identity must match the one recorded, else a one-line error.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from authorid.artefacts import CALIBRATION_FILE, check_output_folder
from authorid.index import VectorIndex, build_index
from authorid.index.base import (
    ON_DUPLICATE,  # noqa: F401  (the CLI checks --on-duplicate with it)
    VectorIndexError,
    enrolled_among,
    generation_folder,
)
from authorid.index.build import chosen_kind
from authorid.index.faiss_index import GROWTH_LIMIT  # noqa: F401  (the CLI's rebuild note names it)
from authorid.index.opening import ENCODER_FOLDER, open_index
from authorid.model import StyleModel
from authorid.scaleout import engine_session
from authorid.scaleout.embed import embed_accounts
from authorid.scaleout.index import build_ivf_on_ray
from authorid.vectors import AccountVectors
from authorid.verification import Calibrator
from authorid.workflows.common import check_calibration_model

logger = logging.getLogger(__name__)


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
    calibration: Calibrator | None = None,
    vectors: AccountVectors | None = None,
    overwrite: bool = False,
    force: bool = False,
    progress: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    **params,
) -> VectorIndex:
    """Embed `posts` with `model` (or take its `vectors`), build the index and save it into `out` with the
    model's fitted encoder and the calibration when given. `out` must be new, empty or an index (replaced with
    `overwrite`); a calibration made for another model is refused unless `force`.

    engine "ray": the accounts are embedded on Ray and an IVF index is built there (`scaleout.index`). An HNSW
    graph is built on one machine only."""
    out = check_output_folder(out, kind="index", overwrite=overwrite)
    if calibration is not None:
        check_calibration_model(calibration, model, force=force)
    if engine == "ray" and kind == "hnsw":
        raise ValueError("--engine ray builds ivf or exact indexes (an HNSW graph is built on one machine)")
    with engine_session(engine, ray_address) as ray:
        if vectors is None and model.centre is not None:
            # a centred transformer model: the enrolled accounts are embedded once, as pooled; their centre is
            # kept, so accounts added or linked later are centred alike
            pooled = embed_accounts(model.uncentred(), posts, ray=ray, progress=progress)
            model = model.with_centre(model.centre.fixed_to(pooled.vectors, pooled.n_posts))
            vectors = model.centred_vectors(pooled)
        elif vectors is None:
            model = model.fixed_to(posts)  # an n-gram model: centred on the enrolled accounts from now on
            vectors = embed_accounts(model, posts, ray=ray, progress=progress)
        elif model.centres_on_enrolled:
            model = _fixed_on_their_centre(model, vectors)
        identity, recorded_spec = model.identity(), model_spec_to_record(spec)
        if ray is not None and chosen_kind(kind, len(vectors)) == "ivf":
            index = build_ivf_on_ray(
                ray, vectors, model_identity=identity, model_spec=recorded_spec, **params
            )
        else:
            index = build_index(
                vectors, kind=kind, model_identity=identity, model_spec=recorded_spec, **params
            )
    index.save(out, extras=_kept_with_vectors(model, calibration))
    return index


def _fixed_on_their_centre(model: StyleModel, vectors: AccountVectors) -> StyleModel:
    """The model fixed on the centre `embed` centred these vectors on (kept in the vectors file), so accounts
    linked later are centred on the enrolled ones, as an index built from the corpus centres them. A file
    written before authorid kept the centre: the model as it is (queries centred on their own corpus), said."""
    if vectors.centre is None:
        logger.warning(
            "the vectors file keeps no centre (written before authorid kept one): queries will be centred on their"
            " own corpus, not on the enrolled accounts; embed again, or build the index from the corpus"
        )
        return model
    return model.fixed_on(vectors.centre)


def _kept_with_vectors(model: StyleModel, calibration: Calibrator | None):
    """What a generation keeps beside its vectors: the fitted encoder of a model fitted on the corpus (it is
    not a folder anyone else keeps), and the calibration given."""

    def write(generation: Path) -> None:
        fitted_here = model.kind == "stylometric" and model.path is None
        inner = model.encoder.base if model.kind == "projected" else model  # a compact model's base
        if fitted_here or (inner.kind == "ngram" and inner.encoder.params["centre"] == "fixed"):
            inner.encoder.save(generation / ENCODER_FOLDER)
        elif inner.centre is not None and inner.centre.mode == "fixed":
            inner.centre.save(generation / ENCODER_FOLDER)  # a centred transformer model's enrolled centre
        if calibration is not None:
            calibration.save(generation / CALIBRATION_FILE)

    return write


def search_params(kind: str, ef_search: int | None, nprobe: int | None) -> dict:
    """The faiss search settings given (none for an exact index, which has nothing to tune), checked with the
    index kind before any corpus is read (faiss itself would fail an assertion on 0 only when searching)."""
    chosen_kind(kind, 0)  # an unknown kind is said here
    params = {}
    if ef_search is not None:
        params["ef_search"] = ef_search
    if nprobe is not None:
        params["nprobe"] = nprobe
    for name, value in params.items():
        if value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if params and kind == "exact":
        raise ValueError("--ef-search / --nprobe apply to faiss indexes (--kind hnsw|ivf|auto), not exact")
    return params


def fixed_at_build(folder: str | Path) -> bool:
    """True when the index keeps its model as fitted at build time (an n-gram or centred model's centre, a
    stylometric model's vocabulary): accounts added later are embedded with it, not with one refitted to every
    enrolled account, so a rebuild on all of them links a little differently."""
    return (generation_folder(Path(folder)) / ENCODER_FOLDER).is_dir()


class IndexToGrow(NamedTuple):
    """An index folder opened with its model, before the corpus to enrol is read (`index_to_grow`)."""

    folder: Path
    index: VectorIndex
    model: StyleModel


def index_to_grow(folder: str | Path) -> IndexToGrow:
    """The index at `folder` and its model, opened and checked (a model folder changed or gone is said here), so
    `index add` and `index remove` fail before reading a corpus."""
    folder = Path(folder)
    vector_index, model = open_index(folder)
    return IndexToGrow(folder, vector_index, model)


class Enrolment(NamedTuple):
    """What `add_accounts` did: the index as saved, and the offered accounts' fate."""

    index: VectorIndex
    offered: int  #: accounts in the corpus
    added: int  #: accounts new to the index, enrolled
    replaced: int  #: accounts enrolled already, embedded again from these posts ("replace")
    skipped: int  #: accounts enrolled already and left as they were ("skip")
    skipped_with_other_posts: int  #: of those, how many have another number of posts here than enrolled


def add_accounts(
    target: IndexToGrow | str | Path,
    posts,
    *,
    on_duplicate: str = "raise",
    progress: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
) -> Enrolment:
    """Embed `posts` with the index's own model (here, or on Ray with engine "ray") and enrol their accounts,
    as a new generation of the index (the previous one stays whole until the new one is complete). An account
    already enrolled stops it ("raise", before any embedding), is left as enrolled ("skip": its posts here are
    not embedded at all) or is embedded again from these posts in place of its enrolled vector ("replace": an
    account that gained posts since; give all of its posts, not only the new ones). An IVF index grown past
    GROWTH_LIMIT times its trained size says so in `index.needs_rebuild`."""
    target = target if isinstance(target, IndexToGrow) else index_to_grow(target)
    folder, vector_index, model = target
    current = generation_folder(folder)
    accounts = posts_per_account(posts)
    offered = list(accounts)
    enrolled = [offered[i] for i in enrolled_among(vector_index, offered, on_duplicate)]
    skipped = enrolled if on_duplicate == "skip" else []
    other_posts = sum(accounts[a] != vector_index.n_posts[vector_index.positions[a]] for a in skipped)
    if skipped:  # their posts are not embedded: the index keeps their vectors
        left_out = set(skipped)
        posts = posts.select([i for i, a in enumerate(posts["account_id"]) if a not in left_out])
    if len(posts):
        with engine_session(engine, ray_address) as ray:
            vectors = embed_accounts(model, posts, ray=ray, progress=progress)
        vector_index.add(vectors, on_duplicate=on_duplicate)

    if len(posts):  # the encoder and calibration travel to the new generation
        vector_index.save(folder, extras=lambda generation: _carry_over(current, generation))
    replaced = len(enrolled) if on_duplicate == "replace" else 0
    return Enrolment(
        vector_index, len(offered), len(offered) - len(enrolled), replaced, len(skipped), int(other_posts)
    )


def remove_accounts(
    target: IndexToGrow | str | Path, account_ids: list[str]
) -> tuple[VectorIndex, int, list[str]]:
    """Remove `account_ids` from the index (a new generation without them; the encoder and calibration are
    kept); (index, removed, the ids that were not enrolled). Removing every account is refused: an empty
    index links nothing (remove the folder instead)."""
    target = target if isinstance(target, IndexToGrow) else index_to_grow(target)
    folder, vector_index, _ = target
    current = generation_folder(folder)
    wanted = list(dict.fromkeys(account_ids))
    absent = [a for a in wanted if a not in vector_index.positions]
    if len(wanted) - len(absent) >= len(vector_index):
        raise VectorIndexError(
            f"removing these accounts would leave {folder} empty ({len(vector_index):,} enrolled): delete the"
            " folder instead"
        )
    removed = vector_index.remove(wanted)
    if removed:
        vector_index.save(folder, extras=lambda generation: _carry_over(current, generation))
    return vector_index, removed, absent


def _carry_over(current: Path, generation: Path) -> None:
    """Copy what a generation keeps beside its vectors (the fitted encoder, the calibration) to the next."""
    for name in (ENCODER_FOLDER, CALIBRATION_FILE):
        source = current / name
        if source.is_dir():
            shutil.copytree(source, generation / name)
        elif source.is_file():
            shutil.copy2(source, generation / name)


def posts_per_account(posts) -> dict[str, int]:
    """Each account of `posts` (in order of first appearance) and its number of posts."""
    return dict(Counter(str(a) for a in posts["account_id"]))


def read_ids_file(path: str | Path) -> list[str]:
    """Account ids from a text file, one a line (blank lines and surrounding spaces ignored)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ValueError(f"{path}: cannot be read ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        line = text_line_of(path, err.start)
        raise ValueError(f"{path}, line {line}: not UTF-8 text") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_line_of(path: Path, offset: int) -> int:
    """The 1-based line of byte `offset` in `path`."""
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1
