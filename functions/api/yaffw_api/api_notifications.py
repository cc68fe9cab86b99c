"""``GET /api/notifications``: a Server-Sent Events stream of the notifications the caller may see.

Each message is one unnamed event whose ``data`` is the notify JSON (``{type, data, library_id,
user_id, admin_only, at}``), so ``EventSource.onmessage`` receives everything. The stream opens
with a named ``ready`` event once this replica's subscription is live, and sends a comment line
every :data:`HEARTBEAT_SECONDS` to keep proxies from closing it. At each heartbeat the caller is
checked again: a revoked token or a disabled user ends the stream, and library access is re-read.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse
from yaffw import tokens
from yaffw.errors import Unauthorized, Unavailable

from yaffw_api.access import visible_library_ids
from yaffw_api.apidoc import op
from yaffw_api.auth import User, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.notifications import Client, Hub

bp = Blueprint("api_notifications")

HEARTBEAT_SECONDS = 15.0
READY_WAIT_SECONDS = 10.0


@bp.after_server_start
async def _start_hub(app: Sanic) -> None:
    d: Deps = app.ctx.deps
    app.ctx.hub = Hub(d.redis, d.keys.notify)
    app.ctx.hub.start()


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


@bp.get("/api/notifications")
async def notifications(request: Request) -> HTTPResponse | None:
    """Stream notifications until the client goes away, its token is revoked, or the server stops."""
    user = await require_user(request)
    d = deps(request)
    hub: Hub = request.app.ctx.hub
    try:
        await asyncio.wait_for(hub.ready.wait(), READY_WAIT_SECONDS)
    except TimeoutError:
        raise Unavailable("notifications are not available right now") from None
    client = Client(user, set(await visible_library_ids(d.pool, user)))
    hub.add(client)
    try:
        response = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await response.send("retry: 3000\nevent: ready\ndata: {}\n\n")
        while True:
            try:
                data = await asyncio.wait_for(client.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                if not await _still_allowed(d, user):
                    break
                client.libraries = set(await visible_library_ids(d.pool, user))
                await response.send(": ping\n\n")
                continue
            if data is None:
                break
            await response.send(f"data: {data}\n\n")
        await response.eof()
    finally:
        hub.remove(client)
    return None


OPENAPI = {
    "/api/notifications": {"get": op(
        "Server-Sent Events stream of notifications", tag="notifications", errors=(),
        schema={"type": "string"}, content_type="text/event-stream",
    )},
}  # fmt: skip
