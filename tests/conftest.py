"""Shared fixtures: small real samples of the shared corpora (skipped cleanly when ../shared is absent)."""

from __future__ import annotations

import pytest
from samples import canonical_sample


@pytest.fixture(scope="session")
def reddit_posts():
    """The first 3,000 Reddit posts (sorted by author, then time: a few hundred accounts) as a canonical Dataset."""
    from authorid.schema import posts_from_records

    return posts_from_records(canonical_sample("reddit", 3000))


@pytest.fixture(scope="session")
def enron_posts():
    """The first 1,500 Enron e-mails as a canonical Dataset."""
    from authorid.schema import posts_from_records

    return posts_from_records(canonical_sample("enron", 1500))
