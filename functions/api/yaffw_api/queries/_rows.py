"""Row conversion and id parsing shared by the query modules."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import asyncpg
from yaffw.errors import BadInput, NotFound

Conn = asyncpg.Pool | asyncpg.Connection


# Types JSON takes as they are. Checked by exact type first: a page of 100 items is ~3,000 values and
# the isinstance chain below (ABC checks) cost ~2 ms of CPU per page (loadtests/bench_jellyfin.py).
PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """``value`` with UUIDs and datetimes turned into strings, recursively through lists and dicts."""
    if type(value) in PLAIN:
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def row_dict(row: asyncpg.Record | Mapping[str, Any]) -> dict[str, Any]:
    """One database row as a JSON-ready dict."""
    return {k: v if type(v) in PLAIN else jsonable(v) for k, v in row.items()}


def parse_id(value: Any, what: str = "item", *, bad_input: bool = False) -> str:
    """A canonical UUID string from ``value`` (dashes optional, as Jellyfin clients send them).

    :raises NotFound: for a malformed path id (ids do not leak whether they exist).
    :raises BadInput: instead, with ``bad_input=True`` (query and body parameters).
    """
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        return str(uuid.UUID(value))
    except ValueError:
        if bad_input:
            raise BadInput(f"{what}_id must be a UUID") from None
        raise NotFound(f"{what} not found") from None


def clean_text(value: Any, field: str, *, max_len: int = 1000, allow_empty: bool = False) -> str:
    """``value`` as text PostgreSQL will accept. :raises BadInput: wrong type, too long, NUL, bad UTF-8."""
    if not isinstance(value, str):
        raise BadInput(f"{field} must be a string")
    if not allow_empty and not value.strip():
        raise BadInput(f"{field} must not be empty")
    if len(value) > max_len:
        raise BadInput(f"{field} is longer than {max_len} characters")
    if "\x00" in value:
        raise BadInput(f"{field} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{field} is not valid Unicode") from None
    return value


class Args:
    """Numbered query parameters: ``a.add(v)`` returns ``$n`` for the SQL text."""

    def __init__(self, *initial: Any):
        self.values: list[Any] = list(initial)

    def add(self, value: Any) -> str:
        """Append ``value``; its placeholder."""
        self.values.append(value)
        return f"${len(self.values)}"
