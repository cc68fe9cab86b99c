"""``POST /api/events``: another system sends a CloudEvent (binary or structured HTTP mode), which
is validated and appended to the event stream (DESIGN §4). Callers: an admin, or a service using
``Authorization: Bearer <YAFFW_SERVICE_TOKEN>``.
"""

from __future__ import annotations

import hmac

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import events
from yaffw.errors import BadInput

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


@bp.post("/api/events")
async def post_event(request: Request) -> HTTPResponse:
    """Validate and enqueue one event; 202 with its id."""
    if not _is_service(request):
        await require_admin(request)
    body = request.body or b""
    if len(body) > MAX_EVENT_BYTES:
        raise BadInput(f"an event may be at most {MAX_EVENT_BYTES} bytes", code="bad_event")
    event = events.parse_http(dict(request.headers), body)
    if event["type"] not in events.KNOWN_TYPES:
        raise BadInput(f"unknown event type {event['type']!r}", code="bad_event")
    d = deps(request)
    if event["type"] == events.SCAN_REQUESTED:
        # Same rule as the scan button: the library exists and the path lies inside it.
        data = events.data_of(event)
        await libraries.scan_path(d.pool, data["library_id"], data.get("path"))
    await events.publish(d.redis, d.keys.events, event)
    return json({"id": str(event["id"])}, status=202)


OPENAPI = {
    "/api/events": {"post": op(
        "Send a CloudEvent (admin or service token)", tag="events", ok="202", schema=ref("Accepted"),
        errors=("400", "403", "404"),
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
