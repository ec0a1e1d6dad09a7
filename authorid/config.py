"""Dataclass configs: built from nested dicts (a TOML file), changed by dotted overrides (`--optim.lr 3e-5`).

A config is a tree of dataclasses. `from_dict(cls, data)` builds one and refuses unknown keys, naming the valid
ones; `apply_overrides(config, {"optim.lr": "3e-5"})` sets leaves by dotted path, converting strings to the
field's type (int, float, bool, str, None, lists as ``4,8`` or JSON, dicts as JSON; a key under a dict field,
``loss.params.temperature``, sets one entry). `parse_overrides(["--optim.lr", "3e-5", "--run.cpu"])` turns the
extra arguments of a command line into such a mapping, as spaCy's ``--section.key value`` does.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from authorid.errors import AuthoridError

T = TypeVar("T")

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


class ConfigError(AuthoridError):
    """A config key that does not exist, or a value of the wrong type."""


def load_toml(path: str | Path) -> dict:
    """The TOML file as a dict; ConfigError naming the file when it is unreadable."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None


def valid_keys(cls: type) -> list[str]:
    """Every dotted leaf key of the dataclass tree `cls` (``["data.task", "optim.lr", ...]``)."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            keys += [f"{f.name}.{k}" for k in valid_keys(hint)]
        else:
            keys.append(f.name)
    return keys


def from_dict(cls: type[T], data: Mapping[str, Any] | None, *, where: str = "") -> T:
    """Build dataclass `cls` from nested `data`; missing keys keep their defaults, unknown keys raise."""
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"unknown config key {where}{unknown[0]}; valid keys: "
            + ", ".join(f"{where}{k}" for k in valid_keys(cls))
        )
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}{name} is a section; give a table, not {value!r}")
            kwargs[name] = from_dict(hint, value, where=f"{where}{name}.")
        else:
            kwargs[name] = coerce(value, hint, f"{where}{name}")
    return cls(**kwargs)


def to_dict(config: Any) -> dict:
    """The config tree as plain nested dicts (JSON-serialisable)."""
    return dataclasses.asdict(config)


def parse_overrides(args: Sequence[str]) -> dict[str, str | bool]:
    """``["--optim.lr", "3e-5", "--run.cpu", "--a.b=c"]`` -> ``{"optim.lr": "3e-5", "run.cpu": True, "a.b": "c"}``.

    A flag followed by another flag (or by nothing) means True. Anything that is not ``--key`` raises.
    """
    out: dict[str, str | bool] = {}
    i = 0
    args = list(args)
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise ConfigError(f"unexpected argument {arg!r}; overrides look like --section.key value")
        key, sep, value = arg[2:].partition("=")
        key = key.replace("-", "_")
        if sep:
            out[key] = value
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[key] = args[i + 1]
            i += 1
        else:
            out[key] = True
        i += 1
    return out


def apply_overrides(config: T, overrides: Mapping[str, Any]) -> T:
    """A copy of `config` with dotted keys set (values converted to each field's type)."""
    config = _deep_copy(config)
    for key, value in overrides.items():
        _set(config, key, value)
    return config


def _deep_copy(config: T) -> T:
    changes = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = _deep_copy(value)
        elif isinstance(value, dict | list):
            changes[f.name] = json.loads(json.dumps(value))
    return dataclasses.replace(config, **changes)


def _set(config: Any, key: str, value: Any) -> None:
    parts = key.split(".")
    node, root = config, config
    for depth, part in enumerate(parts):
        hints = typing.get_type_hints(type(node))
        if part not in hints:
            # Name the keys of the deepest section that exists: "optim.rate" lists optim.lr, optim.head_lr, ...
            prefix = "".join(f"{p}." for p in parts[:depth])
            valid = ", ".join(prefix + k for k in valid_keys(type(node)))
            raise ConfigError(f"unknown config key {key}; valid keys: {valid}")
        hint = hints[part]
        rest = parts[depth + 1 :]
        if dataclasses.is_dataclass(hint):
            if not rest:
                raise ConfigError(f"{key} is a section; set one of its keys ({', '.join(valid_keys(hint))})")
            node = getattr(node, part)
            continue
        if rest and _origin(hint) is dict:
            # A free-form table such as loss.params: the rest of the key names one entry.
            table = getattr(node, part)
            for name in rest[:-1]:
                table = table.setdefault(name, {})
            table[rest[-1]] = _literal(value) if isinstance(value, str) else value
            return
        if rest:
            raise ConfigError(f"unknown config key {key}; valid keys: {', '.join(valid_keys(type(root)))}")
        setattr(node, part, coerce(value, hint, key))
        return


def _origin(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    return typing.get_origin(hint) or hint


def _literal(text: str) -> Any:
    """A string from the command line as a TOML/JSON value when it parses as one, else the string itself."""
    lowered = text.strip().lower()
    if lowered in _TRUE - {"1"}:
        return True
    if lowered in _FALSE - {"0"}:
        return False
    if lowered in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def coerce(value: Any, hint: Any, key: str) -> Any:
    """`value` converted to type `hint` (str from a command line, or a TOML value); ConfigError if it cannot."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
            if type(None) in options:
                return None
            raise ConfigError(f"{key} cannot be None")
        errors = []
        # Try the narrower types first, so "8" becomes an int for `int | list[int]`.
        for option in sorted((o for o in options if o is not type(None)), key=_narrowness):
            try:
                return coerce(value, option, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}")
    if hint is Any:
        return _literal(value) if isinstance(value, str) else value
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {value!r}") from None
    if hint is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if hint is str:
        if isinstance(value, str | Path):
            return str(value)
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if origin in (list, tuple):
        (item,) = typing.get_args(hint)[:1] or (Any,)
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f"{key} must be a table (JSON object), got {value!r}") from None
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a table, got {value!r}")
        return dict(value)
    raise ConfigError(f"{key}: unsupported config type {hint!r}")  # pragma: no cover - a coding error


def _narrowness(hint: Any) -> int:
    order = {bool: 0, int: 1, float: 2, str: 9}
    return order.get(hint, 5)
