"""What can stop a training run, as one-line errors (the CLI prints them, never a traceback)."""

from __future__ import annotations

from authorid.errors import AuthoridError


class TrainingError(AuthoridError):
    """A run that cannot start or go on as asked: existing output, nothing to resume, out of memory."""


class TrainingDataError(AuthoridError):
    """Posts that cannot train what was asked: too few accounts or posts."""
