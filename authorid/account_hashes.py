"""A model's training accounts, kept as salted hashes: enough to recognise them, not enough to list them.

A trained model folder holds `training_accounts.json`: a random salt and, for every account that trained or
validated it, the first 16 hex digits of sha256(salt + account id). `evaluate` recognises those accounts in a
corpus and leaves them out (a model scored on the authors it learned would look better than it is); nobody can
read the names back (with 64 bits per account, a wrong name matches by chance about once in 10^19 tries).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from authorid.errors import AuthoridError
from authorid.io import read_json, write_json

TRAINING_ACCOUNTS_FILE = "training_accounts.json"
FORMAT = "authorid.account-hashes"
HEX_DIGITS = 16


class AccountHashesError(AuthoridError):
    """A training_accounts.json that is not one authorid wrote."""


def account_hashes(ids: Iterable, salt: str) -> list[str]:
    """The salted hash of each account id (as text), in order."""
    prefix = salt.encode()
    return [
        hashlib.sha256(prefix + str(i).encode("utf-8", "surrogatepass")).hexdigest()[:HEX_DIGITS] for i in ids
    ]


def write_training_accounts(
    folder: str | Path, ids: Iterable, *, salt: str | None = None, inherit: str | Path | None = None
) -> Path:
    """Write `folder/training_accounts.json` for these account ids (sorted hashes; a fresh salt unless given).

    `inherit`: the folder of a model this one was made from (adapted by `train --base`, projected by `compress`):
    its training accounts are this model's too, so they are kept, hashed with its salt so one file recognises
    both; nothing is inherited when it records none."""
    record = None
    if inherit is not None and (Path(inherit) / TRAINING_ACCOUNTS_FILE).is_file():
        record = read_json(Path(inherit) / TRAINING_ACCOUNTS_FILE)
    inherited: set[str] = set()
    if isinstance(record, dict) and isinstance(record.get("hashes"), list) and record.get("salt"):
        salt, inherited = str(record["salt"]), set(record["hashes"])
    salt = salt or secrets.token_hex(16)
    hashes = sorted(inherited | set(account_hashes(ids, salt)))
    path = Path(folder) / TRAINING_ACCOUNTS_FILE
    write_json(path, {"format": FORMAT, "salt": salt, "accounts": len(hashes), "hashes": hashes}, indent=None)
    return path


def training_accounts_mask(folder: str | Path, ids: Iterable) -> np.ndarray | None:
    """For each id, True when the model in `folder` trained or validated on it; None when the folder records no
    training accounts (an untrained or older model)."""
    path = Path(folder) / TRAINING_ACCOUNTS_FILE
    if not path.is_file():
        return None
    try:
        record = read_json(path)
    except (OSError, ValueError) as err:
        raise AccountHashesError(f"{path}: unreadable ({err})") from None
    if (
        not isinstance(record, dict)
        or record.get("format") != FORMAT
        or not isinstance(record.get("hashes"), list)
    ):
        raise AccountHashesError(f"{path}: not an authorid training-accounts file")
    known = set(record["hashes"])
    return np.array([h in known for h in account_hashes(ids, str(record["salt"]))], dtype=bool)
