"""``GET /api/items/{id}/subtitles/{index}.vtt``: a text subtitle stream as a whole WebVTT file, for
direct play (``<track src>``) and as the source of the HLS subtitle segments (:mod:`yaffw_api.hls_subtitles`).

The stream's file comes from the database (the item's path for an embedded stream, the scan's
``external_path`` for a sidecar) and is opened only after :func:`yaffw.media.safe_path.check_media`
(under one of the library's roots, a regular file). FFmpeg converts it in a thread; the text is kept
in Redis for a day under the item, the stream and the file's size and mtime, so an edited sidecar is
converted again and replicas share the work. A film in parts (issue 16) has each part's stream (or
each part's own sidecar) converted and joined on the film's timeline, as its transcode joins the
parts. Image subtitles (PGS, VobSub, DVB) answer 422 ``image_subtitles``: they are burned in by a
transcode. Authorised as direct play: bearer, cookie or a ``?token=`` scoped to ``item:<id>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import asyncpg
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text
from yaffw import subtitle_choice
from yaffw.errors import NotFound, YaffwError
from yaffw.media import safe_path, subtitle_pick
from yaffw.media import subtitles as subs
from yaffw.sessions import PlaybackSession

from yaffw_api.access import visible_item
from yaffw_api.apidoc import op, path_param, query_param
from yaffw_api.auth import User, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.playback_domain import media_token

bp = Blueprint("subtitles")

VTT_TYPE = "text/vtt; charset=utf-8"
_CACHE_SECONDS = 86_400
_CONVERTING: dict[str, asyncio.Future[str]] = {}
# ``in_parts`` rides on the item's own query, so a film of one file (most) costs no parts lookup.
_COLUMNS = (
    "i.id, i.path, i.film_id, i.file_duration_seconds, i.duration_seconds,"
    " (SELECT l.paths FROM libraries l WHERE l.id = i.library_id) AS roots,"
    " EXISTS (SELECT 1 FROM media_items p WHERE p.film_id = i.id AND p.part_number IS NOT NULL) AS in_parts"
)


class ImageSubtitles(YaffwError):
    """A picture subtitle stream asked for as text: it can only be burned in."""

    code = "image_subtitles"
    status = 422


async def stream_row(d: Deps, user: User, item_id: str, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(item, stream)`` rows of subtitle stream ``index`` of an item ``user`` may see.

    :raises NotFound: no such item for the caller, or no such subtitle stream.
    """
    assert d.pool is not None
    item = await visible_item(d.pool, user, item_id, _COLUMNS)
    row = await d.pool.fetchrow(
        "SELECT stream_index, codec, language, title, is_default, is_forced, is_external, external_path"
        " FROM media_streams WHERE item_id = $1 AND stream_index = $2 AND type = 'subtitle'",
        item["id"], index,
    )  # fmt: skip
    if row is None:
        raise NotFound("no such subtitle stream", code="no_subtitle_stream")
    return item, dict(row)


async def webvtt(d: Deps, user: User, item_id: str, index: int) -> str:
    """Subtitle stream ``index`` of the item as WebVTT (converted once, then from Redis).

    :raises NotFound: see :func:`stream_row`; the file gone or refused. :raises ImageSubtitles: a
        picture format. :raises Unavailable: FFmpeg could not convert it.
    """
    item, stream = await stream_row(d, user, item_id, index)
    if not subs.is_text(stream["codec"]):
        if subs.is_image(stream["codec"]):
            raise ImageSubtitles("picture subtitles cannot be sent as text: choose them to have them burned in")
        raise ImageSubtitles(f"subtitles in {stream['codec']} cannot be converted to WebVTT", code="subtitle_codec")
    path = stream["external_path"] if stream["is_external"] else item["path"]
    if not path:
        raise NotFound("item has no file", code="no_file")
    parts = await _parts(d, item, stream)
    stats = [await asyncio.to_thread(safe_path.check_media, f, list(item["roots"] or []))
             for f in ([p for p, _ in parts if p] or [path])]  # fmt: skip
    key = d.keys.subtitle_vtt(str(item["id"]), index, "-".join(f"{st.st_size}-{st.st_mtime_ns}" for st in stats))
    cached = await d.redis.get(key)
    if cached is not None:
        return cached.decode() if isinstance(cached, bytes) else str(cached)
    # One conversion per stream at a time in this process: a player asking for the playlist and its
    # first segments together waits for the same FFmpeg run.
    running = _CONVERTING.get(key)
    if running is None:
        own_index = None if stream["is_external"] else index  # a sidecar: its file's only stream
        convert = partial(subs.convert_parts, parts, own_index) if parts else partial(subs.convert, path, own_index)
        running = asyncio.ensure_future(asyncio.to_thread(convert))
        _CONVERTING[key] = running
        running.add_done_callback(lambda _: _CONVERTING.pop(key, None))
    vtt = await asyncio.shield(running)
    await d.redis.set(key, vtt, ex=_CACHE_SECONDS)
    return vtt


# Each part of a film (in order) with its length and the file holding "the same" subtitle stream:
# embedded, the stream of the same index and codec; a sidecar, the part's own sidecar of the same
# language, forced flag and title in a text format (its codec preferred, then its lowest index).
# None: the part has none.
_PARTS = (
    "SELECT coalesce(p.file_duration_seconds, p.duration_seconds, 0) AS length,"
    " CASE WHEN $3 THEN (SELECT s.external_path FROM media_streams s WHERE s.item_id = p.id"
    "   AND s.type = 'subtitle' AND s.is_external AND s.language IS NOT DISTINCT FROM $5"
    "   AND s.is_forced = $6 AND s.title IS NOT DISTINCT FROM $7 AND s.codec = ANY($8::text[])"
    "   ORDER BY s.codec = $4 DESC, s.stream_index LIMIT 1)"
    " WHEN EXISTS (SELECT 1 FROM media_streams s WHERE s.item_id = p.id AND s.stream_index = $2"
    "   AND s.type = 'subtitle' AND s.codec = $4 AND NOT s.is_external) THEN p.path END AS file"
    " FROM media_items p WHERE p.film_id = $1 AND p.part_number IS NOT NULL ORDER BY p.part_number"
)


async def _parts(d: Deps, item: dict[str, Any], stream: dict[str, Any]) -> list[tuple[str | None, float]]:
    """A film in parts: each part's file for the stream (None where the part has no such stream)
    and length, in order, for :func:`yaffw.media.subtitles.convert_parts`; empty for a film of one
    file. The film's row describes its first part's streams; an embedded stream is found in each other
    part by index and codec, a sidecar by the part's own sidecar of the same language, forced flag and
    title (``Film - part2.en.srt`` beside ``Film - part2.mkv``)."""
    assert d.pool is not None
    if item["film_id"] is not None or not item["in_parts"]:  # a part or version row, or a film of one file
        return []
    rows = await d.pool.fetch(
        _PARTS, item["id"], stream["stream_index"], stream["is_external"], stream["codec"], stream["language"],
        stream["is_forced"], stream["title"], sorted(subs.TEXT_CODECS),
    )  # fmt: skip
    if not rows:
        return []
    first = float(item["file_duration_seconds"] or item["duration_seconds"] or 0)
    own = stream["external_path"] if stream["is_external"] else item["path"]
    return [(own, first), *((r["file"], float(r["length"])) for r in rows)]


async def subtitle_streams(d: Deps, item_id: str) -> list[dict[str, Any]]:
    """The item's subtitle streams (text and pictures), in index order, for menus and playlists (the
    caller has checked that the item is visible)."""
    assert d.pool is not None
    rows = await d.pool.fetch(
        "SELECT stream_index, type, codec, language, title, is_default, is_forced, is_external"
        " FROM media_streams WHERE item_id = $1::uuid AND type = 'subtitle' ORDER BY stream_index",
        item_id,
    )
    return [dict(r) for r in rows]


def menu_entry(stream: dict[str, Any], url: str | None) -> dict[str, Any]:
    """One subtitle stream as the player's menu and ``GET /api/items/{id}/subtitles`` show it."""
    kind = "text" if subs.is_text(stream["codec"]) else "image" if subs.is_image(stream["codec"]) else "other"
    return {"index": stream["stream_index"], "language": stream["language"], "title": stream["title"],
            "label": subs.label(stream), "codec": stream["codec"], "kind": kind, "forced": stream["is_forced"],
            "default": stream["is_default"], "external": stream["is_external"],
            "url": url if kind == "text" else None}  # fmt: skip


async def _source(d: Deps, user: User, item_id: str, source: str | None) -> dict[str, Any]:
    """The file whose subtitles are listed: the item, or one of its versions (``?source=``)."""
    assert d.pool is not None
    item = await visible_item(d.pool, user, item_id, "i.id, i.duration_seconds")
    if not source or source == str(item["id"]):
        return item
    try:
        row = await d.pool.fetchrow(
            "SELECT id, duration_seconds FROM media_items WHERE id = $1::uuid AND film_id = $2", source, item["id"]
        )
    except (asyncpg.DataError, ValueError) as exc:
        raise NotFound("no such version of this item", code="no_source") from exc
    if row is None:
        raise NotFound("no such version of this item", code="no_source")
    return dict(row)


async def master_subtitles(d: Deps, user: User, session: PlaybackSession, master: str,
                           uri: Callable[[int], str]) -> str:  # fmt: skip
    """``master`` with the text subtitles of the session's file as renditions (``uri(index)``: the
    subtitle playlist of a stream), the caller's default one marked ``DEFAULT=YES``."""
    played = played_item(session)
    streams = await subtitle_streams(d, played)
    text_streams = [s for s in streams if subs.is_text(s["codec"])]
    if not text_streams:
        return master
    audio = await audio_language(d, played, session.audio_index)
    selected = await default_choice(d, user, session.item_id, streams, audio)
    return subs.master_with_subtitles(master, [(s, uri(s["stream_index"])) for s in text_streams], selected)


def played_item(session: PlaybackSession) -> str:
    """The item whose file the session plays (the item, or the version its job names)."""
    return str((session.job.item_id if session.job else "") or session.item_id)


@bp.get("/api/items/<item_id>/subtitles")
async def list_subtitles(request: Request, item_id: str) -> HTTPResponse:
    """The item's subtitle streams, with a WebVTT URL for the text ones, and the one to show now
    (``selected``: the caller's choice for the item, else their preferences; null: off)."""
    user = await require_user(request)
    d = deps(request)
    assert d.pool is not None
    source = await _source(d, user, item_id, request.args.get("source"))
    audio_index = request.args.get("audio_index")
    audio = await audio_language(d, str(source["id"]), subs.check_index(audio_index) if audio_index else None)
    streams = await subtitle_streams(d, str(source["id"]))
    token = media_token(d, user, f"item:{source['id']}", source["duration_seconds"])
    entries = [menu_entry(s, f"/api/items/{source['id']}/subtitles/{s['stream_index']}.vtt?token={token}")
               for s in streams]  # fmt: skip
    selected = await default_choice(d, user, item_id, streams, audio)
    return json({"source_id": str(source["id"]), "subtitles": entries, "selected": selected})


async def audio_language(d: Deps, item_id: str, audio_index: int | None) -> str | None:
    """The language of audio stream ``audio_index`` (None: the file's default audio)."""
    assert d.pool is not None
    rows = await d.pool.fetch(
        "SELECT stream_index, language, is_default FROM media_streams WHERE item_id = $1::uuid AND type = 'audio'"
        " ORDER BY stream_index",
        item_id,
    )
    chosen = next((r for r in rows if r["stream_index"] == audio_index), None)
    chosen = chosen or next((r for r in rows if r["is_default"]), None) or (rows[0] if rows else None)
    return chosen["language"] if chosen else None


async def default_choice(d: Deps, user: User, item_id: str, streams: list[dict[str, Any]],
                         audio: str | None) -> int | None:  # fmt: skip
    """The subtitle stream ``user`` sees when ``item_id`` starts (None: off): :mod:`yaffw.media.subtitle_pick`."""
    assert d.pool is not None
    saved = await subtitle_choice.saved(d.pool, user.id, item_id)
    wanted, mode = await subtitle_choice.preferences(d.pool, user.id)
    return subtitle_pick.choose(streams, audio_language=audio, saved=saved, languages=wanted, mode=mode)


@bp.get("/api/items/<item_id>/subtitles/<name>")
async def item_subtitles(request: Request, item_id: str, name: str) -> HTTPResponse:
    """The whole subtitle stream ``<index>.vtt`` as WebVTT."""
    if not name.endswith(".vtt"):
        raise NotFound("subtitles are served as <index>.vtt", code="no_subtitle_stream")
    index = subs.check_index(name[: -len(".vtt")])
    user = await require_user(request, scope=f"item:{item_id}")
    vtt = await webvtt(deps(request), user, item_id, index)
    return text(vtt, content_type=VTT_TYPE, headers={"Cache-Control": "private, max-age=300"})


_ENTRY = {
    "type": "object",
    "properties": {
        "index": {"type": "integer"},
        "language": {"type": ["string", "null"]},
        "title": {"type": ["string", "null"]},
        "label": {"type": "string"},
        "codec": {"type": ["string", "null"]},
        "kind": {"enum": ["text", "image", "other"]},
        "forced": {"type": "boolean"},
        "default": {"type": "boolean"},
        "external": {"type": "boolean"},
        "url": {"type": ["string", "null"], "description": "WebVTT of a text stream, with a token scoped to the item"},
    },
}
OPENAPI = {
    "/api/items/{item_id}/subtitles": {
        "get": op("The item's subtitle streams and the one shown by default (null: off)", tag="playback",
                  schema={"type": "object", "properties": {
                      "source_id": {"type": "string"}, "subtitles": {"type": "array", "items": _ENTRY},
                      "selected": {"type": ["integer", "null"]}}},
                  params=[path_param("item_id"),
                          query_param("source", {"type": "string"}, "a version of the item (default: the item)"),
                          query_param("audio_index", {"type": "string"}, "the audio stream played (its language "
                                      "decides forced subtitles)")],
                  errors=("400", "404")),
    },
    "/api/items/{item_id}/subtitles/{name}": {
        "get": op("A text subtitle stream (embedded or sidecar) as WebVTT; picture subtitles are 422",
                  tag="playback", content_type="text/vtt", schema={"type": "string"},
                  params=[path_param("item_id"), path_param("name", "<stream index>.vtt"),
                          query_param("token", {"type": "string"}, "short-lived token scoped to this item")],
                  errors=("400", "404", "422", "503")),
    },
}  # fmt: skip
