"""Running the product's own `authorid` commands from a benchmark: timed, optionally with peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

AUTHORID = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "authorid")


@dataclass
class Run:
    seconds: float
    stdout: str
    peak_mb: int | None = None  # with peak=True: the command's peak resident memory (`/usr/bin/time -f %M`)

    def summary(self) -> dict:
        """The command's `--json` summary."""
        return json.loads(self.stdout)


def run_authorid(*args: str, peak: bool = False, echo: bool = True) -> Run:
    """Run `authorid ARGS`; stop the benchmark with the command's output when it fails. echo: print one line
    with its seconds (and peak MB)."""
    prefix = ["/usr/bin/time", "-f", "peak_kb=%M"] if peak else []
    start = time.perf_counter()
    done = subprocess.run([*prefix, AUTHORID, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"authorid {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak_mb = round(int(done.stderr.rsplit("peak_kb=", 1)[1].split()[0]) / 1024) if peak else None
    if echo:
        memory = f" {peak_mb:8,} MB" if peak_mb is not None else ""
        print(f"{seconds:7.1f} s{memory}  authorid {' '.join(args)}", flush=True)
    return Run(seconds=seconds, stdout=done.stdout, peak_mb=peak_mb)


def authorid_json(*args: str) -> dict:
    """The `--json` summary of `authorid ARGS` (run quietly: no timing line)."""
    return run_authorid(*args, "--json", echo=False).summary()


def write_jsonl(path: Path, records) -> None:
    """A corpus file for a command: one JSON record per line."""
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
