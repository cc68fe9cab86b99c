"""Request metrics for Prometheus."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from sanic import Request, Sanic
from sanic.response import HTTPResponse

REQUESTS = Counter("yaffw_api_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("yaffw_api_request_seconds", "HTTP request latency", ["route"])


def install(app: Sanic) -> None:
    """Count and time every request by its route pattern (not the raw path: ids would explode)."""

    @app.on_request
    async def _start(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response
    async def _done(request: Request, response: HTTPResponse) -> None:
        route = request.route.path if request.route else "unmatched"
        started = getattr(request.ctx, "started", None)
        REQUESTS.labels(request.method, route, str(response.status)).inc()
        if started is not None:
            LATENCY.labels(route).observe(time.perf_counter() - started)
