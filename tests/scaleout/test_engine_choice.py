"""Choosing the engine: `local` needs no Ray; a wrong choice or a missing Ray is one line saying what to do."""

from __future__ import annotations

import sys

import pytest

from authorid.scaleout import RayUnavailableError, check_engine, engine_session


def test_an_unknown_engine_or_an_address_without_ray_is_one_line():
    with pytest.raises(ValueError, match="--engine must be one of local, ray, got 'spark'"):
        check_engine("spark")
    with pytest.raises(ValueError, match="--ray-address is for --engine ray"):
        check_engine("local", "ray://head:10001")


def test_without_ray_installed_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RayUnavailableError, match=r'--engine ray needs Ray: pip install "authorid\[ray\]"'):
        check_engine("ray")
    with pytest.raises(RayUnavailableError), engine_session("ray"):
        pass


def test_the_local_engine_needs_no_ray(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with engine_session("local") as ray:
        assert ray is None
