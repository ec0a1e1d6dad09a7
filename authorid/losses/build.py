"""Build a loss by name: ``build("ce+supcon:0.5", embedding_dim=384, num_classes=1000)``.

A name is one loss or a ``+``-joined sum of ``name[:weight]`` terms (weight 1 when omitted).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from torch import nn

from authorid.losses.base import StyleLoss
from authorid.losses.ce import SoftmaxCrossEntropyLoss
from authorid.losses.combine import CombinedLoss
from authorid.losses.contrax import ContraXLoss
from authorid.losses.margin import ArcFaceLoss, CosFaceLoss
from authorid.losses.ms import MultiSimilarityLoss
from authorid.losses.nbc_softmax import NBCSoftmaxLoss, ScaledNBCSoftmaxLoss
from authorid.losses.supcon import SupConLoss

LOSSES: dict[str, type[StyleLoss]] = {
    "ce": SoftmaxCrossEntropyLoss,
    "nbc-softmax": NBCSoftmaxLoss,
    "nbc-softmax-scaled": ScaledNBCSoftmaxLoss,
    "supcon": SupConLoss,
    "contrax": ContraXLoss,
    "arcface": ArcFaceLoss,
    "cosface": CosFaceLoss,
    "ms": MultiSimilarityLoss,
}


def hyperparameters(cls: type[StyleLoss]) -> dict[str, Any]:
    """The keyword-only hyper-parameters of a loss class and their (paper) defaults."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def describe() -> list[dict[str, str]]:
    """One row per registered loss, for the README's losses table: name, class, paper, parts, defaults."""
    return [
        {
            "name": name,
            "class": cls.__name__,
            "paper": cls.reference,
            "parts": ", ".join(cls.parts),
            "defaults": ", ".join(f"{k}={v}" for k, v in hyperparameters(cls).items()),
        }
        for name, cls in LOSSES.items()
    ]


def markdown_table() -> str:
    """:func:`describe` as a Markdown table."""
    rows = ["| name | class | paper | parts | defaults |", "|---|---|---|---|---|"]
    rows += [
        f"| `{r['name']}` | `{r['class']}` | {r['paper']} | {r['parts']} | {r['defaults']} |"
        for r in describe()
    ]
    return "\n".join(rows)


def parse_spec(name: str) -> list[tuple[str, float]]:
    """``"ce+supcon:0.5"`` -> ``[("ce", 1.0), ("supcon", 0.5)]``; ValueError on unknown names, bad weights."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"loss name must be a non-empty string, got {name!r}")
    terms = []
    for term in name.split("+"):
        loss_name, sep, weight_text = term.strip().partition(":")
        loss_name = loss_name.strip().lower()
        if loss_name not in LOSSES:
            raise ValueError(f"unknown loss {loss_name!r} in {name!r}; known losses: {', '.join(LOSSES)}")
        weight = 1.0
        if sep:
            try:
                weight = float(weight_text)
            except ValueError:
                raise ValueError(f"weight {weight_text!r} of loss {loss_name!r} is not a number") from None
            if not math.isfinite(weight) or weight <= 0:
                raise ValueError(
                    f"weight of loss {loss_name!r} must be a positive number, got {weight_text!r}"
                )
        terms.append((loss_name, weight))
    return terms


def _build_one(name: str, embedding_dim: int, num_classes: int | None, hparams: dict[str, Any]) -> StyleLoss:
    cls = LOSSES[name]
    accepted = hyperparameters(cls)
    unknown = sorted(set(hparams) - set(accepted))
    if unknown:
        raise ValueError(
            f"loss {name!r} does not take {', '.join(unknown)}; it takes: {', '.join(accepted) or 'nothing'}"
        )
    if not cls.needs_classes:
        return cls(embedding_dim, **hparams)
    if num_classes is None or num_classes < 2:
        raise ValueError(f"loss {name!r} has a class head and needs num_classes >= 2, got {num_classes!r}")
    return cls(embedding_dim, num_classes, **hparams)


def build(name: str, embedding_dim: int, num_classes: int | None = None, **hparams: Any) -> nn.Module:
    """Build the loss ``name`` for embeddings of size ``embedding_dim``.

    ``name`` is a key of :data:`LOSSES` or a weighted sum such as ``"ce+supcon:0.5"`` (CE with weight 1 plus
    0.5 * SupCon). Losses with a class head need ``num_classes >= 2``; the others ignore it. For a single loss
    ``hparams`` are its keyword arguments. For a sum, a plain keyword goes to every component that takes it
    (an error if none does), and ``**{"supcon": {"temperature": 0.1}}`` sets one component's arguments.
    A single unweighted loss is returned as itself, anything else as a :class:`CombinedLoss`.
    """
    terms = parse_spec(name)
    if len(terms) == 1 and terms[0][1] == 1.0:
        return _build_one(terms[0][0], embedding_dim, num_classes, hparams)
    term_names = {loss_name for loss_name, _ in terms}
    per_component = {k: v for k, v in hparams.items() if k in term_names}
    shared = {k: v for k, v in hparams.items() if k not in term_names}
    for key, value in per_component.items():
        if not isinstance(value, dict):
            raise ValueError(
                f"hyper-parameters for component {key!r} must be a dict, got {type(value).__name__}"
            )
    takers = {key for loss_name in term_names for key in hyperparameters(LOSSES[loss_name]) if key in shared}
    if set(shared) - takers:
        raise ValueError(f"no component of {name!r} takes {', '.join(sorted(set(shared) - takers))}")
    components = []
    for loss_name, weight in terms:
        accepted = hyperparameters(LOSSES[loss_name])
        own = {k: v for k, v in shared.items() if k in accepted} | per_component.get(loss_name, {})
        components.append((loss_name, weight, _build_one(loss_name, embedding_dim, num_classes, own)))
    return CombinedLoss(components)
