"""Segments through the api (DESIGN §5.3-4, seed §3.2 steps 6-7): proxy to the session's worker,
and fail over when that worker is gone.

For segment ``n`` of a session, within :data:`SEGMENT_WAIT` seconds:

1. the session's route names a worker whose heartbeat is alive → ask it (it waits while the
   segment is being made) and stream its answer;
2. no route, a dead heartbeat, connection refused/reset, or the worker does not know the session →
   clear the route, move the session's job back to the queue at segment ``n`` (once, however many
   requests and replicas notice) and wait for the worker's ``ready``; then 1 again.

The protocol itself (routes, owners, requeue, ``ready``/``failed``, the worker's error codes) is
:mod:`yaffw.routing`; this module is the HTTP side of it.

When time runs out the player gets 503 with ``Retry-After`` (it retries) instead of a hanging request;
so does a request that finds no free connection to the workers in time, or a worker that accepts the
connection but does not answer (a frozen or black-holed pod). Only a session FFmpeg cannot transcode
at all is an error.
"""

from __future__ import annotations

import logging
import time

import httpx
from sanic import Request
from sanic.response import HTTPResponse
from yaffw import routing
from yaffw.errors import NotFound, Unavailable
from yaffw.routing import Answer, Listener, Route
from yaffw.sessions import PlaybackSession

from yaffw_api.context import Deps

log = logging.getLogger(__name__)

# Below hls.js's default time-to-first-byte limit for fragments (10 s), so a slow start is answered
# 503 + Retry-After rather than being abandoned by the player.
SEGMENT_WAIT = 9.0
RETRY_AFTER = "2"
CHUNK = 64 * 1024


class _WorkerGone(Exception):
    """The route's worker cannot serve the session (dead, or does not know it)."""


class _NotReady(Exception):
    """The worker is making the segment but it was not ready in time."""


def client(connections: int = 256) -> httpx.AsyncClient:
    """The shared connection pool to workers (one per api process, ``YAFFW_WORKER_CONNECTIONS``)."""
    return httpx.AsyncClient(limits=httpx.Limits(max_connections=connections,
                                                 max_keepalive_connections=min(64, connections)),
                             timeout=httpx.Timeout(30.0, connect=2.0))  # fmt: skip


def _busy(sid: str, n: int, why: str) -> Unavailable:
    log.warning("session %s: segment %d not served: %s", sid, n, why)
    return Unavailable(f"segment {n} is not available yet ({why})", code="workers_busy",
                       headers={"Retry-After": RETRY_AFTER})  # fmt: skip


async def _requeue(d: Deps, session: PlaybackSession, route: Route | None, variant: str, n: int) -> None:
    """Give the session to another worker at segment ``n``, once however many requests and replicas
    notice (:meth:`yaffw.routing.Routing.requeue`)."""
    job = routing.job_of(session.job, session.sid).at_segment(n, variant)
    owner = route.owner if route else (await d.routing.owner(session.sid))
    if await d.routing.requeue(job, route=route.address if route else None, held_by=owner or None):
        log.info("session %s: worker %s gone, requeued at segment %d", session.sid,
                 (route.address if route else owner) or "-", n)  # fmt: skip


async def ensure_job(d: Deps, session: PlaybackSession, variant: str | None, n: int) -> None:
    """Start the session's job at segment ``n`` unless a worker serves it or one is queued (pre-warm)."""
    if session.job is None:
        return
    if await d.routing.ensure_job(routing.job_of(session.job, session.sid).at_segment(n, variant)):
        log.info("session %s: job queued at segment %d", session.sid, n)


async def _stream(request: Request, http: httpx.AsyncClient, route: str, sid: str, variant: str, n: int,
                  remaining: float) -> HTTPResponse | None:  # fmt: skip
    url = routing.segment_url(route, sid, variant, n)
    # The worker answers within `wait` (200, or 503 when not ready); a little more for the first byte.
    # Waiting for a pooled connection counts against the same deadline.
    req = http.build_request("GET", url, params={routing.WAIT_PARAM: f"{max(0.0, remaining - 0.5):.1f}"},
                             timeout=httpx.Timeout(remaining + 1, connect=2.0, pool=max(0.1, remaining)))  # fmt: skip
    try:
        upstream = await http.send(req, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise _WorkerGone(str(exc)) from exc
    except httpx.PoolTimeout as exc:
        raise _busy(sid, n, "no free connection to the transcode workers") from exc
    except httpx.TimeoutException as exc:  # read/write: the worker took the connection and went silent
        raise _busy(sid, n, f"worker at {route} did not answer") from exc
    try:
        if upstream.status_code != 200:
            await upstream.aread()
            code = _error_code(upstream)
            answer = routing.classify(upstream.status_code, code)
            if answer is Answer.BEYOND_END:
                raise NotFound("segment past the end of the media", code=routing.BEYOND_END)
            if answer is Answer.GONE:
                raise _WorkerGone(code)
            if answer is Answer.NOT_READY:
                raise _NotReady()
            raise Unavailable(f"transcoding failed ({code})", code=routing.TRANSCODE_FAILED)
        response = await request.respond(
            content_type="video/mp2t",
            headers={"Content-Length": upstream.headers.get("content-length", ""), "Cache-Control": "no-store"}
            if upstream.headers.get("content-length") else {"Cache-Control": "no-store"},
        )  # fmt: skip
        try:
            async for chunk in upstream.aiter_raw(CHUNK):
                await response.send(chunk)
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.TimeoutException) as exc:
            # Died mid-body: headers are sent, so close the connection; the player sees a failed
            # load and retries, and that retry fails over.
            log.warning("session %s: worker %s died while sending segment %d: %s", sid, route, n, exc)
            request.transport.close()
            return None
        await response.eof()
        return None
    finally:
        await upstream.aclose()


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"status {response.status_code}"


async def serve_segment(request: Request, d: Deps, http: httpx.AsyncClient, session: PlaybackSession,
                        variant: str, n: int) -> HTTPResponse | None:  # fmt: skip
    """Stream segment ``n`` of ``variant`` to the player, failing over if its worker is gone.

    :raises Unavailable: 503 + Retry-After when not ready in :data:`SEGMENT_WAIT` seconds, or
        ``transcode_failed``. :raises NotFound: past the end of the media.
    """
    sid = session.sid
    deadline = time.monotonic() + SEGMENT_WAIT
    listener: Listener | None = None
    try:
        while (remaining := deadline - time.monotonic()) > 0.2:
            route = await d.routing.route(sid)
            if route is not None and await d.routing.owner_alive(route):
                try:
                    return await _stream(request, http, route.address, sid, variant, n, remaining)
                except _NotReady:
                    continue
                except _WorkerGone as exc:
                    log.info("session %s: worker at %s gone (%s)", sid, route.address, exc)
            if listener is None:
                # Subscribe before requeueing, so the worker's `ready` cannot be missed.
                listener = await d.routing.listen(sid)
            await _requeue(d, session, route, variant, n)
            if not await listener.wait(deadline):
                break
    finally:
        if listener is not None:
            await listener.close()
    raise Unavailable(f"segment {n} is being prepared", code="not_ready", headers={"Retry-After": RETRY_AFTER})
