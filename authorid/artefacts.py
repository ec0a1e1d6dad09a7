"""authorid's artefacts (a model, an index, a run folder): their file names, the one rule for writing outputs,
and the manifest that says an artefact folder is complete.

One overwrite rule for every command that writes: an output that exists is refused unless `--overwrite`; a
folder is only ever written into when it is new, empty, or an artefact of the same kind that authorid wrote
(its manifest says so) and `--overwrite` was given. A model folder never receives an index, a run folder never
a model, and a folder of the user's own files is never touched. The checks run before any work, together
with the check that the output can be written at all.

A manifest (`authorid-manifest.json`) is the last file written into an artefact folder: its kind, format
version, the model fingerprint it was made with, and the size and sha256 of every file. A folder without one
is incomplete (an interrupted write); `verify_manifest` refuses a damaged or edited one with one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from authorid.errors import AuthoridError
from authorid.io import atomic_write_text

#: A model folder: `authorid.json` (how it was made), `calibration.json` (cosine -> P(same person)).
METADATA_FILE = "authorid.json"
CALIBRATION_FILE = "calibration.json"
#: A trained model's loss head (class weights), its full split manifest and its training log.
LOSS_HEAD_FILE = "loss_head.safetensors"
SPLIT_MANIFEST_FILE = "split_manifest.json"
TRAIN_LOG_FILE = "train_log.jsonl"
#: A training run's checkpoints, inside its --out folder until the model is exported.
TRAINING_STATE_DIR = "training_state"
#: An evaluation run folder: metrics.json (every number), report.html, manifests/<protocol>.json.
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
MANIFEST_DIR = "manifests"

MANIFEST_FILE = "authorid-manifest.json"
MANIFEST_FORMAT = "authorid.artefact"
MANIFEST_VERSION = 1
KINDS = ("model", "index", "clusters", "evaluation", "demo", "evidence")
#: Files larger than this are checked by size only (hashing gigabytes of vectors at every load is too slow).
CHECKSUM_MAX_BYTES = 512 * 2**20


class ArtefactError(AuthoridError):
    """An output that may not be written, or an artefact folder that is incomplete, damaged or of another kind."""


#: File formats a command writes, with the name ending it needs (`check_output_file(writes=...)`).
FORMATS = {"CSV": ".csv", "JSON": ".json", "Parquet": ".parquet"}
#: Name endings of files, refused as the name of an output folder (a folder called clusters.csv surprises).
FILE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".gz", ".html", ".txt")


def check_output_file(
    path: str | Path,
    *,
    overwrite: bool,
    option: str = "--out",
    writes: tuple[str, str] | None = None,
    inputs: tuple[str | Path | None, ...] = (),
) -> Path:
    """Before any work: refuse an existing file unless `overwrite`, create the parent folder, and prove the
    folder is writable (by creating and removing a temporary file there). Returns the path.

    `writes`: (command, format) of what the command writes (a key of FORMATS), so a name promising another
    format is refused: CSV under `links.parquet` breaks whatever reads it next. `inputs`: the files the command
    reads; one of them as the output is refused, `overwrite` or not (`embed CORPUS -o CORPUS --overwrite`
    replaced the user's corpus with vectors, audit 9)."""
    path = Path(path)
    for given in inputs:
        if given is not None and Path(given).is_file() and path.exists() and path.samefile(given):
            raise ArtefactError(f"{option} {path} is a file this command reads; give another file name")
    if writes is not None:
        command, fmt = writes
        if path.suffix.lower() != FORMATS[fmt]:
            raise ArtefactError(f"{option} {path}: {command} writes {fmt}; name the file {FORMATS[fmt]}")
    if path.is_dir():
        raise ArtefactError(f"{option} {path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise ArtefactError(f"{option} {path} exists; pass {_overwrite(option)} to replace it")
    _writable(path.parent, option, path)
    _checked.append((path, "file", time.time()))
    return path


def _overwrite(option: str) -> str:
    """How to replace an output: a command's flag (`option` a flag, "--out") or a Python argument ("out")."""
    return "--overwrite" if option.startswith("-") else "overwrite=True"


def _a(kind: str) -> str:
    """'a model', 'an index', 'clusters', 'evidence': the kind with its article (none for a plural or a mass
    noun)."""
    if kind in ("clusters", "evidence"):
        return kind
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def check_output_folder(path: str | Path, *, kind: str, overwrite: bool, option: str = "--out") -> Path:
    """Before any work: a folder for a `kind` artefact. New or empty: fine. Holding a `kind` artefact authorid
    wrote: replaced only with `overwrite`. Anything else: refused, `overwrite` or not."""
    if kind not in KINDS:
        raise ValueError(f"unknown artefact kind {kind!r}")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ArtefactError(f"{option} {path} is a file; give a folder")
    if not path.exists() and path.suffix.lower() in FILE_SUFFIXES:
        raise ArtefactError(
            f"{option} {path}: the {kind} output is a folder; give a folder name, not a file's"
        )
    if path.is_dir() and any(path.iterdir()):
        found = artefact_kind(path)
        if found is None:
            raise ArtefactError(
                f"{option} {path} is a folder authorid did not write (no {MANIFEST_FILE}); give a new or empty folder"
            )
        if found != kind:
            raise ArtefactError(f"{option} {path} holds {_a(found)}, not {_a(kind)}; give another folder")
        if not overwrite:
            unfinished = kind != "index" and not (path / MANIFEST_FILE).is_file()
            unfinished = unfinished or (kind == "index" and not (path / "index.json").is_file())
            what = f"an unfinished {kind} (its writing stopped)" if unfinished else f"{_a(kind)} already"
            raise ArtefactError(f"{option} {path} holds {what}; pass {_overwrite(option)} to replace it")
    _writable(path, option, path)
    _checked.append((path, kind, time.time()))
    return path


def artefact_kind(folder: Path) -> str | None:
    """The kind a folder's manifest names (or what its files say it is, for folders written before manifests)."""
    manifest = folder / MANIFEST_FILE
    if manifest.is_file():
        try:
            return str(json.loads(manifest.read_text(encoding="utf-8")).get("kind"))
        except (OSError, json.JSONDecodeError, AttributeError):
            return "damaged artefact"
    if (folder / "index.json").is_file():  # an index keeps its own manifest: index.json
        return "index"
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if entries and all(p.is_dir() and re.fullmatch(r"gen-\d+", p.name) for p in entries):
        return "index"  # an index build stopped before its index.json, written last
    # Folders authorid wrote before manifests, recognised by what each kind always holds.
    for kind, marker in (("demo", "demo.json"), ("evaluation", METRICS_FILE), ("clusters", "clusters.jsonl")):
        if (folder / marker).is_file():
            return kind
    if any((folder / name).exists() for name in (METADATA_FILE, "modules.json", TRAINING_STATE_DIR)):
        return "model"  # a finished model, or a training run's folder before its model is exported
    return None


def write_manifest(
    folder: str | Path, kind: str, *, model: dict | None = None, leave_out: tuple[str, ...] = (), **extra
) -> Path:
    """Write the manifest of `folder` (last): kind, format, model identity, every file's size and sha256.
    `leave_out`: top-level names not listed (a training run's checkpoints, removed once the manifest is written)."""
    folder = Path(folder)
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE):
        relative = path.relative_to(folder).as_posix()
        if "/." in f"/{relative}":  # temporary files of a write in progress
            continue
        if relative.split("/", 1)[0] in leave_out:
            continue
        size = path.stat().st_size
        files[relative] = {"bytes": size, "sha256": file_sha256(path) if size <= CHECKSUM_MAX_BYTES else None}
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "kind": kind,
        "model": model,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
        **extra,
    }
    return atomic_write_text(
        folder / MANIFEST_FILE, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    )


def unfinished_training(folder: str | Path) -> bool:
    """Whether `folder` is a training run whose model was never finished: its checkpoints or its training log
    are there but not the manifest `authorid train` writes last (interrupted during training or export)."""
    folder = Path(folder)
    started = (folder / TRAINING_STATE_DIR).is_dir() or (folder / TRAIN_LOG_FILE).is_file()
    return started and not (folder / MANIFEST_FILE).is_file()


def has_checkpoint(folder: str | Path) -> bool:
    """Whether an unfinished training run in `folder` wrote a complete checkpoint that `authorid train --resume`
    continues from (`authorid.training.state.latest_checkpoint` picks it: checkpoints/checkpoint_N holding
    trainer_state.json, written last)."""
    return any((Path(folder) / TRAINING_STATE_DIR / "checkpoints").glob("checkpoint_*/trainer_state.json"))


def _read_manifest(path: Path) -> dict:
    """A manifest file's JSON, checked to be one; ArtefactError naming the file otherwise."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ArtefactError(f"{path}: unreadable ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ArtefactError(f"{path}: not an authorid manifest")
    return manifest


def refresh_manifest(folder: str | Path) -> Path | None:
    """Write the manifest of `folder` again after one of its files was replaced on purpose (a model's
    calibration.json by `authorid calibrate`), keeping its kind, model identity and other fields; None when the
    folder has no manifest. Without this, every later command refuses the folder as damaged."""
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None
    manifest = _read_manifest(path)
    kept = {
        k: v
        for k, v in manifest.items()
        if k not in ("format", "version", "kind", "model", "created", "files")
    }
    return write_manifest(folder, str(manifest.get("kind")), model=manifest.get("model"), **kept)


def verify_manifest(folder: str | Path, kind: str | None = None, *, required: bool = False) -> dict | None:
    """The manifest of `folder`, checked: right kind, every file present with its size and checksum. None when
    there is none and it is not `required` (folders written before manifests). ArtefactError naming the file."""
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        if required:
            raise ArtefactError(
                f"{folder}: no {MANIFEST_FILE}, so its writing never finished; write it again"
            )
        return None
    manifest = _read_manifest(path)
    if kind is not None and manifest.get("kind") != kind:
        raise ArtefactError(f"{folder} holds {_a(str(manifest.get('kind')))}, not {_a(kind)}")
    for name, expected in (manifest.get("files") or {}).items():
        file = folder / name
        if not file.is_file():
            raise ArtefactError(
                f"{file}: missing (listed in {MANIFEST_FILE}); the {kind or 'artefact'} is incomplete"
            )
        size = file.stat().st_size
        if size != expected.get("bytes"):
            raise ArtefactError(
                f"{file}: {size:,} bytes, {MANIFEST_FILE} says {expected.get('bytes'):,}; the file is damaged"
            )
        if expected.get("sha256") and file_sha256(file) != expected["sha256"]:
            raise ArtefactError(
                f"{file}: its checksum differs from {MANIFEST_FILE}; the file is damaged or edited"
            )
    return manifest


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks (manifests and the packaged model's card list it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: Folders the output checks created (the top one of each new chain), so that a command that then fails can
#: take back those it left empty (`remove_empty_outputs`): a failed `compress` left its empty model folder.
_created: list[Path] = []
#: The outputs this command checked (path, kind: "file" or an artefact kind, when): `outputs_written` says
#: which were complete when it stopped.
_checked: list[tuple[Path, str, float]] = []


def forget_created_outputs() -> None:
    """Start a command: no output folder created yet."""
    _created.clear()
    _checked.clear()


def outputs_written() -> list[Path]:
    """The outputs this command checked that it has since written whole (a file renamed into place; a folder
    with its manifest, or an index with its index.json): a command stopped after writing them says so, rather
    than a bare "terminated" over a finished output (audit 9)."""
    done: dict[Path, None] = {}  # a command and its workflow may check one output twice
    for path, kind, checked_at in _checked:
        last = path if kind == "file" else path / ("index.json" if kind == "index" else MANIFEST_FILE)
        with contextlib.suppress(OSError):
            if last.is_file() and last.stat().st_mtime >= checked_at:
                done[path] = None
    return list(done)


def remove_empty_outputs() -> None:
    """After a failed command: remove each folder the output checks created that still holds no file."""
    _checked.clear()
    while _created:
        top = _created.pop()
        if top.is_dir() and not any(p.is_file() or p.is_symlink() for p in top.rglob("*")):
            for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
                folder.rmdir()
            top.rmdir()


def _writable(folder: Path, option: str, target: Path) -> None:
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if missing:
            _created.append(missing[-1])
        fd, probe = tempfile.mkstemp(prefix=".authorid-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise ArtefactError(
            f"{option} {target}: {folder} cannot be created: a file of that name is in the way"
        ) from None
    except OSError as err:
        raise ArtefactError(f"{option} {target}: cannot write there ({err.strerror or err})") from None
