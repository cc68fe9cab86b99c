"""``GET|HEAD /Videos/{itemId}/stream`` and ``/Videos/{itemId}/stream.{container}``: the item's file,
through yaffw's zero-copy direct-play path (:func:`yaffw_api.direct_play.serve_item_file`: Range,
If-Range, conditionals, ETag, sendfile).

- ``Static=true`` (what Jellyfin Web, Kodi and jellyfin-apiclient-python ask for direct play): the file
  as it is, whatever extension the URL names, as Jellyfin does.
- Without ``Static``, Jellyfin would remux or transcode to what the parameters ask. yaffw converts only
  over HLS, so it serves the file when it already is what was asked (the URL's container, ``Container``,
  ``VideoCodec`` and ``AudioCodec`` all match the file, or are absent) and answers 400
  ``use_transcoding_url`` otherwise: the client should play the ``TranscodingUrl`` of PlaybackInfo.

``MediaSourceId``, when given, is the item's or another version of the film (its file is served).
Credentials: any Jellyfin form, including an access token or an ``item:<id>``-scoped token in ``ApiKey``/``api_key``.
"""

from __future__ import annotations

import re

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import BadInput, NotFound
from yaffw.media.decision import container_of

from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.direct_play import serve_item_file
from yaffw_api.jellyfin import jfauth, wire
from yaffw_api.jellyfin.device_profile import codec_name, container_name, split
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.playback_domain import playable_item
from yaffw_api.queries.versions import VERSION_OF

bp = Blueprint("jf_streams", url_prefix=PREFIX)

_STREAM_NAME = re.compile(r"^stream(?:\.([a-z0-9,_-]{1,40}))?$")


async def _stream(request: Request, item_id: str, container: str | None) -> HTTPResponse | None:
    iid = wire.parse_id(item_id)
    user = await jfauth.require_user(request, scope=f"item:{iid}")
    source_id = wire.arg(request, "MediaSourceId")
    played = iid
    # Another version of the film (issue 16) is served as its own file.
    if (
        source_id
        and (played := wire.parse_id(source_id, "media source")) != iid
        and not await deps(request).pool.fetchval(VERSION_OF, played, iid)
    ):
        raise NotFound("media source not found")
    if not wire.arg_bool(request, "Static"):
        await _check_as_is(request, user, played, container)
    return await serve_item_file(request, user, played)


async def _check_as_is(request: Request, user: User, iid: str, container: str | None) -> None:
    """:raises BadInput: when a non-static request asks for something other than the file as it is."""
    item, streams = await playable_item(deps(request), user, iid)
    wanted = [container_name(c) for c in split(container or wire.arg(request, "Container"))]
    if wanted and container_of(item) not in wanted:
        raise BadInput("yaffw converts only over HLS: play the TranscodingUrl", code="use_transcoding_url")
    for kind, param in (("video", "VideoCodec"), ("audio", "AudioCodec")):
        codecs = {codec_name(c) for c in split(wire.arg(request, param))}
        mine = {codec_name(s["codec"]) for s in streams if s.get("type") == kind and s.get("codec")}
        if codecs and mine and not mine & codecs:
            raise BadInput("yaffw converts only over HLS: play the TranscodingUrl", code="use_transcoding_url")


@bp.route("/videos/<item_id:str>/<name:str>", methods=["GET", "HEAD"])
async def stream(request: Request, item_id: str, name: str) -> HTTPResponse | None:
    """The file (``stream`` or ``stream.{container}``)."""
    match = _STREAM_NAME.match(name)
    if match is None:
        raise NotFound("not found")
    return await _stream(request, item_id, match.group(1))
