"""Typed fields of the playback bodies Jellyfin clients post (``PlaybackInfoDto``, ``PlaybackStartInfo``,
``PlaybackProgressInfo``, ``PlaybackStopInfo``) and of their query-string twins, with clean 400s.

Field names are matched case-insensitively (clients post PascalCase, some camelCase); fields yaffw
does not use are ignored, as Jellyfin ignores what it does not bind.
"""

from __future__ import annotations

from typing import Any

from sanic import Request
from yaffw.errors import BadInput

from yaffw_api.jellyfin import wire
from yaffw_api.params import json_object


def body(request: Request) -> dict[str, Any]:
    """The JSON object body (empty when none), keys lower-cased. :raises BadInput: not a JSON object."""
    return {str(k).lower(): v for k, v in json_object(request, empty_ok=True).items()}


def integer(fields: dict[str, Any], name: str, low: int = 0, high: int = 2**63 - 1) -> int | None:
    """An integer field (``None`` when absent or null). :raises BadInput: another type or out of range."""
    value = fields.get(name.lower())
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"{name} must be an integer between {low} and {high}")
    return value


def boolean(fields: dict[str, Any], name: str) -> bool | None:
    """A boolean field (``None`` when absent or null). :raises BadInput: another type."""
    value = fields.get(name.lower())
    if value is not None and not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false")
    return value


def string(fields: dict[str, Any], name: str, limit: int = 256) -> str | None:
    """A string field (``None`` when absent, null or empty). :raises BadInput: another type or too long."""
    value = fields.get(name.lower())
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadInput(f"{name} must be a string of at most {limit} characters")
    return value


def ticks_seconds(fields: dict[str, Any], name: str) -> float | None:
    """A ticks field (``PositionTicks``...) as seconds. :raises BadInput: not a non-negative integer."""
    return wire.seconds(integer(fields, name, 0, 10**17 - 1), name)


def merged(request: Request, fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``fields`` with the query's value for each of ``names`` on top (Jellyfin binds the query first),
    converted to the JSON type the body would have (numbers, booleans)."""
    out = dict(fields)
    for name in names:
        raw = wire.arg(request, name)
        if raw is None or raw == "":
            continue
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            out[name.lower()] = lowered == "true"
        elif lowered.isascii() and lowered.lstrip("-").isdigit() and len(lowered) < 20:
            out[name.lower()] = int(lowered)
        else:
            out[name.lower()] = raw
    return out
