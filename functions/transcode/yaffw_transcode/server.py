"""The worker's internal HTTP server (aiohttp): segments for the api's proxy, health and metrics.

``GET /sessions/{sid}/{variant}/{n}.ts?wait=S`` answers the segment file from scratch, waiting up to
``S`` seconds (at most ``yaffw.routing.MAX_WAIT``) while it is being made; then 503 with
``Retry-After``. An unknown session is 404 with code ``unknown_session``: the api then requeues it.
The path, the wait and the error codes are the protocol's (:mod:`yaffw.routing`). Only the api
talks to this server (it is not exposed to players), so it has no authentication of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from yaffw import health, routing

from yaffw_transcode import metrics
from yaffw_transcode.session import BeyondEnd, NotReady, SessionFailed

if TYPE_CHECKING:
    from yaffw_transcode.worker import Worker


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def create_app(worker: Worker) -> web.Application:
    """The aiohttp application bound to ``worker``."""
    app = web.Application()
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "worker": worker.worker_id})

    @routes.get("/readyz")
    async def readyz(request: web.Request) -> web.Response:
        checks = await health.check_async(worker.pool, worker.redis)
        if worker.draining:
            checks["worker"] = "draining"
        return web.json_response(checks, status=200 if health.is_ready(checks) else 503)

    @routes.get("/metrics")
    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @routes.get(routing.SEGMENT_ROUTE)
    async def segment(request: web.Request) -> web.StreamResponse:
        sid, variant, n = request.match_info["sid"], request.match_info["variant"], int(request.match_info["n"])
        session = worker.sessions.get(sid)
        if session is None or session.closed:
            metrics.SEGMENTS_SERVED.labels("404").inc()
            return _error(404, routing.UNKNOWN_SESSION, "this worker does not serve that session")
        if session.plan.variant(variant) is None or not 0 <= n < session.segment_count:
            metrics.SEGMENTS_SERVED.labels("404").inc()
            return _error(404, routing.NO_SEGMENT, "no such segment")
        try:
            wait = min(routing.MAX_WAIT, max(0.0, float(request.query.get(routing.WAIT_PARAM, routing.DEFAULT_WAIT))))
        except ValueError:
            return _error(400, routing.BAD_WAIT, "wait must be a number of seconds")
        try:
            path = await session.segment(variant, n, wait)
        except NotReady:
            metrics.SEGMENTS_SERVED.labels("503").inc()
            return _error(503, routing.NOT_READY, f"segment {n} is being made", {"Retry-After": "1"})
        except BeyondEnd as exc:
            metrics.SEGMENTS_SERVED.labels("404").inc()
            return _error(404, routing.BEYOND_END, str(exc))
        except SessionFailed as exc:
            metrics.SEGMENTS_SERVED.labels("502").inc()
            return _error(502, routing.TRANSCODE_FAILED, str(exc)[-300:])
        if not path.exists():  # the session ended between the check and now
            return _error(404, routing.UNKNOWN_SESSION, "this worker no longer serves that session")
        metrics.SEGMENTS_SERVED.labels("200").inc()
        return web.FileResponse(path, headers={"Content-Type": "video/mp2t", "Cache-Control": "no-store"})

    app.add_routes(routes)
    return app
