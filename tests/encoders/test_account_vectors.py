"""AccountVectors: lookup by id, validation, and a Parquet round trip with the documented columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from authorid.encoders import AccountVectors, group_by_first_appearance


def _vectors(n_chars=None):
    return AccountVectors(
        account_ids=["alice", "bob", "carol"],
        vectors=np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
        n_posts=np.array([4, 1, 2]),
        n_chars=n_chars,
    )


def test_lookup_by_account_id():
    vectors = _vectors()
    assert len(vectors) == 3 and vectors.dim == 3 and vectors.vectors.dtype == np.float32
    assert vectors.index_of("bob") == 1 and "carol" in vectors and "dave" not in vectors
    np.testing.assert_array_equal(vectors["alice"], np.array([0.6, 0.8, 0.0], dtype=np.float32))
    with pytest.raises(KeyError, match="'dave'"):
        vectors["dave"]


def test_parquet_round_trip_with_list_of_float32_column(tmp_path):
    path = _vectors().to_parquet(tmp_path / "accounts.parquet")
    schema = pq.read_schema(path)
    assert schema.names == ["account_id", "n_posts", "vector"]
    assert (
        schema.field("vector").type == pa.list_(pa.float32()) and schema.field("n_posts").type == pa.int64()
    )
    loaded = AccountVectors.from_parquet(path)
    assert loaded.account_ids == ["alice", "bob", "carol"] and loaded.n_posts.tolist() == [4, 1, 2]
    np.testing.assert_array_equal(loaded.vectors, _vectors().vectors)
    assert [p.name for p in tmp_path.iterdir()] == ["accounts.parquet"]  # no temporary file left behind


def test_the_centre_travels_with_the_vectors_and_a_damaged_one_is_named(tmp_path):
    from authorid.encoders.size_centre import SizeCentre
    from authorid.vectors import CENTRE_MEANS_KEY, VectorsFileError

    vectors = _vectors()
    assert AccountVectors.from_parquet(vectors.to_parquet(tmp_path / "plain.parquet")).centre is None
    vectors.centre = SizeCentre([0.0, 2.0], np.array([[0.1, 0.2, 0.3], [0.4, 0.5, -0.6]], dtype=np.float32))
    path = vectors.to_parquet(tmp_path / "centred.parquet")
    loaded = AccountVectors.from_parquet(path)
    assert loaded.centre.positions.tolist() == [0.0, 2.0]
    np.testing.assert_array_equal(loaded.centre.means, vectors.centre.means)
    assert loaded.subset(["bob"]).centre is loaded.centre
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    metadata[CENTRE_MEANS_KEY.encode()] = metadata[CENTRE_MEANS_KEY.encode()][:-4]  # a float short
    pq.write_table(table.replace_schema_metadata(metadata), tmp_path / "damaged.parquet")
    with pytest.raises(
        VectorsFileError, match=r"damaged\.parquet: its centre \(authorid\.centre\) is damaged"
    ):
        AccountVectors.from_parquet(tmp_path / "damaged.parquet")


@pytest.mark.parametrize(
    ("ids", "vectors", "n_posts", "message"),
    [
        (["a", "b"], [[1.0, 0.0]], [1, 1], "needs 2 ids"),
        (["a", "a"], [[1.0, 0.0], [0.0, 1.0]], [1, 1], "not unique"),
        (["a", "b"], [[1.0, 0.0], [0.0, 2.0]], [1, 1], "'b' has norm 2.0000"),
    ],
)
def test_invalid_contents_are_rejected(ids, vectors, n_posts, message):
    with pytest.raises(ValueError, match=message):
        AccountVectors(account_ids=ids, vectors=np.array(vectors), n_posts=np.array(n_posts))


def test_group_by_first_appearance():
    ids, groups = group_by_first_appearance(["carol", "alice", "carol", "bob"])
    assert ids == ["carol", "alice", "bob"] and groups.tolist() == [0, 1, 0, 2]


def test_character_counts_travel_with_the_vectors(tmp_path):
    vectors = _vectors(n_chars=np.array([120, 9, 40]))
    path = vectors.to_parquet(tmp_path / "accounts.parquet")
    assert pq.read_schema(path).names == ["account_id", "n_posts", "n_chars", "vector"]
    loaded = AccountVectors.from_parquet(path)
    assert loaded.n_chars.tolist() == [120, 9, 40]
    assert loaded.subset(["carol", "alice"]).n_chars.tolist() == [40, 120]
    # what a size-aware calibration reads of pairs (alice, bob) and (carol, alice)
    posts_a, posts_b, chars_a, chars_b = vectors.pair_sizes(np.array([0, 2]), np.array([1, 0]))
    assert (posts_a.tolist(), posts_b.tolist(), chars_a.tolist(), chars_b.tolist()) == (
        [4, 2],
        [1, 4],
        [120, 40],
        [9, 120],
    )
    # a file written before characters were recorded: loaded, counts unknown, pairs give post counts only
    old = _vectors()
    assert AccountVectors.from_parquet(old.to_parquet(tmp_path / "old.parquet")).n_chars is None
    assert len(old.pair_sizes(np.array([0]), np.array([1]))) == 2
    with pytest.raises(ValueError, match="needs 3 character counts"):
        _vectors(n_chars=np.array([1, 2]))


def test_embedded_accounts_count_their_characters_on_real_e_mails():
    from authorid.data.readers import read_posts
    from authorid.model import load_model
    from authorid.schema import posts_from_records

    demo, _ = read_posts("enron_demo")
    rows = [r for r in demo if r["account_id"] in set(demo.unique("account_id")[:4])]
    posts = posts_from_records([{k: r[k] for k in ("post_id", "account_id", "text")} for r in rows])
    expected = {}
    for row in rows:
        expected[row["account_id"]] = expected.get(row["account_id"], 0) + len(row["text"])
    vectors = load_model("stylometric", fit_corpus=posts).embed_accounts(posts)
    assert dict(zip(vectors.account_ids, vectors.n_chars.tolist(), strict=True)) == expected
