"""Logging in and out, shared by ``POST /api/auth/login`` and the UI's login form.

Failed attempts are counted in Redis per user name and per client address
(``Keys.login_attempts``) for :data:`WINDOW_SECONDS`; at ``settings.login_attempts`` further tries
are refused with 429 and ``Retry-After`` until the window ends, whatever the password. A success
clears the name's counter (not the address's: one known account must not unlock guessing others).
Every success and failure is written to the activity log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from yaffw import activity, passwords, tokens
from yaffw.errors import BadInput, Forbidden, RateLimited, Unauthorized

from yaffw_api import csrf
from yaffw_api.auth import COOKIE, User
from yaffw_api.context import Deps
from yaffw_api.queries import users as user_queries
from yaffw_api.queries._rows import clean_text

WINDOW_SECONDS = 900
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
    """The caller's address: the proxy-reported one when Sanic is configured to trust proxies."""
    return request.remote_addr or request.ip or "unknown"


async def _check_rate(d: Deps, counters: list[str]) -> None:
    values = await d.redis.mget(counters)
    for key, value in zip(counters, values, strict=True):
        if value is not None and int(value) >= d.settings.login_attempts:
            ttl = await d.redis.ttl(key)
            retry = str(max(1, ttl if ttl > 0 else WINDOW_SECONDS))
            raise RateLimited("too many failed logins, try again later", headers={"Retry-After": retry})


async def _count_failure(d: Deps, counters: list[str]) -> None:
    pipe = d.redis.pipeline()
    for key in counters:
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
    await pipe.execute()


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
    counters = [d.keys.login_attempts("user", name.lower()), d.keys.login_attempts("addr", client)]
    await _check_rate(d, counters)
    assert d.pool is not None
    row = await user_queries.credentials(d.pool, name)
    encoded = row["password_hash"] if row is not None else _DUMMY_HASH
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, passwords.verify_password, password, encoded) and row is not None
    if not ok:
        await _count_failure(d, counters)
        await activity.write(d.pool, "login.failed", f"failed login for {name[:64]!r} from {client}",
                             user_id=str(row["id"]) if row else None, severity="warning",
                             data={"name": name[:64], "client": client})  # fmt: skip
        raise Unauthorized("wrong user name or password", code="bad_credentials")
    if row["is_disabled"]:
        raise Forbidden("this account is disabled", code="user_disabled")
    await d.redis.delete(counters[0])
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
