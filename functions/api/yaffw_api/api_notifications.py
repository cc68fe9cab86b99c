"""``GET /api/notifications``: a Server-Sent Events stream of the notifications the caller may see.

Each message is one unnamed event whose ``data`` is the notify JSON (``{type, data, library_id,
user_id, admin_only, at}``), so ``EventSource.onmessage`` receives everything. The stream opens
with a named ``ready`` event once this replica's subscription is live, and sends a comment line
every :data:`HEARTBEAT_SECONDS` to keep proxies from closing it. At each heartbeat the caller is
checked again: a revoked token or a disabled user ends the stream, and library access is re-read.
The stream also ends when the token it was opened with expires (the browser reconnects with a fresh
one), and when the replica begins to drain (``yaffw_api.drain``: the browser reconnects after
``retry``, through the load balancer to another replica). A user may hold ``YAFFW_MAX_SSE_PER_USER``
streams at once, over every replica (``yaffw.user_limits``); one more gets ``429``
``too_many_streams``.
"""

from __future__ import annotations

import asyncio
import time

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse
from yaffw import tokens, user_limits
from yaffw.errors import RateLimited, Unauthorized, Unavailable

from yaffw_api import drain
from yaffw_api.access import visible_library_ids
from yaffw_api.apidoc import op
from yaffw_api.auth import User, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.notifications import Client, Hub

bp = Blueprint("api_notifications")

HEARTBEAT_SECONDS = 15.0
READY_WAIT_SECONDS = 10.0
SSE = "sse"  # the kind of stream slot (yaffw.user_limits)


@bp.after_server_start
async def _start_hub(app: Sanic) -> None:
    d: Deps = app.ctx.deps
    app.ctx.hub = Hub(d.redis, d.keys.notify)
    app.ctx.hub.start()
    drain.on_drain(app, app.ctx.hub.end_streams)


@bp.before_server_stop
async def _stop_hub(app: Sanic) -> None:
    hub: Hub | None = getattr(app.ctx, "hub", None)
    if hub is not None:
        await hub.stop()


async def _still_allowed(d: Deps, user: User) -> bool:
    try:
        await tokens.check_not_revoked(d.redis, d.keys, user.claims)
    except Unauthorized:
        return False
    assert d.pool is not None
    row = await d.pool.fetchrow("SELECT is_disabled FROM users WHERE id = $1::uuid", user.id)
    return row is not None and not row["is_disabled"]


async def take_slot(d: Deps, kind: str, user: User) -> str:
    """Hold one of the user's ``YAFFW_MAX_SSE_PER_USER`` slots for a stream of ``kind``; returns its id.

    :raises RateLimited: (``too_many_streams``) the user has that many open already.
    """
    stream_id = user_limits.new_stream_id()
    limit = d.settings.max_sse_per_user
    if not await user_limits.take_stream(d.redis, d.keys, kind, user.id, stream_id, limit):
        raise RateLimited(f"{user.name} has {limit} notification streams open, the most allowed "
                          f"(max_sse_per_user = {limit}); close one first", code="too_many_streams")  # fmt: skip
    return stream_id


@bp.get("/api/notifications")
async def notifications(request: Request) -> HTTPResponse | None:
    """Stream notifications until the client goes away, its token expires or is revoked, or the
    server stops."""
    user = await require_user(request)
    d = deps(request)
    hub: Hub = request.app.ctx.hub
    try:
        await asyncio.wait_for(hub.ready.wait(), READY_WAIT_SECONDS)
    except TimeoutError:
        raise Unavailable("notifications are not available right now") from None
    slot = await take_slot(d, SSE, user)
    client = Client(user, set(await visible_library_ids(d.pool, user)))
    hub.add(client)
    try:
        response = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response.send("retry: 3000\nevent: ready\ndata: {}\n\n")
        while True:
            left = user.claims.expires_at - time.time()
            if left <= 0:
                break  # the token expired: the client reconnects with a fresh one
            try:
                data = await asyncio.wait_for(client.queue.get(), min(HEARTBEAT_SECONDS, left))
            except TimeoutError:
                if time.time() >= user.claims.expires_at or not await _still_allowed(d, user):
                    break
                client.libraries = set(await visible_library_ids(d.pool, user))
                await user_limits.renew_stream(d.redis, d.keys, SSE, user.id, slot)
                await response.send(": ping\n\n")
                continue
            if data is None:
                break
            await response.send(f"data: {data}\n\n")
        if drain.is_draining(request.app):
            # Its headers said keep-alive; the client reconnects after `retry`, on a new connection
            # that the load balancer gives to another replica.
            drain.close_after(request)
        await response.eof()
    finally:
        hub.remove(client)
        await user_limits.drop_stream(d.redis, d.keys, SSE, user.id, slot)
    return None


OPENAPI = {
    "/api/notifications": {"get": op(
        "Server-Sent Events stream of notifications", tag="notifications", errors=("429",),
        schema={"type": "string"}, content_type="text/event-stream",
    )},
}  # fmt: skip
