"""Turn a trained model folder into a packaged model: only what loading needs, no user names, a card with
checksums.

`package_model(trained, dest)` copies the weights, calibration and training-account hashes, rewrites
`authorid.json` without local paths, writes a model card (README.md) that lists every shipped file's sha256,
and writes the manifest last. Never shipped: `split_manifest.json` (it names the validation accounts), the
training log and checkpoints.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from authorid.account_hashes import TRAINING_ACCOUNTS_FILE
from authorid.artefacts import CALIBRATION_FILE, MANIFEST_FILE, METADATA_FILE, file_sha256, write_manifest
from authorid.io import atomic_write_text, read_json, write_json
from authorid.model import load_model

#: What a packaged n-gram model holds besides authorid.json, README.md and the manifest.
SHIPPED_FILES = (
    "ngram.json",
    "ngram.safetensors",
    CALIBRATION_FILE,
    TRAINING_ACCOUNTS_FILE,
    "training_curves.png",
)
CARD_FILE = "README.md"


def package_model(trained: str | Path, dest: str | Path, *, name: str, card: str, source: str) -> Path:
    """Write packaged model `name` into `dest` (replaced) from the trained folder `trained`.

    `card` is the model card's Markdown; a table of the shipped files' sizes and sha256 is appended. `source`
    describes the training corpus in place of the local path recorded at training time."""
    trained, dest = Path(trained), Path(dest)
    staging = dest.with_name(f".{dest.name}.packaging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for file in SHIPPED_FILES:
        if (trained / file).is_file():
            shutil.copy2(trained / file, staging / file)
    if (staging / CALIBRATION_FILE).is_file():
        write_json(
            staging / CALIBRATION_FILE, scrubbed_calibration(read_json(staging / CALIBRATION_FILE), name)
        )
    write_json(staging / METADATA_FILE, scrubbed_metadata(read_json(trained / METADATA_FILE), source=source))
    atomic_write_text(staging / CARD_FILE, card.rstrip() + "\n\n" + checksum_table(staging) + "\n")
    write_manifest(staging, "model", model={**load_model(staging).identity(), "name": name})
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return dest


def scrubbed_metadata(meta: dict, *, source: str) -> dict:
    """`authorid.json` without this machine's paths (corpus file, counts cache)."""
    meta = dict(meta)
    meta["data"] = {**meta["data"], "source": source}
    config = {**meta.get("config", {})}
    config["data"] = {**config.get("data", {}), "corpus": None}
    config["ngram"] = {**config.get("ngram", {}), "counts_cache": None}
    meta["config"] = config
    if meta.get("ngram"):
        meta["ngram"] = {**meta["ngram"], "counts_cache": None}
    return meta


def scrubbed_calibration(calibration: dict, name: str) -> dict:
    """`calibration.json` naming the model by its packaged name, not the folder it was trained in (its cohort
    fit's too)."""
    info = calibration.get("info", {})
    if isinstance(info.get("model"), dict):
        calibration = {**calibration, "info": {**info, "model": {**info["model"], "name": name}}}
    if isinstance(calibration.get("cohort"), dict):
        calibration = {**calibration, "cohort": scrubbed_calibration(calibration["cohort"], name)}
    return calibration


def checksum_table(folder: Path) -> str:
    """The '## Files' section: every file but the card and the manifest, with its size and sha256."""
    rows = ["## Files", "", "| file | bytes | sha256 |", "|---|---|---|"]
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in (CARD_FILE, MANIFEST_FILE):
            rows.append(f"| `{path.name}` | {path.stat().st_size:,} | `{file_sha256(path)}` |")
    return "\n".join(rows)
