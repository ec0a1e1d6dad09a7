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


def test_a_cluster_address_in_another_form_is_one_line_before_any_work():
    with pytest.raises(
        ValueError, match=r"--ray-address 'head': expected auto, HOST:PORT .* or ray://HOST:10001"
    ):
        check_engine("ray", "head")
    check_engine("ray", "auto")
    check_engine("ray", "ray://head:10001")
    check_engine("ray", "[::1]:6379")


def test_a_cluster_address_nobody_listens_on_fails_at_once_not_after_minutes_of_retries():
    """`ray.init` retries an address with no GCS behind it for minutes; the port is tried first."""
    pytest.importorskip("ray")
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        pytest.raises(RayUnavailableError, match=rf"cannot connect to the Ray cluster at 127.0.0.1:{port}: "),
        engine_session("ray", f"127.0.0.1:{port}"),
    ):
        pass
