"""Logging in and out, shared by ``POST /api/auth/login``, the UI's login form and the Jellyfin surface.

Failed attempts are limited per user name and client, and per client (:mod:`yaffw_api.login_limits`):
an attempt is counted before the password hash is checked, past the limit tries are slowed down
exponentially and refused with 429 and ``Retry-After``; the right password from a client without
failures always gets in. The client is the address :mod:`yaffw_api.client_address` finds (trusted
proxies only). Every success and failure is written to the activity log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from yaffw import activity, passwords, tokens
from yaffw.errors import BadInput, Forbidden, RateLimited, Unauthorized

from yaffw_api import client_address as _client_address
from yaffw_api import csrf, login_limits
from yaffw_api.auth import COOKIE, User
from yaffw_api.context import Deps
from yaffw_api.queries import users as user_queries
from yaffw_api.queries._rows import clean_text

# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = passwords.hash_password("not a password")


@dataclass(frozen=True)
class LoginResult:
    """A fresh access token for a user."""

    token: str
    claims: tokens.Claims
    expires_in: int
    user: dict[str, Any]


def client_address(request: Request) -> str:
    """The caller's address: the socket peer, or what a trusted proxy reports (``YAFFW_TRUSTED_PROXIES``)."""
    return _client_address.client_address(request)


async def login(d: Deps, name: Any, password: Any, client: str, *, ttl: int | None = None,
                device: str = "") -> LoginResult:  # fmt: skip
    """Check the credentials and issue an access token (lifetime ``ttl``, default the JWT setting;
    ``device`` names the Jellyfin client device the token is for).

    :raises BadInput: name or password missing or not strings. :raises RateLimited: too many
        failures. :raises Unauthorized: wrong name or password. :raises Forbidden: user disabled.
    """
    if not isinstance(name, str) or not isinstance(password, str) or not name or len(name) > 64:
        raise BadInput("username and password are required strings")
    name = clean_text(name, "username", max_len=64).strip()
    clean_text(password, "password", max_len=1024, allow_empty=True)
    counters = login_limits.counters(d.keys, d.settings.login_attempts, name, client)
    # Counted before the hash is checked, atomically: concurrent guesses cannot all pass.
    wait = await login_limits.reserve(d.redis, counters)
    if wait:
        raise RateLimited("too many failed logins, try again later", headers={"Retry-After": str(wait)})
    assert d.pool is not None
    row = await user_queries.credentials(d.pool, name)
    encoded = row["password_hash"] if row is not None else _DUMMY_HASH
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, passwords.verify_password, password, encoded) and row is not None
    if not ok:
        await activity.write(d.pool, "login.failed", f"failed login for {name[:64]!r} from {client}",
                             user_id=str(row["id"]) if row else None, severity="warning",
                             data={"name": name[:64], "client": client})  # fmt: skip
        raise Unauthorized("wrong user name or password", code="bad_credentials")
    await login_limits.release(d.redis, counters)  # the right password is not a failure
    if row["is_disabled"]:
        raise Forbidden("this account is disabled", code="user_disabled")
    user_id = str(row["id"])
    ttl = ttl or d.settings.jwt_ttl_seconds
    token, claims = tokens.issue(d.settings.jwt_secret or "", user_id, row["is_admin"], ttl, device=device)
    await user_queries.record_login(d.pool, user_id)
    await activity.write(d.pool, "login", f"{row['name']} logged in from {client}", user_id=user_id,
                         data={"client": client})  # fmt: skip
    return LoginResult(token, claims, ttl, await user_queries.get(d.pool, user_id))


def set_cookies(response: HTTPResponse, d: Deps, result: LoginResult) -> None:
    """The browser's session cookie (HttpOnly, SameSite=Lax) and its CSRF cookie."""
    response.add_cookie(COOKIE, result.token, path="/", max_age=result.expires_in, httponly=True,
                        samesite="Lax", secure=d.settings.secure_cookies)  # fmt: skip
    csrf.set_cookie(response, d.settings, result.claims, result.expires_in)


def clear_cookies(response: HTTPResponse) -> None:
    """Remove both cookies."""
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(csrf.COOKIE, path="/")


async def logout(d: Deps, user: User) -> None:
    """Revoke the caller's token on every replica and log it."""
    await tokens.revoke(d.redis, d.keys, user.claims)
    assert d.pool is not None
    await activity.write(d.pool, "logout", f"{user.name} logged out", user_id=user.id)
