"""`compress`: a compact model folder, a base model plus a PCA projection fitted on a corpus's account vectors.

The base (any MODEL: `style`, a trained or fused model folder, `minilm`, `stylometric[:DIM]` fitted on the
corpus) embeds a seeded sample of the corpus's accounts (`max_accounts`, those with at least `min_posts` posts)
as it embeds any corpus (an n-gram base centres them on their mean); scikit-learn's PCA (randomized SVD)
fits the top `dim` principal axes P and the mean m of those vectors, and the compact model's vector of an
account is normalize(P (u - m)) of the base's vector u (`authorid.encoders.projected`).

The folder is self-contained: `projected.json` + `projected.safetensors`, and the base as a name (`style`,
`minilm`: they ship with authorid) or copied into `base/`. It records the accounts P was fitted on with the
base's own training accounts (`training_accounts.json`, salted hashes), so `evaluate` leaves both out. With
`calibrate`, a calibration of its own is fitted (the base's does not apply: the compact model's cosines are not
the base's) on up to 2,000 accounts that neither P nor the base was fitted on, or, where the corpus has fewer
than ENOUGH_UNSAMPLED of those, on the sampled accounts the base never saw, with a warning. Fit P on accounts
you will not evaluate on.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from authorid.account_hashes import write_training_accounts
from authorid.artefacts import CALIBRATION_FILE, METADATA_FILE, check_output_folder, write_manifest
from authorid.data.arrow import read_columns
from authorid.encoders import StylometricEncoder
from authorid.encoders.projected import BASE_FOLDER, STORAGES, ProjectedEncoder, fit_projection
from authorid.io import write_json
from authorid.model import StyleModel
from authorid.pretrained import is_packaged, packaged_model_path
from authorid.vectors import AccountVectors, id_order
from authorid.workflows.calibrate import fit_calibration
from authorid.workflows.common import model_for, without_training_accounts

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import datasets

#: Output width (docs/scale.md): every halving of the width costs Reddit linking MRR about 0.02 and no width up
#: to 512 is within 0.01 of style's full 16,512; 256 keeps a million accounts in 1 GB, within the 1M targets.
DEFAULT_DIM = 256
#: Accounts whose base vectors the PCA is fitted on (a seeded sample): 20,000 x 16,512 float32 is 1.3 GB.
DEFAULT_MAX_ACCOUNTS = 20_000
#: Accounts need this many posts to be sampled: axes fitted on accounts of >= 8 posts link 8-post accounts better
#: than axes fitted on accounts of >= 2 (Reddit MRR 0.362 against 0.348 at 256 dimensions; docs/scale.md).
DEFAULT_MIN_POSTS = 8
#: Accounts of that sample `--calibrate` fits the compact model's calibration on.
CALIBRATION_ACCOUNTS = 2_000
#: Bundled models a compact folder refers to by name instead of copying their weights.
BUNDLED = ("minilm", "minilm:raw")


@dataclass
class CompressResult:
    model: StyleModel
    dim: int
    base_dim: int
    explained_variance: float  #: share of the sampled vectors' variance the projection keeps
    accounts: int  #: accounts the projection was fitted on
    path: Path


def sample_accounts(
    posts: datasets.Dataset, *, max_accounts: int | None, min_posts: int = 1, seed: int = 0
) -> datasets.Dataset:
    """The posts of a seeded sample of at most `max_accounts` accounts with >= `min_posts` posts (all such
    accounts when None), in corpus order."""
    ids = read_columns(posts, ["account_id"]).column(0).to_numpy(zero_copy_only=False)
    return posts.select(sampled_rows(ids, max_accounts=max_accounts, min_posts=min_posts, seed=seed))


def sampled_rows(
    ids: np.ndarray, *, max_accounts: int | None, min_posts: int = 1, seed: int = 0
) -> np.ndarray:
    """Rows (sorted) of the posts of `sample_accounts`' sample, for the posts' account ids `ids`."""
    names, codes, counts = np.unique(np.asarray(ids).astype(str), return_inverse=True, return_counts=True)
    eligible = np.flatnonzero(counts >= min_posts)
    if not len(eligible):
        raise ValueError(
            f"no account of the corpus has {min_posts} or more posts (--min-posts): nothing to fit on"
        )
    if max_accounts is not None and len(eligible) > max_accounts:
        eligible = np.sort(np.random.default_rng(seed).choice(eligible, size=max_accounts, replace=False))
    chosen = np.zeros(len(names), dtype=bool)
    chosen[eligible] = True
    return np.flatnonzero(chosen[codes])


def compress(
    model: Any,
    posts: datasets.Dataset,
    *,
    out: str | Path,
    dim: int = DEFAULT_DIM,
    max_accounts: int | None = DEFAULT_MAX_ACCOUNTS,
    min_posts: int = DEFAULT_MIN_POSTS,
    storage: str = "float16",
    seed: int = 0,
    vectors: AccountVectors | None = None,
    calibrate: bool = False,
    overwrite: bool = False,
    progress: bool = False,
) -> CompressResult:
    """Fit a `dim`-wide projection of `model`'s account vectors on `posts` and write the compact model to `out`.

    `model`: a StyleModel or MODEL argument. `vectors`: the base's vectors of the sampled accounts when already
    computed (their model fingerprint must be the base's). See the module docstring. `out` must be new, empty,
    or a model folder replaced with `overwrite`.
    """
    if dim < 1:
        raise ValueError(f"--dim must be a positive number of dimensions, got {dim}")
    if storage not in STORAGES:
        raise ValueError(f"--storage must be one of {', '.join(STORAGES)}, got {storage!r}")
    if max_accounts is not None and max_accounts <= dim:
        raise ValueError(
            f"--dim {dim} must be below --max-accounts ({max_accounts}): the accounts the projection is fitted on"
        )
    out = check_output_folder(out, kind="model", overwrite=overwrite)
    base = model_for(model, posts)
    if dim >= base.dim:
        raise ValueError(
            f"--dim {dim} must be below the model's {base.dim:,} dimensions (a projection reduces them)"
        )
    spec = model.name if isinstance(model, StyleModel) else str(model)
    sample = sample_accounts(posts, max_accounts=max_accounts, min_posts=min_posts, seed=seed)
    sampled = len(set(read_columns(sample, ["account_id"]).column(0).to_pylist()))
    if vectors is None and sampled <= dim:  # said before the accounts are embedded
        accounts = len(set(read_columns(posts, ["account_id"]).column(0).to_pylist()))
        lower = f"lower --dim below {sampled}" + (" or lower --min-posts" if accounts > sampled else "")
        raise ValueError(
            f"fitting {dim} dimensions needs more than {dim} accounts with {min_posts} post{'s' * (min_posts != 1)}"
            f" or more (--min-posts); the corpus has {sampled} of {accounts} accounts: {lower}"
        )
    if vectors is None:
        vectors = base.embed_accounts(sample, progress=progress)
    elif (vectors.model or {}).get("fingerprint") not in (None, base.fingerprint()):
        raise ValueError(
            f"the vectors given were made by model {(vectors.model or {}).get('name')!r}, not by the base {spec!r}"
        )
    # fitted on the accounts in id order, not the corpus' row order: the randomized SVD's trailing axes depend on the
    # order of its rows (audit 16: a shuffled dump gave a compact model whose cosines differed by up to 0.41)
    projection, mean, kept = fit_projection(vectors.vectors[id_order(vectors.account_ids)], dim, seed=seed)
    info = {
        "accounts": len(vectors),
        "min_posts": min_posts,
        "max_accounts": max_accounts,
        "seed": seed,
        "method": "sklearn PCA, randomized SVD",
        "explained_variance": round(kept, 6),
    }
    encoder = ProjectedEncoder(base, projection, mean, storage=storage, info=info)
    if any(out.iterdir()):
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    encoder.save(out, _save_base(base, spec, out / BASE_FOLDER))
    compact = StyleModel(name=str(out), encoder=encoder, path=out)
    compact.metadata = {
        "kind": "projected",
        "base": {"model": spec, "identity": base.identity()},
        "dim": dim,
        "storage": storage,
        "fitted_on": info,
    }
    write_json(out / METADATA_FILE, compact.metadata)
    _write_fit_accounts(base, vectors.account_ids, out)
    if calibrate:
        # On CALIBRATION_ACCOUNTS of the sampled accounts, not the whole corpus: the whole Reddit dump's halves
        # took 546 s and 19.9 GB of base vectors; 2,000 accounts give ~2,000 same-person pairs and many more
        # different-person ones, which is what a Platt fit needs.
        # Never on the base's own training accounts: they score higher than new ones, so a calibration fitted
        # on them promises too much (a compact `style` fitted on a Reddit sample it trained on: clusters
        # expected 0.905 precise came out 0.36).
        # Nor, where the corpus has enough others, on the accounts the projection was fitted on: the folder
        # records them as the model's own (below), so `calibrate` and `evaluate` leave them out too.
        fresh = _calibration_accounts(base, posts, vectors.account_ids, min_posts=min_posts)
        if fresh is None:
            fresh, _ = without_training_accounts(base, sample, keep=None, purpose=" of the calibration")
            if len(fresh) == 0:
                raise ValueError(
                    f"every sampled account is one {spec} trained or validated on: calibrate on other accounts"
                    " (compress without --calibrate, then `authorid calibrate` on held-out accounts)"
                )
            logger.warning(
                "the calibration is fitted on accounts the projection was fitted on (the corpus has fewer than"
                " %d others with %d posts or more): its P may promise too much for new accounts; `authorid"
                " calibrate` on held-out accounts fits one that does not",
                ENOUGH_UNSAMPLED,
                min_posts,
            )
        few = sample_accounts(fresh, max_accounts=CALIBRATION_ACCOUNTS, min_posts=min_posts, seed=seed)
        compact.calibration = fit_calibration(compact, few, seed=seed)
        compact.calibration.save(out / CALIBRATION_FILE)
    write_manifest(out, "model", model=compact.identity())
    return CompressResult(
        model=compact,
        dim=dim,
        base_dim=encoder.base_dim,
        explained_variance=kept,
        accounts=len(vectors),
        path=out,
    )


#: Accounts outside the projection's sample (and the base's training accounts) enough to calibrate on.
ENOUGH_UNSAMPLED = 200


def _calibration_accounts(base: StyleModel, posts, sampled, *, min_posts: int):
    """The posts of the corpus's accounts with `min_posts` posts or more that neither the projection (`sampled`)
    nor the base were fitted on, or None when there are fewer than ENOUGH_UNSAMPLED of them."""
    ids = np.asarray(read_columns(posts, ["account_id"]).column(0).to_numpy(zero_copy_only=False)).astype(str)
    names, codes, counts = np.unique(ids, return_inverse=True, return_counts=True)
    keep = (counts >= min_posts) & ~np.isin(names, np.asarray(list(sampled), dtype=str))
    if keep.sum() < ENOUGH_UNSAMPLED:
        return None
    others, _ = without_training_accounts(
        base, posts.select(np.flatnonzero(keep[codes])), keep=None, purpose=" of the calibration"
    )
    left = len(set(read_columns(others, ["account_id"]).column(0).to_pylist())) if len(others) else 0
    return others if left >= ENOUGH_UNSAMPLED else None


def _save_base(model: StyleModel, spec: str, folder: Path) -> dict:
    """Where the base lives in the compact folder: the name of a packaged or bundled model, a copy of its
    folder, or its fitted stylometric encoder."""
    if is_packaged(spec) or spec in BUNDLED:
        return {"spec": spec}
    if model.path is not None:
        shutil.copytree(model.path, folder, ignore=shutil.ignore_patterns("training_state"))
    elif isinstance(model.encoder, StylometricEncoder):
        model.encoder.save(folder)
    else:
        raise ValueError(f"cannot store base {spec!r} in a compact model: give a model folder")
    return {"folder": folder.name}


def _base_folder(model: StyleModel, spec: str) -> Path | None:
    if is_packaged(spec):
        return packaged_model_path(spec)
    return model.path


def _write_fit_accounts(base: StyleModel, ids, out: Path) -> None:
    """training_accounts.json: the accounts P was fitted on plus the base's own training accounts."""
    write_training_accounts(out, ids, inherit=_base_folder(base, base.name))
