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

from yaffw_api.apidoc import NULLABLE_INT, NULLABLE_NUM, UUID, op, path_param, ref
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
_SESSION = {
    "type": "object",
    "required": ["sid", "user_id", "item_id", "method", "position_seconds"],
    "properties": {
        "sid": {"type": "string"},
        "user_id": UUID,
        "user_name": {"type": "string"},
        "item_id": UUID,
        "item_name": {"type": "string"},
        "method": {"enum": ["direct_play", "direct_stream", "transcode"]},
        "reason": {"type": "string"},
        "audio_index": NULLABLE_INT,
        "max_height": NULLABLE_INT,
        "max_bitrate": NULLABLE_INT,
        "position_seconds": {"type": "number"},
        "paused": {"type": "boolean"},
        "duration_seconds": NULLABLE_NUM,
        "created_at": {"type": "number"},
        "updated_at": {"type": "number"},
        "worker": {"type": "string"},
        "client": {"type": "string"},
        "video": {"type": ["object", "null"]},
        "audio": {"type": ["object", "null"]},
    },
}
# The owner's saved user data after the call; null when no position was given.
_SAVED = {"anyOf": [ref("UserData"), {"type": "null"}]}
_POSITION = {"type": "number", "minimum": 0}
OPENAPI = {
    "/api/sessions": {
        "get": op("Open playback sessions (admin): user, item, method, position, worker", tag="playback",
                  schema={"type": "object", "required": ["sessions"],
                          "properties": {"sessions": {"type": "array", "items": _SESSION}}},
                  errors=("403",)),
    },
    "/api/sessions/{sid}": {
        "delete": op("Stop a playback session (owner or admin), saving position_seconds if given",
                     tag="playback", params=_SID,
                     schema={"type": "object", "required": ["session_id", "stopped", "user_data"],
                             "properties": {"session_id": {"type": "string"}, "stopped": {"const": True},
                                            "user_data": _SAVED}},
                     extra={"requestBody": {"required": False, "content": {"application/json": {"schema": {
                         "type": "object", "additionalProperties": False,
                         "properties": {"position_seconds": _POSITION}}}}}}),
    },
    "/api/sessions/{sid}/progress": {
        "post": op("Report playback progress (owner)", tag="playback", params=_SID,
                   schema={"type": "object", "required": ["session_id", "position_seconds", "paused", "user_data"],
                           "properties": {"session_id": {"type": "string"}, "position_seconds": {"type": "number"},
                                          "paused": {"type": "boolean"}, "user_data": _SAVED}},
                   extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                       "type": "object", "required": ["position_seconds"], "additionalProperties": False,
                       "properties": {"position_seconds": _POSITION, "paused": {"type": "boolean"}}}}}}}),
    },
}  # fmt: skip
