"""``GET /items/<id>/play``: the web player.

The page carries the item, the caller's saved position and the audio tracks (the caller's default
one selected: :mod:`yaffw.media.tracks`); ``static/player.js``
detects what the browser can play, asks ``POST /api/items/{id}/playback``, and plays the answer
with a plain ``<video>`` (direct play), hls.js (wherever Media Source Extensions exist) or native
HLS (only where they do not). ``?resume=1`` (the item page's "Resume") skips the resume question.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw import audio_choice, userdata
from yaffw.errors import NotFound
from yaffw.media.tracks import choose_audio

from yaffw_api.access import visible_item
from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.playback import audio_tracks
from yaffw_api.templating import render

bp = Blueprint("pages_player")

_COLUMNS = "i.id, i.name, i.type, i.path, i.year, i.duration_seconds, i.parent_id"
_AUDIO = "SELECT * FROM media_streams WHERE item_id = $1 AND type = 'audio' ORDER BY stream_index"


@bp.get("/items/<item_id:str>/play")
@page()
async def player(request: Request, item_id: str) -> HTTPResponse:
    """The player page for a movie or episode."""
    user, d = user_of(request), deps(request)
    item = await visible_item(d.pool, user, item_id, _COLUMNS)
    if not item["path"] or item["type"] in ("series", "season"):
        raise NotFound("there is nothing to play here", code="not_playable")
    rows = [dict(r) for r in await d.pool.fetch(_AUDIO, item["id"])]
    saved = await userdata.get(d.pool, user.id, str(item["id"]))
    saved_audio, languages = await audio_choice.default_audio(d.pool, user.id, str(item["id"]))
    return render(request, "player.html", item=item, saved=saved, tracks=audio_tracks(rows),
                  audio_index=choose_audio(rows, saved=saved_audio, languages=languages),
                  resume=request.args.get("resume") == "1")  # fmt: skip
