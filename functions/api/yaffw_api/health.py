"""``/healthz``, ``/readyz`` (PostgreSQL and Redis reached, not draining) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from yaffw import health

from yaffw_api.context import deps
from yaffw_api.drain import is_draining

bp = Blueprint("health")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    """Liveness: the process answers."""
    return json({"status": "ok"})


@bp.get("/readyz")
async def readyz(request: Request) -> HTTPResponse:
    """Readiness: PostgreSQL and Redis answer, and the replica is not shutting down."""
    if is_draining(request.app):
        # The load balancer stops sending here; requests that still come are served (yaffw_api.drain).
        return json({"status": "draining"}, status=503)
    d = deps(request)
    checks = await health.check_async(d.pool, d.redis)
    return json(checks, status=200 if health.is_ready(checks) else 503)


@bp.get("/metrics")
async def metrics(request: Request) -> HTTPResponse:
    """Prometheus text exposition."""
    return raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)
