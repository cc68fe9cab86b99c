"""Open playback sessions: progress reports, stop, and the admin list (DESIGN §9).

- ``POST /api/sessions/{sid}/progress`` ``{position_seconds, paused?}``: the owner only (another
  user's session is 404). Updates the session (renewing its TTL and lease) and the user's saved
  position, which marks the item played past 90% (``yaffw.userdata``).
- ``DELETE /api/sessions/{sid}`` ``{position_seconds?}``: stop, by the owner or an admin. Saves the
  final position, removes the session, its lease and its worker route (so the worker ends its
  encoder), and announces the stop.
- ``GET /api/sessions``: admins: who plays what, how, where they are, which worker serves them.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import sessions
from yaffw.errors import BadInput
from yaffw.sessions import PlaybackSession

from yaffw_api.apidoc import op, path_param
from yaffw_api.auth import require_admin, require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object
from yaffw_api.playback_domain import close_session, owned_session, position, record_progress

bp = Blueprint("playback_sessions")


def public(session: PlaybackSession) -> dict[str, Any]:
    """A session as the admin API shows it (no job internals)."""
    out = session.to_dict()
    job = out.pop("job") or {}
    out["video"] = job.get("video")
    out["audio"] = job.get("audio")
    return out


@bp.post("/api/sessions/<sid>/progress")
async def progress(request: Request, sid: str) -> HTTPResponse:
    """Record where the owner is; answer the saved user data."""
    user = await require_user(request, scope=f"session:{sid}")
    d = deps(request)
    session = await owned_session(d, user, sid)
    body = json_object(request, allowed=("position_seconds", "paused"))
    if "position_seconds" not in body:
        raise BadInput("position_seconds is required")
    where = position(body["position_seconds"], session.duration_seconds)
    paused = body.get("paused", False)
    if not isinstance(paused, bool):
        raise BadInput("paused must be true or false")
    saved = await record_progress(d, session, where, paused)
    return json({"session_id": sid, "position_seconds": where, "paused": paused, "user_data": saved})


@bp.delete("/api/sessions/<sid>")
async def stop(request: Request, sid: str) -> HTTPResponse:
    """End the session (owner or admin)."""
    user = await require_user(request, scope=f"session:{sid}")
    d = deps(request)
    session = await owned_session(d, user, sid, admin_may=True)
    body = json_object(request, allowed=("position_seconds",), empty_ok=True)
    where = None
    if body.get("position_seconds") is not None:
        where = position(body["position_seconds"], session.duration_seconds)
    saved = await close_session(d, user, session, where)
    return json({"session_id": sid, "stopped": True, "user_data": saved})


@bp.get("/api/sessions")
async def list_sessions(request: Request) -> HTTPResponse:
    """Every open session (admins)."""
    await require_admin(request)
    d = deps(request)
    return json({"sessions": [public(s) for s in await sessions.list_open(d.redis, d.keys)]})


_SID = [path_param("sid", "playback session id")]
OPENAPI = {
    "/api/sessions": {
        "get": op("Open playback sessions (admin): user, item, method, position, worker", tag="playback",
                  schema={"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}},
                                                           "total": {"type": "integer"}}},
                  errors=("403",)),
    },
    "/api/sessions/{sid}": {
        "delete": op("Stop a playback session (owner or admin)", tag="playback", ok="204", params=_SID),
    },
    "/api/sessions/{sid}/progress": {
        "post": op("Report playback progress (owner)", tag="playback", params=_SID, schema={"type": "object"},
                   extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                       "type": "object", "required": ["position_seconds"],
                       "properties": {"position_seconds": {"type": "number", "minimum": 0},
                                      "paused": {"type": "boolean"}}}}}}}),
    },
}  # fmt: skip
