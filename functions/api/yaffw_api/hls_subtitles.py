"""Segmented WebVTT for an HLS session's text subtitles (issue 13), answered by the api alone.

- ``GET /api/sessions/{sid}/subtitles/{index}/index.m3u8``: the subtitle playlist, with the video
  playlists' segment boundaries (the same :func:`yaffw_api.hls.session_plan`);
- ``GET /api/sessions/{sid}/subtitles/{index}/{n}.vtt``: segment ``n``, the cues of the whole WebVTT
  (:func:`yaffw_api.subtitles.webvtt`, converted once and kept in Redis) that show during it, with
  ``X-TIMESTAMP-MAP`` matching our MPEG-TS timestamps (:mod:`yaffw.media.subtitles`).

The master playlists (yaffw's and Jellyfin's) list these as ``TYPE=SUBTITLES`` renditions
(:func:`yaffw_api.subtitles.master_subtitles`). Authorised as the session's other HLS requests.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, text
from yaffw.errors import NotFound
from yaffw.media import hls
from yaffw.media import subtitles as subs

from yaffw_api.apidoc import op, path_param, query_param
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.hls import PLAYLIST_TYPE, hls_session, session_plan, verified_query_token
from yaffw_api.subtitles import VTT_TYPE, played_item, webvtt

bp = Blueprint("hls_subtitles")

_SEGMENT = re.compile(r"^(\d{1,7})\.vtt$")
# Parsed cues of the last WebVTT documents served (a film's 2,000 cues parse in ~14 ms; slicing
# them for a segment takes ~0.1 ms): keyed by the document's digest.
_PARSED: OrderedDict[bytes, list[subs.Cue]] = OrderedDict()
_PARSED_MAX = 16


def _cues(vtt: str) -> list[subs.Cue]:
    key = hashlib.blake2b(vtt.encode(), digest_size=16).digest()
    cues = _PARSED.get(key)
    if cues is None:
        cues = _PARSED[key] = subs.parse(vtt)
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    _PARSED.move_to_end(key)
    return cues


@bp.get("/api/sessions/<sid>/subtitles/<index>/<name>")
async def subtitle_file(request: Request, sid: str, index: str, name: str) -> HTTPResponse:
    """The subtitle playlist of stream ``index`` (``index.m3u8``) or one of its segments (``<n>.vtt``)."""
    stream = subs.check_index(index)
    user = await require_user(request, scope=f"session:{sid}")
    d = deps(request)
    session = await hls_session(d, user, sid)
    plan = await session_plan(request, d, session)
    # Converted (or read from Redis) before the playlist too: a stream that cannot be sent as text
    # fails here with its 4xx rather than in every segment.
    cues = _cues(await webvtt(d, user, played_item(session), stream))
    if name == "index.m3u8":
        token = await verified_query_token(request, request.args.get("token"), f"session:{sid}")
        q = f"?token={token}" if token else ""
        body = hls.media_playlist(plan.starts, plan.duration, lambda n: f"{n}.vtt{q}")
        return text(body, content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-store"})
    match = _SEGMENT.match(name)
    if match is None or int(match.group(1)) >= len(plan.starts):
        raise NotFound("no such segment")
    n = int(match.group(1))
    start = plan.starts[n]
    # The last segment takes every cue left, even one past the end of the video.
    end = plan.starts[n + 1] if n + 1 < len(plan.starts) else math.inf
    return text(subs.segment(cues, start, end), content_type=VTT_TYPE, headers={"Cache-Control": "no-store"})


OPENAPI = {
    "/api/sessions/{sid}/subtitles/{index}/{name}": {
        "get": op("HLS subtitle playlist (index.m3u8) or WebVTT segment (N.vtt) of a text subtitle stream",
                  tag="hls", content_type="application/vnd.apple.mpegurl", schema={"type": "string"},
                  params=[path_param("sid"), path_param("index", "the subtitle stream index"),
                          path_param("name", "index.m3u8 or N.vtt"),
                          query_param("token", {"type": "string"}, "short-lived token scoped to this session")],
                  errors=("400", "404", "422", "503")),
    },
}  # fmt: skip
