"""Properties every registered loss must have: gradients, invariances, dtypes and input errors."""

from __future__ import annotations

import math

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES
from torch.func import functional_call

from authorid.losses import LOSSES, build, total_loss
from authorid.losses.heads import CosineHead, LinearHead

NAMES = sorted(LOSSES)
# Parts that depend on the labels only through which samples share a class, not through the head.
LABEL_FREE_PARTS = {"nbc", "supcon", "contrastive", "ms"}


def make(name: str, **hparams) -> torch.nn.Module:
    torch.manual_seed(0)
    return build(name, EMBEDDING_DIM, NUM_CLASSES, **hparams).double()


def relabel_head(loss: torch.nn.Module, mapping: torch.Tensor) -> None:
    """Move every class head row c to row mapping[c], so that relabelling y -> mapping[y] is a no-op."""
    with torch.no_grad():
        for module in loss.modules():
            if isinstance(module, LinearHead):
                for param in (module.linear.weight, module.linear.bias):
                    moved = param.clone()
                    moved[mapping] = param
                    param.copy_(moved)
            elif isinstance(module, CosineHead):
                grouped = module.weight.view(module.num_classes, module.sub_centers, -1)
                moved = grouped.clone()
                moved[mapping] = grouped
                grouped.copy_(moved)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_finite_differences(name, batch):
    loss = make(name)
    embeddings, labels = batch
    names = [n for n, _ in loss.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in loss.named_parameters()]

    def objective(x, *values):
        return total_loss(functional_call(loss, dict(zip(names, values, strict=True)), (x, labels)))

    inputs = (embeddings.clone().requires_grad_(True), *params)
    assert torch.autograd.gradcheck(objective, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_invariant_to_permuting_the_batch(name, batch):
    loss = make(name)
    embeddings, labels = batch
    order = torch.tensor([5, 2, 7, 0, 3, 6, 1, 4])
    original, permuted = loss(embeddings, labels), loss(embeddings[order], labels[order])
    for part, value in original.items():
        assert permuted[part].item() == pytest.approx(value.item(), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_invariant_to_renaming_labels(name, batch):
    loss = make(name)
    embeddings, labels = batch
    mapping = torch.tensor([4, 0, 5, 1, 3, 2])  # old class c becomes mapping[c]
    original = {k: v.item() for k, v in loss(embeddings, labels).items()}
    renamed = {k: v.item() for k, v in loss(embeddings, mapping[labels]).items()}
    for part in set(original) & LABEL_FREE_PARTS:
        assert renamed[part] == pytest.approx(original[part], rel=1e-12)
    relabel_head(loss, mapping)  # with the head rows moved too, every part is unchanged
    moved = {k: v.item() for k, v in loss(embeddings, mapping[labels]).items()}
    assert moved == pytest.approx(original, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fixture", ["batch", "one_class_batch", "singletons_batch"])
def test_defined_and_trainable_on_edge_batches(name, fixture, request):
    embeddings, labels = request.getfixturevalue(fixture)
    loss = make(name)
    embeddings = embeddings.clone().requires_grad_(True)
    parts = loss(embeddings, labels)
    assert set(parts) == set(LOSSES[name].parts)
    total = total_loss(parts)
    assert math.isfinite(total.item())
    total.backward()
    assert bool(torch.isfinite(embeddings.grad).all())


@pytest.mark.parametrize("name", NAMES)
def test_float32_agrees_with_float64(name, batch):
    loss = make(name)  # float64 head; it casts itself to the embeddings' dtype
    embeddings, labels = batch
    single = loss(embeddings.float(), labels)
    double = loss(embeddings, labels)
    for part, value in double.items():
        assert single[part].dtype == torch.float32
        assert single[part].item() == pytest.approx(value.item(), rel=1e-4, abs=1e-5)


BAD_INPUTS = {
    "empty batch": (torch.zeros(0, EMBEDDING_DIM), torch.zeros(0, dtype=torch.long)),
    "length mismatch": (torch.randn(4, EMBEDDING_DIM), torch.tensor([0, 1, 0])),
    "wrong dimension": (torch.randn(4, EMBEDDING_DIM + 1), torch.tensor([0, 1, 0, 1])),
    "1-D embeddings": (torch.randn(EMBEDDING_DIM), torch.tensor([0])),
    "2-D labels": (torch.randn(4, EMBEDDING_DIM), torch.tensor([[0, 1, 0, 1]])),
    "float labels": (torch.randn(4, EMBEDDING_DIM), torch.tensor([0.0, 1.0, 0.0, 1.0])),
    "integer embeddings": (torch.ones(4, EMBEDDING_DIM, dtype=torch.long), torch.tensor([0, 1, 0, 1])),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_raise_value_error(name, case):
    embeddings, labels = BAD_INPUTS[case]
    with pytest.raises(ValueError):
        build(name, EMBEDDING_DIM, NUM_CLASSES)(embeddings, labels)


@pytest.mark.parametrize("name", [n for n in NAMES if LOSSES[n].needs_classes])
@pytest.mark.parametrize("bad_label", [-1, NUM_CLASSES])
def test_headed_losses_reject_labels_outside_the_classes(name, bad_label):
    labels = torch.tensor([0, 1, bad_label, 1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 6\)"):
        build(name, EMBEDDING_DIM, NUM_CLASSES)(torch.randn(4, EMBEDDING_DIM), labels)
