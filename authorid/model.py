"""StyleModel: what every command's MODEL argument becomes.

A MODEL is one of
- `style`: the pretrained n-gram style model that ships with authorid (`authorid.pretrained`);
- `minilm`: the untuned semantic encoder (all-MiniLM-L6-v2, bundled), its account vectors centred
  (`authorid.encoders.centre`: without it, two different people look more alike the more posts they have);
  `minilm:raw`: the same encoder with its account vectors as pooled;
- `stylometric` (or `stylometric:DIM`, e.g. `stylometric:512` for SVD-reduced vectors): char n-gram TF-IDF
  profiles, fitted on the corpus the command is given;
- a folder written by authorid: a trained sentence-transformers model (`modules.json`) with `authorid.json`
  and optionally `authorid_pooling/` (attention pooling) and `calibration.json`; or a saved stylometric encoder
  (`stylometric.json`), a trained n-gram encoder (`ngram.json`), a fused model (`fused.json`), or a compact
  model (`projected.json`: a base model's vectors through a PCA projection, written by `authorid compress`).

A StyleModel turns posts into account vectors and, when it carries a calibration, turns the cosine of two
account vectors into a calibrated P(same person).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sentence_transformers import SentenceTransformer

from authorid.artefacts import (
    CALIBRATION_FILE,
    MANIFEST_FILE,
    METADATA_FILE,
    ArtefactError,
    has_checkpoint,
    unfinished_training,
    verify_manifest,
)
from authorid.encoders import (
    NgramEncoder,
    StylometricEncoder,
    build_style_encoder,
    counts_ngrams,
    embed_accounts,
    embed_groups,
    embed_texts,
    embedding_dim,
    load_pooling,
)
from authorid.encoders.centre import AccountCentre, CentreError
from authorid.encoders.fused import CONFIG_FILE as FUSED_CONFIG_FILE
from authorid.encoders.fused import FusedEncoder
from authorid.encoders.fused import read_config as read_fused_config
from authorid.encoders.ngram import CONFIG_FILE as NGRAM_CONFIG_FILE
from authorid.encoders.ngram import NgramModelError, summed_counts
from authorid.encoders.projected import CONFIG_FILE as PROJECTED_CONFIG_FILE
from authorid.encoders.projected import ProjectedEncoder, ProjectedModelError
from authorid.encoders.projected import read_config as read_projected_config
from authorid.errors import AuthoridError
from authorid.pretrained import (
    MINILM_CENTRE_FOLDER,
    PACKAGED_MODELS,
    REINSTALL,
    PackagedModelError,
    is_packaged,
    packaged_model_path,
)
from authorid.vectors import AccountVectors, group_by_first_appearance
from authorid.verification.calibrator import Calibrator

if TYPE_CHECKING:
    import datasets
    import scipy.sparse as sp


logger = logging.getLogger(__name__)


class ModelError(AuthoridError):
    """A MODEL argument that names nothing loadable."""


@dataclass
class StyleModel:
    """An encoder (neural or stylometric), its account pooling, and optionally a calibration."""

    name: str
    encoder: Any  # SentenceTransformer | StylometricEncoder
    pooling: Any = None  # AttentionPooling | None (None: normalised mean of post vectors)
    #: AccountCentre | None: a transformer model whose account vectors are centred (`minilm`; see
    #: authorid/encoders/centre.py); None: account vectors as pooled
    centre: Any = None
    calibration: Any = None  # authorid.verification calibrator with .predict(similarities) -> probabilities
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    #: An index's model (`authorid.index.opening`): the fingerprint of the model it was built from, before its
    #: centre was fixed to the enrolled accounts. A calibration of that model reads this one's cosines (`index
    #: build` keeps one so), so `check_calibration_model` accepts either fingerprint.
    fixed_from: str | None = field(default=None, repr=False, compare=False)
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def kind(self) -> str:
        """The encoder's kind: stylometric (fitted on a corpus), ngram (trained n-gram encoder), fused (several
        encoders' vectors concatenated), projected (a compact model: a base model's vectors through a PCA
        projection) or neural (transformer)."""
        if isinstance(self.encoder, StylometricEncoder):
            return "stylometric"
        if isinstance(self.encoder, FusedEncoder):
            return "fused"
        if isinstance(self.encoder, ProjectedEncoder):
            return "projected"
        return "ngram" if isinstance(self.encoder, NgramEncoder) else "neural"

    @property
    def centres_on_corpus(self) -> bool:
        """True for a transformer model whose account vectors are centred on the mean of the accounts embedded
        together (so that mean needs every account, and an index fixes it)."""
        return self.centre is not None and self.centre.mode == "corpus"

    @property
    def pools_counts(self) -> bool:
        """True when a group of posts is pooled by summing n-gram counts (no post vectors to reuse)."""
        return counts_ngrams(self.encoder)

    @property
    def dim(self) -> int:
        if self.kind in ("stylometric", "ngram", "fused", "projected"):
            return int(self.encoder.dim)
        return embedding_dim(self.encoder)

    def embed_accounts(
        self, posts: datasets.Dataset, *, progress: bool = False, batch_size: int = 64
    ) -> AccountVectors:
        """One L2-normalised vector per account, in order of each account's first post (they carry this model's
        identity, which a vectors file keeps)."""
        vectors = embed_accounts(
            self.encoder, posts, pooling=self.pooling or "mean", batch_size=batch_size, progress=progress
        )
        # An n-gram model (or a compact one over it) centred these accounts on their own centre: it goes with them.
        ngram = self.encoder.base.encoder if self.kind == "projected" else self.encoder
        if getattr(ngram, "params", {}).get("centre") == "corpus":
            vectors.centre = ngram.centre_used
        return self.centred_vectors(vectors)

    def centred_vectors(self, vectors: AccountVectors) -> AccountVectors:
        """Account vectors pooled by this model's encoder, finished as this model finishes them (centred when it
        has a centre), carrying its identity: what `embed_accounts` returns, also for rows computed elsewhere
        (on Ray, uncentred, since the centre needs every account). The centre they were centred on goes with
        them when it was these accounts' own (`AccountVectors.centre`)."""
        if self.centre is not None:
            centre = self.centre.centre_for(vectors.vectors, vectors.n_posts)
            vectors.vectors = self.centre.apply(vectors.vectors, vectors.n_posts, centre=centre)
            if self.centres_on_corpus:
                vectors.centre = centre
        vectors.model = self.identity()
        return vectors

    @property
    def centres_on_enrolled(self) -> bool:
        """True when an index fixes this model's centre to its enrolled accounts (`fixed_to`): an n-gram model
        centred on the accounts embedded together, a centred transformer model, or a compact model over one."""
        if self.kind == "projected":
            return self.encoder.base.centres_on_enrolled
        if self.kind == "ngram":
            return self.encoder.params["centre"] == "corpus"
        return self.centres_on_corpus

    def fixed_on(self, centre) -> StyleModel:
        """`fixed_to` for accounts already embedded: this model always centring on `centre` (a SizeCentre), the
        one their vectors were centred on (`AccountVectors.centre`, kept in a vectors file), so an index built
        from the vectors centres accounts linked later as an index built from the posts would."""
        if self.kind == "projected":
            return self._with_encoder(self.encoder.with_base(self.encoder.base.fixed_on(centre)))
        if self.centre is not None:
            return self.with_centre(AccountCentre(centre, mode="fixed", fitted_on="the enrolled accounts"))
        if self.kind != "ngram":
            return self
        return self._with_encoder(self.encoder.fixed_on(centre))

    def _with_encoder(self, encoder) -> StyleModel:
        """This (n-gram or compact) model with another encoder: the same name, calibration, metadata and folder
        (what `fixed_to` and `fixed_on` return; such a model has no pooling or centre of its own)."""
        return StyleModel(
            name=self.name,
            encoder=encoder,
            calibration=self.calibration,
            metadata=self.metadata,
            path=self.path,
        )

    def uncentred(self) -> StyleModel:
        """This model without its centre (its account vectors as pooled)."""
        return StyleModel(
            name=self.name,
            encoder=self.encoder,
            pooling=self.pooling,
            calibration=self.calibration,
            metadata=self.metadata,
            path=self.path,
        )

    def with_centre(self, centre) -> StyleModel:
        """This model centring its account vectors with `centre` (an AccountCentre)."""
        model = self.uncentred()
        model.centre = centre
        return model

    def fixed_to(self, posts: datasets.Dataset) -> StyleModel:
        """This model with its centre fixed to the accounts of `posts`, for an n-gram model or a centred
        transformer model (whose vectors are centred on the accounts embedded together): what an index keeps, so
        accounts added or linked later are centred like the enrolled ones; a compact model fixes its base so. Any
        other model is returned as it is."""
        if self.kind == "projected":
            return self._with_encoder(self.encoder.fixed_to(posts))
        if self.centres_on_corpus:
            pooled = self.uncentred().embed_accounts(posts)
            return self.with_centre(self.centre.fixed_to(pooled.vectors, pooled.n_posts))
        if self.kind != "ngram":
            return self
        account_ids, groups = group_by_first_appearance(list(posts["account_id"]))
        summed = summed_counts(self.encoder.counts(list(posts["text"])), groups, len(account_ids))
        return self._with_encoder(
            self.encoder.fixed_to(summed, np.bincount(groups, minlength=len(account_ids)))
        )

    def sparse_profiles(
        self, texts: Sequence[str], groups: np.ndarray, n_groups: int
    ) -> sp.csr_matrix | None:
        """The sparse n-gram profile of each group of posts (`groups[i]` is text i's group) for a model whose
        vectors are a projection of one (`ngram`: its hashed tf-idf buckets; `stylometric`: its vocabulary, before
        any SVD); None for any other kind. A linear classifier reads these rather than the vectors: it needs no
        projection, and the sketch's random one costs accuracy (docs/attribution.md)."""
        if not self.has_sparse_profile:
            return None
        return self.encoder.group_profiles(list(texts), groups, n_groups)

    @property
    def has_sparse_profile(self) -> bool:
        """True when the vectors are a projection of a sparse n-gram profile (`sparse_profiles` gives it)."""
        return self.kind in ("ngram", "stylometric")

    def embed_posts(self, texts: list[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        """One vector per post (what `embed_groups` pools for a neural model)."""
        return embed_texts(self.encoder, texts, batch_size=batch_size, progress=progress)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """`embed_posts` under the encoders' name, so that `authorid.embed_texts` takes a StyleModel as
        `authorid.embed_accounts` does (it called a method only encoders had: audit 6)."""
        return self.embed_posts(list(texts))

    def embed_groups(
        self,
        texts: list[str],
        groups: np.ndarray,
        n_groups: int,
        *,
        post_vectors: np.ndarray | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """One vector per group of posts, pooled as this model pools an account (`encoders.embed_groups`);
        `post_vectors` are reused when given (a neural model then embeds nothing)."""
        vectors = embed_groups(
            self.encoder,
            texts,
            groups,
            n_groups,
            pooling=self.pooling or "mean",
            post_vectors=post_vectors,
            progress=progress,
        )
        if self.centre is None:
            return vectors
        return self.centre.apply(vectors, np.bincount(np.asarray(groups, dtype=np.int64), minlength=n_groups))

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cosine similarity of (normalised) vectors, row by row; a and b are (d,) or (n, d)."""
        return np.sum(np.atleast_2d(a) * np.atleast_2d(b), axis=-1)

    def score(self, a: np.ndarray, b: np.ndarray, *, sizes=None) -> np.ndarray | float:
        """Calibrated P(same person) for account vectors a, b (rows), read from the calibration's cosine fit at its
        own prior; `sizes` = (posts behind a, posts behind b, characters behind a, characters behind b), which a
        size-aware calibration needs (`AccountVectors.pair_sizes`). `authorid score` can differ: in a pool of 50
        accounts or more it reads the cohort fit, and `--prior` moves P. Raises if the model is not calibrated,
        or if its calibration is size-aware and `sizes` is None."""
        if self.calibration is None:
            raise ModelError(
                f"model {self.name} has no calibration: fit one with `authorid calibrate` (or pass --calibrate-on)"
            )
        probabilities = self.calibration.predict(self.similarity(a, b), sizes=sizes)
        return float(probabilities[0]) if np.ndim(a) == 1 and np.ndim(b) == 1 else probabilities

    def identity(self) -> dict:
        """What identifies this model's vector space, so an index built with another model is refused."""
        return {"name": self.name, "kind": self.kind, "dim": self.dim, "fingerprint": self.fingerprint()}

    def reset_fingerprint(self) -> None:
        """Forget the cached fingerprint (after the encoder was replaced)."""
        self._fingerprint = None

    def fingerprint(self) -> str:
        """A hash of the encoder's parameters, computed once (see `_compute_fingerprint`)."""
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return self._fingerprint

    def _compute_fingerprint(self) -> str:
        """A hash of the encoder's parameters (neural weights, n-gram settings and weights, or stylometric
        vocabulary and idf)."""
        digest = hashlib.sha256()
        if self.kind == "fused":
            for part, weight in zip(self.encoder.parts, self.encoder.weights, strict=True):
                digest.update(f"{part.fingerprint()}:{weight:.12g}".encode())
            return digest.hexdigest()[:16]
        if self.kind == "projected":  # the base's identity, then the projection itself
            digest.update(f"projected:{self.encoder.base.fingerprint()}:{self.encoder.storage}".encode())
            digest.update(self.encoder.projection.tobytes())
            digest.update(self.encoder.mean.tobytes())
            return digest.hexdigest()[:16]
        if self.kind == "stylometric":
            # every feature, idf and SVD component: two fits on corpora that share their first features, or with
            # other SVDs, are other models (audit 16: they had one fingerprint, so a calibration passed between them)
            digest.update(json.dumps(self.encoder.params, sort_keys=True).encode())
            digest.update(json.dumps(self.encoder.feature_names(), ensure_ascii=False).encode())
            for name, array in sorted(self.encoder.fitted_arrays().items()):
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        else:
            if self.kind == "ngram":
                digest.update(json.dumps(self.encoder.params, sort_keys=True).encode())
            for name, tensor in sorted(self.encoder.state_dict().items()):
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().float().numpy().tobytes())
            if getattr(self.encoder, "sized_centre", None) is not None:
                digest.update(b"sized_centre:" + self.encoder.sized_centre.fingerprint_bytes())
        if self.centre is not None:
            digest.update(b"centre:" + self.centre.fingerprint_bytes())
        if self.pooling is not None:
            for name, tensor in sorted(self.pooling.state_dict().items()):
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().float().numpy().tobytes())
        return digest.hexdigest()[:16]


#: The untuned MiniLM with its account vectors as pooled (not centred): what `minilm` was before issue 15.
RAW_MINILM = "minilm:raw"


def minilm_centre(dim: int) -> AccountCentre:
    """The centre `minilm` uses for fewer than MIN_CENTRE_GROUPS accounts, shipped with authorid
    (authorid/pretrained/minilm_centre/, made by scripts/make_minilm_centre.py); a damaged or missing file is
    named, with how to reinstall."""
    try:
        return AccountCentre.load(MINILM_CENTRE_FOLDER, dim=dim)
    except CentreError as err:
        raise PackagedModelError(f"model 'minilm': {err}; {REINSTALL}") from None


def _packaged(name: str) -> StyleModel:
    """A model that ships with authorid, by its short name; a damaged or missing file is named, with how to
    reinstall."""
    path = packaged_model_path(name)
    try:
        model = load_model(path)
    except (ModelError, ArtefactError, NgramModelError, ProjectedModelError) as err:
        raise PackagedModelError(f"packaged model {name!r}: {err}; {REINSTALL}") from None
    model.name = name
    return model


def _stylometric_spec(spec: str) -> int | None | bool:
    """`stylometric` -> None (full profile); `stylometric:512` -> 512; anything else -> False."""
    if spec == "stylometric":
        return None
    if spec.startswith("stylometric:"):
        value = spec.split(":", 1)[1]
        if not value.isdigit() or int(value) <= 0:
            raise ModelError(f"model {spec!r}: expected stylometric:DIM with DIM a positive integer")
        return int(value)
    return False


def fitted_on_corpus(spec: str | Path) -> bool:
    """Whether MODEL names a model fitted on the corpus it reads (`stylometric[:DIM]`; a malformed DIM is a
    ModelError), which can be loaded only once that corpus is read."""
    return _stylometric_spec(str(spec)) is not False


def check_model_folder(path: Path) -> None:
    """One line when the folder is a training run that never finished (interrupted in training or export), or
    a model whose files differ from its manifest; nothing for a finished model or a folder written without a
    manifest (a Hugging Face checkpoint)."""
    if unfinished_training(path):
        how = (
            f"continue it with `authorid train --resume --out {path}`, or train again with --overwrite"
            if has_checkpoint(path)
            else "it wrote no checkpoint to resume from: train again with --overwrite"
        )
        raise ModelError(f"{path}: its training never finished (no {MANIFEST_FILE}, written last); {how}")
    verify_manifest(path, "model")  # a model written with a manifest: every file present and intact


def load_model(
    spec: str | Path,
    *,
    fit_corpus: datasets.Dataset | None = None,
    max_seq_length: int = 128,
    device: str | None = None,
) -> StyleModel:
    """The StyleModel a MODEL argument names (see the module docstring).

    `fit_corpus` is needed for `stylometric`: its vocabulary and idf are fitted on it (no labels are used).
    """
    text = str(spec)
    dim = _stylometric_spec(text)
    if dim is not False:
        if fit_corpus is None:
            raise ModelError("model 'stylometric' is fitted on a corpus; none was given")
        return StyleModel(name=text, encoder=StylometricEncoder(dim=dim).fit(fit_corpus))
    if text in ("minilm", RAW_MINILM):
        encoder = build_style_encoder("minilm", max_seq_length=max_seq_length, device=device)
        if text == RAW_MINILM:
            return StyleModel(name=RAW_MINILM, encoder=encoder)
        return StyleModel(name="minilm", encoder=encoder, centre=minilm_centre(embedding_dim(encoder)))
    if is_packaged(text):
        return _packaged(text)
    path = Path(text).expanduser()
    if not path.is_dir():
        known = ", ".join(
            f"'{name}'" for name in (*PACKAGED_MODELS, "minilm", RAW_MINILM, "stylometric[:DIM]")
        )
        raise ModelError(
            f"model {text!r}: not a known name ({known}) nor a model folder (no such folder {path})"
        )
    check_model_folder(path)
    metadata = _read_metadata(path)
    calibration = _load_calibration(path)
    if (path / "stylometric.json").is_file():
        encoder = StylometricEncoder.load(path)
        return StyleModel(
            name=str(path), encoder=encoder, calibration=calibration, metadata=metadata, path=path
        )
    if (path / FUSED_CONFIG_FILE).is_file():
        return StyleModel(
            name=str(path), encoder=_fused(path), calibration=calibration, metadata=metadata, path=path
        )
    if (path / PROJECTED_CONFIG_FILE).is_file():
        return StyleModel(
            name=str(path), encoder=_projected(path), calibration=calibration, metadata=metadata, path=path
        )
    if (path / NGRAM_CONFIG_FILE).is_file():
        return StyleModel(
            name=str(path),
            encoder=NgramEncoder.load(path),
            calibration=calibration,
            metadata=metadata,
            path=path,
        )
    if not (path / "modules.json").is_file():
        raise ModelError(
            f"model folder {path} holds no model authorid knows"
            " (no modules.json, ngram.json, fused.json, projected.json or stylometric.json)"
        )
    pickled = [p.name for p in path.glob("*.bin") if not (path / "model.safetensors").is_file()]
    if pickled:  # torch's weights_only loader would refuse it too, with a hint to turn the safety off
        raise ModelError(
            f"{path / pickled[0]}: weights as a pickle, which authorid never loads (a pickle can run code);"
            " save the model as model.safetensors"
        )
    try:
        encoder = SentenceTransformer(str(path), device=device, local_files_only=True)
        pooling = load_pooling(path, device=device)
    except Exception as err:  # noqa: BLE001 - transformers / safetensors raise many types for a damaged folder
        raise ModelError(
            f"{path}: the model's files are missing or damaged ({_reason(err)}); copy or train it again"
        ) from None
    return StyleModel(
        name=str(path),
        encoder=encoder,
        pooling=pooling,
        calibration=calibration,
        metadata=metadata,
        path=path,
    )


def _read_metadata(folder: Path) -> dict:
    path = folder / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: unreadable ({_reason(err)}); copy or train the model again") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: not an authorid model's metadata (a JSON object expected)")
    return metadata


def _reason(err: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _fused(folder: Path) -> FusedEncoder:
    """The fused encoder of `folder`: each part is a sub-folder (or a bundled name such as `minilm`)."""
    config = read_fused_config(folder)
    parts = [
        load_model(part["spec"]) if part.get("spec") else load_model(folder / part["folder"])
        for part in config["parts"]
    ]
    return FusedEncoder(
        parts,
        [part["weight"] for part in config["parts"]],
        [str(part.get("name") or part.get("folder") or part.get("spec")) for part in config["parts"]],
    )


def _projected(folder: Path) -> ProjectedEncoder:
    """The compact encoder of `folder`: its base (a packaged name, or the copy in `base/`) and its projection."""
    base = read_projected_config(folder)["base"]
    base_model = load_model(base["spec"]) if base.get("spec") else load_model(folder / base["folder"])
    return ProjectedEncoder.load(folder, base_model)


def _load_calibration(path: Path):
    if not (path / CALIBRATION_FILE).is_file():
        return None
    return Calibrator.load(path / CALIBRATION_FILE)
