"""`AccountVectors`: one L2-normalised vector per account, with its post and character counts, saved as Parquet.

The one container every stage passes account vectors in: encoders make them, the index enrols them,
clustering and evaluation read them. `rows`, `subset` and `pair_cosines` are the ways to pick vectors by
account id (nothing else indexes `vectors` by hand).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from authorid.encoders.size_centre import SizeCentre
from authorid.errors import AuthoridError
from authorid.io import atomic_write

#: The key of the Parquet metadata that records what made a vectors file, and its format name.
METADATA_KEY = "authorid"
#: The keys of the centre the vectors were centred on (`AccountVectors.centre`): its knots (JSON) and its means
#: (little-endian float32 bytes, knots x width).
CENTRE_KEY, CENTRE_MEANS_KEY = "authorid.centre", "authorid.centre.means"
VECTORS_FORMAT = "authorid.vectors"

#: Rows must have unit norm (or be all zero: an account whose posts carry no features) within this tolerance.
_NORM_TOLERANCE = 1e-3


class VectorsFileError(AuthoridError):
    """A vectors file that is missing, damaged or not written by authorid."""


#: Pairs whose two rows `pair_cosines` gathers at a time.
PAIR_CHUNK = 4096


@dataclass
class AccountVectors:
    """Account vectors in a fixed order: `vectors[i]` belongs to `account_ids[i]`, built from `n_posts[i]` posts
    of `n_chars[i]` characters in all.

    `vectors` is float32 (n, d) with L2-normalised rows, so a dot product is a cosine similarity. The counts say
    how much text is behind each vector, which a size-aware calibration reads (`pair_sizes`): two posts of
    "Thanks :)" and "😂" are not the evidence two 300-character posts are. `n_chars` is None when unknown
    (vectors files written before it was recorded).
    """

    account_ids: list[str]
    vectors: np.ndarray
    n_posts: np.ndarray
    n_chars: np.ndarray | None = None
    #: the identity of the model that made them (`StyleModel.identity()`), kept in the Parquet file
    model: dict | None = field(default=None, compare=False)
    #: the centre they were centred on, in the model's space before normalisation, when the model centres
    #: accounts on the ones embedded together (an n-gram model, a centred transformer model): an index built
    #: from these vectors fixes it, so accounts linked later are centred alike (`StyleModel.fixed_on`)
    centre: SizeCentre | None = field(default=None, compare=False, repr=False)
    _positions: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.account_ids = [str(a) for a in self.account_ids]
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        self.n_posts = np.asarray(self.n_posts, dtype=np.int64)
        n = len(self.account_ids)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != n or self.n_posts.shape != (n,):
            raise ValueError(
                f"AccountVectors needs {n} ids, an (n, d) vector array and n post counts; got vectors "
                f"{self.vectors.shape} and n_posts {self.n_posts.shape}"
            )
        if self.n_chars is not None:
            self.n_chars = np.asarray(self.n_chars, dtype=np.int64)
            if self.n_chars.shape != (n,):
                raise ValueError(f"AccountVectors needs {n} character counts; got {self.n_chars.shape}")
        self._positions = {a: i for i, a in enumerate(self.account_ids)}
        if len(self._positions) != n:
            raise ValueError("AccountVectors account_ids are not unique")
        norms = np.linalg.norm(self.vectors, axis=1)
        bad = ~((np.abs(norms - 1) <= _NORM_TOLERANCE) | (norms == 0))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"AccountVectors rows must be L2-normalised; {self.account_ids[first]!r} has norm {norms[first]:.4f}"
            )

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.account_ids)

    def __contains__(self, account_id: object) -> bool:
        return account_id in self._positions

    def index_of(self, account_id: str) -> int:
        """Row of `account_id`; KeyError naming it when absent."""
        try:
            return self._positions[account_id]
        except KeyError:
            raise KeyError(f"no vector for account {account_id!r}") from None

    def __getitem__(self, account_id: str) -> np.ndarray:
        return self.vectors[self.index_of(account_id)]

    def positions(self, account_ids: Sequence[str]) -> np.ndarray:
        """Row of each id, int64; KeyError naming the first one absent."""
        return np.fromiter((self.index_of(a) for a in account_ids), dtype=np.int64, count=len(account_ids))

    def rows(self, account_ids: Sequence[str]) -> np.ndarray:
        """The vectors of `account_ids`, in that order: float32 (len(account_ids), dim)."""
        return self.vectors[self.positions(account_ids)]

    def subset(self, account_ids: Sequence[str]) -> AccountVectors:
        """A new AccountVectors holding only `account_ids`, in that order (with their post and character counts)."""
        rows = self.positions(account_ids)
        chars = None if self.n_chars is None else self.n_chars[rows]
        return AccountVectors(
            list(account_ids),
            self.vectors[rows],
            self.n_posts[rows],
            chars,
            model=self.model,
            centre=self.centre,
        )

    def pair_sizes(self, rows_a: np.ndarray, rows_b: np.ndarray) -> tuple:
        """What a size-aware calibration reads of pairs of rows (`Calibrator.predict(sizes=...)`): (posts_a,
        posts_b, chars_a, chars_b), or (posts_a, posts_b) when the character counts are unknown."""
        return pair_sizes(self, rows_a, self, rows_b)

    def pair_cosines(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Cosine of each pair (a[i], b[i]), float64 (rows are L2-normalised, so a dot product)."""
        if len(a) != len(b):
            raise ValueError(f"pair_cosines needs as many a as b ids, got {len(a)} and {len(b)}")
        if not len(a):
            return np.zeros(0)
        rows_a, rows_b = self.positions(a), self.positions(b)
        # in chunks: all pairs of 1,000 accounts of a 16,512-d model would otherwise gather 2 x 33 GB of rows
        return np.concatenate(
            [
                np.einsum(
                    "ij,ij->i",
                    self.vectors[rows_a[i : i + PAIR_CHUNK]],
                    self.vectors[rows_b[i : i + PAIR_CHUNK]],
                )
                for i in range(0, len(rows_a), PAIR_CHUNK)
            ]
        ).astype(np.float64)

    def to_parquet(self, path: str | Path) -> Path:
        """Write columns account_id (string), n_posts (int64), n_chars (int64, when known), vector
        (list<float32>) atomically; the model's identity goes into the file's metadata (key `authorid`), so a
        reader can check what made them, and so does the centre they were centred on, when known."""
        flat = pa.array(self.vectors.reshape(-1), type=pa.float32())
        offsets = pa.array(np.arange(len(self) + 1, dtype=np.int32) * self.dim)
        columns = {
            "account_id": pa.array(self.account_ids, type=pa.string()),
            "n_posts": pa.array(self.n_posts, type=pa.int64()),
        }
        if self.n_chars is not None:
            columns["n_chars"] = pa.array(self.n_chars, type=pa.int64())
        columns["vector"] = pa.ListArray.from_arrays(offsets, flat, type=pa.list_(pa.float32()))
        table = pa.table(columns)
        record = {"format": VECTORS_FORMAT, "level": "account", "dim": self.dim, "model": self.model}
        metadata = {METADATA_KEY: json.dumps(record)}
        if self.centre is not None:
            shape = list(self.centre.means.shape)
            metadata[CENTRE_KEY] = json.dumps({"positions": self.centre.positions.tolist(), "shape": shape})
            metadata[CENTRE_MEANS_KEY] = self.centre.means.astype("<f4").tobytes()
        table = table.replace_schema_metadata(metadata)
        return atomic_write(path, lambda tmp: pq.write_table(table, tmp))

    @classmethod
    def from_parquet(cls, path: str | Path) -> AccountVectors:
        """The account vectors `to_parquet` (`authorid embed`) wrote; one line naming the file otherwise."""
        path = Path(path)
        try:
            table = pq.read_table(path)
            missing = [c for c in ("account_id", "n_posts", "vector") if c not in table.column_names]
            if missing and "post_id" in table.column_names:
                raise VectorsFileError(
                    f"{path}: post vectors (`authorid embed --level post`); this needs account vectors, what"
                    " `authorid embed` writes by default (--level account)"
                )
            if missing:
                raise VectorsFileError(
                    f"{path}: not account vectors written by `authorid embed` (no column {', '.join(missing)})"
                )
        except FileNotFoundError:
            raise VectorsFileError(f"{path}: no such file") from None
        except (OSError, pa.ArrowException) as err:
            reason = " ".join(str(err).split())
            raise VectorsFileError(
                f"{path}: not account vectors written by `authorid embed` ({reason})"
            ) from None
        record = json.loads((table.schema.metadata or {}).get(METADATA_KEY.encode(), b"{}"))
        vector_column = table.column("vector").combine_chunks()
        n = table.num_rows
        values = vector_column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        dim = len(values) // n if n else 0
        if n and len(values) != n * dim:
            raise VectorsFileError(f"{path}: the vectors do not all have the same length")
        try:
            return cls(
                account_ids=table.column("account_id").to_pylist(),
                vectors=values.reshape(n, dim),
                n_posts=table.column("n_posts").to_numpy(),
                n_chars=table.column("n_chars").to_numpy() if "n_chars" in table.column_names else None,
                model=record.get("model"),
                centre=_centre_of(table.schema.metadata or {}),
            )
        except ValueError as err:
            raise VectorsFileError(f"{path}: {err}") from None


def _centre_of(metadata: dict) -> SizeCentre | None:
    """The centre `to_parquet` kept in a file's metadata, None when it kept none; ValueError when damaged."""
    if CENTRE_KEY.encode() not in metadata:
        return None
    try:
        record = json.loads(metadata[CENTRE_KEY.encode()])
        means = np.frombuffer(metadata[CENTRE_MEANS_KEY.encode()], dtype="<f4")
        return SizeCentre(record["positions"], means.reshape(record["shape"]).astype(np.float32))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"its centre ({CENTRE_KEY}) is damaged: {err}") from None


def pair_sizes(first: AccountVectors, rows_a, second: AccountVectors, rows_b) -> tuple:
    """(posts_a, posts_b, chars_a, chars_b) of pairs (row `rows_a[i]` of `first`, row `rows_b[i]` of `second`),
    or (posts_a, posts_b) when either side's character counts are unknown: `Calibrator.predict`'s `sizes`."""
    posts = (first.n_posts[rows_a], second.n_posts[rows_b])
    if first.n_chars is None or second.n_chars is None:
        return posts
    return (*posts, first.n_chars[rows_a], second.n_chars[rows_b])


def characters_per_group(texts: Sequence[str], groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Characters of each group's texts together (int64, one per group): `AccountVectors.n_chars`."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.float64, count=len(texts))
    return np.rint(
        np.bincount(np.asarray(groups, dtype=np.int64), weights=lengths, minlength=n_groups)
    ).astype(np.int64)


def id_order(account_ids: Sequence[str]) -> np.ndarray:
    """Positions of `account_ids` sorted by id: an order that does not depend on where the accounts stand in a
    corpus, so fits and seeded draws made in it give the same answer for the same posts listed in another order."""
    return np.argsort(np.asarray(account_ids, dtype=object), kind="stable")


def group_by_first_appearance(account_ids: list[str]) -> tuple[list[str], np.ndarray]:
    """(distinct ids in order of first appearance, index of each post's account in that list)."""
    positions: dict[str, int] = {}
    groups = np.fromiter(
        (positions.setdefault(str(a), len(positions)) for a in account_ids),
        dtype=np.int64,
        count=len(account_ids),
    )
    return list(positions), groups
