"""make_pairs: balanced or many negatives per positive, seeded, hard negatives first."""

import numpy as np
import pytest

from authorid.verification import co_active_accounts, make_pairs

# 6 persons with 2 accounts each, 1 person with 3 accounts: 6 + 3 = 9 same-person pairs.
PERSON_OF = {f"{p}#{i}": p for p in "abcdef" for i in range(2)} | {f"g#{i}": "g" for i in range(3)}


def test_pairs_are_balanced_and_labelled_right():
    a, b, labels = make_pairs(PERSON_OF, seed=0)
    assert labels.sum() == 9 and len(labels) == 18
    for x, y, label in zip(a, b, labels, strict=True):
        assert (PERSON_OF[x] == PERSON_OF[y]) == bool(label)
        assert x != y
    assert len({frozenset(p) for p in zip(a, b, strict=True)}) == 18  # no repeats


def test_n_pairs_caps_and_seed_reproduces():
    first = make_pairs(PERSON_OF, n_pairs=8, seed=3)
    again = make_pairs(PERSON_OF, n_pairs=8, seed=3)
    other = make_pairs(PERSON_OF, n_pairs=8, seed=4)
    assert first[0] == again[0] and first[1] == again[1] and np.array_equal(first[2], again[2])
    assert (first[0], first[1]) != (other[0], other[1])
    assert first[2].tolist().count(1) == 4 and first[2].tolist().count(0) == 4


def test_hard_negatives_are_used_first():
    hard = {"a#0": {"b#1", "a#1"}, "c#0": {"d#0"}}  # a#1 is the same person: not a negative
    a, b, labels = make_pairs(PERSON_OF, seed=0, hard_negatives=hard)
    negatives = {frozenset(p) for p, label in zip(zip(a, b, strict=True), labels, strict=True) if label == 0}
    assert {frozenset({"a#0", "b#1"}), frozenset({"c#0", "d#0"})} <= negatives
    assert frozenset({"a#0", "a#1"}) not in negatives


def test_co_active_accounts_by_thread():
    near = co_active_accounts(["x", "y", "z", "x"], ["t1", "t1", "t2", None])
    assert near == {"x": {"y"}, "y": {"x"}}


def test_no_same_person_pairs_is_an_error():
    with pytest.raises(ValueError, match="no person has two accounts"):
        make_pairs({"a": "1", "b": "2"})
    with pytest.raises(ValueError, match="at least 2 persons"):
        make_pairs({"a": "1", "b": "1"})


def test_many_negatives_per_positive_and_never_more_than_exist():
    # 15 accounts: 105 pairs, 9 of them same-person, so 96 different-person pairs exist
    a, b, labels = make_pairs(PERSON_OF, seed=0, negatives_per_positive=3)
    assert labels.sum() == 9 and (labels == 0).sum() == 27
    assert all((PERSON_OF[x] == PERSON_OF[y]) == bool(y_) for x, y, y_ in zip(a, b, labels, strict=True))
    a, b, labels = make_pairs(PERSON_OF, seed=0, negatives_per_positive=30)  # 270 wanted: all 96 taken
    assert (labels == 0).sum() == 96 and len({frozenset(p) for p in zip(a, b, strict=True)}) == 105
    with pytest.raises(ValueError, match="negatives_per_positive must be at least 1"):
        make_pairs(PERSON_OF, negatives_per_positive=0)
