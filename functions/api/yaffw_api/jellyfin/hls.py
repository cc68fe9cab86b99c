"""Jellyfin's HLS paths over yaffw's HLS sessions (DESIGN §5.3-4, §10).

- ``GET|HEAD /videos/{itemId}/master.m3u8?PlaySessionId=…&ApiKey=…``: the session's variants. Each is
  listed as ``main.m3u8?<the same query>&Variant=<name>`` (``720p``, ``original``...). Without a
  ``PlaySessionId`` a session is opened as PlaybackInfo would (direct play off, the query's
  ``VideoCodec``/``AudioCodec``/``MaxStreamingBitrate``/``AudioStreamIndex`` as the HLS profile;
  ``SubtitleStreamIndex`` with ``SubtitleMethod=Encode`` naming an image subtitle burns it in) and
  the URIs carry its id. A query without ``ApiKey``/``api_key`` (header credentials) gets a token
  scoped to the session added, so the player needs nothing else.
- ``GET /videos/{itemId}/main.m3u8?…&Variant=…``: the complete VOD playlist of a variant (the first
  listed when ``Variant`` is absent); segments are ``hls1/<variant>/<n>.ts?<query>&runtimeTicks=…&
  actualSegmentLengthTicks=…`` as Jellyfin writes them (``hls1/main/<n>.ts`` is the first variant).
- ``GET /videos/{itemId}/hls1/{playlistId}/{n}.ts``: the segment, through the worker proxy
  (:func:`yaffw_api.hls_proxy.serve_segment`, failover included).
- ``DELETE /Videos/ActiveEncodings?PlaySessionId=…``: ends the session and so its encoder, as
  ``DELETE /api/sessions/{sid}`` without a position (the position last reported stays saved). A
  session already gone, or a ``DeviceId`` alone, is a no-op 204 (players call it after Stopped).

Every request is authorised by ``jfauth.require_user(request, scope="session:<sid>")``, checks that the
session belongs to the caller and to this item, and renews the session's lease.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, text
from yaffw import audio_choice, sessions
from yaffw.errors import NotFound
from yaffw.media import hls as playlists
from yaffw.media import source as media_source
from yaffw.media.tracks import choose_audio
from yaffw.sessions import PlaybackSession

from yaffw_api import hls_proxy
from yaffw_api.auth import User
from yaffw_api.context import Deps, deps
from yaffw_api.hls import PLAYLIST_TYPE, hls_session, session_plan, verified_query_token
from yaffw_api.jellyfin import device_profile, jfauth, play_args, wire
from yaffw_api.jellyfin.playback_info import client_label, credential_query
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.playback_domain import close_session, media_token, open_session, playable_item
from yaffw_api.subtitles import master_subtitles

bp = Blueprint("jf_hls", url_prefix=PREFIX)

_SEGMENT = re.compile(r"^(\d{1,7})\.([a-z0-9]{1,8})$")
# Parameters this module writes into the URIs it lists (a request's own values are replaced).
_OWN = frozenset({"variant", "runtimeticks", "actualsegmentlengthticks"})
# Echoed only when it is the token that authenticated the request (never unchecked text).
_CREDENTIALS = frozenset({"apikey", "api_key"})
MAIN = "main"  # Jellyfin's name for the (only) playlist of a session


def _query(request: Request, extra: dict[str, Any] | None = None, credential: str | None = None) -> str:
    """The request's query for the URIs of a playlist: the same parameters, without this module's own,
    plus ``extra``; of the credentials only ``credential`` (the one :func:`verified_query_token` passed)."""
    pairs = [(k, v) for k, values in request.args.items() if k.lower() not in _OWN for v in values
             if k.lower() not in _CREDENTIALS or (credential and v == credential)]  # fmt: skip
    pairs += [(k, v) for k, v in (extra or {}).items() if v is not None]
    return urlencode(pairs)


def _playlist(request: Request, body: str) -> HTTPResponse:
    if request.method == "HEAD":
        return empty(200, headers={"Content-Type": PLAYLIST_TYPE, "Cache-Control": "no-store"})
    return text(body, content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-store"})


async def _session(request: Request, item_id: str) -> tuple[Deps, PlaybackSession]:
    """The caller's HLS session named by ``PlaySessionId``, for this item; lease renewed.

    :raises NotFound: no such session, someone else's, another item's, or a direct-play one.
    """
    sid = wire.arg(request, "PlaySessionId") or ""
    iid = wire.parse_id(item_id)
    user = await jfauth.require_user(request, scope=f"session:{sid}")
    d = deps(request)
    if not sid:
        raise NotFound("session not found")
    session = await hls_session(d, user, sid)
    if session.item_id != iid:
        raise NotFound("session not found")
    return d, session


def _variant(plan: media_source.Plan, name: str | None) -> str:
    """The yaffw variant a Jellyfin playlist name means (``main``: the one players start with).

    :raises NotFound: none by that name.
    """
    if not name or name == MAIN:
        return playlists.start_variant(plan.variants).name
    if plan.variant(name) is None:
        raise NotFound("no such variant")
    return name


async def _open_from_query(request: Request, user: User, item_id: str) -> PlaybackSession:
    """A session for a master playlist requested without ``PlaySessionId`` (as PlaybackInfo would open
    it, the query's codecs standing for the client's HLS profile)."""
    d = deps(request)
    item, streams = await playable_item(d, user, wire.parse_id(item_id))
    names = ("MaxStreamingBitrate", "AudioStreamIndex", "StartTimeTicks", "MaxAudioChannels", "AllowVideoStreamCopy",
             "AllowAudioStreamCopy", "SubtitleStreamIndex")  # fmt: skip
    fields = play_args.merged(request, {}, names)
    audio_index = play_args.integer(fields, "AudioStreamIndex", 0, 10_000)
    if audio_index is None:
        # The caller's remembered track, else preferred language, else the file's default (as PlaybackInfo).
        saved, languages = await audio_choice.default_audio(d.pool, user.id, str(item["id"]))
        audio_index = choose_audio(streams, saved=saved, languages=languages)
    subtitle = play_args.integer(fields, "SubtitleStreamIndex", -1, 10_000)
    # SubtitleMethod=Encode asks for the subtitle in the picture: yaffw does that for image subtitles
    # (a text one is a WebVTT rendition of the master playlist whatever the method).
    encode = (wire.arg(request, "SubtitleMethod") or "").lower() == "encode"
    req = device_profile.Request(
        max_bitrate=play_args.integer(fields, "MaxStreamingBitrate", 1, 2**31 - 1),
        max_audio_channels=play_args.integer(fields, "MaxAudioChannels", 1, 64),
        audio_index=audio_index, enable_direct_play=False,
        subtitle_index=subtitle if encode and subtitle is not None and subtitle >= 0 else None,
        allow_video_copy=play_args.boolean(fields, "AllowVideoStreamCopy") is not False,
        allow_audio_copy=play_args.boolean(fields, "AllowAudioStreamCopy") is not False,
    )  # fmt: skip
    profile = {"TranscodingProfiles": [{
        "Type": "Video", "Protocol": "hls", "Container": "ts",
        "VideoCodec": wire.arg(request, "VideoCodec") or "h264", "AudioCodec": wire.arg(request, "AudioCodec") or "aac",
    }]}  # fmt: skip
    decision, caps = device_profile.choose(profile, item, streams, req)
    return await open_session(d, user, item, decision, max_height=caps.max_height, max_bitrate=caps.max_bitrate,
                              start_seconds=play_args.ticks_seconds(fields, "StartTimeTicks") or 0.0,
                              client=client_label(request))  # fmt: skip


@bp.route("/videos/<item_id:str>/master.m3u8", methods=["GET", "HEAD"])
async def master(request: Request, item_id: str) -> HTTPResponse:
    """The master playlist of the session (opened here when the query names none)."""
    extra: dict[str, Any] = {}
    if wire.arg(request, "PlaySessionId"):
        d, session = await _session(request, item_id)
    else:
        d = deps(request)
        opened = await _open_from_query(request, await jfauth.require_user(request), item_id)
        session = await hls_session(d, await jfauth.require_user(request), opened.sid)
        extra["PlaySessionId"] = session.sid
    credential = await verified_query_token(request, credential_query(request), f"session:{session.sid}")
    if not credential:
        # Header credentials: the player fetching the URIs below has none, so they carry a scoped token.
        user = await jfauth.require_user(request, scope=f"session:{session.sid}")
        extra["ApiKey"] = media_token(d, user, f"session:{session.sid}", session.duration_seconds)
    plan = await session_plan(request, d, session)
    seconds = float(session.job.segment_seconds if session.job is not None else 6)
    start = playlists.job_start(plan.starts, session.position_seconds or 0.0, seconds)
    # Listed first is where the player starts: the pre-warmed job encodes that same variant.
    variants = playlists.master_order(plan.variants)
    await hls_proxy.ensure_job(d, session, variants[0].name, start)
    body = playlists.master_playlist(
        variants, lambda v: f"main.m3u8?{_query(request, {**extra, 'Variant': v.name}, credential)}")  # fmt: skip
    # Text subtitles (issue 13): yaffw's segmented WebVTT of the session, with a token for it.
    sub_query = f"?token={credential or extra['ApiKey']}" if credential or extra.get("ApiKey") else ""
    base = f"/api/sessions/{session.sid}/subtitles"
    body = await master_subtitles(d, await jfauth.require_user(request), session, body,
                                  lambda i: f"{base}/{i}/index.m3u8{sub_query}")  # fmt: skip
    return _playlist(request, body)


@bp.get("/videos/<item_id:str>/main.m3u8")
async def main(request: Request, item_id: str) -> HTTPResponse:
    """A variant's complete VOD media playlist, answered without waiting for any worker."""
    d, session = await _session(request, item_id)
    plan = await session_plan(request, d, session)
    variant = _variant(plan, wire.arg(request, "Variant"))
    lengths = playlists.durations(plan.starts, plan.duration)
    credential = await verified_query_token(request, credential_query(request), f"session:{session.sid}")

    def uri(n: int) -> str:
        extra = {"runtimeTicks": wire.ticks(plan.starts[n]), "actualSegmentLengthTicks": wire.ticks(lengths[n])}
        return f"hls1/{variant}/{n}.{playlists.SEGMENT_EXT}?{_query(request, extra, credential)}"

    return _playlist(request, playlists.media_playlist(plan.starts, plan.duration, uri))


@bp.get("/videos/<item_id:str>/hls1/<playlist_id:str>/<name:str>")
async def segment(request: Request, item_id: str, playlist_id: str, name: str) -> HTTPResponse | None:
    """Segment ``n`` of a variant, from the session's worker (failover included)."""
    d, session = await _session(request, item_id)
    plan = await session_plan(request, d, session)
    variant = _variant(plan, playlist_id)
    match = _SEGMENT.match(name)
    if match is None or match.group(2) != playlists.SEGMENT_EXT or int(match.group(1)) >= len(plan.starts):
        raise NotFound("no such segment")
    return await hls_proxy.serve_segment(request, d, request.app.ctx.hls_client, session, variant,
                                         int(match.group(1)))  # fmt: skip


@bp.delete("/videos/activeencodings")
async def stop_encodings(request: Request) -> HTTPResponse:
    """End the session's encoding: the session is closed as yaffw's stop closes it, without a position."""
    sid = wire.arg(request, "PlaySessionId")
    if not sid:
        # Jellyfin also accepts a DeviceId alone; yaffw keeps no sessions per device, so there is
        # nothing to end here: the sessions' leases lapse and the reaper ends them.
        await jfauth.require_user(request)
        return empty(204)
    user = await jfauth.require_user(request, scope=f"session:{sid}")
    d = deps(request)
    session = await sessions.get(d.redis, d.keys, sid) if len(sid) <= 64 else None
    if session is None:
        return empty(204)  # already stopped (players call this after /Sessions/Playing/Stopped)
    if session.user_id != user.id and not user.is_admin:
        raise NotFound("session not found")
    with contextlib.suppress(NotFound):  # a concurrent stop won
        await close_session(d, user, session, None)
    return empty(204)
