"""A tiny BERT (2 layers, hidden 32) with the MiniLM tokenizer, saved once per session: training tests need
no big weights and run in seconds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tiny_model.py, also used by tests/cli/test_train_cli.py
from tiny_model import make_tiny_base  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> str:
    return make_tiny_base(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def demo_posts():
    """The bundled enron_demo corpus (960 e-mails, 40 authors, no timestamps)."""
    from authorid.data.readers import read_posts

    posts, _ = read_posts("enron_demo")
    return posts
