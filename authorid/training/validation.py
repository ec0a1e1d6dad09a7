"""Validation during training: a callable per task returning a dict of metrics with one primary metric.

Open-world (`LinkingValidator`): the validation accounts are cut in two halves, by time when every post has a
timestamp, else at random (`split(val, "sybil", by="auto")`); each half becomes an account vector (`embed_accounts`);
each first half ranks the second halves of all validation accounts by cosine (`sybil_linking_metrics`).
Primary metric: MRR; also R@1, R@8.

Attribution (`AttributionValidator`): each author's profile pools (up to
`profile_posts` of) its training posts as an account is pooled; each validation post goes to the author of the nearest
profile. Primary metric: accuracy; also macro-F1.
"""

from __future__ import annotations

import logging

import datasets
import numpy as np

from authorid.data.arrow import read_columns
from authorid.data.sampling import first_per_group
from authorid.data.splits import sybil_split
from authorid.encoders import embed_accounts, embed_groups, embed_texts
from authorid.metrics import accuracy, macro_f1
from authorid.metrics.linking import sybil_linking_metrics
from authorid.training.errors import TrainingDataError

logger = logging.getLogger(__name__)


class LinkingValidator:
    """Sybil linking MRR / R@1 / R@8 over the validation accounts cut in two halves (see module docstring)."""

    primary = "mrr"

    def __init__(self, val: datasets.Dataset, *, seed: int = 0, batch_size: int = 64):
        halves = sybil_split(val, seed=seed, k=2, by="auto")
        self.posts = halves.test
        self.by = by = halves.manifest.params["by"]
        self.batch_size = batch_size
        ids = read_columns(self.posts, ["account_id", "person_id"])
        accounts, persons = ids.column("account_id").to_pylist(), ids.column("person_id").to_pylist()
        self.person_of = dict(zip(accounts, persons, strict=True))
        self.n_persons = len(set(self.person_of.values()))
        if self.n_persons < 2:
            raise TrainingDataError(
                f"validation needs >= 2 accounts with >= 2 posts, found {self.n_persons}; raise data.val_accounts"
            )
        logger.info("linking validation: %d accounts cut in halves by %s", self.n_persons, by)

    def __call__(self, encoder, pooling) -> dict[str, float]:
        vectors = embed_accounts(
            encoder, self.posts, pooling=pooling or "mean", batch_size=self.batch_size, progress=False
        )
        metrics = sybil_linking_metrics(vectors, self.person_of, ks=(1, 8))
        return {k: float(v) for k, v in metrics.items()}


class AttributionValidator:
    """Nearest-profile attribution accuracy and macro-F1 of validation posts (see module docstring)."""

    primary = "accuracy"

    def __init__(
        self,
        train: datasets.Dataset,
        val: datasets.Dataset,
        *,
        profile_posts: int = 32,
        max_val_posts: int = 2000,
        seed: int = 0,
        batch_size: int = 64,
    ):
        rng = np.random.default_rng([seed, 2])
        accounts = np.asarray(train["account_id"], dtype=object)
        self.authors = sorted(set(accounts.tolist()))
        code = {a: i for i, a in enumerate(self.authors)}
        keys = rng.random(len(accounts))
        codes = np.array([code[a] for a in accounts])
        rows = first_per_group(codes, keys, profile_posts)
        self.profile_texts = list(train.select(rows)["text"])
        self.profile_groups = codes[rows]
        val_rows = np.arange(val.num_rows)
        if len(val_rows) > max_val_posts:
            val_rows = np.sort(rng.choice(val_rows, size=max_val_posts, replace=False))
        kept = val.select(val_rows)
        self.val_texts = list(kept["text"])
        self.val_labels = np.array([code.get(a, -1) for a in kept["account_id"]])
        self.batch_size = batch_size

    def __call__(self, encoder, pooling) -> dict[str, float]:
        # Each author's profile pooled as the encoder pools an account (mean, or summed n-gram counts).
        profiles = embed_groups(
            encoder, self.profile_texts, self.profile_groups, len(self.authors), batch_size=self.batch_size
        )
        posts = embed_texts(encoder, self.val_texts, batch_size=self.batch_size, progress=False)
        predicted = np.argmax(posts @ profiles.T, axis=1)
        return {
            "accuracy": accuracy(self.val_labels, predicted),
            "macro_f1": macro_f1(self.val_labels, predicted),
            "posts": float(len(predicted)),
        }
