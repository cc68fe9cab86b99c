"""Security headers on every response, and ``Secure`` cookies whenever the client came over HTTPS.

- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` on everything: a browser must never
  guess that a JSON answer or a media file is HTML, and a URL carrying a media token must not leak
  to another site through ``Referer``.
- ``Content-Security-Policy`` on HTML pages: images also from the S3 endpoint's origin (image
  requests are redirected to presigned URLs there); scripts only from our own origin (the templates carry
  no inline script and no ``on…=`` handler; htmx ``hx-on`` is not used either, it evaluates
  strings), no framing (``frame-ancestors 'none'`` against clickjacking). Inline *styles* stay
  allowed: templates set progress-bar widths and hues in ``style=`` attributes, which cannot run
  code. ``blob:`` media and workers are what hls.js uses for Media Source playback.
- Non-HTML answers (JSON, playlists, media, the Jellyfin surface) get ``frame-ancestors 'none'``
  and ``default-src 'none'`` only: a policy on them is inert for players and API clients and
  stops a browser that opens one directly from running anything in it.
- Cookies get ``Secure`` when ``YAFFW_SECURE_COOKIES`` is set or the request arrived over HTTPS
  (TLS socket, or ``X-Forwarded-Proto: https`` from a trusted proxy).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlparse

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from yaffw_api.client_address import is_https

_PAGE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:{images}",
    # data: for the empty "data:,WEBVTT" <track> hls.js makes for each subtitle rendition (cues are
    # added by script); media itself is still only ours or MSE's blobs.
    "media-src 'self' blob: data:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}


@lru_cache(maxsize=4)
def page_policy(s3_endpoint_url: str | None) -> str:
    """The pages' policy; ``s3_endpoint_url``'s origin serves images (presigned redirects)."""
    images = ""
    if s3_endpoint_url:
        parsed = urlparse(s3_endpoint_url)
        images = f" {parsed.scheme}://{parsed.netloc}"
    return "; ".join(_PAGE_POLICY).format(images=images)


def apply(request: Request, response: HTTPResponse) -> None:
    """Add the headers to ``response`` (headers a handler set itself are kept)."""
    for name, value in COMMON.items():
        response.headers.setdefault(name, value)
    content_type = (response.content_type or response.headers.get("content-type") or "").lower()
    settings = request.app.ctx.deps.settings
    policy = page_policy(settings.s3_endpoint_url) if content_type.startswith("text/html") else OTHER_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    if settings.secure_cookies or is_https(request):
        for cookie in response.cookies.cookies:
            cookie.secure = True


def install(app: Sanic) -> None:
    """Register the response middleware on ``app``."""

    @app.on_response
    async def _security_headers(request: Request, response: HTTPResponse | None) -> None:
        if response is not None:
            apply(request, response)
