"""AccountVectors: lookup by id, validation, and a Parquet round trip with the documented columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from authorid.encoders import AccountVectors, group_by_first_appearance


def _vectors():
    return AccountVectors(
        account_ids=["alice", "bob", "carol"],
        vectors=np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
        n_posts=np.array([4, 1, 2]),
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
