"""`corpora`: the corpus presets a CORPUS argument may name, and where their files are on this machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from authorid.data.presets import PRESETS, corpora_dirs


@dataclass
class PresetLocation:
    name: str
    aliases: tuple[str, ...]
    description: str
    columns: dict[str, str]  #: source column -> canonical column
    path: Path | None  #: the preset's file here, None when it is not on this machine


def corpora() -> list[PresetLocation]:
    """Every corpus preset with its column map and the file it resolves to here (None when absent)."""
    return [
        PresetLocation(
            name=preset.name,
            aliases=tuple(preset.aliases),
            description=preset.description,
            columns=dict(preset.columns),
            path=preset.locate(),
        )
        for preset in PRESETS.values()
    ]


def searched_folders() -> list[Path]:
    """The folders a preset's file is looked for in, in order ($AUTHORID_CORPORA's first)."""
    return corpora_dirs()
