"""``POST /api/items/{id}/playback``: decide how the caller plays an item and open a session.

Body ``{capabilities, audio_index?, subtitle_index?, max_bitrate?, start_seconds?, client?}`` (DESIGN
§9). The answer carries the session id, the method and its reason, and the URL to play: the file with
a token scoped to ``item:<id>`` for direct play, the HLS master playlist with one scoped to
``session:<sid>`` otherwise (players cannot always send headers). The caller's saved position
and the item's audio tracks come along so a player can offer "resume" and a track choice.

Audio: an ``audio_index`` given is remembered for the caller and item; without one the track is the
remembered one, else the first in the caller's preferred languages, else the file's default
(:mod:`yaffw.media.tracks`). A ``subtitle_index`` naming an image subtitle (PGS, VobSub, DVB) is
burned into a transcode (``burn_subtitle`` in the answer); a text one changes nothing here; ``-1``
is "off". Without one, the caller's default subtitle is shown (remembered with ``PUT
/api/items/{id}/subtitle-choice``, else by their subtitle preferences: :mod:`yaffw.media.subtitle_pick`),
so a remembered picture subtitle is burned in from the start; ``subtitle_index`` in the answer is
the one shown.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import audio_choice, subtitle_choice, userdata
from yaffw.errors import BadInput, YaffwError
from yaffw.media import subtitle_pick
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import Decision, decide, pick_source
from yaffw.media.tracks import channel_layout, choose_audio

from yaffw_api.apidoc import op, path_param
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.hls import master_body, start_prewarm
from yaffw_api.params import json_object
from yaffw_api.playback_domain import announce, media_token, open_session, playable_item, token_ttl
from yaffw_api.queries import versions

log = logging.getLogger(__name__)

__all__ = ["announce", "audio_tracks", "bp", "token_ttl"]

bp = Blueprint("playback")

_FIELDS = ("capabilities", "audio_index", "subtitle_index", "max_bitrate", "start_seconds", "client", "source")


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


def audio_tracks(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The item's audio tracks as the player's track menu shows them."""
    return [
        {"index": s["stream_index"], "codec": s["codec"], "channels": s["channels"],
         "layout": channel_layout(s["channels"]), "language": s["language"], "title": s["title"],
         "default": s["is_default"]}
        for s in streams if s["type"] == "audio"
    ]  # fmt: skip


@bp.post("/api/items/<item_id>/playback")
async def start_playback(request: Request, item_id: str) -> HTTPResponse:
    """Decide, open a session, announce it; answer how and where to play."""
    user = await require_user(request)
    d = deps(request)
    body = json_object(request, allowed=_FIELDS, empty_ok=True)
    item, streams = await playable_item(d, user, item_id)
    client = body.get("client") if isinstance(body.get("client"), str) else request.headers.get("user-agent", "")
    caps = Capabilities.from_json(body.get("capabilities"))
    max_bitrate = _optional_int(body, "max_bitrate", 1)
    audio_index = _optional_int(body, "audio_index", 0)
    subtitle_index = _optional_int(body, "subtitle_index", -1)
    requested = body.get("source")
    if requested is not None and not isinstance(requested, str):
        raise BadInput("source must be a version id (a string)")
    saved_audio, languages = await audio_choice.default_audio(d.pool, user.id, str(item["id"]))
    saved_subtitle = await subtitle_choice.saved(d.pool, user.id, str(item["id"]))
    subtitle_languages, subtitle_mode = await subtitle_choice.preferences(d.pool, user.id)
    subtitles: dict[str, int | None] = {}  # version id -> the subtitle shown on it

    def attempt(row: dict[str, Any], s: list[dict[str, Any]]) -> Decision:
        # Without a choice in the request, each version gets the caller's default track of its own.
        chosen = audio_index if audio_index is not None else choose_audio(s, saved=saved_audio, languages=languages)
        shown = subtitle_index
        if "subtitle_index" not in body:
            # The caller's default subtitle (remembered, or by their preferences and the audio's
            # language: yaffw.media.subtitle_pick); a picture one is burned in from the start.
            spoken = next((a.get("language") for a in s if a["stream_index"] == chosen), None)
            shown = subtitle_pick.choose(s, audio_language=spoken, saved=saved_subtitle,
                                         languages=subtitle_languages, mode=subtitle_mode)  # fmt: skip
        subtitles[str(row["id"])] = shown if shown is not None and shown >= 0 else None
        return decide(row, s, caps, audio_index=chosen, max_bitrate=max_bitrate,
                      subtitle_index=subtitles[str(row["id"])])  # fmt: skip

    # A film with versions: the best one for this client, or the one asked for.
    sources = await versions.versions(d.pool, item, streams)
    index, decision = pick_source(sources, attempt, lambda x: x, requested)
    played, streams = sources[index]
    if audio_index is not None and audio_index != saved_audio:
        await audio_choice.remember(d.pool, user.id, str(item["id"]), audio_index)
    start = _seconds(body.get("start_seconds", 0), "start_seconds")
    limits = [x for x in (caps.max_bitrate, max_bitrate) if x]
    session = await open_session(d, user, item, decision, max_height=caps.max_height,
                                 max_bitrate=min(limits) if limits else None, start_seconds=start,
                                 client=client or "", source=played)  # fmt: skip
    duration = played["duration_seconds"]
    master: str | None = None
    if decision.is_hls:
        start_prewarm(request, d, session)
        token = media_token(d, user, f"session:{session.sid}", duration)
        url = f"/api/sessions/{session.sid}/master.m3u8?token={token}"
        # The master playlist comes with the answer (the web player hands it to hls.js: one round
        # trip less before the first frame); the URL serves the same text to other players. When it
        # cannot be made (the file gone since the scan), the URL answers with that error instead.
        try:
            master = await master_body(request, d, user, session, f"?token={token}", queue_job=False)
        except YaffwError as exc:
            log.info("session %s: no master playlist in the answer: %s", session.sid, exc.message)
    else:
        token = media_token(d, user, f"item:{played['id']}", duration)
        url = f"/api/items/{played['id']}/file?token={token}"
    saved = await userdata.get(d.pool, user.id, str(item["id"]))
    return json(
        {"session_id": session.sid, "method": session.method, "reason": session.reason, "url": url,
         "audio_index": session.audio_index, "audio_tracks": audio_tracks(streams),
         "subtitle_index": subtitles.get(str(played["id"])), "burn_subtitle": decision.burn_subtitle,
         "source_id": str(played["id"]), "sources": versions.menu(sources),
         "duration_seconds": duration, "expires_in": token_ttl(duration),
         "user_data": saved, "progress_url": f"/api/sessions/{session.sid}/progress",
         "stop_url": f"/api/sessions/{session.sid}", "master_playlist": master},
        status=201,
    )  # fmt: skip


# Integers in a JSON body are bounded to PostgreSQL's bigint (yaffw_api.params.MAX_JSON_INT).
_INT = {"type": "integer", "maximum": 2**63 - 1}
_POSITIVE = {**_INT, "minimum": 1}
_NAMES = {"type": "array", "maxItems": 64, "items": {"type": "string"}}
_PLAYBACK_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "capabilities": {
            "type": "object",
            "description": "what the client plays (DESIGN §9, yaffw.media.capabilities); a missing field means no "
                           "limit / ask for the safest",
            "properties": {
                "containers": _NAMES,
                "video_codecs": _NAMES,
                "audio_codecs": _NAMES,
                "video_profiles": {"type": "object", "maxProperties": 64, "additionalProperties": _NAMES,
                                   "description": "codec → profiles, e.g. {\"h264\": [\"main\", \"high\"]}"},
                "max_video_level": {"type": "object", "maxProperties": 64, "additionalProperties": _POSITIVE,
                                    "description": "codec → ffprobe level, e.g. {\"h264\": 51}"},
                "max_height": _POSITIVE,
                "max_bitrate": _POSITIVE,
                "max_audio_channels": _POSITIVE,
                "hls": {"type": "boolean"},
            },
        },
        "audio_index": {**_INT, "minimum": 0, "description": "the audio stream; remembered for the caller and item"},
        "subtitle_index": {**_INT, "minimum": -1,
                           "description": "the subtitle stream shown (-1: off; absent: the caller's default); an "
                                          "image one (PGS, VobSub, DVB) is burned in"},
        "max_bitrate": _POSITIVE,
        "start_seconds": {"type": "number", "minimum": 0},
        "source": {"type": "string", "description": "the version to play (a film with versions); default: the best"},
        "client": {"type": "string", "description": "the player's name (default: its User-Agent)"},
    },
}  # fmt: skip
_PLAYBACK_RESULT = {
    "type": "object",
    "required": ["session_id", "method", "url"],
    "properties": {
        "session_id": {"type": "string"},
        "method": {"enum": ["direct_play", "direct_stream", "transcode"]},
        "reason": {"type": "string"},
        "url": {"type": "string"},
        "master_playlist": {
            "type": ["string", "null"],
            "description": "for HLS, the text the master playlist URL serves (a player may take it "
            "from here instead of asking again); null for direct play",
        },
    },
}
OPENAPI = {
    "/api/items/{item_id}/playback": {
        "post": op("Decide how to play an item and open a playback session", tag="playback", ok="201",
                   schema=_PLAYBACK_RESULT, params=[path_param("item_id")], errors=("400", "404", "429"),
                   extra={"requestBody": {"required": False,
                                          "content": {"application/json": {"schema": _PLAYBACK_REQUEST}}}}),
    },
}  # fmt: skip
