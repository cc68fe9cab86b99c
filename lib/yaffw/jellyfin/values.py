"""Jellyfin's value encodings, turned into Python values.

- GUIDs: ``library.db`` (10.8–10.10) binds ``System.Guid`` as a 16-byte BLOB in .NET's byte order
  (``Guid.ToByteArray``: the first three fields little-endian); EF Core's ``jellyfin.db`` stores
  them as TEXT (``3F2504E0-4F89-11D3-9A0C-0305E82C3301``). User-data keys and preferences use the
  ``D`` (dashed) or ``N`` (32 hex digits) string forms.
- Times: .NET ticks are 100 ns. Dates are TEXT: ``yyyy-MM-dd HH:mm:ss.FFFFFFFK`` in ``library.db``,
  ``yyyy-MM-dd HH:mm:ss.FFFFFFF`` (UTC, no zone) in EF Core's tables.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

TICKS_PER_SECOND = 10_000_000

_GUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def guid(value: object) -> uuid.UUID | None:
    """A GUID from a BLOB (.NET byte order) or a string in any of .NET's formats; None if absent
    or unreadable."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return uuid.UUID(bytes_le=raw) if len(raw) == 16 else None
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip().strip("{}"))
        except ValueError:
            return None
    return None


def guid_text(value: object) -> str | None:
    """Like :func:`guid` but as text PostgreSQL's uuid (and asyncpg) accepts, without building a
    ``uuid.UUID``: the readers' hot path, several times cheaper per row."""
    if isinstance(value, bytes):
        if len(value) != 16:
            return None
        # .NET byte order -> RFC 4122 order: reverse the first three fields
        return (value[3::-1] + value[5:3:-1] + value[7:5:-1] + value[8:]).hex()
    if isinstance(value, str):
        text = value.strip().strip("{}")
        return text if _GUID_TEXT.match(text) else None
    return None


def guid_blob(value: uuid.UUID) -> bytes:
    """The BLOB ``library.db`` stores for a GUID (.NET's ``Guid.ToByteArray``)."""
    return value.bytes_le


def ticks_to_seconds(ticks: int | None) -> float:
    """Seconds from .NET ticks; negative or missing values become 0."""
    if not ticks or ticks < 0:
        return 0.0
    return ticks / TICKS_PER_SECOND


def parse_date(value: object) -> datetime | None:
    """An aware UTC datetime from Jellyfin's TEXT dates (naive means UTC, as Jellyfin reads them);
    None if absent, unreadable or .NET's ``DateTime.MinValue``."""
    if value is None or not isinstance(value, str):
        return None
    try:  # the fast path: Jellyfin's own formats are ISO 8601 that fromisoformat reads (3.11+)
        dt = datetime.fromisoformat(value)
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return _parse_date_slow(value)
    return None if dt.year <= 1 else dt


def _parse_date_slow(value: str) -> datetime | None:
    m = _DATE.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
        if fraction:
            dt += timedelta(microseconds=int(fraction.ljust(7, "0")) // 10)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except (ValueError, OverflowError):
        return None
    if dt.year <= 1:  # DateTime.MinValue: "never"
        return None
    return dt


def format_date(value: datetime, *, zone: bool = True) -> str:
    """``value`` the way Jellyfin writes it (``library.db`` with ``Z``; EF Core without)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond * 10:07d}".rstrip("0")
    return text + ("Z" if zone else "")
