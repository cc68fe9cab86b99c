"""Jellyfin's playback reports on yaffw's playback sessions (DESIGN §5, §10). All answer 204.

- ``POST /Sessions/Playing`` (``PlaybackStartInfo``): the session ``PlaySessionId`` names is marked
  playing at ``PositionTicks``. A client that plays without a yaffw session (it built the stream URL
  itself, or its session expired) gets one opened, as direct play, so the admin sessions page, the
  lease and the activity log see it.
- ``POST /Sessions/Playing/Progress`` (``PlaybackProgressInfo``): ``PositionTicks``/``IsPaused`` into
  the session and the user's saved position, as ``POST /api/sessions/{sid}/progress`` does (lease
  renewed, 90% marks the item played).
- ``POST /Sessions/Playing/Ping?playSessionId=``: renews the session's lease.
- ``POST /Sessions/Playing/Stopped`` (``PlaybackStopInfo``): the final position, then the session is
  closed as ``DELETE /api/sessions/{sid}`` closes it.

A report whose session is gone (stopped by ``DELETE /Videos/ActiveEncodings``, expired) still saves
the position of ``ItemId``. Without ``PlaySessionId`` the caller's newest open session of ``ItemId`` is
used. Another user's session or an item the caller cannot see is 404; bad field types are 400.
A token scoped to ``session:<PlaySessionId>`` (the one in the TranscodingUrl) is enough to report.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from yaffw import sessions, userdata
from yaffw.errors import BadInput, NotFound
from yaffw.media.decision import Decision, default_audio
from yaffw.sessions import PlaybackSession

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.context import Deps, deps
from yaffw_api.jellyfin import jfauth, play_args, wire
from yaffw_api.jellyfin.playback_info import client_label
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.playback_domain import (
    close_session,
    find_session,
    open_session,
    owned_session,
    playable_item,
    position,
    record_progress,
)

bp = Blueprint("jf_reporting", url_prefix=PREFIX)


class _Report:
    """The fields of a playback report yaffw uses, checked."""

    def __init__(self, fields: dict[str, Any]) -> None:
        raw_item = play_args.string(fields, "ItemId", 64)
        self.item_id = wire.parse_id(raw_item, bad_input=True) if raw_item else None
        self.sid = play_args.string(fields, "PlaySessionId", 128)
        self.position = play_args.ticks_seconds(fields, "PositionTicks")
        self.paused = play_args.boolean(fields, "IsPaused")
        play_args.boolean(fields, "Failed")
        play_args.boolean(fields, "CanSeek")
        play_args.string(fields, "PlayMethod", 32)
        play_args.string(fields, "MediaSourceId", 64)
        play_args.integer(fields, "AudioStreamIndex", -1, 10_000)
        play_args.integer(fields, "SubtitleStreamIndex", -1, 10_000)


async def _caller(request: Request) -> tuple[User, _Report]:
    try:
        report = _Report(play_args.body(request))
    except BadInput:
        await jfauth.require_user(request)  # a caller without credentials hears 401 first
        raise
    scope = f"session:{report.sid}" if report.sid else None
    return await jfauth.require_user(request, scope=scope), report


async def _session(d: Deps, user: User, report: _Report) -> PlaybackSession | None:
    """The caller's session the report is about (``None``: none open).

    :raises NotFound: ``PlaySessionId`` names someone else's session, or another item's.
    """
    session = None
    if report.sid:
        existing = await sessions.get(d.redis, d.keys, report.sid) if len(report.sid) <= 64 else None
        if existing is not None:
            session = await owned_session(d, user, report.sid)
    if session is None and report.item_id:
        session = await find_session(d, user, report.item_id)
    if session is not None and report.item_id and session.item_id != report.item_id:
        raise NotFound("session not found")
    return session


async def _save_position(d: Deps, user: User, report: _Report) -> None:
    """No session: the position still lands in the caller's user data (the item must be visible)."""
    if report.item_id is None or report.position is None:
        return
    assert d.pool is not None
    item = await visible_item(d.pool, user, report.item_id, "i.id, i.duration_seconds")
    await userdata.update(d.pool, user.id, report.item_id,
                          position_seconds=position(report.position, item["duration_seconds"]))  # fmt: skip


def _where(report: _Report, session: PlaybackSession) -> float | None:
    return None if report.position is None else position(report.position, session.duration_seconds)


@bp.post("/sessions/playing")
async def playing(request: Request) -> HTTPResponse:
    """Playback started."""
    user, report = await _caller(request)
    d = deps(request)
    session = await _session(d, user, report)
    if session is not None:
        await record_progress(d, session, _where(report, session), bool(report.paused))
        return empty(204)
    if report.item_id is None:
        return empty(204)  # nothing to attach the report to (Jellyfin accepts it too)
    item, streams = await playable_item(d, user, report.item_id)
    audio = default_audio(streams)
    decision = Decision("direct_play", "reported by the client, which plays the file itself",
                        audio["stream_index"] if audio else None, None, None)  # fmt: skip
    start = position(report.position or 0.0, item["duration_seconds"])
    opened = await open_session(d, user, item, decision, max_height=None, max_bitrate=None, start_seconds=start,
                                client=client_label(request))  # fmt: skip
    if report.paused:
        await record_progress(d, opened, None, True)
    return empty(204)


async def _apply(request: Request, action: str) -> HTTPResponse:
    """Progress or stop on the report's session; without one (or once it is gone) the position is saved."""
    user, report = await _caller(request)
    d = deps(request)
    session = await _session(d, user, report)
    try:
        if session is None:
            raise NotFound("no open session")
        if action == "stop":
            await close_session(d, user, session, _where(report, session))
        else:
            await record_progress(d, session, _where(report, session), report.paused)
    except NotFound:
        await _save_position(d, user, report)  # no session, or stopped meanwhile
    return empty(204)


@bp.post("/sessions/playing/progress")
async def progress(request: Request) -> HTTPResponse:
    """Where the player is."""
    return await _apply(request, "progress")


@bp.post("/sessions/playing/ping")
async def ping(request: Request) -> HTTPResponse:
    """Keep the session (and its lease) alive."""
    sid = wire.arg(request, "playSessionId") or ""
    user = await jfauth.require_user(request, scope=f"session:{sid}" if sid else None)
    d = deps(request)
    if sid and len(sid) <= 64 and await sessions.get(d.redis, d.keys, sid) is not None:
        session = await owned_session(d, user, sid)
        with contextlib.suppress(NotFound):  # stopped meanwhile: nothing to keep alive
            await record_progress(d, session, None, None)
    return empty(204)


@bp.post("/sessions/playing/stopped")
async def stopped(request: Request) -> HTTPResponse:
    """Playback ended: final position saved, session closed."""
    return await _apply(request, "stop")
