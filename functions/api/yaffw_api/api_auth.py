"""``POST /api/auth/login`` and ``POST /api/auth/logout`` (DESIGN §9). The work is in ``login``."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from yaffw_api import login
from yaffw_api.apidoc import op, ref
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object

bp = Blueprint("api_auth")


@bp.post("/api/auth/login")
async def post_login(request: Request) -> HTTPResponse:
    """Check ``{username, password}``; answer the token and set the browser's cookies."""
    body = json_object(request)
    d = deps(request)
    result = await login.login(d, body.get("username"), body.get("password"), login.client_address(request))
    response = json({"access_token": result.token, "token_type": "bearer", "expires_in": result.expires_in,
                     "user": result.user})  # fmt: skip
    login.set_cookies(response, d, result)
    return response


@bp.post("/api/auth/logout")
async def post_logout(request: Request) -> HTTPResponse:
    """Revoke the caller's token (on every replica) and clear the cookies."""
    user = await require_user(request)
    await login.logout(deps(request), user)
    response = empty()
    login.clear_cookies(response)
    return response


OPENAPI = {
    "/api/auth/login": {"post": op("Log in", tag="auth", body="LoginRequest", schema=ref("LoginResult"), auth=False,
                                   errors=("400", "401", "403", "429"))},
    "/api/auth/logout": {"post": op("Log out (revokes the token)", tag="auth", ok="204", errors=("403",))},
}  # fmt: skip
