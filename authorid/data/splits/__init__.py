"""Evaluation splits of a post corpus, seeded and saved as a manifest that re-creates them exactly.

Four protocols (`split(posts, protocol, seed=..., **params)`):

- ``closed-set``: every account appears in train; each account's posts are cut train/val/test (stratified by
  account), or the corpus' own ``split`` column is used (Reuters C50). Attribution among known authors.
- ``open-world``: author-disjoint train/val/test accounts (person-disjoint when ``person_id`` is present).
  Retrieval, verification and clustering of authors never seen in training.
- ``sybil``: every account's posts are cut into ``k`` pseudo-accounts ``"{account}#{i}"``; the original
  account becomes the ``person_id`` to recover. Account linking with known ground truth (Khan et al. 2021,
  "A Deep Metric Learning Approach to Account Linking", NAACL; the SYSML setting). Compose with open-world:
  split open-world first, then ``split(result.test, "sybil")`` so the encoder never saw the test accounts.
- ``cross-forum``: train on some forums, test on others.

Every result carries a `SplitManifest`: protocol, seed, every parameter, what went where (post ids, account
ids or forums), counts of everything kept and left out, and a fingerprint of the input.
`manifest.apply(posts)` re-creates the split from the manifest alone (no randomness is re-run) and refuses
other data.

Randomness: a `numpy.random.Generator` seeded with `seed`, drawn over posts in a canonical order (sorted by
post_id, then account_id) and over sorted account/person/forum ids, so a split depends on the set of posts and
the seed, never on row order or on Python's `hash()`. Only the id, account, person, time and forum columns are
read (as Arrow/numpy); texts are never materialised. Parts keep the corpus' row order.
"""

from authorid.data.splits.closed_set import has_corpus_split
from authorid.data.splits.columns import DEFAULT_FRACTIONS, SplitError
from authorid.data.splits.dispatch import split
from authorid.data.splits.manifest import (
    MANIFEST_VERSION,
    PARTS,
    PROTOCOLS,
    Split,
    SplitManifest,
    fingerprint,
)
from authorid.data.splits.sybil import sybil_split

__all__ = [
    "DEFAULT_FRACTIONS",
    "MANIFEST_VERSION",
    "PARTS",
    "PROTOCOLS",
    "Split",
    "SplitError",
    "SplitManifest",
    "fingerprint",
    "has_corpus_split",
    "split",
    "sybil_split",
]
