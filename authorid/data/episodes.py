"""Episodes (N posts of one account) and the P x K batch sampler that contrastive losses train on.

An episode is the unit an encoder turns into one account vector (LUAR: Rivera-Soto et al. 2021, "Learning
Universal Authorship Representations", EMNLP). Training batches hold P accounts with K episodes each, so every
episode has K - 1 positives (same account) and (P - 1) * K negatives, as SupCon (Khosla et al. 2020) and
NBC-Softmax need.

Posts are referred to by row index into the `account_ids` given (the rows of the Dataset as seen, after any
`select`); texts are fetched only per batch, by `collate_episodes`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from torch.utils.data import Sampler

from authorid.data.arrow import read_columns
from authorid.errors import AuthoridError

logger = logging.getLogger(__name__)


class Episode(NamedTuple):
    """N posts of one account: `label` indexes the account (contiguous ints), `indices` are its post rows."""

    label: int
    indices: np.ndarray
    account: str


def _account_array(account_ids: Any) -> pa.ChunkedArray:
    """Account id per post as Arrow strings, from a sequence, numpy/Arrow array or a posts Dataset."""
    if hasattr(account_ids, "column_names"):  # a datasets.Dataset: read the one column through Arrow
        account_ids = read_columns(account_ids, ["account_id"]).column("account_id")
    if isinstance(account_ids, pa.Array):
        account_ids = pa.chunked_array([account_ids])
    if not isinstance(account_ids, pa.ChunkedArray):
        values = np.asarray(account_ids, dtype=object)
        if values.ndim != 1:
            raise AuthoridError(f"account_ids must be a 1-d sequence, got shape {values.shape}")
        account_ids = pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=False)])
    if len(account_ids) == 0:
        raise AuthoridError("account_ids is empty")
    if account_ids.null_count:
        raise AuthoridError(f"account_ids has {account_ids.null_count} null accounts; fix the corpus first")
    return account_ids.cast(pa.string())


def _group_posts(account_ids: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted account names and, per account, its post row indices in row order (factorised in Arrow)."""
    values = _account_array(account_ids)
    names = pc.unique(values)
    names = names.take(pc.sort_indices(names))
    codes = pc.index_in(values, value_set=names).to_numpy().astype(np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(names)))[:-1]
    return names.to_numpy(zero_copy_only=False), np.split(order, bounds)


#: Fewest accounts a batch is scaled down to on a small corpus (fewer: the sampler's error says what is missing).
MIN_BATCH_ACCOUNTS = 4


def batch_accounts(account_ids: Any, wanted: int, world_size: int = 1, *, min_posts: int = 2) -> int:
    """Accounts per batch (per rank): `wanted`, scaled down on a corpus with fewer eligible accounts than
    `wanted` x `world_size`, as `validation_accounts` scales validation, so a preset sized for a whole forum
    (the n-gram preset's 256) trains on a few dozen accounts instead of failing; said in a warning."""
    _, groups = _group_posts(account_ids)
    eligible = sum(len(g) >= min_posts for g in groups)
    fits = eligible // max(world_size, 1)
    if wanted <= fits or fits < MIN_BATCH_ACCOUNTS:
        return wanted
    logger.warning(
        "training on batches of %d accounts: episodes.accounts_per_batch %d needs %d accounts with >= %d posts,"
        " found %d; set --episodes.accounts_per_batch to choose",
        fits,
        wanted,
        wanted * max(world_size, 1),
        min_posts,
        eligible,
    )
    return fits


class EpisodeBatchSampler(Sampler[list[Episode]]):
    """Yields batches of P accounts x K episodes of N posts, as lists of `Episode` (account-major order).

    Each epoch shuffles the eligible accounts (those with >= `min_posts` posts) and takes P at a time, so
    every eligible account is visited once per epoch (the last incomplete batch is dropped with `drop_last`,
    else it is smaller). `posts_per_episode` is N, or an inclusive range (lo, hi) from which one N is drawn
    per batch (all episodes of a batch share N, so they stack).

    Within a batch, an account with n >= K * N posts gets K disjoint episodes (K * N posts drawn without
    replacement). With fewer posts, its episodes are consecutive windows of N over a random permutation of its
    posts repeated as often as needed: posts within an episode are distinct when N <= n, and the K episodes
    overlap as little as possible (a with-replacement draw that never repeats a post it need not repeat).
    With `disjoint=True` episodes never share a post and may differ in size: an account with n posts gets K
    episodes of min(N, n // K) posts (for encoders that pool by summing, whose episodes need not stack).

    `Episode.label` is the account's index in `self.accounts` (sorted eligible account ids), contiguous
    0..A-1, usable as a class label for CE-style heads. Randomness: numpy Generators seeded by
    (seed, epoch[, batch]); call `set_epoch(epoch)` before each epoch, as with torch's DistributedSampler
    (without it every epoch repeats). DDP: with `rank`/`world_size` every rank (same seed) gets every
    `world_size`-th batch of the same epoch plan: shards are disjoint and of equal length (with
    ``drop_last=False`` the plan is padded by repeating its first batches, as DistributedSampler pads).
    """

    def __init__(
        self,
        account_ids: Sequence[str] | np.ndarray | Any,
        *,
        accounts_per_batch: int,
        episodes_per_account: int = 2,
        posts_per_episode: int | tuple[int, int] = 16,
        min_posts: int = 2,
        seed: int = 0,
        drop_last: bool = True,
        rank: int = 0,
        world_size: int = 1,
        disjoint: bool = False,
    ):
        self.accounts_per_batch = int(accounts_per_batch)
        self.episodes_per_account = int(episodes_per_account)
        self.posts_range = _posts_range(posts_per_episode)
        self.min_posts, self.seed, self.drop_last = int(min_posts), int(seed), bool(drop_last)
        self.rank, self.world_size = int(rank), int(world_size)
        self.disjoint = bool(disjoint)
        if self.accounts_per_batch < 1:
            raise AuthoridError(f"accounts_per_batch must be >= 1, got {accounts_per_batch}")
        if self.episodes_per_account < 2:
            raise AuthoridError(
                "episodes_per_account must be >= 2 (contrastive losses need positives),"
                f" got {episodes_per_account}"
            )
        if self.min_posts < 1:
            raise AuthoridError(f"min_posts must be >= 1, got {min_posts}")
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise AuthoridError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")

        names, groups = _group_posts(account_ids)
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        eligible = sizes >= self.min_posts
        self.accounts: np.ndarray = names[eligible]
        self._posts: list[np.ndarray] = [g for g, ok in zip(groups, eligible, strict=True) if ok]
        self.counts = {
            "posts": int(sizes.sum()),
            "accounts": len(names),
            "eligible_accounts": len(self.accounts),
            "accounts_below_min_posts": int((~eligible).sum()),
            "posts_of_accounts_below_min_posts": int(sizes[~eligible].sum()),
        }
        needed = self.accounts_per_batch * self.world_size
        if len(self.accounts) < needed:
            per_rank = f" ({self.accounts_per_batch} per batch x {self.world_size} ranks)" * (
                self.world_size > 1
            )
            raise AuthoridError(
                f"need at least {needed} accounts{per_rank} with >= {self.min_posts} posts, found"
                f" {len(self.accounts)}; lower accounts_per_batch (train: --episodes.accounts_per_batch) or"
                " use more data"
            )
        self.epoch = 0
        self.counts["batches_per_epoch"] = len(self)
        logger.info("episode sampler: %s", self.counts)

    def set_epoch(self, epoch: int) -> None:
        """Reseed for `epoch`; all ranks must use the same epoch."""
        self.epoch = int(epoch)

    def _total_batches(self) -> int:
        n, p = len(self.accounts), self.accounts_per_batch
        return n // p if self.drop_last else math.ceil(n / p)

    def __len__(self) -> int:
        total, w = self._total_batches(), self.world_size
        return total // w if self.drop_last else math.ceil(total / w)

    def _plan(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The whole epoch's batches of account indices (before sharding) and N per batch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.accounts))
        p, total = self.accounts_per_batch, self._total_batches()
        batches = [order[i * p : (i + 1) * p] for i in range(total)]
        lo, hi = self.posts_range
        sizes = rng.integers(lo, hi + 1, size=total) if hi > lo else np.full(total, lo)
        return batches, sizes

    def __iter__(self) -> Iterator[list[Episode]]:
        batches, sizes = self._plan()
        global_ids = list(range(len(batches)))
        padded = len(self) * self.world_size
        global_ids = (global_ids * math.ceil(padded / max(len(global_ids), 1)))[:padded]
        for b in global_ids[self.rank :: self.world_size]:
            yield self._batch(b, batches[b], int(sizes[b]))

    def _batch(self, batch_index: int, accounts: np.ndarray, n: int) -> list[Episode]:
        rng = np.random.default_rng([self.seed, self.epoch, batch_index])
        k = self.episodes_per_account
        out = []
        for a in accounts.tolist():
            posts = self._posts[a]
            if self.disjoint and len(posts) >= k:
                size = min(n, len(posts) // k)
                picked = posts[rng.permutation(len(posts))[: k * size]]
                out += [Episode(a, episode, str(self.accounts[a])) for episode in picked.reshape(k, size)]
                continue
            if len(posts) >= k * n:
                picked = posts[rng.choice(len(posts), size=k * n, replace=False)]
            else:
                picked = np.resize(posts[rng.permutation(len(posts))], k * n)
            out += [Episode(a, episode, str(self.accounts[a])) for episode in picked.reshape(k, n)]
        return out


def _posts_range(posts_per_episode: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(posts_per_episode, int | np.integer):
        lo = hi = int(posts_per_episode)
    else:
        try:
            lo, hi = (int(v) for v in posts_per_episode)
        except (TypeError, ValueError) as err:
            raise AuthoridError(
                f"posts_per_episode must be an int or (lo, hi), got {posts_per_episode!r}"
            ) from err
    if not 1 <= lo <= hi:
        raise AuthoridError(f"posts_per_episode must be >= 1 with lo <= hi, got {posts_per_episode!r}")
    return lo, hi


def collate_episodes(
    batch: Sequence[Episode], texts: Sequence[str] | Any, *, relabel: bool = True
) -> tuple[list[list[str]], torch.Tensor]:
    """Texts per episode and a LongTensor of labels, one per episode (an account's episodes share a label).

    `texts`: the post texts indexed by row (a list, or the posts Dataset itself: then only this batch's texts
    are read). `relabel=True` numbers accounts 0..P-1 in order of first appearance, as in-batch losses
    (SupCon, NBC-Softmax) want; `relabel=False` keeps `Episode.label` (global, for a classifier over all
    training accounts).
    """
    flat = np.concatenate([e.indices for e in batch]).tolist() if batch else []
    if hasattr(texts, "column_names"):
        fetched = read_columns(texts, ["text"], np.asarray(flat, dtype=np.int64)).column("text").to_pylist()
    else:
        fetched = [texts[i] for i in flat]
    out, start = [], 0
    for episode in batch:
        out.append(fetched[start : start + len(episode.indices)])
        start += len(episode.indices)
    if relabel:
        first: dict[int, int] = {}
        labels = [first.setdefault(e.label, len(first)) for e in batch]
    else:
        labels = [e.label for e in batch]
    return out, torch.tensor(labels, dtype=torch.long)


def episodes_for_evaluation(
    account_ids: Sequence[str] | np.ndarray | Any,
    posts_per_episode: int,
    seed: int = 0,
    *,
    min_episodes: int = 1,
    shuffle: bool = True,
    keep_remainder: bool = False,
) -> list[Episode]:
    """Cut every account into non-overlapping episodes of `posts_per_episode` posts, for retrieval evaluation.

    An account with n posts gives floor(n / N) episodes (posts shuffled with a Generator seeded by `seed`, or
    in row order with ``shuffle=False``, e.g. time order); with ``keep_remainder`` its n mod N leftover posts
    form one shorter last episode. Accounts with fewer than `min_episodes` episodes are left out (2 for
    leave-one-out retrieval: each episode queries the account's others). Labels are contiguous over the kept
    accounts in sorted id order; episodes come account by account.
    """
    n = int(posts_per_episode)
    if n < 1 or int(min_episodes) < 1:
        raise AuthoridError(
            f"posts_per_episode and min_episodes must be >= 1, got {posts_per_episode}, {min_episodes}"
        )
    names, groups = _group_posts(account_ids)
    rng = np.random.default_rng(seed)
    out: list[Episode] = []
    left_out = label = 0
    for name, posts in zip(names.tolist(), groups, strict=True):
        if shuffle:
            posts = posts[rng.permutation(len(posts))]
        usable = len(posts) if keep_remainder else len(posts) // n * n
        pieces = [posts[i : i + n] for i in range(0, usable, n)]
        if len(pieces) < int(min_episodes):
            left_out += 1
            continue
        out += [Episode(label, piece, name) for piece in pieces]
        label += 1
    logger.info(
        "evaluation episodes: %d from %d accounts; %d accounts left out (< %d episodes of %d posts)",
        len(out),
        label,
        left_out,
        min_episodes,
        n,
    )
    return out
