"""Centred transformer account vectors (`authorid.encoders.centre`, `minilm`): exact centring by hand, the
corpus / stored rule, save and load, the model's identity, an index that keeps its centre, and the size drift
it removes on real accounts."""

from __future__ import annotations

import numpy as np
import pytest

from authorid.encoders.centre import CONFIG_FILE, WEIGHTS_FILE, AccountCentre, CentreError
from authorid.encoders.size_centre import MIN_CENTRE_GROUPS


def _unit(rows) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_few_accounts_are_centred_on_the_stored_centre_by_hand():
    centre = AccountCentre(np.array([0.6, 0.0], dtype=np.float32))
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 0.0]], dtype=np.float32)
    # (1, 0) - (0.6, 0) = (0.4, 0) -> (1, 0); (0.6, 0.8) - (0.6, 0) = (0, 0.8) -> (0, 1); a zero row stays zero
    np.testing.assert_allclose(
        centre.apply(vectors, [1, 5, 2]), [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], atol=1e-7
    )


def test_enough_accounts_are_centred_on_their_own_mean():
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(MIN_CENTRE_GROUPS, 5)) + 3.0)  # a large shared component
    sizes = np.full(MIN_CENTRE_GROUPS, 8)  # one size: one knot, the plain mean
    stored = AccountCentre(np.zeros(5, dtype=np.float32))
    expected = _unit(vectors - vectors.mean(0))
    np.testing.assert_allclose(stored.apply(vectors, sizes), expected, atol=1e-6)
    # one account fewer: the stored centre (zero here, so the vectors come back as they were)
    np.testing.assert_allclose(stored.apply(vectors[:-1], sizes[:-1]), vectors[:-1], atol=1e-6)
    # a fixed centre is used whatever the number of accounts
    fixed = stored.fixed_to(vectors, sizes)
    assert fixed.mode == "fixed" and fixed.stored.is_constant
    np.testing.assert_allclose(fixed.stored.means[0], vectors.mean(0), atol=1e-6)
    np.testing.assert_allclose(
        fixed.apply(vectors[:3], sizes[:3]), _unit(vectors[:3] - vectors.mean(0)), atol=1e-6
    )


def test_accounts_of_two_sizes_are_centred_on_their_own_sizes_mean_and_the_curve_is_saved(tmp_path):
    """40 accounts of 1 post and 40 of 4: two knots (1 and 4 posts); each account is centred on its size's mean,
    a 2-post account halfway (log2) between them; a fixed centre keeps the curve through save and load."""
    rng = np.random.default_rng(3)
    small = _unit(rng.normal(size=(2 * MIN_CENTRE_GROUPS, 4)) + [2.0, 0, 0, 0])
    large = _unit(rng.normal(size=(2 * MIN_CENTRE_GROUPS, 4)) + [0, 3.0, 0, 0])
    vectors, sizes = np.vstack([small, large]), np.repeat([1, 4], 2 * MIN_CENTRE_GROUPS)
    centre = AccountCentre(np.zeros(4, dtype=np.float32))
    expected = np.vstack([_unit(small - small.mean(0)), _unit(large - large.mean(0))])
    np.testing.assert_allclose(centre.apply(vectors, sizes), expected, atol=1e-6)
    fixed = centre.fixed_to(vectors, sizes)
    np.testing.assert_allclose(fixed.stored.positions, [0.0, 2.0])
    between = (small.mean(0) + large.mean(0)) / 2
    np.testing.assert_allclose(fixed.apply(vectors[:1], [2]), _unit(vectors[:1] - between), atol=1e-6)
    fixed.save(tmp_path)
    loaded = AccountCentre.load(tmp_path, dim=4)
    assert loaded.mode == "fixed" and loaded.fingerprint_bytes() == fixed.fingerprint_bytes()
    np.testing.assert_allclose(loaded.apply(vectors, sizes), fixed.apply(vectors, sizes), atol=1e-7)


def test_fit_save_and_load_round_trip_and_refusals(tmp_path):
    vectors = _unit(np.random.default_rng(1).normal(size=(30, 4)))
    centre = AccountCentre.fit(np.vstack([vectors, np.zeros((1, 4))]), fitted_on="thirty accounts")
    np.testing.assert_allclose(centre.stored.means[0], vectors.mean(0), atol=1e-6)  # the zero row is left out
    centre.save(tmp_path)
    loaded = AccountCentre.load(tmp_path, dim=4)
    assert (loaded.mode, loaded.fitted_on) == ("corpus", "thirty accounts")
    np.testing.assert_array_equal(loaded.stored.means, centre.stored.means)
    with pytest.raises(CentreError, match="width 4 for vectors of width 384"):
        AccountCentre.load(tmp_path, dim=384)
    with pytest.raises(CentreError, match="vectors of width 3 for a centre of width 4"):
        loaded.apply(np.ones((2, 3)), [1, 1])
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(CentreError, match="damaged"):
        AccountCentre.load(tmp_path)
    (tmp_path / WEIGHTS_FILE).unlink()
    with pytest.raises(CentreError, match=f"{WEIGHTS_FILE}: missing"):
        AccountCentre.load(tmp_path)
    (tmp_path / CONFIG_FILE).unlink()
    with pytest.raises(CentreError, match=f"{CONFIG_FILE}: missing"):
        AccountCentre.load(tmp_path)
    with pytest.raises(CentreError, match="unknown centring mode"):
        AccountCentre(np.zeros(2), mode="sometimes")


@pytest.fixture(scope="module")
def demo_posts():
    from authorid.data.clean import clean
    from authorid.data.readers import read_posts

    posts, _ = clean(read_posts("enron_demo")[0])
    return posts


@pytest.fixture(scope="module")
def minilm_models():
    from authorid.model import RAW_MINILM, load_model

    return load_model("minilm"), load_model(RAW_MINILM)  # as `open_index` loads the spec "minilm"


@pytest.fixture(scope="module")
def demo_vectors(minilm_models, demo_posts):
    """(centred, as pooled) account vectors of the demo corpus."""
    centred, raw = minilm_models
    return centred.embed_accounts(demo_posts), raw.embed_accounts(demo_posts)


def test_minilm_centres_what_minilm_raw_pools(minilm_models, demo_posts, demo_vectors):
    centred, raw = minilm_models
    assert centred.centre is not None and raw.centre is None
    assert centred.fingerprint() != raw.fingerprint()  # a calibration of one is refused for the other
    vectors, pooled = demo_vectors
    assert vectors.account_ids == pooled.account_ids and len(vectors) >= MIN_CENTRE_GROUPS
    np.testing.assert_allclose(vectors.vectors, _unit(pooled.vectors - pooled.vectors.mean(0)), atol=1e-5)
    # a handful of accounts: the stored (Reddit) centre
    few = demo_posts.filter(lambda row: row["account_id"] in set(pooled.account_ids[:3]))
    np.testing.assert_allclose(
        centred.embed_accounts(few).vectors,
        _unit(raw.embed_accounts(few).vectors - centred.centre.stored.means[0]),
        atol=1e-5,
    )


def test_centring_removes_the_shared_component_of_different_peoples_cosines(demo_vectors):
    """Issue 15's cause, on real e-mails: the mean-pooled cosine of two different people is high (and rises
    with their post counts); centred, it sits near zero."""
    medians = {}
    for name, v in zip(("centred", "raw"), demo_vectors, strict=True):
        cosines = v.vectors @ v.vectors.T
        different = cosines[np.triu_indices(len(v), 1)]
        medians[name] = float(np.median(different))
    assert medians["raw"] > 0.3
    assert abs(medians["centred"]) < 0.1


@pytest.mark.slow
def test_an_index_keeps_the_centre_of_its_enrolled_accounts(
    minilm_models, demo_posts, demo_vectors, tmp_path
):
    from authorid.index.opening import open_index
    from authorid.workflows.index import build_account_index

    centred, _ = minilm_models
    enrolled, pooled = demo_vectors
    index = build_account_index(centred, "minilm", demo_posts, tmp_path / "idx", kind="exact")
    _, model = open_index(tmp_path / "idx")
    assert model.centre is not None and model.centre.mode == "fixed"
    np.testing.assert_allclose(model.centre.stored.means[0], pooled.vectors.mean(0), atol=1e-5)
    first = enrolled.account_ids[0]
    np.testing.assert_allclose(index.vectors[index.positions[first]], enrolled.vectors[0], atol=1e-5)
    # one account linked later is centred as it was when enrolled
    one = demo_posts.filter(lambda row: row["account_id"] == enrolled.account_ids[0])
    np.testing.assert_allclose(model.embed_accounts(one).vectors[0], enrolled.vectors[0], atol=1e-5)
    assert model.identity() == index.model_identity
