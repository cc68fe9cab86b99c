"""Jellyfin's subtitle stream URLs over yaffw's WebVTT (issue 13).

- ``GET /Videos/{itemId}/{mediaSourceId}/Subtitles/{index}/{startTicks}/Stream.vtt`` and
  ``.../Subtitles/{index}/Stream.vtt``: a text subtitle stream as a whole WebVTT file
  (:func:`yaffw_api.subtitles.webvtt`: converted once by FFmpeg, kept in Redis). These are the
  ``DeliveryUrl`` of the ``MediaStream`` of every text subtitle (``DeliveryMethod: External``, see
  :mod:`yaffw_api.jellyfin.media_sources`); PlaybackInfo adds an ``ApiKey`` scoped to the file.

Only ``vtt`` is offered (the format every Jellyfin client asks for in the URLs it is given); another
extension is 400 ``subtitle_format``. ``startTicks`` is accepted and ignored: the cues keep the
film's times, as the player's clock does. A ``mediaSourceId`` other than the item is one of its
versions, or 404.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from yaffw.errors import BadInput, NotFound
from yaffw.media import subtitles as subs

from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth, wire
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.queries.versions import VERSION_OF
from yaffw_api.subtitles import VTT_TYPE, webvtt

bp = Blueprint("jf_subtitles", url_prefix=PREFIX)


async def _serve(request: Request, item_id: str, source_id: str, index: str, name: str) -> HTTPResponse:
    if not name.lower().startswith("stream."):
        raise NotFound("not found")
    if name.lower() != "stream.vtt":
        raise BadInput("subtitles are delivered as WebVTT: ask for Stream.vtt", code="subtitle_format")
    stream = subs.check_index(index)
    iid = wire.parse_id(item_id)
    played = wire.parse_id(source_id, "media source")
    user = await jfauth.require_user(request, scope=f"item:{played}")
    d = deps(request)
    if played != iid and not await d.pool.fetchval(VERSION_OF, played, iid):
        raise NotFound("media source not found")
    vtt = await webvtt(d, user, played, stream)
    return text(vtt, content_type=VTT_TYPE, headers={"Cache-Control": "private, max-age=300"})


@bp.get("/videos/<item_id:str>/<source_id:str>/subtitles/<index:str>/<start:str>/<name:str>")
async def subtitle_from(request: Request, item_id: str, source_id: str, index: str, start: str,
                        name: str) -> HTTPResponse:  # fmt: skip
    """The subtitle stream (the start position in the URL changes nothing)."""
    return await _serve(request, item_id, source_id, index, name)


@bp.get("/videos/<item_id:str>/<source_id:str>/subtitles/<index:str>/<name:str>")
async def subtitle(request: Request, item_id: str, source_id: str, index: str, name: str) -> HTTPResponse:
    """The subtitle stream."""
    return await _serve(request, item_id, source_id, index, name)
