"""Jellyfin 10.11's wire format (DESIGN §10): PascalCase JSON without nulls, GUIDs as 32 hex
digits, durations in 100 ns ticks, dates as .NET writes them. Conversions happen here, at the edge;
the domain code keeps UUID strings, seconds and ``datetime``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sanic.response import HTTPResponse, json
from yaffw.errors import BadInput, NotFound

TICKS_PER_SECOND = 10_000_000
SERVER_VERSION = "10.11.11"  # the Jellyfin API version yaffw speaks (clients check it)
PRODUCT_NAME = "Jellyfin Server"  # client discovery rejects any other name


def jf_id(value: Any) -> str | None:
    """A yaffw UUID (string or ``uuid.UUID``) as Jellyfin writes ids: 32 lower-case hex digits."""
    if value is None:
        return None
    return uuid.UUID(str(value)).hex


def parse_id(value: Any, what: str = "item", *, bad_input: bool = False) -> str:
    """A canonical UUID string from a Jellyfin id (with or without dashes, any case).

    :raises NotFound: for a malformed id in a path. :raises BadInput: with ``bad_input=True``.
    """
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        if bad_input:
            raise BadInput(f"{what} id is not a valid id") from None
        raise NotFound(f"{what} not found") from None


def parse_ids(value: str | None, what: str = "item") -> list[str]:
    """A comma-separated list of Jellyfin ids (``Ids=a,b``). :raises BadInput: for a bad one."""
    if not value:
        return []
    return [parse_id(v, what, bad_input=True) for v in value.split(",") if v.strip()]


def ticks(seconds: float | None) -> int | None:
    """Seconds as 100 ns ticks (``None`` stays ``None``)."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return round(seconds * TICKS_PER_SECOND)


def seconds(value: Any, name: str = "ticks") -> float | None:
    """100 ns ticks (int, or a numeric string from a query) as seconds.

    :raises BadInput: for anything that is not a non-negative integer below ~300 years.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadInput(f"{name} must be an integer")
    if isinstance(value, str):
        if not value.isascii() or not value.strip().lstrip("-").isdigit() or len(value) > 20:
            raise BadInput(f"{name} must be an integer")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < 10**17:
        raise BadInput(f"{name} must be a non-negative integer")
    return value / TICKS_PER_SECOND


def date(value: datetime | str | None) -> str | None:
    """A date as .NET's round-trip format in UTC (``2024-05-01T12:00:00.0000000Z``)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def now() -> str:
    """The current time in Jellyfin's date format."""
    return date(datetime.now(UTC)) or ""


_PLAIN = frozenset({str, int, float, bool, type(None)})


def clean(value: Any) -> Any:
    """``value`` without ``None`` members in any dict, recursively (Jellyfin omits nulls)."""
    # Exact types first, scalars not recursed into: a page of 100 DTOs is ~4,000 values, and the
    # ABC isinstance checks alone cost ~1.5 ms of CPU per page (loadtests/bench_jellyfin.py).
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _PLAIN else clean(v) for k, v in value.items() if v is not None}
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else clean(v) for v in value]
    if kind in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def reply(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A JSON response in Jellyfin's format (nulls omitted)."""
    return json(clean(value), status=status, headers=headers)


def query_result(items: list[dict[str, Any]], total: int, start_index: int = 0) -> HTTPResponse:
    """``{Items, TotalRecordCount, StartIndex}``, the shape of every Jellyfin list but a few."""
    return reply({"Items": items, "TotalRecordCount": total, "StartIndex": start_index})


def arg(request: Any, name: str) -> str | None:
    """A query parameter by Jellyfin's rules: names are case-insensitive (``userId``, ``UserId``)."""
    lower = name.lower()
    for key, values in request.args.items():
        if key.lower() == lower and values:
            return values[0]
    return None


def arg_list(request: Any, name: str) -> list[str]:
    """A list parameter: comma-separated and/or repeated (``Fields=A,B`` or ``Fields=A&Fields=B``)."""
    lower = name.lower()
    out: list[str] = []
    for key, values in request.args.items():
        if key.lower() == lower:
            for v in values:
                out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def arg_int(request: Any, name: str, default: int | None = None, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """An integer parameter. :raises BadInput: naming it, for non-ASCII digits or out of range."""
    raw = arg(request, name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        raise BadInput(f"{name} must be an integer")
    value = int(text)
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    return value


def arg_bool(request: Any, name: str) -> bool | None:
    """A boolean parameter (``true``/``false``, any case). :raises BadInput: for anything else."""
    raw = arg(request, name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise BadInput(f"{name} must be true or false")
