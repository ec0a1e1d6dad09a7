"""build(): names, weighted sums, hyper-parameter routing, errors, and the README table rows."""

from __future__ import annotations

import pytest
import torch
from losses.loss_refs import EMBEDDING_DIM, NUM_CLASSES

from authorid.losses import (
    LOSSES,
    CombinedLoss,
    ContraXLoss,
    NBCSoftmaxLoss,
    ScaledNBCSoftmaxLoss,
    SoftmaxCrossEntropyLoss,
    SupConLoss,
    build,
    describe,
    markdown_table,
    parse_spec,
    total_loss,
)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_name_builds_its_class_and_parts(name, batch):
    loss = build(name, EMBEDDING_DIM, NUM_CLASSES)
    assert type(loss) is LOSSES[name]
    assert tuple(loss.double()(*batch)) == LOSSES[name].parts


def test_registry_names():
    assert sorted(LOSSES) == [
        "arcface",
        "ce",
        "contrax",
        "cosface",
        "ms",
        "nbc-softmax",
        "nbc-softmax-scaled",
        "supcon",
    ]


def test_parse_spec():
    assert parse_spec("ce+supcon:0.5") == [("ce", 1.0), ("supcon", 0.5)]
    assert parse_spec(" NBC-Softmax : 2 + ms ") == [("nbc-softmax", 2.0), ("ms", 1.0)]


@pytest.mark.parametrize("spec", ["ce+supcon:x", "ce:0", "ce:-1", "ce:nan", "supcon:inf", "", "ce+"])
def test_bad_specs_raise(spec):
    with pytest.raises(ValueError):
        parse_spec(spec)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown loss 'triplet'.*known losses: ce, nbc-softmax, .*ms"):
        build("ce+triplet", EMBEDDING_DIM, NUM_CLASSES)


def test_combined_parts_are_weighted_and_sum_to_the_total(batch):
    torch.manual_seed(0)
    loss = build("ce+supcon:0.5", EMBEDDING_DIM, NUM_CLASSES).double()
    assert isinstance(loss, CombinedLoss)
    ce, supcon = loss.components
    assert isinstance(ce, SoftmaxCrossEntropyLoss) and isinstance(supcon, SupConLoss)
    parts = loss(*batch)
    assert set(parts) == {"ce", "supcon"}
    assert parts["ce"].item() == pytest.approx(ce(*batch)["ce"].item(), rel=1e-14)
    assert parts["supcon"].item() == pytest.approx(0.5 * supcon(*batch)["supcon"].item(), rel=1e-14)
    assert total_loss(parts).item() == pytest.approx(parts["ce"].item() + parts["supcon"].item(), rel=1e-14)


def test_colliding_part_names_are_prefixed_and_still_sum(batch):
    torch.manual_seed(0)
    loss = build("ce+contrax:0.5", EMBEDDING_DIM, NUM_CLASSES).double()
    ce, contrax = loss.components
    parts = loss(*batch)
    assert set(parts) == {"ce.ce", "contrax.ce", "contrastive"}
    own = contrax(*batch)
    assert parts["contrax.ce"].item() == pytest.approx(0.5 * own["ce"].item(), rel=1e-14)
    assert parts["ce.ce"].item() == pytest.approx(ce(*batch)["ce"].item(), rel=1e-14)
    expected = ce(*batch)["ce"].item() + 0.5 * (own["ce"].item() + own["contrastive"].item())
    assert total_loss(parts).item() == pytest.approx(expected, rel=1e-14)


def test_repeated_component_is_labelled_by_position(batch):
    parts = build("supcon+supcon:0.25", EMBEDDING_DIM).double()(*batch)
    assert set(parts) == {"supcon#0.supcon", "supcon#1.supcon"}
    assert parts["supcon#1.supcon"].item() == pytest.approx(0.25 * parts["supcon#0.supcon"].item(), rel=1e-14)


def test_single_weighted_loss_scales_its_parts(batch):
    plain = build("supcon", EMBEDDING_DIM)(*batch)["supcon"].item()
    assert build("supcon:0.5", EMBEDDING_DIM)(*batch)["supcon"].item() == pytest.approx(
        0.5 * plain, rel=1e-14
    )


def test_hyperparameters_reach_the_loss():
    loss = build("nbc-softmax", EMBEDDING_DIM, NUM_CLASSES, ratio=0.3, tau=0.5)
    assert (loss.ratio, loss.tau, loss.scaled) == (0.3, 0.5, False)
    assert build("nbc-softmax-scaled", EMBEDDING_DIM, NUM_CLASSES).scaled is True
    assert isinstance(build("nbc-softmax-scaled", EMBEDDING_DIM, NUM_CLASSES), ScaledNBCSoftmaxLoss)


def test_shared_and_per_component_hyperparameters_in_a_sum():
    loss = build(
        "contrax+supcon", EMBEDDING_DIM, NUM_CLASSES, temperature=0.2, supcon={"base_temperature": 0.07}
    )
    contrax, supcon = loss.components
    assert isinstance(contrax, ContraXLoss)
    assert (contrax.temperature, supcon.temperature, supcon.base_temperature) == (0.2, 0.2, 0.07)
    nbc = build("nbc-softmax+ms", EMBEDDING_DIM, NUM_CLASSES, ms={"beta": 40.0}).components[0]
    assert isinstance(nbc, NBCSoftmaxLoss)


def test_unknown_hyperparameters_raise():
    with pytest.raises(ValueError, match="does not take temprature; it takes: temperature, base_temperature"):
        build("supcon", EMBEDDING_DIM, temprature=0.1)
    with pytest.raises(ValueError, match="no component of 'ce\\+ms' takes tau"):
        build("ce+ms", EMBEDDING_DIM, NUM_CLASSES, tau=0.1)
    with pytest.raises(ValueError, match="does not take margin"):
        build("ce+ms", EMBEDDING_DIM, NUM_CLASSES, ce={"margin": 0.1})


@pytest.mark.parametrize("num_classes", [None, 1, 0])
def test_headed_losses_need_two_classes(num_classes):
    with pytest.raises(ValueError, match="needs num_classes >= 2"):
        build("arcface", EMBEDDING_DIM, num_classes)
    with pytest.raises(ValueError, match="needs num_classes >= 2"):
        NBCSoftmaxLoss(EMBEDDING_DIM, num_classes)


def test_headless_losses_ignore_num_classes(batch):
    assert (
        build("ms", EMBEDDING_DIM, None)(*batch)["ms"].item()
        == build("ms", EMBEDDING_DIM, 1000)(*batch)["ms"].item()
    )


def test_describe_rows_for_the_readme():
    rows = {row["name"]: row for row in describe()}
    assert set(rows) == set(LOSSES)
    assert rows["supcon"]["class"] == "SupConLoss"
    assert rows["supcon"]["defaults"] == "temperature=0.07, base_temperature=None"
    assert rows["arcface"]["defaults"] == "scale=64.0, margin=0.5, sub_centers=1"
    assert rows["cosface"]["defaults"] == "scale=30.0, margin=0.35, sub_centers=1"
    assert rows["ms"]["defaults"] == "alpha=2.0, beta=50.0, base=0.5, margin=0.1"
    assert rows["nbc-softmax"]["defaults"] == "ratio=0.5, tau=0.2, scaled=False"
    assert rows["contrax"]["defaults"] == "temperature=0.1, contrastive_weight=1.0"
    assert rows["nbc-softmax"]["parts"] == "ce, nbc"
    assert all(row["paper"] for row in rows.values())
    table = markdown_table().splitlines()
    assert table[0] == "| name | class | paper | parts | defaults |"
    assert len(table) == 2 + len(LOSSES)


def test_combined_state_dict_holds_every_head():
    loss = build("ce+contrax", EMBEDDING_DIM, NUM_CLASSES)
    assert sorted(loss.state_dict()) == [
        "components.0.head.linear.bias",
        "components.0.head.linear.weight",
        "components.1.head.linear.bias",
        "components.1.head.linear.weight",
    ]
