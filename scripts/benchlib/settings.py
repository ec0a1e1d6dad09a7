"""The data of each benchmark setting: which posts train, which evaluate, seeded and cached.

Settings (issue 7):
- ``reddit``: sybil linking and verification on 1,000 held-out Reddit accounts with >= 20 posts, cut in two
  halves by time; every other account is the training pool, so a fine-tuned encoder never saw a test author.
- ``c50``: Reuters C50 with its official 2,500 / 2,500 train / test split (closed-set attribution).
- ``blog50`` / ``blog10``: the Blog Authorship top-50 (top-10 by the corpus' ``rank``), a seeded stratified
  80/10/10 split of each blogger's posts. Blog10's split is Blog50's restricted to ranks <= 10 (each post is in
  the same part in both), before the profile's per-blogger caps.

A `Profile` sizes everything that costs compute (posts per half, posts per author, training steps); the
``cpu`` profile is what a 2-core machine finishes in about an hour, ``full`` is the issue's full size.
Every row of a setting reads the same `SettingData`, so peers and encoders see identical posts.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpora"
SETTINGS = ("reddit", "c50", "blog10", "blog50")
LINKING_SETTINGS = ("reddit",)


#: The losses the issue fine-tunes on every setting.
LOSSES = ("ce", "nbc-softmax", "nbc-softmax-scaled", "supcon", "contrax", "arcface")
#: The losses the n-gram encoder trains with on every setting (every loss authorid offers).
NGRAM_LOSSES = (*LOSSES, "cosface", "ms")

#: The n-gram encoder's training, per kind of setting (over the `ngram` preset); `run.max_seconds` is the
#: budget every n-gram row of a setting gets, so rows compare at equal wall-clock time. The default model
#: (scripts/train_default_model.py) is the preset itself (7 minutes) on Reddit's training pool.
NGRAM_LINKING = {"run.max_seconds": 300}
#: Reddit's 29k training accounts give a class-head loss a 29k-row head: over the default 16,512-wide vector
#: that head and its Adam state need ~6 GB and seconds a step, so on linking settings the head losses train
#: the trained path alone (256 wide, no sketch).
NGRAM_HEAD_LOSSES_LINKING = {"ngram.sketch_dim": 0, "ngram.dim": 256}
#: The losses without a class head.
HEADLESS_LOSSES = ("supcon", "ms")
NGRAM_ATTRIBUTION = {
    "episodes.accounts_per_batch": 64,
    "episodes.posts_per_episode": 4,
    "data.max_posts_per_account": None,
    "run.max_seconds": 120,
    "run.eval_every": 50,
    "run.checkpoint_every": 100_000,
}


@dataclass(frozen=True)
class Profile:
    """What a benchmark run may spend; every row of a setting uses the same sizes."""

    name: str
    reddit_test_accounts: int = 1000
    reddit_min_posts: int = 20
    reddit_posts_per_half: int | None = 8  #: cap on each half's most recent posts (None: all)
    reddit_train: dict = field(default_factory=dict)  #: training overrides for the open-world rows
    #: per-blogger caps of the train, val and test parts (Blog10 has 5x fewer bloggers, so it keeps more each)
    blog_posts_per_author: dict = field(
        default_factory=lambda: {"blog10": (250, 50, 100), "blog50": (100, 20, 40)}
    )
    attribution_train: dict = field(default_factory=dict)  #: training overrides for the attribution rows
    #: losses fine-tuned per setting (the attention-pooling and fusion rows build on supcon)
    reddit_losses: tuple[str, ...] = LOSSES
    #: losses also fine-tuned with an imprinted class head (row "LOSS+imprinted"; the head losses only)
    reddit_imprinted: tuple[str, ...] = ("ce", "nbc-softmax", "nbc-softmax-scaled", "contrax", "arcface")
    attribution_losses: tuple[str, ...] = LOSSES
    #: the n-gram encoder's rows ("ngram:LOSS"), and its overrides per kind of setting
    ngram_losses: tuple[str, ...] = NGRAM_LOSSES
    ngram_linking: dict = field(default_factory=lambda: dict(NGRAM_LINKING))
    ngram_attribution: dict = field(default_factory=lambda: dict(NGRAM_ATTRIBUTION))
    #: Reddit: NBC-Softmax against plain softmax at these batch sizes (accounts per step), "ngram:LOSS@P"
    ngram_batches: tuple[int, ...] = (2048,)
    #: verification pairs scored by the pair-only peers (None: all); LambdaG costs ~4 s a pair on 2 cores
    pair_samples: dict = field(default_factory=lambda: {"general-impostors": None, "lambdag": 100})
    impostors: int = 200  #: training-pool accounts in the pair-only peers' impostor / reference pool
    preset: str = "quick"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES = {
    # A 2-core CPU machine in about an hour: short fine-tuning (100 / 60 steps of the quick preset).
    "cpu": Profile(
        name="cpu",
        reddit_train={"run.max_steps": 100, "run.eval_every": 50, "run.checkpoint_every": 100},
        attribution_train={
            "run.max_steps": 60,
            "run.eval_every": 30,
            "run.checkpoint_every": 60,
            "model.max_seq_length": 64,
            "data.max_accounts": None,
            "data.min_posts": 4,
        },
    ),
    # The sizes, for a GPU: 50 posts per half, all posts, every loss on every setting.
    "full": Profile(
        name="full",
        reddit_posts_per_half=50,
        reddit_train={},
        blog_posts_per_author={"blog10": (None, None, None), "blog50": (None, None, None)},
        attribution_train={"data.max_accounts": None, "data.min_posts": 4},
        pair_samples={"general-impostors": None, "lambdag": 1000},
        preset="gpu",
    ),
}


@dataclass
class SettingData:
    """The posts of one setting. Linking: `train` pool + `test` accounts; attribution: train/val/test posts."""

    name: str
    kind: str  #: "linking" | "attribution"
    train: datasets.Dataset
    test: datasets.Dataset
    val: datasets.Dataset | None = None
    description: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def corpus_file(name: str) -> Path:
    path = SHARED / name / f"{name}.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the benchmarks read the shared corpora (../shared/corpora)"
        )
    return path


def ingested(preset: str, cache: Path) -> datasets.Dataset:
    """The corpus cleaned by `authorid ingest` (defaults), cached as Parquet under `cache`."""
    from authorid.data.readers import read_posts
    from authorid.workflows.ingest import ingest

    path = cache / f"{preset.split('_')[0]}.parquet"
    if not path.is_file():
        ingest(preset, out=path, progress=True)
    posts, _ = read_posts(path)
    return posts


def _accounts(posts: datasets.Dataset) -> set[str]:
    return set(posts.unique("account_id"))


def reddit(profile: Profile, cache: Path, seed: int = 0) -> SettingData:
    """Held-out test accounts (author-disjoint from the training pool), seeded."""
    from authorid.data.splits import split

    posts = ingested("reddit_college", cache)
    parts = split(
        posts,
        "open-world",
        seed=seed,
        fractions=(1.0, 0.0, 0.0),
        val_accounts=0,
        test_accounts=profile.reddit_test_accounts,
        min_posts=profile.reddit_min_posts,
    )
    return SettingData(
        name="reddit",
        kind="linking",
        train=parts.train,
        test=parts.test,
        description=(
            f"reddit_college: {profile.reddit_test_accounts:,} held-out accounts with >= "
            f"{profile.reddit_min_posts} posts, each cut in two halves by time"
            + (
                f", each half its {profile.reddit_posts_per_half} most recent posts"
                if profile.reddit_posts_per_half
                else ""
            )
            + "; fine-tuning uses only the other accounts"
        ),
        counts={
            "train_accounts": len(_accounts(parts.train)),
            "train_posts": parts.train.num_rows,
            "test_accounts": len(_accounts(parts.test)),
            "test_posts": parts.test.num_rows,
        },
    )


def _part_counts(train, val, test) -> dict[str, int]:
    counts = {"authors": len(_accounts(train)), "train_posts": train.num_rows, "test_posts": test.num_rows}
    if val is not None:
        counts["val_posts"] = val.num_rows
    return counts


def c50(profile: Profile, cache: Path, seed: int = 0) -> SettingData:
    """Reuters C50, the official split (the corpus' `split` column)."""
    from authorid.data.splits import split

    posts = ingested("reuters_c50", cache)
    parts = split(posts, "closed-set", seed=seed, use_corpus_split=True)
    train, test = parts.train, parts.test
    return SettingData(
        name="c50",
        kind="attribution",
        train=train,
        test=test,
        description="Reuters C50, the official train/test split (2,500 / 2,500 texts, 50 authors)",
        counts=_part_counts(train, None, test),
    )


def blog_ranks() -> dict[str, int]:
    """Blogger id -> the corpus' `rank` (1 = most posts), read from the raw file (ingest keeps only the
    canonical columns)."""
    ranks: dict[str, int] = {}
    with gzip.open(corpus_file("blog50"), "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            ranks.setdefault(str(record["author"]), int(record["rank"]))
    return ranks


def _cap(posts: datasets.Dataset, cap: int | None, seed: int) -> datasets.Dataset:
    """At most `cap` posts per author, a seeded random subset (row order kept)."""
    if cap is None:
        return posts
    from authorid.data.sampling import first_per_group

    authors = np.asarray(posts["account_id"], dtype=object)
    return posts.select(first_per_group(authors, np.random.default_rng(seed).random(len(authors)), cap))


def blog(profile: Profile, cache: Path, top: int, seed: int = 0) -> SettingData:
    """Blog10 / Blog50: a seeded stratified 80/10/10 split of each blogger's posts, capped per profile."""
    from authorid.data.splits import split

    posts = ingested("blog50", cache)
    parts = split(posts, "closed-set", seed=seed, fractions=(0.8, 0.1, 0.1))
    keep = {author for author, rank in blog_ranks().items() if rank <= top}
    caps = profile.blog_posts_per_author[f"blog{top}"]
    chosen = []
    for offset, (part, cap) in enumerate(zip((parts.train, parts.val, parts.test), caps, strict=True)):
        part = part.filter(lambda batch: [a in keep for a in batch["account_id"]], batched=True)
        chosen.append(_cap(part, cap, seed + offset))
    train, val, test = chosen
    capped = ", capped at {} / {} / {} posts per blogger".format(*caps) if any(caps) else ""
    return SettingData(
        name=f"blog{top}",
        kind="attribution",
        train=train,
        val=val,
        test=test,
        description=f"Blog{top}: the {top} most prolific bloggers, a seeded stratified 80/10/10 split{capped}",
        counts=_part_counts(train, val, test),
    )


def load_setting(name: str, profile: Profile, cache: Path, seed: int = 0) -> SettingData:
    cache.mkdir(parents=True, exist_ok=True)
    if name == "reddit":
        return reddit(profile, cache, seed)
    if name == "c50":
        return c50(profile, cache, seed)
    if name in ("blog10", "blog50"):
        return blog(profile, cache, int(name[4:]), seed)
    raise ValueError(f"unknown setting {name!r}; choose from {', '.join(SETTINGS)}")


def sampled_accounts(posts: datasets.Dataset, n_accounts: int, min_posts: int, seed: int):
    """The posts (pandas: post_id, account_id, text, created_at) of `n_accounts` seeded accounts with at least
    `min_posts` posts, sorted by account, then oldest first: the pool samples bench_ece calibrates on and
    make_minilm_centre averages."""
    table = posts.select_columns(["post_id", "account_id", "text", "created_at"]).to_pandas()
    table = table.sort_values(["account_id", "created_at", "post_id"])
    sizes = table.groupby("account_id").size()
    eligible = np.array(sorted(sizes[sizes >= min_posts].index))
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(eligible, size=min(n_accounts, eligible.size), replace=False))
    return table[table["account_id"].isin(chosen)]
