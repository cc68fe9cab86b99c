"""Users (DESIGN §9): ``GET /api/users/me``; for admins ``GET/POST /api/users`` and
``PATCH/DELETE /api/users/{id}``. Side effects (revocation, activity log) live in ``accounts``.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from yaffw_api import accounts
from yaffw_api.apidoc import op, page_of, path_param, ref
from yaffw_api.auth import require_admin, require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object
from yaffw_api.queries import users as user_queries

bp = Blueprint("api_users")


@bp.get("/api/users/me")
async def me(request: Request) -> HTTPResponse:
    """The caller."""
    user = await require_user(request)
    return json(await user_queries.get(deps(request).pool, user.id))


@bp.get("/api/users")
async def list_users(request: Request) -> HTTPResponse:
    """Every user (admin)."""
    await require_admin(request)
    rows = await user_queries.list_users(deps(request).pool)
    return json({"items": rows, "total": len(rows)})


@bp.post("/api/users")
async def create_user(request: Request) -> HTTPResponse:
    """Create a user (admin): ``{name, password, is_admin?, library_ids?}``."""
    actor = await require_admin(request)
    body = json_object(request)
    return json(await accounts.create(deps(request), actor, body), status=201)


@bp.patch("/api/users/<user_id:str>")
async def update_user(request: Request, user_id: str) -> HTTPResponse:
    """Change a user (admin); disabling or a new password revokes their tokens."""
    actor = await require_admin(request)
    body = json_object(request)
    return json(await accounts.update(deps(request), actor, user_id, body))


@bp.delete("/api/users/<user_id:str>")
async def delete_user(request: Request, user_id: str) -> HTTPResponse:
    """Delete a user (admin) and revoke their tokens."""
    actor = await require_admin(request)
    await accounts.delete(deps(request), actor, user_id)
    return empty()


_ID = [path_param("user_id", "user id (UUID)")]
OPENAPI = {
    "/api/users/me": {"get": op("The caller", tag="users", schema=ref("User"), errors=())},
    "/api/users": {
        "get": op("List users (admin)", tag="users", schema=page_of("User"), errors=("403",)),
        "post": op("Create a user (admin)", tag="users", ok="201", body="NewUser", schema=ref("User"),
                   errors=("400", "403", "409")),
    },
    "/api/users/{user_id}": {
        "patch": op("Change a user (admin)", tag="users", body="UserChanges", schema=ref("User"), params=_ID,
                    errors=("400", "403", "404", "409")),
        "delete": op("Delete a user (admin)", tag="users", ok="204", params=_ID, errors=("403", "404", "409")),
    },
}  # fmt: skip
