"""HTTP conditional and range requests for files (RFC 9110 §13, §14), without I/O.

:func:`plan` turns a file's size and mtime plus the request headers into what to send: 304, 416,
the whole file (200) or one byte range (206).

Decisions worth knowing:

- **Multiple ranges** (``bytes=0-1,5-6``) are answered with the whole file (200): RFC 9110 lets a
  server ignore Range, players never ask for several, and multipart/byteranges would cost a copy
  of every part for no client we serve.
- A **malformed** Range (other unit, garbage, ``last < first``) is ignored the same way (200);
  a well-formed one that misses the file (``first >= size``, ``bytes=-0``) is 416.
- **Absurd numbers** cannot hurt: only ASCII digits count (``\\d`` would accept ``١٢``), and a
  position longer than :data:`_MAX_DIGITS` digits is read as "beyond any file" without converting it
  (Python refuses to parse integers over 4300 digits, and would spend time on long ones): a first
  byte that far is 416, a last byte that far means "to the end".
- The **ETag** is strong and built from size and mtime only (not the inode), so every api replica
  that mounts the same media gives the same tag and ``If-Range`` keeps working across replicas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

_RANGE = re.compile(r"^[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$", re.IGNORECASE | re.ASCII)
_MAX_DIGITS = 18  # 10**18 bytes is an exabyte: no file is that large
_BEYOND = 10**_MAX_DIGITS


def _number(digits: str) -> int:
    """A byte position; anything too long to be real is :data:`_BEYOND` (larger than every file)."""
    digits = digits.lstrip("0") or "0"
    return _BEYOND if len(digits) > _MAX_DIGITS else int(digits)


@dataclass(frozen=True)
class Plan:
    """What to answer: ``status`` 200/206/304/416 and, for 200/206, the bytes to send."""

    status: int
    offset: int = 0
    length: int = 0
    headers: dict[str, str] | None = None


def etag(size: int, mtime: float) -> str:
    """Strong validator for a file version."""
    return f'"{size:x}-{int(mtime * 1_000_000):x}"'


def validators(size: int, mtime: float) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` headers for a file."""
    return {"ETag": etag(size, mtime), "Last-Modified": formatdate(int(mtime), usegmt=True)}


def _etags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _weak_match(header: str, tag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    bare = tag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == bare for t in _etags(header))


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def not_modified(headers: dict[str, str], size: int, mtime: float) -> bool:
    """True when a GET/HEAD may be answered 304 (If-None-Match, else If-Modified-Since)."""
    inm = headers.get("if-none-match")
    if inm is not None:
        return _weak_match(inm, etag(size, mtime))
    ims = headers.get("if-modified-since")
    if ims is not None:
        when = _http_date(ims)
        return when is not None and int(mtime) <= when
    return False


def _if_range_holds(value: str, size: int, mtime: float) -> bool:
    """If-Range: a strong ETag must match exactly, or the date must equal Last-Modified."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == etag(size, mtime)
    when = _http_date(value)
    return when is not None and when == int(mtime)


def parse_range(value: str, size: int) -> tuple[int, int] | bool | None:
    """``(offset, length)`` for one satisfiable range; ``None`` to ignore the header (send all);
    ``False`` when it is well-formed but unsatisfiable (416).
    """
    if "," in value:
        return None  # several ranges: whole file, see the module docstring
    match = _RANGE.match(value)
    if not match or (not match[1] and not match[2]):
        return None
    first, last = match[1], match[2]
    if first:
        start = _number(first)
        end = min(_number(last), size - 1) if last else size - 1
        if last and _number(last) < start:
            return None  # invalid range-spec: ignored
        if start >= size:
            return False
        return start, end - start + 1
    suffix = _number(last)
    if suffix == 0 or size == 0:
        return False
    length = min(suffix, size)
    return size - length, length


def plan(method: str, headers: dict[str, str], size: int, mtime: float) -> Plan:
    """Decide the answer for a GET or HEAD of a ``size``-byte file modified at ``mtime``.

    ``headers`` are the request's, with lower-case names.
    """
    base = {"Accept-Ranges": "bytes", **validators(size, mtime)}
    if not_modified(headers, size, mtime):
        return Plan(304, headers=base)
    value = headers.get("range")
    if value is not None and method in ("GET", "HEAD"):
        if_range = headers.get("if-range")
        if if_range is None or _if_range_holds(if_range, size, mtime):
            wanted = parse_range(value, size)
            if wanted is False:
                return Plan(416, headers={**base, "Content-Range": f"bytes */{size}"})
            if wanted is not None:
                offset, length = wanted
                content_range = f"bytes {offset}-{offset + length - 1}/{size}"
                return Plan(206, offset, length, {**base, "Content-Range": content_range})
    return Plan(200, 0, size, base)
