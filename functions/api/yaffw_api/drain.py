"""Graceful drain on SIGTERM, so replicas can be replaced one at a time without a failed request.

SIGTERM (Kubernetes, Knative, ``yaffw up``) starts it:

1. at once, ``/readyz`` answers ``503 draining``: the load balancer (a Service's endpoints,
   Knative's queue-proxy) stops sending new requests here. Requests that still arrive are served
   as usual, and every answer carries ``Connection: close``, so a client on a kept-alive
   connection opens its next one elsewhere. SSE streams and Jellyfin sockets end cleanly (their
   clients reconnect after their retry delay, by then to another replica);
2. after ``YAFFW_SHUTDOWN_DELAY_SECONDS`` (the time the load balancer needs to notice), Sanic's
   own graceful stop: the listener closes, idle connections close, and requests in flight
   (segment waits, byte ranges) finish within ``GRACEFUL_SHUTDOWN_TIMEOUT``, the rest of
   ``YAFFW_SHUTDOWN_GRACE_SECONDS``. Whatever is still open then is cut, so the process has
   exited by the grace period.

SIGINT (a person at a terminal) and a second SIGTERM skip the delay: there is no balancer to wait for.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from yaffw.settings import Settings

log = logging.getLogger(__name__)


def install(app: Sanic, settings: Settings) -> None:
    """Wire the drain into ``app``: signal handlers, ``Connection: close`` while draining."""
    app.ctx.draining = False
    app.ctx.drain_hooks = []  # called when the drain begins (see on_drain)
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = float(settings.shutdown_grace_seconds - settings.shutdown_delay_seconds)

    @app.after_server_start
    async def _signals(app: Sanic) -> None:
        # Replaces Sanic's handlers (which stop at once: the listener would close while a load
        # balancer still sends here, and every such request would be refused).
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, begin, app, float(settings.shutdown_delay_seconds))
        loop.add_signal_handler(signal.SIGINT, begin, app, 0.0)

    @app.on_request
    async def _close_on_request(request: Request) -> None:
        if request.app.ctx.draining:
            close_after(request)

    @app.on_response
    async def _close_on_response(request: Request, response: HTTPResponse) -> None:
        # Also for requests that began before the drain: their answer is not sent yet.
        if request.app.ctx.draining:
            close_after(request)


def on_drain(app: Sanic, hook: Callable[[], None]) -> None:
    """Call ``hook`` when the drain begins (the notification hub ends its streams)."""
    app.ctx.drain_hooks.append(hook)


def close_after(request: Request) -> None:
    """Close the connection once this request is answered: ``Connection: close`` when its headers
    are not sent yet. (A connection whose answer already said ``keep-alive`` is left open: a
    client may reuse it at once and would see it cut; the next answer on it says ``close``.)"""
    http: Any = request.stream  # Sanic's Http object of the connection
    if http is not None and hasattr(http, "keep_alive"):
        http.keep_alive = False


def is_draining(app: Sanic) -> bool:
    """Whether this replica has begun to shut down (``/readyz`` says so)."""
    return bool(getattr(app.ctx, "draining", False))


def begin(app: Sanic, delay: float) -> None:
    """Start draining; stop serving after ``delay`` seconds (at once when already draining)."""
    if app.ctx.draining:
        log.info("second stop signal: stopping now")
        task = getattr(app.ctx, "drain_task", None)
        if task is not None:
            task.cancel()  # it would stop the loop again in the middle of Sanic's shutdown
        app.stop(terminate=False)
        return
    app.ctx.draining = True
    for hook in app.ctx.drain_hooks:
        hook()
    log.info("draining: not ready, stopping in %.1f s", delay)
    task = asyncio.get_running_loop().create_task(_stop_after(app, delay), name="drain")
    app.ctx.drain_task = task  # keep a reference: the loop holds tasks only weakly


async def _stop_after(app: Sanic, delay: float) -> None:
    await asyncio.sleep(delay)
    log.info("drained: closing the listener, waiting up to %.0f s for requests in flight",
             app.config.GRACEFUL_SHUTDOWN_TIMEOUT)  # fmt: skip
    app.stop(terminate=False)
