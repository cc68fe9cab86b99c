"""Reading request bodies and query parameters, with clean 400s for anything malformed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sanic import Request
from yaffw.errors import BadInput

MAX_JSON_BYTES = 1024 * 1024


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
        value = json.loads(body)
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
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    return value


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``[low, high]``. :raises BadInput: otherwise."""
    return parse_int(name, request.args.get(name), default, low, high)


def args_dict(request: Request) -> dict[str, str]:
    """Query parameters, first value of each."""
    return {k: request.args.get(k) for k in request.args}
