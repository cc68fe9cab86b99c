"""``POST /api/events``: another system sends a CloudEvent (binary or structured HTTP mode), which
is validated and appended to the event stream (DESIGN §4). Callers: an admin, or a service using
``Authorization: Bearer <YAFFW_SERVICE_TOKEN>``.

Bounded for callers that misbehave: a body over :data:`MAX_EVENT_BYTES` gets ``413`` (refused on its
``Content-Length`` before it is read when the client sends one), each caller (the service token, or
each admin) may send ``YAFFW_EVENTS_PER_MINUTE`` events a minute (then ``429`` with ``Retry-After``),
JSON with ``NaN``/``Infinity`` gets ``400``, and every append trims the stream to
``YAFFW_EVENT_RETENTION_SECONDS`` (the reaper trims it too, for the events others append).
"""

from __future__ import annotations

import hmac

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import events, user_limits
from yaffw.errors import BadInput, RateLimited, TooLarge

from yaffw_api.apidoc import op, ref
from yaffw_api.auth import require_admin
from yaffw_api.context import deps
from yaffw_api.queries import libraries

bp = Blueprint("api_events")

MAX_EVENT_BYTES = 256 * 1024


def _is_service(request: Request) -> bool:
    expected = deps(request).settings.service_token
    header = request.headers.get("authorization", "")
    if not expected or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), expected.encode())


def _too_large() -> TooLarge:
    return TooLarge(f"an event may be at most {MAX_EVENT_BYTES} bytes", code="event_too_large")


async def _read_body(request: Request) -> bytes:
    """The body, read in chunks and refused (413) as soon as it passes :data:`MAX_EVENT_BYTES`: a
    declared oversized length is refused before anything is read, a lying or chunked one mid-way."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and (len(length) > 18 or int(length) > MAX_EVENT_BYTES):
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while request.stream is not None and (chunk := await request.stream.read()) is not None:
        size += len(chunk)
        if size > MAX_EVENT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@bp.post("/api/events", stream=True)
async def post_event(request: Request) -> HTTPResponse:
    """Validate and enqueue one event; 202 with its id."""
    d = deps(request)
    caller = "service" if _is_service(request) else (await require_admin(request)).id
    body = await _read_body(request)
    wait = await user_limits.hit_rate(d.redis, d.keys, caller, d.settings.events_per_minute)
    if wait:
        raise RateLimited(f"at most {d.settings.events_per_minute} events a minute (events_per_minute); "
                          f"retry in {wait} s", code="too_many_events", headers={"Retry-After": str(wait)})  # fmt: skip
    event = events.parse_http(dict(request.headers), body)
    if event["type"] not in events.KNOWN_TYPES:
        raise BadInput(f"unknown event type {event['type']!r}", code="bad_event")
    if event["type"] == events.SCAN_REQUESTED:
        # Same rule as the scan button: the library exists and the path lies inside it.
        data = events.data_of(event)
        await libraries.scan_path(d.pool, data["library_id"], data.get("path"))
    await events.publish(d.redis, d.keys.events, event, retention_seconds=d.settings.event_retention_seconds)
    return json({"id": str(event["id"])}, status=202)


OPENAPI = {
    "/api/events": {"post": op(
        "Send a CloudEvent (admin or service token)", tag="events", ok="202", schema=ref("Accepted"),
        errors=("400", "403", "404", "413", "429"),
        extra={"requestBody": {"required": True, "content": {
            "application/cloudevents+json": {"schema": {
                "type": "object", "required": ["specversion", "type", "source", "id"],
                "properties": {"specversion": {"const": "1.0"}, "type": {"type": "string"},
                               "source": {"type": "string"}, "id": {"type": "string"}, "data": {"type": "object"}}}},
            "application/json": {"schema": {
                "type": "object", "description": "binary mode: attributes in ce-* headers, data in the body"}},
        }}},
    )},
}  # fmt: skip
