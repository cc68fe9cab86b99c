"""CSRF guard for the cookie-authenticated browser (DESIGN §7).

Choice: a *signed double-submit token*. The token is ``HMAC-SHA256(jwt_secret, "csrf:" + jti)`` of
the caller's session token, so it needs no server state, cannot be forged without the secret and
changes with every login (a cookie planted by a sibling site does not match the session). It is
handed to the page twice: as the cookie ``yaffw_csrf`` (readable by scripts, SameSite=Lax) set at
login, and through :func:`token` for templates.

Rule, enforced in ``yaffw_api.auth.current_user`` for every handler that authenticates: a request
with a state-changing method (POST, PUT, PATCH, DELETE) that authenticates by the ``yaffw_token``
cookie must carry the token in the header ``X-CSRF-Token`` or in the form field ``csrf_token``;
otherwise it is refused with 403 ``csrf``. Bearer-authenticated API clients are exempt (a browser
never adds that header cross-site). Login itself does not authenticate by cookie and needs none.

For the UI: put ``<meta name="csrf-token" content="{{ csrf }}">`` in the layout with
``csrf = yaffw_api.csrf.token(request)`` (after ``require_user``) and send it from htmx with
``hx-headers='{"X-CSRF-Token": "..."}'`` on ``<body>``, or add
``<input type="hidden" name="csrf_token" value="...">`` to plain forms.
"""

from __future__ import annotations

import hashlib
import hmac

from sanic import Request
from sanic.response import HTTPResponse
from yaffw.errors import Forbidden
from yaffw.settings import Settings
from yaffw.tokens import Claims

COOKIE = "yaffw_csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token_for(secret: str, claims: Claims) -> str:
    """The CSRF token that goes with the session token described by ``claims``."""
    return hmac.new(secret.encode(), f"csrf:{claims.jti}".encode(), hashlib.sha256).hexdigest()


def token(request: Request) -> str:
    """The CSRF token for the authenticated caller of ``request`` (call ``require_user`` first)."""
    user = request.ctx.user
    return token_for(request.app.ctx.deps.settings.jwt_secret or "", user.claims)


def _submitted(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value:
        return value
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            return request.form.get(FIELD)
        except Exception:  # a malformed body is simply "no token"
            return None
    return None


def verify(request: Request, secret: str, claims: Claims) -> None:
    """Check a cookie-authenticated, state-changing request. :raises Forbidden: token missing or wrong."""
    if request.method not in UNSAFE_METHODS:
        return
    submitted = _submitted(request)
    if not submitted or not hmac.compare_digest(submitted, token_for(secret, claims)):
        raise Forbidden("missing or wrong CSRF token (send the X-CSRF-Token header)", code="csrf")


def set_cookie(response: HTTPResponse, settings: Settings, claims: Claims, max_age: int) -> None:
    """Give the browser its CSRF cookie next to the session cookie (scripts may read this one)."""
    response.add_cookie(COOKIE, token_for(settings.jwt_secret or "", claims), path="/", max_age=max_age,
                        httponly=False, samesite="Lax", secure=settings.secure_cookies)  # fmt: skip
