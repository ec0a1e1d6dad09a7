"""`machine()`: what a benchmark ran on, recorded beside every figure so numbers from two machines are never
compared as if they came from one.

A figure from a 2-core shared box and one from a GPU server differ by orders of magnitude; the load average at
the start says whether neighbours were competing for the cores while a run was timed.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from authorid.versions import library_versions

#: Distributions whose versions decide the speed of the code measured (name as pip knows it).
VERSIONED = ("torch", "transformers", "sentence-transformers", "faiss-cpu", "numpy", "onnxruntime")


def _cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (platform.processor() is often empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    """Total memory from /proc/meminfo (MemTotal, in kB), in GiB; None where there is no /proc."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _gpu() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def machine() -> dict:
    """CPU model, cores (usable by this process and in total), memory, load average now, versions, GPU.

    Call it when a measurement starts: `load_average_at_start` is the (1, 5, 15)-minute load at that moment.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores_usable": usable,
        "cores_total": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "torch_threads": _torch_threads(),
        "gpu": _gpu(),
        "versions": library_versions(VERSIONED),
    }


def short_description() -> str:
    """The machine in one line, with the load average now (shared machines slow wall times)."""
    info = machine()
    gpu = f", {info['gpu']}" if info.get("gpu") else ", no GPU"
    load = os.getloadavg()[0]
    return f"{info['cores_usable']} cores {info['cpu']}, {info['memory_gib']} GiB{gpu}, load {load:.1f}"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now (VmRSS), MiB; 0 for a process that is gone. Without /proc (not Linux),
    this process's peak (ru_maxrss) is the nearest figure there is."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        if pid == "self":
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return 0.0
