"""`split`: cut a corpus by a protocol, recording a manifest that re-creates the split (see the package
docstring, `authorid.data.splits`, for the four protocols)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import datasets

from authorid.data.splits.closed_set import _closed_set
from authorid.data.splits.columns import Columns
from authorid.data.splits.cross_forum import _cross_forum
from authorid.data.splits.manifest import PROTOCOLS, Split, run_protocol
from authorid.data.splits.open_world import _open_world
from authorid.data.splits.sybil import _sybil
from authorid.errors import SplitError

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
    return run_protocol(posts, Columns(posts), protocol, build, seed, params)
