"""Choosing the engine and connecting to Ray."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator

import numpy as np

from authorid.errors import AuthoridError

ENGINES = ("local", "ray")
INSTALL_HINT = 'pip install "authorid[ray]"'
#: How long a HOST:PORT cluster address may take to accept a connection before `--engine ray` gives up.
CONNECT_TIMEOUT_S = 10


class RayUnavailableError(AuthoridError):
    """`--engine ray` without Ray installed, or with a cluster address that cannot be reached."""


def check_engine(engine: str, ray_address: str | None = None) -> None:
    """One line for an unknown engine, an address without `--engine ray`, or Ray not being installed."""
    if engine not in ENGINES:
        raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if ray_address and engine != "ray":
        raise ValueError("--ray-address is for --engine ray")
    if ray_address:
        host_and_port(ray_address)
    if engine == "ray":
        try:
            import ray  # noqa: F401  # only to tell whether the optional extra is installed
        except ImportError:
            raise RayUnavailableError(f"--engine ray needs Ray: {INSTALL_HINT}") from None


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[object]:
    """The `ray` module, connected: to `address` (a running cluster: "auto", "ray://host:10001", host:port),
    to the cluster this process is already connected to, or to a local one started here with `num_cpus`
    (default: all) and shut down when the block ends."""
    check_engine("ray")
    import ray

    started = False
    if not ray.is_initialized():
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
        # Ray's workers inherit this environment: keep tokenizers and OpenMP as quiet as the CLI keeps them.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        if address:
            check_reachable(address, where)
        # ray.init installs its own SIGTERM handler (exit at once, a C++ stack dump, outputs left half made):
        # keep the one this process had, so a scheduler's stop ends the job as Ctrl-C does.
        sigterm = signal.getsignal(signal.SIGTERM)
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=num_cpus, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RayUnavailableError(f"cannot connect to {where}: {' '.join(str(err).split())}") from None
        finally:
            if sigterm is not None:  # None: set from outside Python, nothing to put back
                with contextlib.suppress(ValueError):  # not the main thread: no handler was installed either
                    signal.signal(signal.SIGTERM, sigterm)
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def check_reachable(address: str, where: str) -> None:
    """One line when a HOST:PORT cluster address has nobody listening: `ray.init` would retry it for minutes,
    printing warnings. "auto" and ray:// addresses fail fast in `ray.init` itself."""
    parts = host_and_port(address)
    if parts is None:
        return
    try:
        socket.create_connection(parts, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise RayUnavailableError(f"cannot connect to {where}: {err.strerror or err}") from None


def host_and_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a HOST:PORT `--ray-address`; None for "auto" and ray:// addresses; one line for any
    other form."""
    if address == "auto" or "://" in address:
        return None
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"--ray-address {address!r}: expected auto, HOST:PORT (a cluster's GCS, port 6379 by default) or"
            " ray://HOST:10001"
        )
    return host.strip("[]"), int(port)


def cluster_cpus(ray) -> int:
    """CPUs of the connected cluster (at least 1): how many workers run at once."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@contextlib.contextmanager
def engine_session(engine: str = "local", ray_address: str | None = None) -> Iterator[object | None]:
    """None for the local engine; for "ray", the connected `ray` module (see `ray_session`)."""
    check_engine(engine, ray_address)
    if engine == "local":
        yield None
        return
    with ray_session(ray_address) as ray:
        yield ray


def row_spans(n: int, shards: int) -> list[tuple[int, int]]:
    """`shards` contiguous (start, stop) spans covering rows 0..n, as equal as can be (none empty)."""
    bounds = np.linspace(0, n, max(1, min(shards, n)) + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
