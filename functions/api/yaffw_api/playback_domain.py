"""Playback sessions as a domain (DESIGN §5, §10): open, progress, ping, stop, announce.

Both public surfaces call these functions, so a session opened by ``POST /api/items/{id}/playback``
and one opened by Jellyfin's ``PlaybackInfo`` are the same thing: one Redis session with a lease,
the admin sessions page, activity, notifications and CloudEvents. The handlers only translate their
wire format (``/api``'s JSON, Jellyfin's ticks and PascalCase) into these calls.

Opening checks the user's limits (``yaffw.user_limits``): at most ``max_sessions`` open sessions and
``max_transcodes`` worker-served ones. Over a limit, the user's *idle* session that was reported on
longest ago — paused, or no progress report for ``YAFFW_SESSION_IDLE_SECONDS`` — is closed to make
room (the new playback is what the person wants now; a paused film elsewhere only keeps its
position, which is saved). With none idle the open fails with ``429`` ``too_many_sessions`` /
``too_many_transcodes``, whose message names the limit and its value.
"""

from __future__ import annotations

import math
import time
from typing import Any

from yaffw import activity, events, notify, sessions, tokens, user_limits, userdata
from yaffw.errors import BadInput, NotFound, RateLimited
from yaffw.media.decision import Decision
from yaffw.sessions import PlaybackSession

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.context import Deps
from yaffw_api.queries import users as user_queries
from yaffw_api.queries.versions import PART_COUNT

SOURCE = "/yaffw/api"
ITEM_COLUMNS = (
    "i.id, i.name, i.type, i.path, i.container, i.bitrate, i.duration_seconds, i.size, i.library_id, i.mtime,"
    f" i.version_label, {PART_COUNT} AS part_count"
)
# Media URL tokens live a little longer than the film so a paused film can still seek, but no
# longer than MAX_TOKEN_TTL: they travel in URLs.
MIN_TOKEN_TTL = 3600
MAX_TOKEN_TTL = tokens.MAX_MEDIA_TTL
# Idle sessions closed at most this many times for one open (concurrent opens may take the room).
ADMIT_TRIES = 3
_LIMIT_WORDS = {"sessions": "open playback sessions", "transcodes": "transcoded or remuxed playbacks"}


def token_ttl(duration: float | None) -> int:
    """Lifetime of a playback URL token for an item of ``duration`` seconds."""
    return int(min(MAX_TOKEN_TTL, max(MIN_TOKEN_TTL, 1.5 * (duration or 0) + 1800)))


def media_token(d: Deps, user: User, scope: str, duration: float | None) -> str:
    """A short-lived token for a media URL, valid only for ``scope`` (``session:<sid>``, ``item:<id>``),
    and only while the access token of ``user``'s request is not revoked (logout ends it too)."""
    parent = user.claims.parent or user.claims.jti
    token, _ = tokens.issue(d.settings.jwt_secret or "", user.id, user.is_admin, token_ttl(duration), scope=scope,
                            parent=parent)  # fmt: skip
    return token


async def playable_item(d: Deps, user: User, item_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The item (if ``user`` sees it) and its media streams.

    :raises NotFound: absent or invisible. :raises BadInput: (``not_playable``) a folder or no file.
    """
    assert d.pool is not None
    item = await visible_item(d.pool, user, item_id, ITEM_COLUMNS)
    if not item["path"] or item["type"] in ("series", "season"):
        raise BadInput("this item is not a playable file", code="not_playable")
    return item, await item_streams(d, str(item["id"]))


async def item_streams(d: Deps, item_id: str) -> list[dict[str, Any]]:
    """The item's ``media_streams`` rows, in stream order."""
    assert d.pool is not None
    rows = await d.pool.fetch("SELECT * FROM media_streams WHERE item_id = $1 ORDER BY stream_index", item_id)
    return [dict(r) for r in rows]


async def announce(d: Deps, type_: str, session: PlaybackSession, message: str, **extra: Any) -> None:
    """Activity log entry, admin notification and CloudEvent for a playback start or stop."""
    data = {"sid": session.sid, "user_id": session.user_id, "user_name": session.user_name,
            "item_id": session.item_id, "item_name": session.item_name, "method": session.method,
            "position_seconds": session.position_seconds, **extra}  # fmt: skip
    assert d.pool is not None
    await activity.write(d.pool, type_.removeprefix("io.yaffw."), message, user_id=session.user_id,
                         item_id=session.item_id, data=data)  # fmt: skip
    await notify.publish(d.redis, d.keys.notify, type_, data, admin_only=True)
    await events.publish(d.redis, d.keys.events, events.build(type_, SOURCE, data))


async def open_session(d: Deps, user: User, item: dict[str, Any], decision: Decision, *, max_height: int | None,
                       max_bitrate: int | None, start_seconds: float, client: str,
                       source: dict[str, Any] | None = None) -> PlaybackSession:  # fmt: skip
    """Store a session for ``decision``, take its lease and announce the start.

    ``max_height``/``max_bitrate`` are the client's limits (they cap the HLS ladder). ``source`` is
    the version of the film played (its ``media_items`` row; default the item's own file): the
    transcode reads that file, while the session, watch state and activity stay the film's.
    """
    sid = sessions.new_sid()
    await admit(d, user, sid, needs_worker=decision.is_hls)
    try:
        return await _store(d, user, sid, item, decision, max_height=max_height, max_bitrate=max_bitrate,
                            start_seconds=start_seconds, client=client, source=source)  # fmt: skip
    except BaseException:
        await user_limits.release(d.redis, d.keys, user.id, sid)
        raise


async def _store(d: Deps, user: User, sid: str, item: dict[str, Any], decision: Decision, *, max_height: int | None,
                 max_bitrate: int | None, start_seconds: float, client: str,
                 source: dict[str, Any] | None) -> PlaybackSession:  # fmt: skip
    now = time.time()
    played = source if source is not None else item
    # Short first segments (a fast first frame) for a playback from the start only (issue 13).
    job = decision.job(sid=sid, item=played, segment_seconds=d.settings.segment_seconds,
                       hwaccel=d.settings.hwaccel, created_at=now, short_start=start_seconds <= 0)  # fmt: skip
    session = PlaybackSession(
        sid=sid, user_id=user.id, user_name=user.name, item_id=str(item["id"]), item_name=item["name"],
        method=decision.method, reason=decision.reason, job=job, audio_index=decision.audio_index,
        max_height=max_height, max_bitrate=max_bitrate, position_seconds=start_seconds,
        duration_seconds=played["duration_seconds"], created_at=now, updated_at=now, client=client[:200],
    )  # fmt: skip
    await sessions.create(d.redis, d.keys, session)
    await d.routing.renew(sid, d.settings.lease_seconds)
    await announce(d, events.PLAYBACK_STARTED, session, f"{user.name} started watching {item['name']}",
                   reason=session.reason)  # fmt: skip
    return session


async def admit(d: Deps, user: User, sid: str, *, needs_worker: bool) -> None:
    """Take a slot (and the lease) for the new session ``sid`` within the user's limits, closing
    an idle session of theirs if that makes room.

    :raises RateLimited: (``too_many_sessions`` / ``too_many_transcodes``) with none idle.
    """
    assert d.pool is not None
    own_sessions, own_transcodes = await user_queries.limits(d.pool, user.id)
    max_sessions = own_sessions if own_sessions is not None else d.settings.max_sessions_per_user
    max_transcodes = own_transcodes if own_transcodes is not None else d.settings.max_transcodes_per_user
    for _ in range(ADMIT_TRIES):
        refusal = await user_limits.admit(d.redis, d.keys, user.id, sid, needs_worker=needs_worker,
                                          max_sessions=max_sessions, max_transcodes=max_transcodes,
                                          lease_seconds=d.settings.lease_seconds)  # fmt: skip
        if refusal is None:
            return
        idle = await _idle_session(d, refusal.sids)
        if idle is None:
            break
        try:
            await close_session(d, user, idle, idle.position_seconds if idle.position_seconds > 0 else None)
        except NotFound:  # a concurrent open or stop closed it first: count again
            continue
    raise RateLimited(f"{user.name} has {refusal.value} {_LIMIT_WORDS[refusal.limit]}, the most allowed "
                      f"(max_{refusal.limit} = {refusal.value}); stop one to start another",
                      code=refusal.code)  # fmt: skip


async def _idle_session(d: Deps, sids: list[str]) -> PlaybackSession | None:
    """Among ``sids``, the idle session (paused, or no report for ``session_idle_seconds``) whose
    last report is the oldest; None when every one is in use."""
    cutoff = time.time() - d.settings.session_idle_seconds
    found = [s for s in [await sessions.get(d.redis, d.keys, sid) for sid in sids] if s is not None]
    idle = [s for s in found if s.paused or s.updated_at < cutoff]
    return min(idle, key=lambda s: s.updated_at) if idle else None


async def owned_session(d: Deps, user: User, sid: str, *, admin_may: bool = False) -> PlaybackSession:
    """The open session ``sid`` if ``user`` owns it (or is an admin and ``admin_may``).

    :raises NotFound: absent, stopped, expired or someone else's.
    """
    session = await sessions.get(d.redis, d.keys, sid) if 0 < len(sid) <= 64 else None
    if session is None or (session.user_id != user.id and not (admin_may and user.is_admin)):
        raise NotFound("session not found")
    return session


async def find_session(d: Deps, user: User, item_id: str) -> PlaybackSession | None:
    """The caller's newest open session of ``item_id`` (for clients that report without a session id)."""
    mine = [s for s in await sessions.list_open(d.redis, d.keys) if s.user_id == user.id and s.item_id == item_id]
    return mine[-1] if mine else None


def position(value: Any, duration: float | None) -> float:
    """A reported position in seconds, checked and kept within the item.

    :raises BadInput: not a finite number >= 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise BadInput("position_seconds must be a number >= 0")
    # Players overshoot the end by a frame or report a stale duration; keep within the item.
    return min(float(value), duration) if duration else float(value)


async def record_progress(d: Deps, session: PlaybackSession, position_seconds: float | None,
                          paused: bool | None) -> dict[str, Any] | None:  # fmt: skip
    """Where the owner is: update the session (TTL and lease renewed) and save the position, which
    marks the item played past 90% (``yaffw.userdata``). ``None`` leaves a field as it is.

    Returns the owner's saved user data (``None`` when no position was given).
    :raises NotFound: the session ended meanwhile.
    """
    fields: dict[str, Any] = {}
    if position_seconds is not None:
        fields["position_seconds"] = position_seconds
    if paused is not None:
        fields["paused"] = paused
    if not await sessions.update(d.redis, d.keys, session.sid, **fields):
        raise NotFound("session not found")
    await d.routing.renew(session.sid, d.settings.lease_seconds)
    if position_seconds is None:
        return None
    assert d.pool is not None
    return await userdata.update(d.pool, session.user_id, session.item_id, position_seconds=position_seconds,
                                 duration_seconds=session.duration_seconds)  # fmt: skip


async def close_session(d: Deps, user: User, session: PlaybackSession,
                        position_seconds: float | None) -> dict[str, Any] | None:  # fmt: skip
    """End ``session`` (by its owner or an admin): save the final position if given, remove the
    session, its lease and its worker route (so the worker ends its encoder), announce the stop.

    Returns the owner's saved user data (``None`` when no position was given).
    :raises NotFound: a concurrent stop won (it announced).
    """
    saved = None
    if position_seconds is not None:
        session.position_seconds = position_seconds
        # The owner's watch state; an admin stopping someone's session does not move it.
        assert d.pool is not None
        saved = await userdata.update(d.pool, session.user_id, session.item_id, position_seconds=position_seconds,
                                      duration_seconds=session.duration_seconds)  # fmt: skip
    if not await sessions.delete(d.redis, d.keys, session.sid):
        raise NotFound("session not found")
    await d.routing.close(session.sid)  # lease and route: the worker ends its encoder
    await user_limits.release(d.redis, d.keys, session.user_id, session.sid)
    who = user.name if user.id != session.user_id else session.user_name
    await announce(d, events.PLAYBACK_STOPPED, session, f"{who} stopped {session.user_name}'s playback of "
                   f"{session.item_name}" if who != session.user_name else
                   f"{session.user_name} stopped watching {session.item_name}")  # fmt: skip
    if saved is not None:
        # Listeners (Jellyfin sockets) hear the end of a watch, after the stop itself; progress
        # reports stay quiet, as in Jellyfin.
        await userdata.publish_changed(d.redis, d.keys.notify, session.user_id, session.item_id, saved,
                                       session.duration_seconds)  # fmt: skip
    return saved
