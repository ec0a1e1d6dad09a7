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

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import datasets
import numpy as np

from authorid.data.splits.closed_set import _closed_set, has_corpus_split
from authorid.data.splits.columns import DEFAULT_FRACTIONS, Columns, SplitError
from authorid.data.splits.cross_forum import _cross_forum
from authorid.data.splits.manifest import (
    MANIFEST_VERSION,
    PARTS,
    PROTOCOLS,
    Split,
    SplitManifest,
    _materialise,
    fingerprint,
)
from authorid.data.splits.open_world import _open_world
from authorid.data.splits.sybil import _sybil

__all__ = [
    "has_corpus_split",
    "DEFAULT_FRACTIONS",
    "MANIFEST_VERSION",
    "PARTS",
    "PROTOCOLS",
    "Split",
    "SplitError",
    "SplitManifest",
    "fingerprint",
    "split",
]

logger = logging.getLogger(__name__)

# Each protocol function returns (params as resolved, assignment, counts); its keyword arguments are the
# protocol's parameters.
_PROTOCOL_FUNCTIONS: dict[str, Callable[..., tuple[dict, dict, dict]]] = {
    "closed-set": _closed_set,
    "open-world": _open_world,
    "sybil": _sybil,
    "cross-forum": _cross_forum,
}


def split(posts: datasets.Dataset, protocol: str, *, seed: int = 0, **params: Any) -> Split:
    """Split `posts` by `protocol` (see the module docstring); `params` are the protocol's keyword settings.

    Raises SplitError (a ValueError) for an unknown protocol or parameter, listing the valid ones.
    """
    if protocol not in _PROTOCOL_FUNCTIONS:
        raise SplitError(f"unknown split protocol {protocol!r}; valid: {', '.join(PROTOCOLS)}")
    build = _PROTOCOL_FUNCTIONS[protocol]
    valid = [name for name in inspect.signature(build).parameters if name not in ("cols", "rng")]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise SplitError(
            f"unknown parameter(s) {', '.join(unknown)} for {protocol}; valid: {', '.join(valid)}"
        )
    cols = Columns(posts)
    resolved, assignment, counts = build(cols, np.random.default_rng(seed), **params)
    counts = {"posts_in": cols.n, "accounts_in": len(cols.accounts), **counts}
    manifest = SplitManifest(protocol, int(seed), resolved, assignment, cols.fingerprint(), counts)
    logger.info("%s split (seed %d): %s", protocol, seed, counts)
    return _materialise(posts, manifest)
