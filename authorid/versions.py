"""The versions of Python and of the libraries that shape a result, recorded beside every model and run."""

from __future__ import annotations

import platform
from importlib import metadata

#: Distributions whose version can change a vector, a metric or a file format.
LIBRARIES = (
    "authorid",
    "numpy",
    "torch",
    "transformers",
    "sentence-transformers",
    "accelerate",
    "scikit-learn",
    "datasets",
    "pyarrow",
    "faiss-cpu",
    "matplotlib",
)


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """{"python": ..., distribution: version} for each installed distribution of `names` (absent ones skipped).

    Read from the installed distributions' metadata, so nothing heavy is imported to ask.
    """
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
