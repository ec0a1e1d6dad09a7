"""Fixtures for encoder tests: one small MiniLM encoder and ~100 real Reddit posts, loaded once."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any Hugging Face import: tests never download

import pytest
from samples import raw_records


@pytest.fixture(scope="session")
def minilm32():
    """The bundled all-MiniLM-L6-v2 as a style encoder truncating at 32 tokens (fast on CPU)."""
    from authorid.encoders import build_style_encoder

    return build_style_encoder("minilm", max_seq_length=32, device="cpu")


@pytest.fixture(scope="session")
def reddit_texts() -> list[str]:
    """The texts of the first 100 Reddit posts (lengths from a few characters to thousands)."""
    return [r["text"] for r in raw_records("reddit", 100)]
