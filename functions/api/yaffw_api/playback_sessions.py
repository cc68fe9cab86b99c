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

import math
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import events, leases, sessions, userdata
from yaffw.errors import BadInput, NotFound
from yaffw.sessions import PlaybackSession

from yaffw_api.apidoc import op, path_param
from yaffw_api.auth import User, require_admin, require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object
from yaffw_api.playback import announce

bp = Blueprint("playback_sessions")


def _position(value: Any, session: PlaybackSession) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadInput("position_seconds must be a number >= 0")
    # Players overshoot the end by a frame or report a stale duration; keep within the item.
    return min(float(value), session.duration_seconds) if session.duration_seconds else float(value)


async def _owned(request: Request, sid: str, user: User, *, admin_may: bool = False) -> PlaybackSession:
    session = await sessions.get(deps(request).redis, deps(request).keys, sid)
    if session is None or (session.user_id != user.id and not (admin_may and user.is_admin)):
        raise NotFound("session not found")
    return session


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
    session = await _owned(request, sid, user)
    body = json_object(request, allowed=("position_seconds", "paused"))
    if "position_seconds" not in body:
        raise BadInput("position_seconds is required")
    position = _position(body["position_seconds"], session)
    paused = body.get("paused", False)
    if not isinstance(paused, bool):
        raise BadInput("paused must be true or false")
    if not await sessions.update(d.redis, d.keys, sid, position_seconds=position, paused=paused):
        raise NotFound("session not found")
    await leases.renew(d.redis, d.keys, sid, d.settings.lease_seconds)
    saved = await userdata.update(d.pool, user.id, session.item_id, position_seconds=position)
    return json({"session_id": sid, "position_seconds": position, "paused": paused, "user_data": saved})


@bp.delete("/api/sessions/<sid>")
async def stop(request: Request, sid: str) -> HTTPResponse:
    """End the session (owner or admin)."""
    user = await require_user(request, scope=f"session:{sid}")
    d = deps(request)
    session = await _owned(request, sid, user, admin_may=True)
    body = json_object(request, allowed=("position_seconds",), empty_ok=True)
    saved = None
    if body.get("position_seconds") is not None:
        session.position_seconds = _position(body["position_seconds"], session)
        # The owner's watch state; an admin stopping someone's session does not move it.
        saved = await userdata.update(d.pool, session.user_id, session.item_id,
                                      position_seconds=session.position_seconds)  # fmt: skip
    if not await sessions.delete(d.redis, d.keys, sid):
        raise NotFound("session not found")  # a concurrent stop won; it announced
    await leases.release(d.redis, d.keys, sid)
    await d.redis.delete(d.keys.session_map(sid))
    who = user.name if user.id != session.user_id else session.user_name
    await announce(d, events.PLAYBACK_STOPPED, session, f"{who} stopped {session.user_name}'s playback of "
                   f"{session.item_name}" if who != session.user_name else
                   f"{session.user_name} stopped watching {session.item_name}")  # fmt: skip
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
