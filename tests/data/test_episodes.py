"""The P x K episode batch sampler, collation and evaluation episodes on real samples."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from authorid.data.episodes import (
    EpisodeBatchSampler,
    batch_accounts,
    collate_episodes,
    episodes_for_evaluation,
)
from authorid.errors import AuthoridError


@pytest.fixture(scope="module")
def reddit_accounts(reddit_posts) -> np.ndarray:
    """Account per post of the 3,000-post reddit sample: 568 accounts, 307 with >= 2 posts."""
    return np.array(reddit_posts.select_columns(["account_id"])[:]["account_id"], dtype=object)


def epoch_batches(sampler: EpisodeBatchSampler, epoch: int = 0) -> list:
    sampler.set_epoch(epoch)
    return list(sampler)


def test_every_batch_has_p_distinct_accounts_with_k_episodes_of_their_own_posts(reddit_accounts):
    sampler = EpisodeBatchSampler(
        reddit_accounts, accounts_per_batch=8, episodes_per_account=3, posts_per_episode=2
    )
    batches = epoch_batches(sampler)
    assert sampler.counts["eligible_accounts"] == 307 and sampler.counts["accounts_below_min_posts"] == 261
    assert len(batches) == len(sampler) == 307 // 8
    for batch in batches:
        assert len(batch) == 8 * 3
        per_account = Counter(e.label for e in batch)
        assert len(per_account) == 8 and set(per_account.values()) == {3}
        for episode in batch:
            assert episode.indices.shape == (2,)
            assert episode.account == sampler.accounts[episode.label]
            assert set(reddit_accounts[episode.indices]) == {episode.account}
    visited = [e.label for batch in batches for e in batch[::3]]
    assert len(visited) == len(set(visited)) == 38 * 8  # every account at most once per epoch


def test_episodes_of_an_account_are_disjoint_when_it_has_enough_posts(reddit_accounts):
    sizes = Counter(reddit_accounts.tolist())
    sampler = EpisodeBatchSampler(
        reddit_accounts, accounts_per_batch=16, episodes_per_account=2, posts_per_episode=3
    )
    seen_small = seen_large = 0
    for batch in epoch_batches(sampler, epoch=1):
        for first, second in zip(batch[::2], batch[1::2], strict=True):
            assert first.label == second.label
            n = sizes[first.account]
            overlap = len(set(first.indices) & set(second.indices))
            if n >= 6:
                assert overlap == 0
                seen_large += 1
            elif n >= 3:  # windows over a repeated permutation: distinct within, minimal overlap between
                assert len(set(first.indices)) == len(set(second.indices)) == 3
                assert overlap == 6 - n
                seen_small += 1
    assert seen_large > 0 and seen_small > 0


def test_epochs_and_seeds_reshuffle_and_repeat_exactly(reddit_accounts):
    make = lambda seed: EpisodeBatchSampler(reddit_accounts, accounts_per_batch=8, seed=seed)  # noqa: E731

    def labels(batches):
        return [[e.label for e in b] for b in batches]

    sampler = make(0)
    epoch0, epoch1, epoch0_again = (labels(epoch_batches(sampler, e)) for e in (0, 1, 0))
    assert epoch0 == epoch0_again and epoch0 != epoch1
    assert labels(epoch_batches(make(0))) == epoch0 and labels(epoch_batches(make(1))) != epoch0
    same = [e.indices.tolist() for e in epoch_batches(make(0))[0]]
    assert same == [e.indices.tolist() for e in epoch_batches(sampler, 0)[0]]


def test_ddp_ranks_get_disjoint_shards_of_equal_length(reddit_accounts):
    kwargs = {"accounts_per_batch": 8, "seed": 3, "world_size": 3}
    ranks = [EpisodeBatchSampler(reddit_accounts, rank=r, **kwargs) for r in range(3)]
    shards = [epoch_batches(s, epoch=2) for s in ranks]
    assert [len(s) for s in shards] == [len(s) for s in ranks] == [12, 12, 12]  # 38 batches // 3 ranks
    accounts = [{e.label for b in shard for e in b} for shard in shards]
    assert all(len(a) == 12 * 8 for a in accounts)
    assert not accounts[0] & accounts[1] and not accounts[0] & accounts[2] and not accounts[1] & accounts[2]
    single = EpisodeBatchSampler(reddit_accounts, accounts_per_batch=8, seed=3)
    interleaved = [shards[i % 3][i // 3] for i in range(36)]
    assert [[e.label for e in b] for b in interleaved] == [
        [e.label for e in b] for b in epoch_batches(single, 2)[:36]
    ]


def test_drop_last_false_keeps_the_remainder_and_pads_ddp_shards(enron_posts):
    sampler = EpisodeBatchSampler(enron_posts, accounts_per_batch=10, drop_last=False)
    batches = epoch_batches(sampler)
    # Enron sample: 67 accounts, 63 with >= 2 posts -> 6 full batches and one of 3 accounts.
    assert sampler.counts["eligible_accounts"] == 63 and len(batches) == 7
    assert [len(b) // 2 for b in batches] == [10] * 6 + [3]
    shards = [
        list(EpisodeBatchSampler(enron_posts, accounts_per_batch=10, drop_last=False, rank=r, world_size=2))
        for r in range(2)
    ]
    assert [len(s) for s in shards] == [4, 4]  # 7 batches padded to 8 with the first batch again


def test_posts_per_episode_range_is_drawn_per_batch(reddit_accounts):
    sampler = EpisodeBatchSampler(reddit_accounts, accounts_per_batch=4, posts_per_episode=(1, 6))
    sizes = []
    for batch in epoch_batches(sampler):
        lengths = {len(e.indices) for e in batch}
        assert len(lengths) == 1 and 1 <= min(lengths) <= max(lengths) <= 6
        sizes.append(lengths.pop())
    assert set(sizes) == {1, 2, 3, 4, 5, 6}


def test_too_few_accounts_is_a_clear_error(reddit_accounts, enron_posts):
    with pytest.raises(
        AuthoridError, match="need at least 400 accounts with >= 2 posts, found 307; lower accounts"
    ):
        EpisodeBatchSampler(reddit_accounts, accounts_per_batch=400)
    with pytest.raises(
        AuthoridError, match=r"need at least 80 accounts \(40 per batch x 2 ranks\) with >= 20 posts"
    ):
        EpisodeBatchSampler(enron_posts, accounts_per_batch=40, min_posts=20, world_size=2, rank=1)
    with pytest.raises(AuthoridError, match="episodes_per_account must be >= 2"):
        EpisodeBatchSampler(reddit_accounts, accounts_per_batch=4, episodes_per_account=1)


def test_collate_gives_texts_per_episode_and_shared_labels(reddit_posts):
    sampler = EpisodeBatchSampler(
        reddit_posts, accounts_per_batch=4, episodes_per_account=2, posts_per_episode=3
    )
    batch = next(iter(sampler))
    texts, labels = collate_episodes(batch, reddit_posts)
    all_texts = reddit_posts.select_columns(["text"])[:]["text"]
    assert texts == [[all_texts[i] for i in e.indices] for e in batch]
    assert labels.dtype == torch.long and labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert collate_episodes(batch, all_texts)[0] == texts
    assert collate_episodes(batch, all_texts, relabel=False)[1].tolist() == [e.label for e in batch]


def test_evaluation_episodes_cut_accounts_into_fixed_disjoint_episodes(reddit_accounts):
    sizes = Counter(reddit_accounts.tolist())
    episodes = episodes_for_evaluation(reddit_accounts, posts_per_episode=4, seed=0, min_episodes=2)
    kept = {a: n // 4 for a, n in sizes.items() if n // 4 >= 2}
    assert (
        len(episodes) == sum(kept.values()) == 468 and len({e.account for e in episodes}) == len(kept) == 68
    )
    assert all(len(e.indices) == 4 and set(reddit_accounts[e.indices]) == {e.account} for e in episodes)
    flat = np.concatenate([e.indices for e in episodes])
    assert len(flat) == len(set(flat.tolist()))
    assert sorted({e.label for e in episodes}) == list(range(68))
    again = episodes_for_evaluation(reddit_accounts, posts_per_episode=4, seed=0, min_episodes=2)
    other = episodes_for_evaluation(reddit_accounts, posts_per_episode=4, seed=1, min_episodes=2)
    assert [e.indices.tolist() for e in again] == [e.indices.tolist() for e in episodes]
    assert [e.indices.tolist() for e in other] != [e.indices.tolist() for e in episodes]
    with_rest = episodes_for_evaluation(
        reddit_accounts, posts_per_episode=4, keep_remainder=True, shuffle=False
    )
    assert sum(len(e.indices) for e in with_rest) == 3000
    assert np.all(np.diff(with_rest[0].indices) > 0)  # shuffle=False keeps row order


def test_sampler_and_collate_index_the_rows_of_a_selection(reddit_posts):
    # A split part is a selection (an indices mapping): row indices refer to its rows, not the corpus'.
    part = reddit_posts.shuffle(seed=0).select(range(500, 2500))
    rows = part.select_columns(["account_id", "text"])[:]
    sampler = EpisodeBatchSampler(part, accounts_per_batch=4, posts_per_episode=2)
    batch = next(iter(sampler))
    assert all({rows["account_id"][i] for i in e.indices} == {e.account} for e in batch)
    texts, _ = collate_episodes(batch, part)
    assert texts == [[rows["text"][i] for i in e.indices] for e in batch]


def test_batch_accounts_scales_a_forum_sized_batch_down_to_a_small_corpus(caplog):
    # 10 accounts with 3 posts, 2 with 1 post (not eligible: episodes need 2 posts)
    ids = [f"a{i}" for i in range(10) for _ in range(3)] + ["b0", "b1"]
    assert batch_accounts(ids, 8) == 8  # fits: unchanged, no warning
    assert not caplog.records
    assert batch_accounts(ids, 256) == 10
    assert "training on batches of 10 accounts: episodes.accounts_per_batch 256 needs 256" in caplog.text
    assert batch_accounts(ids, 256, world_size=2) == 5  # per rank
    assert batch_accounts(ids[:9], 256) == 256  # 3 eligible accounts: the sampler's own error says so
    EpisodeBatchSampler(ids, accounts_per_batch=batch_accounts(ids, 256), posts_per_episode=1)
