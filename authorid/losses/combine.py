"""A weighted sum of losses whose parts keep their names."""

from __future__ import annotations

from collections import Counter

from torch import Tensor, nn


class CombinedLoss(nn.Module):
    """``sum_k w_k * L_k`` over component losses; every part of component k is multiplied by ``w_k``.

    Parts keep their names. A part name produced by more than one component is prefixed with its
    component's label (``"contrax.ce"``); a component used twice is labelled by position (``"ce#1"``). So the
    returned parts always sum to the combined loss.
    """

    def __init__(self, components: list[tuple[str, float, nn.Module]]) -> None:
        super().__init__()
        if not components:
            raise ValueError("a combined loss needs at least one component")
        names = [name for name, _, _ in components]
        counts = Counter(names)
        self.labels = [name if counts[name] == 1 else f"{name}#{i}" for i, name in enumerate(names)]
        self.weights = [float(weight) for _, weight, _ in components]
        self.components = nn.ModuleList([module for _, _, module in components])

    def forward(self, embeddings: Tensor, labels: Tensor) -> dict[str, Tensor]:
        produced = [
            (label, weight, component(embeddings, labels))
            for label, weight, component in zip(self.labels, self.weights, self.components, strict=True)
        ]
        part_counts = Counter(part for _, _, parts in produced for part in parts)
        out: dict[str, Tensor] = {}
        for label, weight, parts in produced:
            for part, value in parts.items():
                key = part if part_counts[part] == 1 else f"{label}.{part}"
                out[key] = weight * value
        return out

    def extra_repr(self) -> str:
        return " + ".join(f"{w:g}*{label}" for label, w in zip(self.labels, self.weights, strict=True))
