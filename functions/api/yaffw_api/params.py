"""Reading request bodies and query parameters, with clean 400s for anything malformed.

Python's parsers are more generous than HTTP clients deserve: ``json.loads`` accepts ``NaN``,
``Infinity`` and integers of any length (which then fail deep inside asyncpg or arithmetic with a
500), and ``int()`` accepts ``١٢`` (Arabic-Indic digits), ``1_000`` and surrounding spaces. Both are
narrowed here to what JSON (RFC 8259) and a query integer really are.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from sanic import Request
from yaffw.errors import BadInput

MAX_JSON_BYTES = 1024 * 1024
# JSON integers are bounded to what PostgreSQL's bigint holds; anything larger is not a real value.
MAX_JSON_INT = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)


def _no_constant(name: str) -> Any:
    raise BadInput(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    # Checked on the text first: int() of thousands of digits is slow, or refused with ValueError.
    if len(text.lstrip("-")) > 19 or abs(value := int(text)) > MAX_JSON_INT:
        raise BadInput("a number in the body is too large")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise BadInput("a number in the body is too large")
    return value


def json_object(request: Request, *, allowed: Iterable[str] | None = None, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object. ``allowed`` lists the field names accepted (others are refused).

    :raises BadInput: no body, not JSON, too large or too deep, not an object, an unknown field.
    """
    body = request.body or b""
    if not body.strip():
        if empty_ok:
            return {}
        raise BadInput("a JSON object body is required")
    if len(body) > MAX_JSON_BYTES:
        raise BadInput("body is too large")
    try:
        value = json.loads(body, parse_constant=_no_constant, parse_int=_bounded_int, parse_float=_finite_float)
    except BadInput:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadInput("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadInput("body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise BadInput(f"unknown field {unknown[0][:64]!r}")
    return value


def parse_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """``raw`` as an integer within ``[low, high]`` (``default`` when absent). :raises BadInput: otherwise."""
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):  # ASCII digits only: int() would take "١٢", " 12", "1_2"
        raise BadInput(f"{name} must be an integer")
    value = int(raw)
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    return value


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``[low, high]``. :raises BadInput: otherwise."""
    return parse_int(name, request.args.get(name), default, low, high)


def args_dict(request: Request) -> dict[str, str]:
    """Query parameters, first value of each."""
    return {k: request.args.get(k) for k in request.args}
