"""Presets for known corpora: where the file lives and how its columns map onto the canonical schema.

A preset name can stand wherever a CORPUS path is expected (`authorid ingest reddit_college`), or name only the
column map for a file elsewhere (`--preset reddit_college`). `authorid corpora` lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CorpusPreset:
    name: str
    description: str
    relative_path: str  #: below the corpora folder (see `corpora_dirs`)
    columns: dict[str, str]  #: source column -> canonical column
    notes: str = ""
    aliases: tuple[str, ...] = field(default=())

    def locate(self) -> Path | None:
        """The corpus file, if it is on this machine."""
        for folder in corpora_dirs():
            candidate = folder / self.relative_path
            if candidate.exists():
                return candidate
        return None


# The bundled demo corpus ships inside the repository (corpora/enron_demo/); the four shared corpora are read
# from ../shared/corpora (or $AUTHORID_CORPORA) and never copied into the project.
PRESETS: dict[str, CorpusPreset] = {
    preset.name: preset
    for preset in (
        CorpusPreset(
            name="enron_demo",
            description="bundled demo: a sample of PAN 2011 Enron e-mails (see corpora/enron_demo/README.md)",
            relative_path="enron_demo/enron_demo.jsonl.gz",
            columns={"id": "post_id", "author": "account_id", "text": "text", "split": "split"},
        ),
        CorpusPreset(
            name="reddit_college",
            description="Reddit threads of 8 college subreddits, 2011-2022 (574,665 posts, 114,288 accounts)",
            relative_path="reddit_college/reddit_college.jsonl.gz",
            columns={
                "id": "post_id",
                "author": "account_id",
                "text": "text",
                "timestamp": "created_at",
                "thread": "thread_id",
                "parent": "parent_id",
                "source": "forum",
            },
            notes="markdown left as written: clean with quote stripping and masking (the defaults)",
            aliases=("reddit",),
        ),
        CorpusPreset(
            name="reuters_c50",
            description="Reuters C50 news, 50 authors x 100 texts, official train/test split in `split`",
            relative_path="reuters_c50/reuters_c50.jsonl.gz",
            columns={"id": "post_id", "author": "account_id", "text": "text", "split": "split"},
            aliases=("c50", "reuters"),
        ),
        CorpusPreset(
            name="blog50",
            description="Blog Authorship Corpus, 50 most prolific distinct bloggers (Blog10 = rank <= 10)",
            relative_path="blog50/blog50.jsonl.gz",
            columns={"id": "post_id", "author": "account_id", "text": "text", "timestamp": "created_at"},
            notes="`rank`, `gender`, `age`, `industry` are not canonical columns and are not read",
            aliases=("blog",),
        ),
        CorpusPreset(
            name="enron_pan11",
            description="PAN 2011 LargeTrain Enron e-mails (72 authors, 9,337 texts)",
            relative_path="enron_pan11/enron_pan11.jsonl.gz",
            columns={"id": "post_id", "author": "account_id", "text": "text", "split": "split"},
            aliases=("enron",),
        ),
    )
}


def corpora_dirs() -> list[Path]:
    """Folders searched for preset corpora, in order: $AUTHORID_CORPORA, ./corpora, ../shared/corpora, and the
    same two relative to the source checkout (so tests and the demo work from any working directory)."""
    dirs = []
    if os.environ.get("AUTHORID_CORPORA"):
        dirs += [Path(p) for p in os.environ["AUTHORID_CORPORA"].split(os.pathsep) if p]
    checkout = Path(__file__).resolve().parents[2]
    for root in (Path.cwd(), checkout):
        dirs += [root / "corpora", root.parent / "shared" / "corpora"]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def get_preset(name: str) -> CorpusPreset:
    """The preset called `name` (or one of its aliases). Raises ValueError listing the known presets."""
    for preset in PRESETS.values():
        if name == preset.name or name in preset.aliases:
            return preset
    raise ValueError(f"unknown corpus preset {name!r}; known presets: {', '.join(PRESETS)}")


def is_preset_name(name: str) -> bool:
    return any(name == p.name or name in p.aliases for p in PRESETS.values())
