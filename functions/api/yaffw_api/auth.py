"""Who is calling: a Bearer token (API clients), the session cookie (browser) or, for media URLs
that players fetch without headers, a short-lived ``?token=`` scoped to one item or session.

Use :func:`require_user` / :func:`require_admin` in handlers; both raise ``Unauthorized`` /
``Forbidden`` (which ``errors`` renders). The user row is re-read so a disabled user is refused
even with an unexpired token.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Request
from yaffw import tokens
from yaffw.errors import Forbidden, Unauthorized

from yaffw_api import csrf
from yaffw_api.context import deps

COOKIE = "yaffw_token"


@dataclass(frozen=True)
class User:
    """The authenticated caller."""

    id: str
    name: str
    is_admin: bool
    claims: tokens.Claims


def _token_from(request: Request) -> tuple[str | None, bool]:
    """(token, came_from_query)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = request.cookies.get(COOKIE)
    if cookie:
        return cookie, False
    query = request.args.get("token")
    if query:
        return query, True
    return None, False


async def current_user(request: Request, *, scope: str | None = None) -> User:
    """Resolve and cache the caller for this request.

    ``scope`` names what a scoped URL token may open (``item:<id>``, ``session:<sid>``); a scoped
    token is accepted only when it matches, an access token always.

    :raises Unauthorized: no token, bad token, revoked, or user gone/disabled.
    :raises Forbidden: a cookie-authenticated, state-changing request without its CSRF token.
    """
    cached = getattr(request.ctx, "user", None)
    if cached is not None:
        return cached
    raw, from_query = _token_from(request)
    if not raw:
        raise Unauthorized("authentication required")
    d = deps(request)
    claims = tokens.decode(d.settings.jwt_secret or "", raw)
    if from_query and claims.scope == "access":
        # Full access tokens in URLs leak into logs and histories; only scoped ones are accepted.
        raise Unauthorized("use a scoped media token in URLs", code="invalid_token")
    if not from_query and not request.headers.get("authorization", "").lower().startswith("bearer "):
        # Authenticated by the cookie, which a browser also sends cross-site: see yaffw_api.csrf.
        csrf.verify(request, d.settings.jwt_secret or "", claims)
    return await user_from_claims(request, claims, scope=scope)


async def user_from_claims(request: Request, claims: tokens.Claims, *, scope: str | None = None) -> User:
    """The user a verified token names, after the scope, revocation and account checks.

    Shared by yaffw's own auth and the Jellyfin surface's (``yaffw_api.jellyfin.jfauth``), so both
    obey one revocation scheme. :raises Unauthorized: wrong scope, revoked, user gone or disabled.
    """
    if claims.scope != "access" and claims.scope != scope:
        raise Unauthorized("token not valid for this resource", code="invalid_token")
    d = deps(request)
    await tokens.check_not_revoked(d.redis, d.keys, claims)
    assert d.pool is not None
    row = await d.pool.fetchrow("SELECT id, name, is_admin, is_disabled FROM users WHERE id = $1", claims.user_id)
    if row is None or row["is_disabled"]:
        raise Unauthorized("user disabled or deleted", code="token_revoked")
    user = User(str(row["id"]), row["name"], row["is_admin"], claims)
    request.ctx.user = user
    return user


async def require_user(request: Request, *, scope: str | None = None) -> User:
    """The caller, who must be logged in."""
    return await current_user(request, scope=scope)


async def require_admin(request: Request) -> User:
    """The caller, who must be an administrator. :raises Forbidden: otherwise."""
    user = await current_user(request)
    if not user.is_admin:
        raise Forbidden("administrators only")
    return user
