"""Starting Ray keeps this process's SIGTERM handler: `ray.init` installs its own (exit at once, a C++ stack dump,
half-made outputs left behind), and the CLI's turns SIGTERM into "terminated" and exit 143 as Ctrl-C's does.
Starts a one-CPU local Ray cluster of its own, hence `slow`."""

from __future__ import annotations

import signal

import pytest

from authorid.scaleout import engine_session

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_the_sigterm_handler_in_place_before_ray_starts_is_the_one_in_place_after():
    def stop(signum, frame):  # noqa: ARG001 - the signal module's signature
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, stop)
    try:
        assert not ray.is_initialized()
        with engine_session("ray") as connected:
            assert connected.is_initialized()
            assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, before)
