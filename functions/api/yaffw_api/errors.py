"""The one place errors become HTTP (DESIGN §9): ``{"error": {"code", "message"}}`` for the API,
an HTML page for the UI; anything unexpected is logged with its traceback and answered with a
plain 500 that carries none.
"""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, html, json
from yaffw.errors import YaffwError
from yaffw.outages import RETRY_AFTER, SERVICE_DOWN, is_service_down

log = logging.getLogger(__name__)

_STATUS_CODES = {400: "bad_input", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 408: "timeout", 413: "too_large", 416: "range_not_satisfiable",
                 429: "rate_limited", 503: "unavailable"}  # fmt: skip


def wants_html(request: Request) -> bool:
    """Pages get HTML errors; /api, /healthz etc. get JSON."""
    path = request.path
    if path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> HTTPResponse:  # fmt: skip
    """Render one error in the shape the client expects."""
    if wants_html(request):
        from html import escape

        body = (
            "<!doctype html><html class='dark'><head><meta charset='utf-8'><title>yaffw</title>"
            "<link rel='stylesheet' href='/static/app.css'></head>"
            "<body class='bg-neutral-950 text-neutral-100 p-8'>"
            f"<h1 class='text-2xl font-bold'>{status}</h1><p class='mt-2'>{escape(message)}</p>"
            "<p class='mt-4'><a class='underline' href='/'>Home</a></p></body></html>"
        )
        return html(body, status=status, headers=headers)
    return json({"error": {"code": code, "message": message}}, status=status, headers=headers)


def install(app: Sanic) -> None:
    """Register the handlers on ``app``."""

    @app.exception(YaffwError)
    async def _yaffw(request: Request, exc: YaffwError) -> HTTPResponse:
        if exc.status >= 500:
            log.warning("%s %s: %s", request.method, request.path, exc.message)
        return error_response(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception(*SERVICE_DOWN)
    async def _service_down(request: Request, exc: Exception) -> HTTPResponse:
        # PostgreSQL or Redis is restarting: the client may retry shortly (not a bug: no traceback).
        log.warning("%s %s: a data service is unreachable: %s: %s", request.method, request.path,
                    type(exc).__name__, exc)  # fmt: skip
        return error_response(request, 503, "unavailable", "a service is restarting; retry shortly",
                              {"Retry-After": RETRY_AFTER})  # fmt: skip

    @app.exception(SanicException)
    async def _sanic(request: Request, exc: SanicException) -> HTTPResponse:
        status = exc.status_code
        if status >= 500:
            log.error("%s %s failed", request.method, request.path, exc_info=exc)
            return error_response(request, 500, "internal", "internal error")
        return error_response(request, status, _STATUS_CODES.get(status, "error"), str(exc.message or exc),
                              getattr(exc, "headers", None))  # fmt: skip

    @app.exception(Exception)
    async def _other(request: Request, exc: Exception) -> HTTPResponse:
        if is_service_down(exc):  # a connection cut mid-transaction surfaces as another error
            return await _service_down(request, exc)
        log.error("%s %s failed", request.method, request.path, exc_info=exc)
        return error_response(request, 500, "internal", "internal error")
