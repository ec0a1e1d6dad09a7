"""What a run keeps of itself: `train_log.jsonl`, one JSON line per optimizer step and per validation."""

from __future__ import annotations

import json
import time
from pathlib import Path

from authorid.artefacts import TRAIN_LOG_FILE

LOG_FILE = TRAIN_LOG_FILE


class TrainLog:
    """Append-only JSON lines: one record per optimizer step (``kind: "step"``) and per validation
    (``kind: "eval"``). On resume, records past the checkpoint's step are dropped, so the log reads as one run."""

    def __init__(self, out: Path, *, enabled: bool = True, resume_step: int | None = None):
        self.path = out / LOG_FILE
        self.enabled = enabled
        if not enabled:
            return
        if resume_step is not None and self.path.is_file():
            kept = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
            kept = [line for line in kept if json.loads(line).get("step", 0) <= resume_step]
            self.path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        elif resume_step is None and self.path.exists():
            self.path.unlink()

    def write(self, record: dict) -> None:
        if self.enabled:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({**record, "time": round(time.time(), 3)}) + "\n")


def read_log(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
