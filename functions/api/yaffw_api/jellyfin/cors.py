"""Cross-origin access to the Jellyfin surface, as Jellyfin allows it: web clients served from
another origin (a hosted Jellyfin Web, Jellyfin Vue) call the API with the token in a header, so
every origin may read the answers and preflight requests succeed. No cookies are involved on this
surface, so allowing any origin grants nothing a token does not already grant.
"""

from __future__ import annotations

from email.utils import formatdate

from sanic import Request, Sanic
from sanic.response import HTTPResponse, empty

from yaffw_api.jellyfin.routing import PREFIX

_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Accept, Origin, Content-Type, Range, Authorization, X-Emby-Authorization, X-Emby-Token, "
        "X-MediaBrowser-Token, X-Emby-Client, X-Emby-Device-Id, X-Emby-Device-Name, X-Emby-Client-Version"
    ),
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, Accept-Ranges, ETag, Retry-After",
    "Access-Control-Max-Age": "86400",
}


def _is_jellyfin(request: Request) -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def install(app: Sanic) -> None:
    """Answer preflights and add the CORS headers (and ``Date``) on every Jellyfin-surface response."""

    @app.on_request(priority=100)
    async def _preflight(request: Request) -> HTTPResponse | None:
        if request.method == "OPTIONS" and _is_jellyfin(request):
            return empty(headers=_HEADERS)
        return None

    @app.on_response
    async def _headers(request: Request, response: HTTPResponse) -> None:
        if _is_jellyfin(request):
            for name, value in _HEADERS.items():
                response.headers.setdefault(name, value)
            # Kestrel always sends Date (RFC 9110 §6.6.1) and clients read it: jellyfin-apiclient-python
            # takes it as the server's time and fails on an answer without one.
            response.headers.setdefault("Date", formatdate(usegmt=True))
