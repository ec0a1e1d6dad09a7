"""Errors a user can cause. The CLI turns these into one-line messages and a non-zero exit, never a traceback."""

from __future__ import annotations


class AuthoridError(ValueError):
    """Base of all user-facing errors (a ValueError, so plain `except ValueError` also catches them)."""


class InputError(AuthoridError):
    """Unreadable or malformed input: the message names the file, the line and the field."""


class SplitError(AuthoridError):
    """A split that cannot be made as asked: unknown protocol or parameter, missing column, too few posts."""


class ProtocolError(AuthoridError):
    """An evaluation that cannot be run as asked: unknown protocol, too few accounts, a missing column."""
