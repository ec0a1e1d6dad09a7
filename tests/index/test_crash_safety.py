"""An index rebuild or `index add` killed at any step leaves an index that works: the previous one until the new
generation is complete and switched in, the new one after. The kill is a real `os._exit` in a child process,
at each window of the write."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from authorid.index import build_index, load_index
from authorid.vectors import AccountVectors

REPO = Path(__file__).resolve().parents[2]
IDENTITY = {"name": "test-model", "kind": "neural", "dim": 8, "fingerprint": "abc"}


def vectors(n: int, prefix: str, seed: int) -> AccountVectors:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 8)).astype(np.float32)
    return AccountVectors(
        [f"{prefix}{i}" for i in range(n)], v / np.linalg.norm(v, axis=1, keepdims=True), np.ones(n)
    )


def kill_during_save(folder: Path, window: str, action: str) -> int:
    """Run a rebuild ("rebuild": 30 other vectors) or an add ("add": 5 more) of the index in `folder` in a child
    process that dies (os._exit) at `window`: after the vectors file ("vectors"), before the switch of
    index.json ("switch"), or after the switch, before the old generation is removed ("cleanup")."""
    script = textwrap.dedent(
        f"""
        import os, sys, shutil
        sys.path.insert(0, {str(REPO / "tests" / "index")!r})
        import numpy as np
        from pathlib import Path
        import authorid.index.base as base
        from authorid.index import build_index, load_index
        from test_crash_safety import IDENTITY, vectors

        window, folder = {window!r}, Path({str(folder)!r})
        real_atomic_write, real_text, real_rmtree = base.atomic_write, base.atomic_write_text, shutil.rmtree

        def atomic_write(path, write):
            out = real_atomic_write(path, write)
            if window == "vectors" and Path(path).name != "ids.parquet":
                os._exit(9)
            return out

        def atomic_write_text(path, text):
            if window == "switch":
                os._exit(9)
            return real_text(path, text)

        def rmtree(path, *args, **kwargs):
            if window == "cleanup":
                os._exit(9)
            return real_rmtree(path, *args, **kwargs)

        import authorid.index.exact as exact
        exact.atomic_write = atomic_write
        base.atomic_write_text = atomic_write_text
        base.shutil.rmtree = rmtree
        if {action!r} == "rebuild":
            index = build_index(vectors(30, "new", 2), kind="exact", model_identity=IDENTITY)
        else:
            index = load_index(folder)
            index.add(vectors(5, "more", 3))
        index.save(folder)
        """
    )
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True).returncode


@pytest.mark.parametrize("action", ["rebuild", "add"])
@pytest.mark.parametrize("window", ["vectors", "switch", "cleanup"])
def test_a_save_killed_at_any_step_leaves_a_whole_index(tmp_path, action, window):
    folder = tmp_path / "index"
    build_index(vectors(20, "old", 1), kind="exact", model_identity=IDENTITY).save(folder)
    assert kill_during_save(folder, window, action) == 9
    index = load_index(folder, model_identity=IDENTITY)
    expected = {"rebuild": 30, "add": 25}[action] if window == "cleanup" else 20
    assert len(index) == expected  # the old index before the switch, the new one after: never a mix
    meta = json.loads((folder / "index.json").read_text())
    assert index.ids[0] == ("new0" if action == "rebuild" and window == "cleanup" else "old0")
    assert (folder / meta["generation"] / "vectors.npy").is_file()
    # The next save removes whatever the crash left behind.
    build_index(vectors(3, "next", 4), kind="exact", model_identity=IDENTITY).save(folder)
    assert [p.name for p in folder.iterdir() if p.name.startswith("gen-")] == [
        json.loads((folder / "index.json").read_text())["generation"]
    ]
    assert len(load_index(folder)) == 3


def test_a_damaged_vectors_file_is_one_line_naming_it(tmp_path):
    folder = tmp_path / "index"
    build_index(vectors(20, "old", 1), kind="exact", model_identity=IDENTITY).save(folder)
    meta = json.loads((folder / "index.json").read_text())
    path = folder / meta["generation"] / "vectors.npy"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"vectors\.npy: 100 bytes, .*index\.json says .*damaged; rebuild"):
        load_index(folder)
    (folder / "index.json").write_text("{garbage")
    with pytest.raises(ValueError, match=r"index\.json: unreadable"):
        load_index(folder)
