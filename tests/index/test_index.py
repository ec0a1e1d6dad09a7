"""Exact and faiss indexes: search, recall, enrolment, save/load, identity and dimension checks, knn."""

import json

import numpy as np
import pytest

from authorid.encoders import AccountVectors
from authorid.index import ExactIndex, FaissIndex, VectorIndexError, build_index, knn, load_index

IDENTITY = {"name": "test-model", "kind": "neural", "dim": 32, "fingerprint": "abc123"}


def clustered(n: int, dim: int = 32, *, seed: int = 0, prefix: str = "acc") -> AccountVectors:
    """n unit vectors around n // 10 seeded gaussian centres (the shape of real account vectors)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(n // 10, 1), dim))
    vectors = centres[rng.integers(len(centres), size=n)] + 0.5 * rng.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return AccountVectors(
        [f"{prefix}{i}" for i in range(n)], vectors.astype(np.float32), np.ones(n, dtype=np.int64)
    )


def test_exact_search_returns_the_brute_force_top_k():
    vectors = clustered(300)
    index = build_index(vectors, model_identity=IDENTITY)
    assert isinstance(index, ExactIndex) and len(index) == 300
    scores, ids = index.search(vectors.vectors[:5], 4)
    brute = vectors.vectors[:5] @ vectors.vectors.T
    for row in range(5):
        expected = np.argsort(-brute[row], kind="stable")[:4]
        assert ids[row].tolist() == [f"acc{i}" for i in expected]
        np.testing.assert_allclose(scores[row], brute[row, expected], rtol=1e-6)
    assert ids[0, 0] == "acc0"  # a query that is enrolled finds itself first


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_faiss_recall_against_exact_search(kind):
    vectors, queries = clustered(2000), clustered(100, seed=1, prefix="q")
    exact = build_index(vectors, kind="exact", model_identity=IDENTITY)
    approximate = build_index(vectors, kind=kind, model_identity=IDENTITY)
    assert isinstance(approximate, FaissIndex) and approximate.kind == kind
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9


def test_ivf_recall_grows_with_nprobe():
    vectors, queries = clustered(2000), clustered(100, seed=1, prefix="q")
    _, truth = build_index(vectors, kind="exact", model_identity=IDENTITY).search(queries, 10)
    index = build_index(vectors, kind="ivf", model_identity=IDENTITY, nprobe=1, storage="float32")
    recalls = []
    for nprobe in (1, index.params["nlist"]):
        index.nprobe = nprobe
        _, found = index.search(queries, 10)
        recalls.append(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
    assert recalls[1] == 1.0 and recalls[0] < recalls[1]  # scanning every cell is exact


def test_float16_cells_find_what_exact_search_finds_but_near_ties():
    vectors, queries = clustered(2000), clustered(100, seed=1, prefix="q")
    exact_scores, truth = build_index(vectors, kind="exact", model_identity=IDENTITY).search(queries, 10)
    index = build_index(vectors, kind="ivf", model_identity=IDENTITY)
    assert index.params["storage"] == "float16"
    index.nprobe = index.params["nlist"]  # every cell: what is left is float16's rounding
    scores, found = index.search(queries, 10)
    np.testing.assert_allclose(scores, exact_scores, atol=1e-3)
    brute = queries.vectors @ vectors.vectors.T
    position = {a: i for i, a in enumerate(vectors.account_ids)}
    for row, (t, f) in enumerate(zip(truth, found, strict=True)):
        for missed in set(f) - set(t):  # a neighbour exact search ranked 11th or below is a near tie
            assert brute[row, position[missed]] >= exact_scores[row, -1] - 1e-3
    assert np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]) >= 0.99


def test_an_ivf_index_saved_with_float32_cells_loads_as_float32(tmp_path):
    index = build_index(clustered(500), kind="ivf", model_identity=IDENTITY, storage="float32")
    index.save(tmp_path / "ivf")
    meta_file = tmp_path / "ivf" / "index.json"
    meta = json.loads(meta_file.read_text())
    del meta["params"]["storage"]  # as an index saved before the setting existed
    meta_file.write_text(json.dumps(meta))
    assert load_index(tmp_path / "ivf", model_identity=IDENTITY).params["storage"] == "float32"


def test_ivf_default_nprobe_scales_with_the_cells_and_is_saved(tmp_path):
    from authorid.index.faiss_index import default_nlist, default_nprobe

    assert [default_nprobe(n) for n in (10, 16, 100, 256, 632, 2000)] == [10, 16, 18, 45, 111, 352]
    assert [default_nlist(n) for n in (1000, 100_000, 1_000_000)] == [25, 632, 2000]
    index = build_index(clustered(2000), kind="ivf", model_identity=IDENTITY)
    assert index.params["nlist"] == 51 and index.nprobe == index.params["nprobe"] == 16
    assert build_index(clustered(2000), kind="ivf", model_identity=IDENTITY, nprobe=3).nprobe == 3
    assert load_index(index.save(tmp_path / "ivf")).nprobe == 16


def test_an_ivf_index_grown_past_four_times_its_training_asks_for_a_rebuild(tmp_path):
    from authorid.index.faiss_index import GROWTH_LIMIT

    index = build_index(clustered(200), kind="ivf", model_identity=IDENTITY)
    assert index.params["trained_on"] == 200 and not index.needs_rebuild
    index.add(clustered(GROWTH_LIMIT * 200 - 200, seed=3, prefix="b"))
    assert len(index) == GROWTH_LIMIT * 200 and not index.needs_rebuild
    index.add(clustered(1, seed=4, prefix="c"))
    assert index.needs_rebuild
    assert load_index(index.save(tmp_path / "ivf")).needs_rebuild  # the trained size is saved with it
    assert not build_index(clustered(2000), kind="hnsw", model_identity=IDENTITY).needs_rebuild


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_add_enrols_without_rebuilding_and_refuses_duplicates(kind):
    first, more = clustered(200), clustered(50, seed=7, prefix="new")
    index = build_index(first, kind=kind, model_identity=IDENTITY)
    assert index.add(more) == 50 and len(index) == 250
    _, ids = index.search(more, 1)
    assert ids[:, 0].tolist() == more.account_ids
    with pytest.raises(VectorIndexError, match=r"50 account\(s\) already enrolled \(first: 'new0'\)"):
        index.add(more)
    assert index.add(more, on_duplicate="skip") == 0 and len(index) == 250


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_remove_and_replace_leave_the_index_an_index_of_the_rest_would_be(kind, tmp_path):
    """Audit 14: an index could not drop a deleted account, nor take an account's new vector once it had gained
    posts. Removing gives the searches of an index built from the accounts kept; replacing enrols the new
    vector where the old one was found (IVF: in its trained cells; HNSW: a graph built again)."""
    vectors = clustered(400)
    index = build_index(
        vectors, kind=kind, model_identity=IDENTITY, **({"nlist": 8} if kind == "ivf" else {})
    )
    if kind == "ivf":
        index.nprobe = 8  # every cell: exact, so the searches compare exactly
    gone = [f"acc{i}" for i in range(0, 400, 7)] + ["nobody"]
    assert index.remove(gone) == 58 and len(index) == 342
    kept = [i for i in range(400) if i % 7]
    assert index.ids == [f"acc{i}" for i in kept] and index.positions["acc1"] == 0
    queries = clustered(30, seed=5, prefix="q")
    scores, ids = index.search(queries, 5)
    rest = AccountVectors([f"acc{i}" for i in kept], vectors.vectors[kept], vectors.n_posts[kept])
    expected_scores, expected_ids = build_index(rest, kind="exact", model_identity=IDENTITY).search(
        queries, 5
    )
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_allclose(
        scores, expected_scores, atol=2e-3 if kind == "ivf" else 1e-5
    )  # IVF: float16 cells
    # an account's new vector (it gained posts): where the old one was found, the new one is
    moved = AccountVectors(["acc1"], queries.vectors[:1], np.array([9], dtype=np.int64))
    with pytest.raises(VectorIndexError, match="pass --on-duplicate replace"):
        index.add(moved)
    assert index.add(moved, on_duplicate="replace") == 1 and len(index) == 342
    assert index.search(queries.vectors[:1], 1)[1][0, 0] == "acc1"
    assert index.n_posts[index.positions["acc1"]] == 9 and index.ids.count("acc1") == 1
    loaded = load_index(index.save(tmp_path / "idx"), model_identity=IDENTITY)
    assert (
        loaded.ids == index.ids
        and loaded.search(queries, 5)[1].tolist() == index.search(queries, 5)[1].tolist()
    )


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_save_load_round_trip(kind, tmp_path):
    vectors = clustered(500)
    vectors.n_chars = np.arange(500, dtype=np.int64) * 7  # what a size-aware calibration reads when linking
    index = build_index(vectors, kind=kind, model_identity=IDENTITY, model_spec="minilm")
    scores, ids = index.search(vectors.vectors[:20], 5)
    index.save(tmp_path / "idx")
    meta = json.loads((tmp_path / "idx" / "index.json").read_text())
    assert (meta["kind"], meta["dim"], meta["count"], meta["model"], meta["model_spec"]) == (
        kind,
        32,
        500,
        IDENTITY,
        "minilm",
    )
    assert not list((tmp_path / "idx").glob("*.tmp"))
    loaded = load_index(tmp_path / "idx", model_identity=IDENTITY)
    again_scores, again_ids = loaded.search(vectors.vectors[:20], 5)
    assert np.array_equal(again_ids, ids) and np.allclose(again_scores, scores)
    assert loaded.ids == vectors.account_ids
    assert loaded.n_chars.tolist() == vectors.n_chars.tolist() and loaded.n_posts.tolist() == [1] * 500


def test_an_index_of_vectors_without_character_counts_records_them_as_unknown(tmp_path):
    from authorid.index.base import UNKNOWN_CHARS

    index = build_index(clustered(50), kind="exact", model_identity=IDENTITY)
    index.add(clustered(10, prefix="new"))
    loaded = load_index(index.save(tmp_path / "idx"), model_identity=IDENTITY)
    assert loaded.n_chars.tolist() == [UNKNOWN_CHARS] * 60


def test_loading_with_another_model_is_a_one_line_error(tmp_path):
    build_index(clustered(50), model_identity=IDENTITY).save(tmp_path / "idx")
    other = {**IDENTITY, "name": "minilm", "fingerprint": "fff000"}
    message = r"built with model 'test-model' \(fingerprint=abc123\), not with 'minilm'"
    with pytest.raises(VectorIndexError, match=message):
        load_index(tmp_path / "idx", model_identity=other)
    renamed = {**IDENTITY, "name": "/models/same-weights"}  # the same weights under another name are fine
    assert len(load_index(tmp_path / "idx", model_identity=renamed)) == 50
    # audit 14: the same model folder (another spelling of its path) trained again said "'test-model', not
    # '/abs/test-model'"
    changed = {**IDENTITY, "name": "/abs/test-model", "fingerprint": "fff000"}
    message = (
        r"and '/abs/test-model' is not that model \(fingerprint fff000\): another model of that name, or"
    )
    with pytest.raises(VectorIndexError, match=message):
        load_index(tmp_path / "idx", model_identity=changed)


def test_an_index_whose_vectors_turned_nan_is_refused_naming_the_file(tmp_path):
    # the audit's B42: an exact index with NaN vectors linked nothing and said nothing
    folder = build_index(clustered(50), kind="exact", model_identity=IDENTITY).save(tmp_path / "idx")
    vectors_file = next(folder.glob("gen-*/vectors.npy"))
    vectors = np.load(vectors_file)
    vectors[7] = np.nan
    np.save(vectors_file, vectors)
    with pytest.raises(
        VectorIndexError, match=r"vectors\.npy: 1 vectors hold NaN .* account 'acc7'.*rebuild"
    ):
        load_index(folder, model_identity=IDENTITY)


def test_wrong_dimension_is_a_one_line_error():
    index = build_index(clustered(50), model_identity=IDENTITY)
    with pytest.raises(VectorIndexError, match="vectors have dimension 16, the index holds dimension 32"):
        index.search(clustered(5, dim=16), 3)
    with pytest.raises(VectorIndexError, match="vectors have dimension 16, the index holds dimension 32"):
        index.add(clustered(5, dim=16, prefix="x"))
    with pytest.raises(VectorIndexError, match="vectors have dimension 32, model 'test-model' has 16"):
        build_index(clustered(5), model_identity={**IDENTITY, "dim": 16})


def test_knn_excludes_each_vector_itself():
    vectors = np.eye(4, dtype=np.float32)[[0, 0, 1, 2]]  # rows 0 and 1 are the same vector
    scores, positions = knn(vectors, 2)
    assert positions[0, 0] == 1 and positions[1, 0] == 0
    assert scores[0].tolist() == [1.0, 0.0]
    assert all(row not in positions[row] for row in range(4))
    assert knn(vectors, 10)[1].shape == (4, 3)


def test_knn_matches_brute_force_on_clustered_vectors():
    vectors = clustered(400)
    scores, positions = knn(vectors, 5)
    brute = vectors.vectors @ vectors.vectors.T
    np.fill_diagonal(brute, -np.inf)
    np.testing.assert_allclose(scores, -np.sort(-brute, axis=1)[:, :5], rtol=1e-5)


def test_ids_matrix_maps_positions_to_ids_and_misses_to_none():
    from authorid.index.base import ids_matrix

    ids = ["a", "b", "c"]
    out = ids_matrix(ids, np.array([[2, 0], [1, -1]]))
    assert out.dtype == object and out.tolist() == [["c", "a"], ["b", None]]
    assert ids_matrix(ids, np.empty((4, 0), dtype=np.int64)).shape == (4, 0)


def test_the_approximate_knn_graph_probes_some_cells_keeps_recall_and_prints_nothing(capsys):
    from authorid.index.knn import graph_index

    vectors = clustered(3000, dim=32)
    index = graph_index(vectors.vectors)
    assert index.nprobe < index.nlist  # a real probe, not a full scan
    _, exact = knn(vectors, 10, exact=True)
    _, approximate = knn(vectors, 10, exact=False)
    assert not (approximate == np.arange(3000)[:, None]).any()  # never its own neighbour
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approximate, strict=True)]) >= 0.9
    assert capsys.readouterr().out == ""  # faiss's batch search reports progress on stdout: kept off it


def test_a_tie_for_the_first_candidate_goes_to_the_lower_id_whatever_the_enrolment_order():
    # an account enrolled twice under two names (one person pasting its posts into both) scores the same: the
    # search broke the tie by enrolment order, so the link named whichever the file listed first (audit 15)
    from authorid.index import build_index, link
    from authorid.index.link import ties_by_id

    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    ids = ["a", "b", "c", "d", "e", "zclone"]
    vectors = np.vstack([base[:5], base[2:3]])  # zclone is c again
    near_c = base[2] + 0.3 * base[0]
    query = AccountVectors(["q"], (near_c / np.linalg.norm(near_c))[None, :], np.ones(1))
    answers = []
    for order in (range(6), reversed(range(6))):
        order = list(order)
        enrolled = AccountVectors([ids[i] for i in order], vectors[order], np.ones(6))
        index = build_index(enrolled, kind="exact", model_identity={"name": "hand-made"})
        links = link(index, query, k=3, threshold=0.5, hubness=False)
        answers.append([(r["account_id"], r["link"]) for r in links.rows])
        assert links.tied_best == 1
        # a tie at the cut: with -k 1 the other tied account is read too, so the answer is the same
        first = link(index, query, k=1, threshold=0.5, hubness=False)
        assert [(r["account_id"], r["link"]) for r in first.rows] == [("c", "c")] and first.tied_best == 1
    assert answers[0] == answers[1] and answers[0][:2] == [("c", "c"), ("zclone", "c")]
    assert ties_by_id(np.array([0.5, 0.9, 0.9000001, 0.1]), ["w", "y", "x", "z"]) == [2, 1, 0, 3]


def test_a_sample_of_enrolled_accounts_is_the_same_whatever_the_enrolment_order():
    from authorid.index.base import sample_rows

    positions = {f"acc{i:03d}": i for i in range(50)}
    reversed_positions = {account: 49 - row for account, row in positions.items()}
    chosen = {a for a, r in positions.items() if r in set(sample_rows(positions, 10).tolist())}
    again = {
        a for a, r in reversed_positions.items() if r in set(sample_rows(reversed_positions, 10).tolist())
    }
    assert chosen == again and len(chosen) == 10
