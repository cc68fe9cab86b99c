"""Segments through the api (DESIGN §5.3-4, seed §3.2 steps 6-7): proxy to the session's worker,
and fail over when that worker is gone.

For segment ``n`` of a session, within :data:`SEGMENT_WAIT` seconds:

1. ``map:session:{sid}`` names a worker whose heartbeat is alive → ask it (it waits while the
   segment is being made) and stream its answer;
2. no route, a dead heartbeat, connection refused/reset, or the worker does not know the session →
   clear the route, move the session's job back to the queue at segment ``n`` (once, however many
   requests and replicas notice) and wait for ``ready`` on ``events:session:{sid}``; then 1 again.

When time runs out the player gets 503 with ``Retry-After`` (it retries) instead of a hanging request;
so does a request that finds no free connection to the workers in time, or a worker that accepts the
connection but does not answer (a frozen or black-holed pod). Only a session FFmpeg cannot transcode
at all is an error.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
from sanic import Request
from sanic.response import HTTPResponse
from yaffw import leases, queue
from yaffw.errors import NotFound, Unavailable
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


async def _route_alive(d: Deps, sid: str, route: str) -> bool:
    worker_id = await d.redis.hget(d.keys.session(sid), "worker")
    if not worker_id:
        return True  # just taken: the worker sets its route before its id; a refused connection tells
    return await leases.worker_address(d.redis, d.keys, worker_id) is not None


async def _requeue(d: Deps, session: PlaybackSession, route: str | None, variant: str, n: int) -> None:
    """Give the session to another worker at segment ``n`` (at most once per :data:`queue.PENDING_TTL`)."""
    if route:
        await leases.clear_route(d.redis, d.keys, session.sid, route)
    if not await d.redis.set(d.keys.session_pending(session.sid), str(n), nx=True, ex=queue.PENDING_TTL):
        return  # another request or replica already did
    job = queue.JobPayload.from_dict(dict(session.job or {}, sid=session.sid)).at_segment(n, variant)
    dead = await d.redis.hget(d.keys.session(session.sid), "worker")
    if dead:
        await queue.requeue_session(d.redis, d.keys, dead, session.sid, job)
    else:
        await d.redis.rpush(d.keys.transcode_queue, job.to_json())
    log.info("session %s: worker %s gone, requeued at segment %d", session.sid, route or dead or "-", n)


async def ensure_job(d: Deps, session: PlaybackSession, variant: str | None, n: int) -> None:
    """Start the session's job at segment ``n`` unless a worker serves it or one is queued (pre-warm)."""
    if session.job is None or await d.redis.exists(d.keys.session_map(session.sid)):
        return
    job = queue.JobPayload.from_dict(dict(session.job, sid=session.sid)).at_segment(n, variant)
    if await queue.enqueue_once(d.redis, d.keys, job):
        log.info("session %s: job queued at segment %d", session.sid, n)


async def _wait_ready(d: Deps, pubsub: Any, sid: str, deadline: float) -> bool:
    """Until ``deadline``: True once a worker routes the session, False on timeout.

    :raises Unavailable: (``transcode_failed``) when the worker reports the session failed.
    """
    while (remaining := deadline - time.monotonic()) > 0:
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(0.5, remaining))
        if msg is not None:
            try:
                event = json.loads(msg["data"])
            except (TypeError, ValueError):
                event = {}
            if event.get("type") == "failed":
                raise Unavailable(f"transcoding failed: {event.get('error', '')}"[:300], code="transcode_failed")
            if event.get("type") == "ready":
                return True
        # The message may have come before we subscribed: the route says the same.
        if await d.redis.exists(d.keys.session_map(sid)):
            return True
    return False


async def _stream(request: Request, http: httpx.AsyncClient, route: str, sid: str, variant: str, n: int,
                  remaining: float) -> HTTPResponse | None:  # fmt: skip
    url = f"http://{route}/sessions/{sid}/{variant}/{n}.ts"
    # The worker answers within `wait` (200, or 503 when not ready); a little more for the first byte.
    # Waiting for a pooled connection counts against the same deadline.
    req = http.build_request("GET", url, params={"wait": f"{max(0.0, remaining - 0.5):.1f}"},
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
            if upstream.status_code == 404 and code == "beyond_end":
                raise NotFound("segment past the end of the media", code="beyond_end")
            if upstream.status_code == 404:
                raise _WorkerGone(code)
            if upstream.status_code == 503:
                raise _NotReady()
            raise Unavailable(f"transcoding failed ({code})", code="transcode_failed")
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
    pubsub = None
    try:
        while (remaining := deadline - time.monotonic()) > 0.2:
            route = await d.redis.get(d.keys.session_map(sid))
            if route and await _route_alive(d, sid, route):
                try:
                    return await _stream(request, http, route, sid, variant, n, remaining)
                except _NotReady:
                    continue
                except _WorkerGone as exc:
                    log.info("session %s: worker at %s gone (%s)", sid, route, exc)
            if pubsub is None:
                # Subscribe before requeueing, so the worker's `ready` cannot be missed.
                pubsub = d.redis.pubsub()
                await pubsub.subscribe(d.keys.session_events(sid))
            await _requeue(d, session, route, variant, n)
            if not await _wait_ready(d, pubsub, sid, deadline):
                break
    finally:
        if pubsub is not None:
            await pubsub.aclose()
    raise Unavailable(f"segment {n} is being prepared", code="not_ready", headers={"Retry-After": RETRY_AFTER})
