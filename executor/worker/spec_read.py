"""Typed reads of the launch spec's fields (PROTOCOL.md "Launch spec"), for spec.py.

Every value of the wrong kind is a ValueError "launch spec: …" naming the field by its path
("training.globalBatch"), never a bare KeyError, TypeError or ZeroDivisionError, and never a
value silently made into another: int(8.7) ran a global batch of 8, bool("false") compiled a run
asked not to, and a count of 0 divided by zero in the checks after parsing.
"""
from __future__ import annotations

import json
import math
from typing import Any, Optional

# The launch spec's format version: executor/spec.ts SPEC_VERSION writes it, this worker reads it
# and no other (a spec of another paraplan's launcher may mean other things by the same fields).
SPEC_VERSION = 1

_REQUIRED = object()


def _name(sec: "Section", key: str) -> str:
    """The field's path: "training.globalBatch", or "device" at the top level."""
    return f"{sec.path}.{key}" if sec.path else key


def _shown(v: Any) -> str:
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


class Section(dict):
    """An object of the spec that names a missing required key by its path ("model.layers"),
    where a plain dict raised a bare KeyError('layers')."""

    def __init__(self, raw: Any, path: str):
        if not isinstance(raw, dict):
            raise ValueError(f"launch spec: \"{path}\" is not an object")
        super().__init__(raw)
        self.path = path

    def __missing__(self, key: str) -> Any:
        raise ValueError(f"launch spec: missing \"{_name(self, key)}\"")


def section(raw: dict[str, Any], key: str) -> Section:
    if raw.get(key) is None:
        raise ValueError(f"launch spec: missing \"{key}\"")
    return Section(raw[key], key)


def _present(sec: Section, key: str, required: bool) -> bool:
    """Whether the field has a value; absent or null is "missing" where it is required."""
    if sec.get(key) is not None:
        return True
    if required:
        raise ValueError(f"launch spec: missing \"{_name(sec, key)}\"")
    return False


def integer(sec: Section, key: str, default: Any = _REQUIRED, lo: int = 1) -> Any:
    """A whole number ≥ lo (a JSON number with no fraction; true/false and strings refused)."""
    if not _present(sec, key, default is _REQUIRED):
        return default
    v = sec[key]
    ok = (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if not ok or v < lo:
        raise ValueError(f"launch spec: \"{_name(sec, key)}\" must be an integer ≥ {lo}, got {_shown(v)}")
    return int(v)


def number(sec: Section, key: str, default: Any = _REQUIRED) -> Any:
    """A finite number > 0 (a learning rate, a timeout in seconds)."""
    if not _present(sec, key, default is _REQUIRED):
        return default
    v = sec[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"launch spec: \"{_name(sec, key)}\" must be a finite number > 0, got {_shown(v)}")
    return float(v)


def boolean(sec: Section, key: str, default: Any) -> Any:
    """true or false, as JSON writes them (the string "false" is not false)."""
    if not _present(sec, key, False):
        return default
    v = sec[key]
    if not isinstance(v, bool):
        raise ValueError(f"launch spec: \"{_name(sec, key)}\" must be true or false, got {_shown(v)}")
    return v


def text(sec: Section, key: str, default: Any = _REQUIRED) -> Any:
    if not _present(sec, key, default is _REQUIRED):
        return default
    v = sec[key]
    if not isinstance(v, str):
        raise ValueError(f"launch spec: \"{_name(sec, key)}\" must be a string, got {_shown(v)}")
    return v


def version(raw: dict[str, Any]) -> None:
    """The spec's `version` is the one this worker reads (SPEC_VERSION)."""
    v = raw.get("version")
    if v is None:
        raise ValueError(f"launch spec: missing \"version\" (this worker reads version {SPEC_VERSION}, "
                         "as paraplan execute and export write it)")
    if isinstance(v, bool) or not isinstance(v, int) or v != SPEC_VERSION:
        raise ValueError(f"launch spec: version {_shown(v)}, but this worker reads version {SPEC_VERSION}: "
                         "write the spec with the paraplan whose worker runs it")


def optional_integer(sec: Section, key: str, lo: int = 1) -> Optional[int]:
    return integer(sec, key, None, lo)
