"""`authorid.io.atomic_write`: the final name is never half-written, and a temporary file left by a killed writer
is removed by the next write of the same file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from authorid.io import atomic_write, atomic_write_text


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "vectors.parquet"
    killed = textwrap.dedent(
        f"""
        import os
        from authorid.io import atomic_write

        def write(tmp):
            tmp.write_bytes(b"half of a large file")
            os._exit(9)  # killed before the rename

        atomic_write({str(target)!r}, write)
        """
    )
    assert subprocess.run([sys.executable, "-c", killed], check=False).returncode == 9
    orphans = list(tmp_path.glob(".vectors.parquet.*.tmp"))
    assert len(orphans) == 1 and not target.exists()  # the final name never holds half a file
    host = socket.gethostname()
    live = tmp_path / f".vectors.parquet.{host}-{os.getpid()}.abc.tmp"  # a write in progress here
    elsewhere = tmp_path / ".vectors.parquet.another-host-1.abc.tmp"  # another host's, on a shared disk
    for kept in (live, elsewhere):
        kept.write_bytes(b"in progress")
    atomic_write_text(target, "whole")
    assert target.read_text() == "whole"
    assert sorted(p.name for p in tmp_path.glob(".*.tmp")) == sorted([live.name, elsewhere.name])


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary_one(tmp_path):
    def fails(tmp):
        tmp.write_text("partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "out.json", fails)
    assert list(tmp_path.iterdir()) == []
