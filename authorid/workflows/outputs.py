"""The CLI's checks of its output paths, and what a command leaves behind when it fails.

A module of its own, importing nothing heavy: every command settles its outputs when it ends (`settle_outputs`),
and reaching them through `workflows.common` loaded torch first, which added 4-5 s to `authorid ingest` after its
work was done, a window where an interrupt turned a finished run into exit 130 (audit 9).
"""

from __future__ import annotations

from pathlib import Path

from authorid import artefacts


def check_output_file(
    path: str | Path,
    *,
    overwrite: bool,
    option: str = "--out",
    writes: tuple[str, str] | None = None,
    inputs: tuple[str | Path | None, ...] = (),
) -> Path:
    """`authorid.artefacts.check_output_file`, for the CLI (which imports workflows only)."""
    return artefacts.check_output_file(path, overwrite=overwrite, option=option, writes=writes, inputs=inputs)


def settle_outputs(failed: bool) -> None:
    """After a command: a failed one takes back the output folders its checks created and left empty
    (`authorid.artefacts.remove_empty_outputs`); a finished one keeps them."""
    if failed:
        artefacts.remove_empty_outputs()
    else:
        artefacts.forget_created_outputs()


def check_output_folder(path: str | Path, *, kind: str, overwrite: bool, option: str = "--out") -> Path:
    """`authorid.artefacts.check_output_folder`, for the CLI (which imports workflows only)."""
    return artefacts.check_output_folder(path, kind=kind, overwrite=overwrite, option=option)
