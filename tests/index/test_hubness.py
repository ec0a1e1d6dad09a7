"""Hubness correction (CSLS): densities, the corrected score, and what `link` and the protocol rank by."""

import numpy as np
import pytest

from authorid.encoders import AccountVectors
from authorid.evaluation.protocols import linking_ranks
from authorid.index import build_index, link
from authorid.index import hubness as hub

IDENTITY = {"name": "test-model", "kind": "neural", "dim": 64, "fingerprint": "abc123"}
N_PLAIN = 59  # plain accounts e_0..e_58 (orthogonal); with the hub, a pool of 60 >= MIN_POOL
ROOT = np.sqrt(N_PLAIN)


def hub_geometry() -> tuple[AccountVectors, AccountVectors]:
    """(enrolled, query): 59 orthogonal accounts e_i and a hub h = normalize(sum e_i), at cosine 1/sqrt(59) from
    each; the query q = normalize(e_0 + 1.05 h) belongs to e_0 but sits nearer the hub (0.766 against 0.737)."""
    basis = np.eye(IDENTITY["dim"], dtype=np.float64)[:N_PLAIN]
    hub_vector = basis.sum(axis=0) / ROOT
    enrolled = AccountVectors(
        [f"e{i}" for i in range(N_PLAIN)] + ["hub"],
        np.vstack([basis, hub_vector]).astype(np.float32),
        np.ones(N_PLAIN + 1, dtype=np.int64),
    )
    query = basis[0] + 1.05 * hub_vector
    query = AccountVectors(["q"], (query / np.linalg.norm(query))[None].astype(np.float32), np.ones(1))
    return enrolled, query


def test_top_k_mean_and_pool_densities_on_a_hand_made_score_matrix():
    scores = np.array(
        [[1.0, 0.5, 0.2, 0.1], [0.5, 1.0, 0.4, -0.2], [0.2, 0.4, 1.0, 0.3], [0.1, -0.2, 0.3, 1.0]]
    )
    assert hub.top_k_mean(np.array([[0.5, 0.2, 0.1], [0.3, 0.9, -1.0]]), k=2).tolist() == pytest.approx(
        [0.35, 0.6]
    )
    # each account's own score (the diagonal) is excluded; the 2 best others are averaged
    densities = hub.pool_densities(lambda start, stop: scores[start:stop], 4, k=2, chunk=3)
    assert densities.tolist() == pytest.approx([0.35, 0.45, 0.35, 0.2])
    np.testing.assert_allclose(hub.corrected(np.array([[0.8, 0.7]]), np.array([0.4, 0.1])), [[0.6, 0.65]])


def test_an_index_reads_each_accounts_density_from_its_nearest_other_enrolled_accounts():
    enrolled, _ = hub_geometry()
    densities = hub.index_densities(build_index(enrolled, model_identity=IDENTITY), ["hub", "e3", "hub"])
    # the hub's 10 nearest others are all at 1/sqrt(59); e3's are the hub and nine orthogonal accounts
    assert densities == pytest.approx({"hub": 1 / ROOT, "e3": 1 / ROOT / 10})


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_every_index_kind_gives_back_the_vectors_it_enrolled(kind):
    enrolled, _ = hub_geometry()
    params = {} if kind == "exact" else {"storage": "float32"}
    index = build_index(enrolled, kind=kind, model_identity=IDENTITY, **params)
    rows = np.array([59, 0, 7])
    np.testing.assert_allclose(index.vectors_at(rows), enrolled.vectors[rows], atol=1e-6)


def test_link_ranks_the_true_account_above_a_hub_that_is_nearer_by_cosine():
    enrolled, query = hub_geometry()
    index = build_index(enrolled, model_identity=IDENTITY)
    plain = link(index, query, k=3, hubness=False)
    assert [r["account_id"] for r in plain.rows][:2] == ["hub", "e0"] and not plain.hubness
    assert all(r["score"] == r["cosine"] for r in plain.rows)
    corrected = link(index, query, k=3)
    assert corrected.hubness
    first, second = corrected.rows[:2]
    assert (first["account_id"], second["account_id"]) == ("e0", "hub")
    # the score is the cosine less half the density; the cosine itself is unchanged
    assert first["cosine"] == pytest.approx(0.7375, abs=1e-4)
    assert first["score"] == pytest.approx(first["cosine"] - 0.5 / ROOT / 10, abs=1e-6)
    assert second["score"] == pytest.approx(second["cosine"] - 0.5 / ROOT, abs=1e-6)


def test_a_pool_below_the_minimum_is_ranked_by_cosine():
    enrolled, query = hub_geometry()
    keep = [*range(hub.MIN_POOL - 2), N_PLAIN]  # 48 plain accounts and the hub: 49 enrolled
    small = AccountVectors(
        [enrolled.account_ids[i] for i in keep], enrolled.vectors[keep], np.ones(len(keep))
    )
    links = link(build_index(small, model_identity=IDENTITY), query, k=2)
    assert not links.hubness and links.rows[0]["account_id"] == "hub"


def test_the_protocol_ranks_as_link_does():
    enrolled, query = hub_geometry()
    vectors = AccountVectors(
        query.account_ids + enrolled.account_ids,
        np.vstack([query.vectors, enrolled.vectors]),
        np.ones(len(enrolled) + 1),
    )
    candidates = enrolled.account_ids  # the query's true account, e0, is candidates[0]
    assert linking_ranks(vectors, ["q"], candidates).tolist() == [2]
    assert linking_ranks(vectors, ["q"], candidates, hubness=True).tolist() == [1]
    small_pool = candidates[: hub.MIN_POOL - 2] + ["hub"]  # 49 candidates: below MIN_POOL
    assert linking_ranks(vectors, ["q"], small_pool, hubness=True).tolist() == [2]


def test_on_real_reddit_halves_link_ranks_each_true_half_where_the_protocol_does(reddit_posts):
    """The packaged `style` model on held-out-sized Reddit halves: `link` over an index of the second halves
    puts each first half's true half at the rank the sybil protocol's hubness-corrected ranking gives it."""
    from authorid.evaluation.protocols import PostEmbeddings, evaluation_set, halves
    from authorid.model import load_model

    style = load_model("style")
    chosen = evaluation_set(reddit_posts, min_posts=6, seed=0, cut=True)
    queries, candidates = halves(chosen.person_of)
    assert hub.MIN_POOL <= len(candidates) <= hub.RERANK_DEPTH  # corrected, and link reads the whole pool
    vectors = PostEmbeddings(style, chosen.posts).accounts()
    expected = linking_ranks(vectors, queries, candidates, hubness=True)
    index = build_index(vectors.subset(candidates), model_identity=style.identity())
    links = link(index, vectors.subset(queries), k=len(candidates))
    assert links.hubness
    rank_of = {(r["query_account"], r["account_id"]): r["rank"] for r in links.rows}
    assert [rank_of[q, c] for q, c in zip(queries, candidates, strict=True)] == expected.tolist()
    # on these accounts the correction finds more true halves first than the cosine does
    assert (expected == 1).sum() > (linking_ranks(vectors, queries, candidates) == 1).sum()
