"""Data-parallel training: 2 CPU processes (gloo) under torch.distributed.run keep identical weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("ddp_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_keep_identical_weights(tmp_path, tiny_base):
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
        str(_free_port()), str(WORKER), tiny_base, str(out),
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads(Path(f"{out}.rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["world_size"] == ranks[1]["world_size"] == 2
    assert ranks[0]["digest"] == ranks[1]["digest"]
    meta = json.loads((out / "authorid.json").read_text())
    assert meta["training"]["world_size"] == 2 and meta["training"]["steps"] == 3
    # Each step sees 4 accounts per process: 2 x 4 x 2 episodes.
    assert meta["training"]["episodes_seen"] == 3 * 2 * 4 * 2
    start = load_file(str(Path(tiny_base) / "model.safetensors"))
    trained = load_file(str(out / "model.safetensors"))
    name = "encoder.layer.0.attention.self.query.weight"  # same key in both: ST saves the bare BertModel
    assert not torch.equal(start[name], trained[name])  # it trained
