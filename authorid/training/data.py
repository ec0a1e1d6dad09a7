"""The posts a run trains and validates on: read, optionally clean, sample accounts, split.

Open-world (default): author-disjoint train / validation accounts (`split(posts, "open-world")`, no test
part: keep your own test accounts out of the corpus you train on). Attribution: the corpus' own ``split``
column when it has one (its test part is left alone), then each author's training posts are cut train /
validation (`split(train, "closed-set")`); the validation authors are the training authors.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow.compute as pc

from authorid.data.arrow import read_columns
from authorid.data.sampling import rank_within_groups
from authorid.data.splits import fingerprint, has_corpus_split, split
from authorid.training.arguments import DataArgs
from authorid.training.errors import TrainingDataError

logger = logging.getLogger(__name__)


@dataclass
class TrainingData:
    """Training and validation posts, the manifests that reproduce them, and where they came from."""

    train: datasets.Dataset
    val: datasets.Dataset | None
    manifests: dict
    source: str
    fingerprint: str
    split_manifest: dict | None = None  #: the full manifest of the validation split (re-creates it)
    #: open-world: the validation accounts with every post, where `val` caps them (`val_posts_per_account`);
    #: the calibration fitted at export reads these, so it sees the accounts' full range of sizes
    val_all_posts: datasets.Dataset | None = None
    #: what cleaning did to the CORPUS read (`workflows.train.read_training_posts`); None when nothing was cleaned
    cleaning: dict | None = None

    @property
    def calibration_posts(self) -> datasets.Dataset | None:
        """The posts the export's calibration is fitted on: the validation accounts, every post."""
        return self.val_all_posts if self.val_all_posts is not None else self.val


def sample_accounts(posts: datasets.Dataset, args: DataArgs, *, seed: int) -> datasets.Dataset:
    """Keep accounts with >= min_posts posts, at most `max_accounts` of them and `max_posts_per_account` posts
    each, drawn with a Generator seeded by `seed`: the accounts over sorted ids (independent of row order), each
    account's posts by a random rank drawn in row order (as the training episodes are: `train` reads a corpus in
    the order given)."""
    accounts = read_columns(posts, ["account_id"]).column("account_id")
    names = pc.unique(accounts)
    names = names.take(pc.sort_indices(names))
    codes = pc.index_in(accounts, value_set=names).to_numpy().astype(np.int64)
    sizes = np.bincount(codes, minlength=len(names))
    keep = sizes >= args.min_posts
    rng = np.random.default_rng([seed, 1])
    if args.max_accounts is not None and keep.sum() > args.max_accounts:
        chosen = rng.choice(np.flatnonzero(keep), size=args.max_accounts, replace=False)
        keep = np.zeros_like(keep)
        keep[chosen] = True
    rows = np.flatnonzero(keep[codes])
    if args.max_posts_per_account is not None:
        # A random rank of each row within its account; keep the first max_posts_per_account.
        rank = rank_within_groups(codes, rng.random(len(codes)))
        rows = rows[rank[rows] < args.max_posts_per_account]
    logger.info(
        "training posts: %d of %d posts, %d of %d accounts", len(rows), len(codes), keep.sum(), len(names)
    )
    return posts if len(rows) == len(codes) else posts.select(np.sort(rows))


def prepare_data(
    posts: datasets.Dataset,
    args: DataArgs,
    *,
    seed: int,
    val: datasets.Dataset | None = None,
    source: str = "posts",
) -> TrainingData:
    """Sample accounts and split train / validation as `args.task` asks (see the module docstring)."""
    if posts.num_rows == 0:
        raise TrainingDataError("the corpus has no posts")
    posts = sample_accounts(posts, args, seed=seed)
    if posts.num_rows == 0:
        raise TrainingDataError(f"no account has >= {args.min_posts} posts; lower --data.min_posts")
    manifests: dict = {}
    full = None
    val_all_posts = None
    corpus = posts  # what the fingerprint names: the posts sampled, before any split
    if val is not None:
        train = posts
    elif args.task == "open-world":
        if args.val_accounts == 0:
            train, val = posts, None
        else:
            result = split(
                posts,
                "open-world",
                seed=seed,
                fractions=(1.0, 0.0, 0.0),
                val_accounts=validation_accounts(posts, args),
                test_accounts=0,
                min_posts=_val_min_posts(args),
            )
            train, val = result.train, result.val
            if args.val_posts_per_account is not None:
                val_all_posts = val
                # Validation embeds every post of its accounts at each evaluation: cap them to bound its cost.
                cap = dataclasses.replace(
                    args, min_posts=1, max_accounts=None, max_posts_per_account=args.val_posts_per_account
                )
                val = sample_accounts(val, cap, seed=seed)
            manifests["open-world"] = _manifest_summary(result.manifest)
            full = result.manifest.to_dict()
    else:
        if has_corpus_split(posts):
            result = split(posts, "closed-set", seed=seed, use_corpus_split=True)
            posts = result.train
            manifests["corpus-split"] = _manifest_summary(result.manifest)
        result = split(
            posts, "closed-set", seed=seed, fractions=(1 - args.val_fraction, args.val_fraction, 0.0)
        )
        train, val = result.train, result.val
        manifests["closed-set"] = _manifest_summary(result.manifest)
        full = result.manifest.to_dict()
    return TrainingData(
        train=train,
        val=val,
        manifests=manifests,
        source=source,
        # the corpus' own, before its split column is applied (audit 12: the card named the train part's)
        fingerprint=fingerprint(corpus),
        split_manifest=full,
        val_all_posts=val_all_posts,
    )


def validation_accounts(posts: datasets.Dataset, args: DataArgs) -> int:
    """How many accounts validate: `args.val_accounts`, scaled down on a small corpus so that at least four
    fifths of the eligible accounts still train (the quick preset's 50 on a 40- or 50-author corpus becomes 8 or
    10), and never fewer than 2 (linking needs a pool). A corpus too small for that is a one-line error.
    Only accounts with >= `val_min_posts` posts may validate; the rest train."""
    counts = np.bincount(_codes(posts))
    trainable = int(np.count_nonzero(counts >= args.min_posts))
    if trainable < 4:
        raise TrainingDataError(
            f"only {trainable} accounts have >= {args.min_posts} posts: too few to train and validate on;"
            " lower --data.min_posts or use more data (--data.val_accounts 0 trains without validation)"
        )
    floor = _val_min_posts(args)
    eligible = int(np.count_nonzero(counts >= floor))
    if eligible < 2:
        raise TrainingDataError(
            f"only {eligible} accounts have >= {floor} posts (data.val_min_posts): too few to validate on;"
            " lower --data.val_min_posts"
        )
    wanted = args.val_accounts
    chosen = min(wanted, max(2, eligible // 5))
    if chosen < wanted:
        # the cap holds whatever data.val_accounts asks: say so, rather than invite a larger value
        logger.warning(
            "validating on %d of the %d accounts with >= %d posts, not data.val_accounts %d: at most a fifth of"
            " them validate, so that the rest train (lower --data.val_min_posts for more candidates)",
            chosen,
            eligible,
            floor,
            wanted,
        )
    return chosen


def _val_min_posts(args: DataArgs) -> int:
    """The fewest posts a validation account may have."""
    return max(args.min_posts, args.val_min_posts or args.min_posts)


def _codes(posts: datasets.Dataset) -> np.ndarray:
    accounts = read_columns(posts, ["account_id"]).column("account_id")
    return pc.index_in(accounts, value_set=pc.unique(accounts)).to_numpy().astype(np.int64)


def _manifest_summary(manifest) -> dict:
    """Protocol, seed, parameters, counts and fingerprint; the full assignment is in split_manifest.json."""
    return {
        "protocol": manifest.protocol,
        "seed": manifest.seed,
        "params": manifest.params,
        "counts": manifest.counts,
        "fingerprint": manifest.fingerprint,
    }
