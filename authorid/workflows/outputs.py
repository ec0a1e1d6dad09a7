"""The CLI's checks of its output paths, and what a command leaves behind when it fails.

A module of its own, importing nothing heavy: every command settles its outputs when it ends (`settle_outputs`),
and reaching them through `workflows.common` loaded torch first, which added 4-5 s to `authorid ingest` after its
work was done, a window where an interrupt turned a finished run into exit 130 (audit 9). The checks are
`authorid.artefacts`' own, re-exported for the CLI, which imports the package through workflows only.
"""

from __future__ import annotations

from authorid import artefacts
from authorid.artefacts import check_output_file, check_output_folder

__all__ = ["check_output_file", "check_output_folder", "outputs_written", "settle_outputs"]


def outputs_written() -> list:
    """The outputs this command has written whole so far (`authorid.artefacts.outputs_written`)."""
    return artefacts.outputs_written()


def settle_outputs(failed: bool) -> None:
    """After a command: a failed one takes back the output folders its checks created and left empty
    (`authorid.artefacts.remove_empty_outputs`); a finished one keeps them."""
    if failed:
        artefacts.remove_empty_outputs()
    else:
        artefacts.forget_created_outputs()
