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


def test_a_query_links_to_its_first_ranked_candidate_or_nobody_whatever_k():
    # audit 12: the link was the first passing candidate in rank order, so the hub ranked second (cosine 0.766
    # over a threshold of 0.75) was linked with -k 3 and nobody with -k 1, beside the first's score
    enrolled, query = hub_geometry()
    index = build_index(enrolled, model_identity=IDENTITY)
    for k in (1, 3):
        rows = link(index, query, k=k, threshold=0.75).rows
        assert [r["decision"] for r in rows][:2] == ["different", "same"][:k]
        assert {r["link"] for r in rows} == {"unknown"}, k
    assert {r["link"] for r in link(index, query, k=3, threshold=0.7).rows} == {"e0"}


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


class CountingSearches:
    """Counts how many rows an index was searched with (to see densities read back instead of searched)."""

    def __init__(self, index):
        self.index, self.rows = index, 0
        original = index.search

        def search(vectors, k):
            self.rows += len(np.atleast_2d(vectors.vectors if hasattr(vectors, "vectors") else vectors))
            return original(vectors, k)

        index.search = search


def test_a_saved_index_keeps_the_densities_link_found_and_the_next_link_reads_them(tmp_path):
    from authorid.index import load_index

    enrolled, query = hub_geometry()
    build_index(enrolled, model_identity=IDENTITY).save(tmp_path / "idx")
    first = CountingSearches(load_index(tmp_path / "idx"))
    before = link(first.index, query, k=3)
    # the query's own search, then one per distinct candidate among its top RERANK_DEPTH (all 60 enrolled)
    assert first.rows == 1 + 60
    kept = np.load(first.index.folder / hub.density_file(hub.K), allow_pickle=False)
    assert kept[enrolled.positions(["hub"])[0]] == pytest.approx(1 / ROOT)
    again = CountingSearches(load_index(tmp_path / "idx"))  # another process: only the file is shared
    after = link(again.index, query, k=3)
    assert again.rows == 1 and after.rows == before.rows
    # the same object answers a second call from memory
    link(again.index, query, k=3)
    assert again.rows == 2


def test_a_twin_free_calibration_reads_densities_without_the_nearest_from_the_same_searches(tmp_path):
    """`link` with a twin-free cohort fit (`authorid.verification.cohort.TWIN_FREE`) reads two densities per
    candidate, the K nearest (ranking) and the K after the nearest (its cohort score at w = 1): one search of
    each candidate finds both, and each is kept in its own file."""
    from authorid.index import load_index
    from authorid.verification import Calibrator, cohort

    enrolled, query = hub_geometry()
    calibration = Calibrator("platt")
    calibration.params, calibration.info = {"coef": 40.0, "intercept": -18.0}, {"fit_prior": 1 / 60}
    calibration.cohort = Calibrator.from_dict(calibration.to_dict())
    calibration.cohort.info = {
        "score": "cohort",
        "k": hub.K,
        "fit_prior": 1 / 60,
        "density": cohort.TWIN_FREE,
    }
    build_index(enrolled, model_identity=IDENTITY).save(tmp_path / "idx")
    counted = CountingSearches(load_index(tmp_path / "idx"))
    rows = link(counted.index, query, k=3, calibration=calibration).rows
    assert counted.rows == 1 + 60  # the query, then each enrolled account once (candidates and median sample)
    folder = counted.index.folder
    nearest = np.load(folder / hub.density_file(hub.K), allow_pickle=False)
    after = np.load(folder / hub.density_file(hub.K, 1), allow_pickle=False)
    hub_row, plain_row = enrolled.positions(["hub", "e3"])
    # the hub's neighbours are all at 1/sqrt(59); e3's: the hub, then only orthogonal accounts
    assert (nearest[hub_row], after[hub_row]) == pytest.approx((1 / ROOT, 1 / ROOT))
    assert (nearest[plain_row], after[plain_row]) == pytest.approx((1 / ROOT / 10, 0.0))
    # the query's density: the mean of its 2nd-11th cosines with the enrolled accounts (its nearest, the hub,
    # left out); the median of the enrolled accounts' densities is 0 (a plain account's, the hub left out)
    by_id = {r["account_id"]: r for r in rows}
    cosines = np.sort(enrolled.vectors.astype(np.float64) @ query.vectors[0].astype(np.float64))[::-1]
    query_density, median = cosines[1:11].mean(), 0.0
    e0_density = after[enrolled.positions(["e0"])[0]]
    expected = by_id["e0"]["cosine"] - ((query_density - median) + (e0_density - median)) / 2
    assert by_id["e0"]["cohort_score"] == pytest.approx(expected, abs=1e-5)


def test_index_add_starts_a_generation_without_densities_and_they_count_the_new_accounts(tmp_path):
    from authorid.index import load_index

    enrolled, query = hub_geometry()
    plain = [i for i in range(N_PLAIN + 1) if i != 3]  # e3 enrolled later
    build_index(enrolled.subset([enrolled.account_ids[i] for i in plain]), model_identity=IDENTITY).save(
        tmp_path / "idx"
    )
    index = load_index(tmp_path / "idx")
    assert hub.index_densities(index, ["hub"]) == pytest.approx({"hub": 1 / ROOT})
    index.add(enrolled.subset(["e3"]))
    index.save(tmp_path / "idx")
    grown = load_index(tmp_path / "idx")
    assert not (grown.folder / hub.density_file(hub.K)).exists()
    # e0's 10 nearest others: the hub and nine plain accounts, whether e3 is among them or not
    assert hub.index_densities(index, ["e3", "e0"]) == pytest.approx(
        {"e3": 1 / ROOT / 10, "e0": 1 / ROOT / 10}
    )
    assert hub.index_densities(grown, ["e3"]) == pytest.approx({"e3": 1 / ROOT / 10})


def test_densities_that_cannot_be_written_are_searched_again_and_the_answer_is_the_same(
    tmp_path, monkeypatch
):
    from authorid.index import load_index

    enrolled, query = hub_geometry()
    build_index(enrolled, model_identity=IDENTITY).save(tmp_path / "idx")

    def refuse(path, write):
        raise PermissionError(f"{path}: read-only")

    monkeypatch.setattr(hub, "atomic_write", refuse)
    first = link(load_index(tmp_path / "idx"), query, k=3)
    again = CountingSearches(load_index(tmp_path / "idx"))
    assert link(again.index, query, k=3).rows == first.rows and again.rows == 1 + 60
    # a damaged density file is ignored too
    (again.index.folder / hub.density_file(hub.K)).write_bytes(b"not an array")
    assert hub.index_densities(load_index(tmp_path / "idx"), ["hub"]) == pytest.approx({"hub": 1 / ROOT})


def test_link_flags_pairs_with_an_account_outside_the_calibrated_sizes():
    from authorid.verification import Calibrator

    enrolled, query = hub_geometry()
    enrolled.n_posts[enrolled.positions(["e0"])[0]] = 3  # the true match: inside 2-8 posts; the others have 1
    query.n_posts[:] = 4
    calibration = Calibrator.from_dict(
        {
            "format": "authorid.calibration",
            "version": 1,
            "method": "platt",
            "params": {"coef": 10.0, "intercept": -3.0},
            "info": {"fit_prior": 0.5, "account_posts": [2, 8]},
        }
    )
    links = link(build_index(enrolled, model_identity=IDENTITY), query, k=3, calibration=calibration)
    assert (links.rows[0]["account_id"], links.rows[0]["sizes_calibrated"]) == ("e0", "yes")
    assert [r["sizes_calibrated"] for r in links.rows[1:]] == ["no", "no"]  # the hub and a plain account
    assert (links.outside_sizes, links.sizes_seen) == (0, "2-8 posts")  # counted over each query's best pair
    query.n_posts[:] = 9
    assert (
        link(
            build_index(enrolled, model_identity=IDENTITY), query, k=3, calibration=calibration
        ).outside_sizes
        == 1
    )


def test_a_query_named_as_its_enrolled_twin_gets_the_p_it_gets_under_another_name():
    """Audit 12: the query's density left out the enrolled account of its own name as "itself", so naming a
    query after its twin (a sybil check's other half) raised its P; only its own vector is itself."""
    from authorid.encoders import AccountVectors
    from authorid.verification import Calibrator, cohort

    enrolled, query = hub_geometry()
    calibration = Calibrator("platt")
    calibration.params, calibration.info = {"coef": 40.0, "intercept": -18.0}, {"fit_prior": 1 / 60}
    calibration.cohort = Calibrator.from_dict(calibration.to_dict())
    calibration.cohort.info = {"score": "cohort", "k": hub.K, "fit_prior": 1 / 60}
    index = build_index(enrolled, model_identity=IDENTITY)
    answers = []
    for name in ("q", "e0", "e7"):
        named = AccountVectors([name], query.vectors, query.n_posts)
        rows = link(index, named, k=3, calibration=calibration).rows
        answers.append([(r["account_id"], r["cohort_score"], r["probability"]) for r in rows])
    assert answers[0] == answers[1] == answers[2]
    assert cohort.MIN_POOL <= len(index)
    # an enrolled account linked as a query (`link --vectors` of the index's own vectors) still skips itself
    itself = link(index, enrolled.subset(["e0"]), k=2, calibration=calibration).rows
    assert itself[0]["account_id"] == "e0" and itself[0]["cosine"] == pytest.approx(1.0)
