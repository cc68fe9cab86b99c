"""CloudEvents 1.0 for yaffw (DESIGN §4): build, validate, parse (binary and structured HTTP
modes), and append to the Redis stream ``events``.

An event is a ``cloudevents.http.CloudEvent``. Every entry in the stream holds one structured-mode
JSON document under the field ``event``.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudevents.conversion import to_structured
from cloudevents.exceptions import GenericException as _CloudEventsError
from cloudevents.http import CloudEvent, from_http

from yaffw.errors import BadInput

# Event types the code emits or handles. The manifest tests check every Trigger against this.
SCAN_REQUESTED = "io.yaffw.library.scan.requested"
SCAN_PROGRESS = "io.yaffw.library.scan.progress"
SCAN_COMPLETED = "io.yaffw.library.scan.completed"
ITEM_ADDED = "io.yaffw.media.item.added"
ITEM_UPDATED = "io.yaffw.media.item.updated"
ITEM_REMOVED = "io.yaffw.media.item.removed"
PLAYBACK_STARTED = "io.yaffw.playback.started"
PLAYBACK_STOPPED = "io.yaffw.playback.stopped"
LEASE_TICK = "io.yaffw.lease.tick"

KNOWN_TYPES = frozenset(
    {
        SCAN_REQUESTED,
        SCAN_PROGRESS,
        SCAN_COMPLETED,
        ITEM_ADDED,
        ITEM_UPDATED,
        ITEM_REMOVED,
        PLAYBACK_STARTED,
        PLAYBACK_STOPPED,
        LEASE_TICK,
    }
)

_TYPE = re.compile(r"^io\.yaffw\.[a-z]+(\.[a-z]+)+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
STREAM_FIELD = "event"
# Cap the stream so a bus nobody reads cannot fill Redis; consumers are far ahead of this.
STREAM_MAXLEN = 100_000


def _require_uuid(data: Mapping[str, Any], name: str, *, optional: bool = False) -> None:
    value = data.get(name)
    if value is None and optional:
        return
    if not isinstance(value, str) or not _UUID.match(value):
        raise BadInput(f"data.{name} must be a UUID string", code="bad_event")


def _check_scan_requested(data: Mapping[str, Any]) -> None:
    _require_uuid(data, "library_id")
    path = data.get("path")
    if path is not None and (not isinstance(path, str) or not path.startswith("/") or "\x00" in path):
        raise BadInput("data.path must be an absolute path", code="bad_event")


# Per-type checks of ``data`` for events that other systems may send us.
_DATA_CHECKS = {SCAN_REQUESTED: _check_scan_requested}


def build(type_: str, source: str, data: Mapping[str, Any] | None = None, **extra: str) -> CloudEvent:
    """A new event with a fresh id and time. :raises BadInput: if it would not validate."""
    attributes = {
        "type": type_,
        "source": source,
        "id": str(uuid.uuid4()),
        "time": datetime.now(UTC).isoformat(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        **extra,
    }
    event = CloudEvent(attributes, dict(data or {}))
    validate(event)
    return event


def validate(event: CloudEvent) -> CloudEvent:
    """Check the attributes and, for known types, the data. Returns the event.

    :raises BadInput: naming what is wrong.
    """
    type_ = event.get("type")
    if not isinstance(type_, str) or not _TYPE.match(type_):
        raise BadInput(f"type {type_!r} is not io.yaffw.<area>.<what>", code="bad_event")
    source = event.get("source")
    if not isinstance(source, str) or not source:
        raise BadInput("source is required", code="bad_event")
    if not event.get("id"):
        raise BadInput("id is required", code="bad_event")
    data = event.get_data()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadInput("data must be a JSON object", code="bad_event")
    check = _DATA_CHECKS.get(type_)
    if check:
        check(data)
    return event


def data_of(event: CloudEvent) -> dict[str, Any]:
    """The event's data as a dict (empty if none)."""
    data = event.get_data()
    return data if isinstance(data, dict) else {}


class _NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf
        raise _NotFinite(text)
    return value


def _no_constant(name: str) -> float:
    raise _NotFinite(name)


def reject_non_finite(body: bytes) -> None:
    """:raises BadInput: when ``body`` is JSON holding ``NaN``, ``Infinity`` or a number too big for a
    float: JSON has no such values, and they break every consumer that re-serialises the event.
    Bodies that are not JSON at all are left to the parser that expects them."""
    try:
        json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except _NotFinite as exc:
        raise BadInput(f"JSON numbers must be finite (got {str(exc)[:20]})", code="bad_event") from None
    except RecursionError:
        raise BadInput("JSON nested too deeply", code="bad_event") from None
    except ValueError:  # UnicodeDecodeError included
        return


def parse_http(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    """Parse a binary- or structured-mode HTTP request into a validated event.

    :raises BadInput: for anything that is not a valid yaffw CloudEvent (``NaN`` and the other
        non-finite numbers included).
    """
    reject_non_finite(body)
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        event = from_http(lowered, body)
    except (_CloudEventsError, ValueError, TypeError) as exc:
        raise BadInput(f"not a CloudEvent: {exc}", code="bad_event") from exc
    if isinstance(event.get_data(), (bytes, str)):
        try:
            event.data = json.loads(event.get_data() or b"{}")
        except ValueError as exc:
            raise BadInput("data is not JSON", code="bad_event") from exc
    return validate(event)


def to_json(event: CloudEvent) -> str:
    """Structured-mode JSON (what the stream stores)."""
    _, body = to_structured(event)
    return body.decode() if isinstance(body, bytes) else str(body)


def from_json(text: str | bytes) -> CloudEvent:
    """Parse one structured-mode JSON document. :raises BadInput: if malformed."""
    body = text.encode() if isinstance(text, str) else text
    return parse_http({"content-type": "application/cloudevents+json"}, body)


async def publish(redis: Any, stream: str, event: CloudEvent, *, retention_seconds: int | None = None) -> str:
    """Append to the event stream (``Keys.events``); returns the stream entry id. With
    ``retention_seconds`` the stream is also trimmed (approximately) to that age, in the same trip."""
    fields = {STREAM_FIELD: to_json(event)}
    if retention_seconds is None:
        return str(await redis.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xadd(stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.xtrim(stream, minid=min_id(retention_seconds), approximate=True)
        entry, _ = await pipe.execute()
    return str(entry)


def min_id(retention_seconds: int) -> str:
    """The oldest stream entry id kept under ``retention_seconds`` (ids start with milliseconds)."""
    return f"{int((time.time() - retention_seconds) * 1000)}-0"


async def trim(redis: Any, stream: str, retention_seconds: int) -> int:
    """Drop entries older than ``retention_seconds`` (approximately: whole stream nodes, as Redis
    trims cheaply); returns how many went."""
    return int(await redis.xtrim(stream, minid=min_id(retention_seconds), approximate=True))


def publish_sync(redis: Any, stream: str, event: CloudEvent) -> str:
    """:func:`publish` for blocking clients (the Flask-based functions)."""
    return str(redis.xadd(stream, {STREAM_FIELD: to_json(event)}, maxlen=STREAM_MAXLEN, approximate=True))
