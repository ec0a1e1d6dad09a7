"""Nothing reaches the network at run time, with or without the Makefile's HF_HUB_OFFLINE: the package sets
the Hugging Face libraries' offline switches itself. A training run (which writes a sentence-transformers
model card, the code that once asked the hub about the base model) is run with every connection attempt
recorded and refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

GUARD = textwrap.dedent(
    """
    import json, socket, sys
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network access refused by the test")

    socket.getaddrinfo = refuse
    socket.create_connection = refuse
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    """
)


@pytest.mark.slow
def test_a_training_run_makes_no_connection_without_the_offline_variables(tmp_path, tiny_base):
    script = GUARD + textwrap.dedent(
        f"""
        sys.path.insert(0, {str(REPO / "tests" / "training")!r})
        from tiny_model import TINY
        from authorid.data.readers import read_posts
        from authorid.workflows.train import train

        posts, _ = read_posts("enron_demo")
        train(posts, out={str(tmp_path / "model")!r}, base={tiny_base!r}, loss="supcon", max_steps=2,
              overrides={{**TINY, "run.eval_every": -1}})
        print(json.dumps(attempts))
        """
    )
    env = {k: v for k, v in os.environ.items() if "OFFLINE" not in k and not k.startswith("HF_")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert (tmp_path / "model" / "modules.json").is_file()
