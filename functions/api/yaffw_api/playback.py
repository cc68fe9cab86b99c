"""``POST /api/items/{id}/playback``: decide how the caller plays an item and open a session.

Body ``{capabilities, audio_index?, max_bitrate?, start_seconds?, client?}`` (DESIGN §9). The
answer carries the session id, the method and its reason, and the URL to play: the file with a
token scoped to ``item:<id>`` for direct play, the HLS master playlist with one scoped to
``session:<sid>`` otherwise (players cannot always send headers). The caller's saved position
and the item's audio tracks come along so a player can offer "resume" and a track choice.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import activity, events, leases, notify, sessions, tokens, userdata
from yaffw.errors import BadInput
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide
from yaffw.sessions import PlaybackSession

from yaffw_api.access import visible_item
from yaffw_api.apidoc import op, path_param
from yaffw_api.auth import User, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.params import json_object

bp = Blueprint("playback")

SOURCE = "/yaffw/api"
_FIELDS = ("capabilities", "audio_index", "max_bitrate", "start_seconds", "client")
_ITEM_COLUMNS = "i.id, i.name, i.type, i.path, i.container, i.bitrate, i.duration_seconds, i.size, i.library_id"
# Media URL tokens live a little longer than the film so a paused film can still seek, but no
# longer than MAX_TOKEN_TTL: they travel in URLs.
MIN_TOKEN_TTL = 3600
MAX_TOKEN_TTL = 12 * 3600


def _optional_int(body: dict[str, Any], name: str, minimum: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInput(f"{name} must be an integer >= {minimum}")
    return value


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadInput(f"{name} must be a number >= 0")
    return float(value)


def token_ttl(duration: float | None) -> int:
    """Lifetime of a playback URL token for an item of ``duration`` seconds."""
    return int(min(MAX_TOKEN_TTL, max(MIN_TOKEN_TTL, 1.5 * (duration or 0) + 1800)))


def audio_tracks(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The item's audio tracks as the player's track menu shows them."""
    return [
        {"index": s["stream_index"], "codec": s["codec"], "channels": s["channels"], "language": s["language"],
         "title": s["title"], "default": s["is_default"]}
        for s in streams if s["type"] == "audio"
    ]  # fmt: skip


async def announce(d: Deps, type_: str, session: PlaybackSession, message: str, **extra: Any) -> None:
    """Activity log entry, admin notification and CloudEvent for a playback start or stop."""
    data = {"sid": session.sid, "user_id": session.user_id, "user_name": session.user_name,
            "item_id": session.item_id, "item_name": session.item_name, "method": session.method,
            "position_seconds": session.position_seconds, **extra}  # fmt: skip
    await activity.write(d.pool, type_.removeprefix("io.yaffw."), message, user_id=session.user_id,
                         item_id=session.item_id, data=data)  # fmt: skip
    await notify.publish(d.redis, d.keys.notify, type_, data, admin_only=True)
    await events.publish(d.redis, d.keys.events, events.build(type_, SOURCE, data))


async def _open_session(d: Deps, user: User, item: dict[str, Any], streams: list[dict[str, Any]],
                        body: dict[str, Any], client: str) -> tuple[PlaybackSession, str]:  # fmt: skip
    caps = Capabilities.from_json(body.get("capabilities"))
    decision = decide(item, streams, caps, audio_index=_optional_int(body, "audio_index", 0),
                      max_bitrate=_optional_int(body, "max_bitrate", 1))  # fmt: skip
    start = _seconds(body.get("start_seconds", 0), "start_seconds")
    sid, now = sessions.new_sid(), time.time()
    job = decision.job(sid=sid, item=item, segment_seconds=d.settings.segment_seconds,
                       hwaccel=d.settings.hwaccel, created_at=now)  # fmt: skip
    limits = [x for x in (caps.max_bitrate, body.get("max_bitrate")) if x]
    session = PlaybackSession(
        sid=sid, user_id=user.id, user_name=user.name, item_id=str(item["id"]), item_name=item["name"],
        method=decision.method, reason=decision.reason, job=job, audio_index=decision.audio_index,
        max_height=caps.max_height, max_bitrate=min(limits) if limits else None, position_seconds=start,
        duration_seconds=item["duration_seconds"], created_at=now, updated_at=now, client=client[:200],
    )  # fmt: skip
    await sessions.create(d.redis, d.keys, session)
    await leases.renew(d.redis, d.keys, sid, d.settings.lease_seconds)
    ttl = token_ttl(item["duration_seconds"])
    if decision.is_hls:
        token, _ = tokens.issue(d.settings.jwt_secret or "", user.id, user.is_admin, ttl, scope=f"session:{sid}")
        url = f"/api/sessions/{sid}/master.m3u8?token={token}"
    else:
        token, _ = tokens.issue(d.settings.jwt_secret or "", user.id, user.is_admin, ttl, scope=f"item:{item['id']}")
        url = f"/api/items/{item['id']}/file?token={token}"
    return session, url


@bp.post("/api/items/<item_id>/playback")
async def start_playback(request: Request, item_id: str) -> HTTPResponse:
    """Decide, open a session, announce it; answer how and where to play."""
    user = await require_user(request)
    d = deps(request)
    body = json_object(request, allowed=_FIELDS, empty_ok=True)
    item = await visible_item(d.pool, user, item_id, _ITEM_COLUMNS)
    if not item["path"] or item["type"] in ("series", "season"):
        raise BadInput("this item is not a playable file", code="not_playable")
    streams = [dict(r) for r in await d.pool.fetch(
        "SELECT * FROM media_streams WHERE item_id = $1 ORDER BY stream_index", item["id"])]  # fmt: skip
    client = body.get("client") if isinstance(body.get("client"), str) else request.headers.get("user-agent", "")
    session, url = await _open_session(d, user, item, streams, body, client or "")
    await announce(d, events.PLAYBACK_STARTED, session, f"{user.name} started watching {item['name']}",
                   reason=session.reason)  # fmt: skip
    saved = await userdata.get(d.pool, user.id, str(item["id"]))
    return json(
        {"session_id": session.sid, "method": session.method, "reason": session.reason, "url": url,
         "audio_index": session.audio_index, "audio_tracks": audio_tracks(streams),
         "duration_seconds": item["duration_seconds"], "expires_in": token_ttl(item["duration_seconds"]),
         "user_data": saved, "progress_url": f"/api/sessions/{session.sid}/progress",
         "stop_url": f"/api/sessions/{session.sid}"},
        status=201,
    )  # fmt: skip


_PLAYBACK_REQUEST = {
    "type": "object",
    "properties": {
        "capabilities": {
            "type": "object",
            "description": "what the client plays (DESIGN §9); a missing field means no limit / ask for the safest",
            "properties": {
                "containers": {"type": "array", "items": {"type": "string"}},
                "video_codecs": {"type": "array", "items": {"type": "string"}},
                "audio_codecs": {"type": "array", "items": {"type": "string"}},
                "video_profiles": {"type": "object"},
                "max_video_level": {"type": "integer"},
                "max_height": {"type": "integer"},
                "max_bitrate": {"type": "integer"},
                "max_audio_channels": {"type": "integer"},
                "hls": {"type": "boolean"},
            },
        },
        "audio_index": {"type": "integer"},
        "max_bitrate": {"type": "integer"},
        "start_seconds": {"type": "number", "minimum": 0},
    },
}
_PLAYBACK_RESULT = {
    "type": "object",
    "required": ["session_id", "method", "url"],
    "properties": {
        "session_id": {"type": "string"},
        "method": {"enum": ["direct_play", "direct_stream", "transcode"]},
        "reason": {"type": "string"},
        "url": {"type": "string"},
    },
}
OPENAPI = {
    "/api/items/{item_id}/playback": {
        "post": op("Decide how to play an item and open a playback session", tag="playback",
                   schema=_PLAYBACK_RESULT, params=[path_param("item_id")],
                   extra={"requestBody": {"required": False,
                                          "content": {"application/json": {"schema": _PLAYBACK_REQUEST}}}}),
    },
}  # fmt: skip
