"""Clean a corpus of posts: optional text transforms, then optional filters, every effect counted.

    posts, report = clean(posts)                                 # defaults: what forum analysis expects
    posts, report = clean(posts, min_posts_per_account=10, max_posts_per_account=200, seed=1)

Text transforms run in one batched `Dataset.map` (Arrow cache files, bounded memory), in the order
unescape -> NFC -> quote stripping -> masking (urls, e-mails, mentions) -> whitespace. The map also returns,
per post, one flag per transform (did it change the text?), whether the raw text is a retweet, the cleaned
length and a 64-bit key of (account_id, cleaned text); the counts are sums of those columns, so they are right
even when datasets serves the map from its cache. The filters (retweets, empty, too short, duplicates within
an account, accounts below a minimum, a seeded cap per account) are then computed on those columns with
numpy and applied with one `select`, which keeps the order of the surviving posts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from authorid.data import clean_text
from authorid.data.arrow import CANONICAL_KEYS, canonical_order
from authorid.data.report import IngestReport
from authorid.data.sampling import rank_within_groups
from authorid.errors import AuthoridError
from authorid.progress import datasets_progress_bars

logger = logging.getLogger(__name__)


#: What a command says of an account it was asked about whose every post cleaning dropped (`IngestReport.
#: emptied_accounts`): a repeat never empties an account (its first copy stays), so only these can.
EMPTIED = (
    "has no post left after cleaning: each was empty once cleaned (a quote only, or blank) or a retweet"
    " (`authorid ingest --no-strip-quotes` / `--no-drop-retweets` keeps those)"
)


class EmptyCorpusError(AuthoridError):
    """Cleaning removed every post; the message names the filter that removed the last ones."""


@dataclass
class CleanConfig:
    """Which cleaning steps run. Every step is optional; the defaults suit authorship analysis on forums.

    `normalize_whitespace` keeps line breaks (paragraphing is part of an author's style) but collapses blank
    lines to one, runs of spaces/tabs/NBSP to one space, and strips line ends (see
    `clean_text.normalize_whitespace`). `min_chars` counts characters of the cleaned text (placeholders such
    as `<URL>` included); a text that is empty or only whitespace after cleaning is always dropped.
    `max_posts_per_account` keeps a random sample of that many posts per account, drawn with `seed`.
    `dedupe_within_account` keeps one copy of a text an account posted more than once: its oldest (then the
    lowest post id). Both choices follow the posts, not the order a file lists them in.
    """

    unescape_html: bool = True
    normalize_unicode: bool = True
    normalize_whitespace: bool = True
    strip_quotes: bool = True
    mask_urls: bool = True
    mask_emails: bool = True
    mask_mentions: bool = True
    drop_retweets: bool = True
    min_chars: int = 1
    dedupe_within_account: bool = True
    min_posts_per_account: int = 1
    max_posts_per_account: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.min_chars < 0:
            raise ValueError(f"min_chars must be >= 0, got {self.min_chars}")
        if self.min_posts_per_account < 1:
            raise ValueError(f"min_posts_per_account must be >= 1, got {self.min_posts_per_account}")
        if self.max_posts_per_account is not None and self.max_posts_per_account < 1:
            raise ValueError(f"max_posts_per_account must be >= 1 or None, got {self.max_posts_per_account}")


#: The text transforms in the order they run: (CleanConfig field, report.changed key, function).
TEXT_STEPS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("unescape_html", "html_unescaped", clean_text.unescape_html),
    ("normalize_unicode", "unicode_normalized", clean_text.normalize_unicode),
    ("strip_quotes", "quotes_stripped", clean_text.strip_quotes),
    ("mask_urls", "urls_masked", clean_text.mask_urls),
    ("mask_emails", "emails_masked", clean_text.mask_emails),
    ("mask_mentions", "mentions_masked", clean_text.mask_mentions),
    ("normalize_whitespace", "whitespace_normalized", clean_text.normalize_whitespace),
)

# Helper columns the map adds and `clean` removes again. The leading "__" keeps them clear of user columns.
_RETWEET, _LENGTH, _KEY = "__clean_retweet", "__clean_length", "__clean_key"


# datasets fingerprints a map by pickling its function, and module-level functions pickle by name: without
# this digest of the cleaning code, a changed regex would be served the old texts from the map cache.
_RULES_DIGEST = hashlib.sha256(
    Path(clean_text.__file__).read_bytes() + Path(__file__).read_bytes()
).hexdigest()


def _changed_column(report_key: str) -> str:
    return f"__clean_{report_key}"


def _clean_batch(
    account_ids: list[str | None], texts: list[str | None], *, steps: tuple, rules_digest: str
) -> dict[str, list]:
    """Batched map function: cleaned texts plus per-post helper columns (see the module docstring).

    `rules_digest` is unused here: it only enters datasets' cache fingerprint (see _RULES_DIGEST).
    """
    flags: dict[str, list[bool]] = {key: [] for _, key, _ in steps}
    cleaned, retweet, length, key = [], [], [], []
    for account_id, text in zip(account_ids, texts, strict=True):
        text = text or ""  # a null text is an empty post (dropped as "empty")
        retweet.append(clean_text.is_retweet(text))
        for _, report_key, step in steps:
            new = step(text)
            flags[report_key].append(new != text)
            text = new
        cleaned.append(text)
        length.append(len(text) if text.strip() else 0)
        # 64 bits: the chance of any collision among 10^6 posts is ~3e-8, so dedupe is exact in practice.
        digest = hashlib.blake2b(f"{account_id}\x00{text}".encode(), digest_size=8).digest()
        key.append(int.from_bytes(digest, "little", signed=True))
    out: dict[str, list] = {"text": cleaned, _RETWEET: retweet, _LENGTH: length, _KEY: key}
    out.update({_changed_column(k): v for k, v in flags.items()})
    return out


def _resolve_config(config: CleanConfig | None, overrides: dict) -> CleanConfig:
    config = config or CleanConfig()
    valid = [f.name for f in dataclasses.fields(CleanConfig)]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(f"unknown cleaning option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    return dataclasses.replace(config, **overrides) if overrides else config


def _relax_hint(filter_key: str, config: CleanConfig) -> str:
    return {
        "retweet": "set drop_retweets=False (`ingest --no-drop-retweets`)",
        "empty": (
            "check the text column (all texts are empty once cleaned; strip_quotes=False, `ingest"
            " --no-strip-quotes`, keeps quotes)"
        ),
        "too_short": f"lower min_chars (`ingest --min-chars`; now {config.min_chars})",
        "duplicate_in_account": "set dedupe_within_account=False (`ingest --no-dedupe`)",
        "account_below_min_posts": (
            f"lower min_posts_per_account (`ingest --min-posts`; now {config.min_posts_per_account})"
        ),
    }.get(filter_key, "relax the cleaning filters")


def mask_identifiers(posts: datasets.Dataset) -> datasets.Dataset:
    """`posts` with urls, e-mail addresses and @mentions masked and nothing else changed or dropped (but blank
    posts): what evidence reads, so an identifier is never shown as a shared habit, while the posts stay the ones a
    command read (a corpus ingested with `--no-strip-quotes` keeps its quotes)."""
    keep = {"unescape_html", "normalize_unicode", "normalize_whitespace", "strip_quotes", "drop_retweets"}
    return clean(posts, **dict.fromkeys(keep, False), dedupe_within_account=False)[0]


def _first_occurrences(group: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Boolean mask: True at the first occurrence of each value of `group` in the order of `rank` (each row's
    place in the corpus' canonical order: the oldest copy, then the lowest post id, whatever the file's order)."""
    order = np.argsort(rank, kind="stable")
    keep = np.zeros(len(group), dtype=bool)
    keep[order[np.unique(group[order], return_index=True)[1]]] = True  # np.unique: first-occurrence indices
    return keep


def _keyed_priority(columns: pa.Table, seed: int) -> np.ndarray:
    """One number in [0, 1) per row from a keyed hash of (account, post id): what a cap keeps of an account
    depends on its own posts alone, not on the file's order or on other accounts' posts (numbers drawn in
    sequence moved every later account's sample when one post was added anywhere before it)."""
    accounts = columns.column("account_id").to_pylist()
    ids = columns.column("post_id").to_pylist() if "post_id" in columns.column_names else [""] * len(accounts)
    key = str(int(seed)).encode()
    hashed = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(f"{a}\x1f{p}".encode(), digest_size=8, key=key).digest(), "little")
            for a, p in zip(accounts, ids, strict=True)
        ),
        dtype=np.uint64,
        count=len(accounts),
    )
    return hashed / 2.0**64


def _apply_filters(
    columns: pa.Table, config: CleanConfig, report: IngestReport
) -> tuple[np.ndarray, str | None]:
    """Row indices that survive every filter, and the filter that dropped the last posts (if none survive)."""
    n = columns.num_rows
    alive = np.arange(n)
    accounts = pc.dictionary_encode(columns.column("account_id")).combine_chunks().indices
    accounts = np.asarray(accounts.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    last_filter: str | None = None
    # Which copy of a repeated post stays follows the canonical order, not the file's (audit 15: a shuffled dump
    # kept other post ids, and every seeded draw of `evaluate` moved with them).
    rank = np.empty(n, dtype=np.int64)
    rank[canonical_order(columns)] = np.arange(n)

    def drop(filter_key: str, keep: np.ndarray) -> None:
        nonlocal alive, last_filter
        report.count_dropped(filter_key, int(len(alive) - keep.sum()))
        if len(alive) and not keep.any():
            last_filter = filter_key
        alive = alive[keep]

    if config.drop_retweets:
        drop("retweet", ~columns.column(_RETWEET).to_numpy()[alive])
    length = columns.column(_LENGTH).to_numpy()
    drop("empty", length[alive] > 0)
    if config.min_chars > 1:
        drop("too_short", length[alive] >= config.min_chars)
    if config.dedupe_within_account:
        drop("duplicate_in_account", _first_occurrences(columns.column(_KEY).to_numpy()[alive], rank[alive]))
    if config.min_posts_per_account > 1:
        per_account = np.bincount(accounts[alive] + 1)  # +1: null account ids (-1) get a bin too
        drop("account_below_min_posts", per_account[accounts[alive] + 1] >= config.min_posts_per_account)
    if config.max_posts_per_account is not None:
        priority = _keyed_priority(columns, config.seed)
        capped = rank_within_groups(accounts[alive], priority[alive]) < config.max_posts_per_account
        drop("over_cap_per_account", capped)
    report.posts_out = int(len(alive))
    kept = np.unique(accounts[alive])
    report.accounts_out = int(len(kept))
    emptied = np.setdiff1d(np.unique(accounts[accounts >= 0]), kept)
    if len(emptied):
        names = pc.dictionary_encode(columns.column("account_id")).combine_chunks().dictionary
        report.emptied_accounts |= {str(names[int(code)].as_py()) for code in emptied}
    return alive, last_filter


def clean(
    posts: datasets.Dataset,
    config: CleanConfig | None = None,
    *,
    report: IngestReport | None = None,
    progress: bool = False,
    **overrides,
) -> tuple[datasets.Dataset, IngestReport]:
    """Clean a canonical posts Dataset; returns the surviving posts (order kept) and the report.

    `overrides` are CleanConfig fields (`clean(posts, min_chars=20)`). Counts go into `report` (a new one when
    None): `changed[key]` = posts whose text a transform modified (one key per enabled transform, see
    TEXT_STEPS); `dropped[key]` = posts a filter removed (retweet, empty, too_short, duplicate_in_account,
    account_below_min_posts, over_cap_per_account), so len(posts) = posts_out + sum(dropped added here).
    Raises EmptyCorpusError when nothing survives, ValueError for an unknown option.
    """
    config = _resolve_config(config, overrides)
    report = report if report is not None else IngestReport()
    missing = [c for c in ("account_id", "text") if c not in posts.column_names]
    if missing:
        raise ValueError(f"posts lack column(s) {', '.join(missing)}; map them with authorid's readers first")
    if len(posts) == 0:
        raise EmptyCorpusError("cleaning got no posts: the input corpus is empty")

    steps = tuple(step for step in TEXT_STEPS if getattr(config, step[0]))
    helper_features = {
        _RETWEET: datasets.Value("bool"),
        _LENGTH: datasets.Value("int64"),
        _KEY: datasets.Value("int64"),
    }
    helper_features.update({_changed_column(key): datasets.Value("bool") for _, key, _ in steps})
    features = datasets.Features({**posts.features, **helper_features})
    with datasets_progress_bars(progress):
        mapped = posts.map(
            _clean_batch,
            batched=True,
            input_columns=["account_id", "text"],
            fn_kwargs={"steps": steps, "rules_digest": _RULES_DIGEST},
            features=features,
            desc="cleaning texts",
        )
    ordering = [key for key in CANONICAL_KEYS[1:] if key in mapped.column_names]  # account_id comes first
    columns = mapped.select_columns(["account_id", *ordering, *helper_features]).with_format("arrow")[:]
    for _, key, _ in steps:
        report.count_changed(key, int(pc.sum(columns.column(_changed_column(key))).as_py() or 0))

    alive, last_filter = _apply_filters(columns, config, report)
    if len(alive) == 0:
        hint = _relax_hint(last_filter, config)
        raise EmptyCorpusError(
            f"cleaning left no posts: filter '{last_filter}' removed the last ones; {hint}"
        )
    cleaned = mapped.remove_columns(list(helper_features))
    if len(alive) < len(cleaned):
        cleaned = cleaned.select(alive)
    logger.info(
        "cleaned %d posts -> %d posts of %d accounts (changed: %s; dropped: %s)",
        len(posts),
        report.posts_out,
        report.accounts_out,
        report.changed,
        report.dropped,
    )
    return cleaned, report
