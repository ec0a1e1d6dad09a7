"""Posts two accounts share word for word: copied text, which a style score reads as the same writer.

A meme, a moderator's removal template, a vendor listing a reseller pasted, a post reposted by another account:
the n-grams of a copied post are all shared, so the two accounts' cosine (and P(same person)) rises whoever
wrote it (audit 12: a braille-art meme gave two Reddit strangers P 1.000, a removal template two moderators
0.961, at the forum prior). Cleaning drops a post its own author repeated; a post repeated by another account
is evidence of something, and not of one writer unless the text is theirs. So a pair's copies are counted and
shown beside its P (`score`'s copied_posts column, `explain`'s page), never dropped or hidden.

Two posts are copies when their texts are equal once whitespace is collapsed and case folded, and at least
`MIN_COPY_CHARS` long: shorter texts ("Thank you!", "Yes") coincide between strangers without any copying. The
commands compare posts as they read them, cleaned: links, e-mail addresses and @mentions masked (`<URL>`), so a
template sent with different links counts as one text, as the model sees it (audit 13).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from authorid.data.arrow import read_columns

#: Shortest text (after whitespace is collapsed) counted as copied when two accounts share it.
MIN_COPY_CHARS = 30
#: Characters of a copied text shown (the page, the command's line).
SHOWN_CHARS = 120


def copy_key(text: str) -> str | None:
    """The text as copies are compared (whitespace collapsed, case folded), or None when too short to count."""
    key = " ".join(text.split()).casefold()
    return key if len(key) >= MIN_COPY_CHARS else None


class CopiedPosts:
    """Which accounts posted each text long enough to count, for the accounts given (`from_posts`)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.accounts_of: dict[str, set[str]] = defaultdict(set)  # copy key -> accounts that posted it
        self.keys_of: dict[str, set[str]] = defaultdict(set)  # account -> its copy keys
        self.first_text: dict[str, str] = {}  # copy key -> the first post's text as written
        for account, text in pairs:
            key = copy_key(text)
            if key is None:
                continue
            self.accounts_of[key].add(account)
            self.keys_of[account].add(key)
            self.first_text.setdefault(key, text)

    @classmethod
    def from_posts(cls, posts, accounts: set[str] | None = None, keys: set[str] | None = None) -> CopiedPosts:
        """From a posts Dataset (account_id, text): only the posts of `accounts` when given (filtered in Arrow:
        a forum of millions of posts is not walked in Python for the accounts of a few pairs), and only the
        texts whose copy key is among `keys` when given (a pair's own, counted over the whole corpus)."""
        table = read_columns(posts, ["account_id", "text"])
        if accounts is not None:
            ids = table.column("account_id")
            table = table.filter(pc.is_in(ids, value_set=pa.array(sorted(accounts), type=ids.type)))
        pairs = zip(table.column("account_id").to_pylist(), table.column("text").to_pylist(), strict=True)
        if keys is not None:
            pairs = ((a, t) for a, t in pairs if copy_key(t) in keys)
        return cls(pairs)

    def shared(self, a: str, b: str) -> list[str]:
        """The copy keys both accounts posted (sorted, so the order is the same every run)."""
        if a == b:
            return []
        return sorted(self.keys_of.get(a, set()) & self.keys_of.get(b, set()))

    def count(self, a: str, b: str) -> int:
        """How many distinct texts the two accounts both posted."""
        return len(self.shared(a, b))

    def described(self, a: str, b: str) -> list[dict]:
        """Each text both posted: its start as written, and how many accounts posted it in all (more than two:
        a template or a meme, rather than one person's own text)."""
        return [
            {"text": shorten(self.first_text[key]), "accounts": len(self.accounts_of[key])}
            for key in self.shared(a, b)
        ]


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
