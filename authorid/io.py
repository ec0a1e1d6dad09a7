"""Writing files safely: atomic writes (a temporary file beside the target, then a rename) and JSON.

An interrupted run never leaves a half-written output behind; readers see the old file or the new one.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of every file authorid writes: read-write for all, less the process's umask (as `open` would give).
_FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` and rename the result onto `path`. Returns `path`.

    The temporary file is named after `path`, this host and this process; one left by a killed process on this
    host (a write that never reached its rename: SIGKILL, power loss) is removed by the next write of `path`,
    so killed runs do not fill the disk with hidden copies of large outputs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.{socket.gethostname()}-"
    _remove_orphans(path.parent, prefix)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, _FILE_MODE)  # mkstemp makes 0600; outputs get the user's usual mode (umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def _remove_orphans(folder: Path, prefix: str) -> None:
    """Temporary files `prefix`PID.*.tmp in `folder` whose process is gone. Only this host's (the prefix names
    it): on a shared file system another host's PIDs say nothing here."""
    for orphan in folder.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = orphan.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):  # another writer removed it first
                orphan.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def save_npy(path: Path, array) -> None:
    """`array` (numpy) as .npy at exactly `path`, no pickles: np.save appends .npy to names without it, so write
    through a file object to keep an atomic write's temporary name."""
    import numpy as np  # here: the rest of this module writes text and JSON, and loads without numpy

    with open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)` hook: numpy scalars and arrays as Python numbers and lists, paths as text."""
    import numpy as np

    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def dumps_json(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of `value` (UTF-8 kept as is; numpy values and paths converted, see `json_default`)."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=json_default)


def write_json(path: str | Path, value: Any, *, indent: int | None = 2) -> Path:
    """Write `value` as JSON to `path` atomically (a trailing newline); returns `path`."""
    return atomic_write_text(path, dumps_json(value, indent=indent) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
