"""HLS for a playback session (DESIGN §5.3, §9): playlists answered here, segments proxied.

- ``GET /api/sessions/{sid}/master.m3u8``: the variants (ladder capped at the source, the client's
  limits and the decision); also queues the session's job if no worker has it, so the encoder
  starts while the player reads playlists.
- ``GET /api/sessions/{sid}/{variant}/index.m3u8``: the complete VOD playlist, from the duration
  (and, for copied video, the source's keyframes), without waiting for any worker.
- ``GET /api/sessions/{sid}/{variant}/{n}.ts``: the segment, through :mod:`yaffw_api.hls_proxy`.

Every request needs the session's owner (or an admin) with access to the item's library, by an
access token or the ``?token=`` scoped to ``session:<sid>``, and renews the session's lease.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, text
from yaffw import sessions, tokens
from yaffw.errors import NotFound, YaffwError
from yaffw.media import hls
from yaffw.media import source as media_source
from yaffw.sessions import PlaybackSession

from yaffw_api import hls_proxy
from yaffw_api.access import visible_item
from yaffw_api.apidoc import op, path_param, query_param
from yaffw_api.auth import User, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.subtitles import master_subtitles

bp = Blueprint("hls")
log = logging.getLogger(__name__)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
_SEGMENT = re.compile(r"^(\d{1,7})\.ts$")
_PLAN_CACHE = 512
_PREWARMS: set[asyncio.Task[None]] = set()


@bp.listener("before_server_start")
async def _open(app: Sanic) -> None:
    app.ctx.hls_client = hls_proxy.client(app.ctx.deps.settings.worker_connections)
    app.ctx.hls_plans = OrderedDict()


@bp.listener("after_server_stop")
async def _close(app: Sanic) -> None:
    await app.ctx.hls_client.aclose()


async def _session(request: Request, sid: str) -> tuple[Deps, PlaybackSession]:
    """The caller's HLS session, lease renewed. :raises NotFound: absent, not theirs, direct play."""
    user = await require_user(request, scope=f"session:{sid}")
    d = deps(request)
    return d, await hls_session(d, user, sid)


async def hls_session(d: Deps, user: User, sid: str) -> PlaybackSession:
    """The HLS session ``sid`` of ``user`` (or any, for an admin) with the item still visible to
    them; its lease renewed. Shared by ``/api`` and the Jellyfin surface.

    :raises NotFound: absent, not theirs, direct play, or the item out of reach.
    """
    session = await sessions.get(d.redis, d.keys, sid) if 0 < len(sid) <= 64 else None
    if session is None or (session.user_id != user.id and not user.is_admin) or session.job is None:
        raise NotFound("session not found")
    assert d.pool is not None
    await visible_item(d.pool, user, session.item_id, "i.id")
    await d.routing.renew(sid, d.settings.lease_seconds)
    return session


async def session_plan(request: Request, d: Deps, session: PlaybackSession) -> media_source.Plan:
    """The session's variants and segment starts (cached per session and job, per process). Callers
    at the same time (the pre-warm and the playback answer's master playlist) share one computation."""
    cache: OrderedDict = request.app.ctx.hls_plans
    key = (session.sid, repr(session.job), session.max_height)
    task = cache.get(key)
    if task is None:
        task = asyncio.ensure_future(_plan(d, session))
        cache[key] = task
        while len(cache) > _PLAN_CACHE:
            cache.popitem(last=False)
    cache.move_to_end(key)
    try:
        return await asyncio.shield(task)  # one caller going away must not cancel it for the others
    except BaseException:
        if task.done() and cache.get(key) is task:
            del cache[key]  # a failure is not kept: the next request tries again
        raise


async def _plan(d: Deps, session: PlaybackSession) -> media_source.Plan:
    assert d.pool is not None and session.job is not None  # hls_session refuses direct play
    # The job names the file played: the item's own, or another version of the film.
    played = session.job.item_id or session.item_id
    src = await media_source.load(d.pool, played, session.job.audio_index)
    return await media_source.plan(d.pool, src, session.job, session.max_height)


async def master_body(request: Request, d: Deps, user: User, session: PlaybackSession, query: str, *,
                      queue_job: bool) -> str:  # fmt: skip
    """The session's master playlist, its URIs ending in ``query`` (the media token). The variant
    listed first is where players start, and what the pre-warmed job encodes; ``queue_job`` queues
    that job if nobody has (the master playlist request: a player is about to ask for segments)."""
    plan = await session_plan(request, d, session)
    variants = hls.master_order(plan.variants)
    if queue_job:
        start = hls.job_start(plan.starts, session.position_seconds or 0.0, _segment_seconds(session))
        await hls_proxy.ensure_job(d, session, variants[0].name, start)
    body = hls.master_playlist(variants, lambda v: f"{v.name}/index.m3u8{query}")
    # Text subtitles as renditions (issue 13): yaffw_api.hls_subtitles serves them.
    return await master_subtitles(d, user, session, body, lambda i: f"subtitles/{i}/index.m3u8{query}")


async def _query(request: Request, sid: str) -> str:
    """The scoped token again for the URIs a playlist lists (players cannot add headers): only a
    verified token of this caller for this session, never whatever else the query says."""
    token = await verified_query_token(request, request.args.get("token"), f"session:{sid}")
    return f"?token={token}" if token else ""


_JWT = re.compile(r"^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,1024}$")


async def verified_query_token(request: Request, token: str | None, scope: str) -> str | None:
    """``token`` when it is a valid, unrevoked JWT of the authenticated caller for ``scope`` (or the
    token that authenticated this request), else ``None``: a playlist must not reflect text an
    attacker put in a link (someone else's token, or playlist lines). Shared with the Jellyfin surface."""
    user = getattr(request.ctx, "user", None)
    if not token or user is None or not _JWT.fullmatch(token):
        return None
    d = deps(request)
    try:
        claims = tokens.decode(d.settings.jwt_secret or "", token)
        if claims.jti == user.claims.jti:
            return token
        if claims.user_id != user.id or claims.scope != scope:
            return None
        await tokens.check_not_revoked(d.redis, d.keys, claims)
    except YaffwError:
        return None
    return token


async def prewarm(request: Request, d: Deps, session: PlaybackSession) -> None:
    """Queue a new HLS session's job now, on the variant the master playlist will list first and at
    the segment of its start position, so the encoder starts while the player loads hls.js and reads
    playlists (issue 13), when a worker is alive to take it. The master playlist request does the
    same if this has not happened."""
    try:
        if not await _a_worker_is_alive(d):
            return  # none to start it now; the master playlist request queues it (KEDA scales on that)
        plan = await session_plan(request, d, session)
        start = hls.job_start(plan.starts, session.position_seconds or 0.0, _segment_seconds(session))
        await hls_proxy.ensure_job(d, session, hls.start_variant(plan.variants).name, start)
    except YaffwError as exc:  # the master playlist request reports it to the player
        log.info("session %s: no pre-warm: %s", session.sid, exc.message)


async def _a_worker_is_alive(d: Deps) -> bool:
    """True when some worker's heartbeat is alive. Without one a pre-warmed job would wait in the
    queue for a session that may never be played (a client that opens and does not play)."""
    for worker_id in await d.routing.registered_workers():
        if await d.routing.worker_alive(worker_id):
            return True
    return False


def _segment_seconds(session: PlaybackSession) -> float:
    return float(session.job.segment_seconds if session.job is not None else 6)


def start_prewarm(request: Request, d: Deps, session: PlaybackSession) -> None:
    """:func:`prewarm` in the background: the playback answer does not wait for it."""
    task = asyncio.create_task(prewarm(request, d, session))
    _PREWARMS.add(task)  # a reference until it is done (the loop keeps only a weak one)
    task.add_done_callback(_PREWARMS.discard)


def _playlist(body: str) -> HTTPResponse:
    return text(body, content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-store"})


@bp.get("/api/sessions/<sid>/master.m3u8")
async def master(request: Request, sid: str) -> HTTPResponse:
    """The master playlist."""
    d, session = await _session(request, sid)
    body = await master_body(request, d, request.ctx.user, session, await _query(request, sid), queue_job=True)
    return _playlist(body)


@bp.get("/api/sessions/<sid>/<variant>/<name>")
async def variant_file(request: Request, sid: str, variant: str, name: str) -> HTTPResponse | None:
    """A variant's media playlist (``index.m3u8``) or one of its segments (``<n>.ts``)."""
    d, session = await _session(request, sid)
    plan = await session_plan(request, d, session)
    if plan.variant(variant) is None:
        raise NotFound("no such variant")
    if name == "index.m3u8":
        q = await _query(request, sid)
        return _playlist(hls.media_playlist(plan.starts, plan.duration, lambda n: f"{n}.{hls.SEGMENT_EXT}{q}"))
    match = _SEGMENT.match(name)
    if match is None or int(match.group(1)) >= len(plan.starts):
        raise NotFound("no such segment")
    return await hls_proxy.serve_segment(request, d, request.app.ctx.hls_client, session, variant,
                                         int(match.group(1)))  # fmt: skip


_TOKEN = query_param("token", {"type": "string"}, "short-lived token scoped to this session")
OPENAPI = {
    "/api/sessions/{sid}/master.m3u8": {
        "get": op("HLS master playlist: variants and audio", tag="hls", content_type="application/vnd.apple.mpegurl",
                  schema={"type": "string"}, params=[path_param("sid"), _TOKEN]),
    },
    "/api/sessions/{sid}/{variant}/{name}": {
        "get": op("HLS media playlist (index.m3u8) or segment (N.ts), proxied from the session's worker",
                  tag="hls", content_type="application/octet-stream", schema={"type": "string"},
                  params=[path_param("sid"), path_param("variant"), path_param("name", "index.m3u8 or N.ts"),
                          _TOKEN],
                  errors=("400", "404", "503")),
    },
}  # fmt: skip
