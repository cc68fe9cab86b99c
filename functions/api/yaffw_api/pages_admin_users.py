"""Admin pages for users: ``/admin/users`` (list, create) and ``/admin/users/<id>`` (edit, disable,
delete, library access). Plain forms (they work without scripts) posting to these page routes,
which use ``accounts`` (SQL, token revocation, activity log) like the JSON routes do.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from yaffw.errors import BadInput, Conflict

from yaffw_api import accounts
from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import libraries
from yaffw_api.queries import users as user_queries
from yaffw_api.templating import render

bp = Blueprint("pages_admin_users")

# After a redirect the page says what happened; only these fixed texts (nothing echoed from the URL).
NOTICES = {"created": "User created.", "saved": "Changes saved.", "deleted": "User deleted."}


def _form_fields(request: Request, *, creating: bool) -> dict[str, Any]:
    """The user form as the body ``accounts`` expects; an empty password on edit keeps the old one."""
    form = request.form or {}
    body: dict[str, Any] = {
        "name": (form.get("name") or "").strip(),
        "is_admin": form.get("is_admin") == "on",
        "library_ids": form.getlist("library_ids") or [],
    }
    password = form.get("password") or ""
    if creating or password:
        body["password"] = password
    if not creating:
        body["is_disabled"] = form.get("is_disabled") == "on"
        for limit in user_queries.LIMITS:  # empty: the server's default; anything else is checked there
            raw = (form.get(limit) or "").strip()
            body[limit] = None if not raw else int(raw) if raw.isascii() and raw.isdigit() else raw
    return body


async def _list_page(request: Request, *, status: int = 200, error: str | None = None,
                     draft: dict[str, Any] | None = None) -> HTTPResponse:  # fmt: skip
    pool = deps(request).pool
    libs = await libraries.list_visible(pool, user_of(request))
    names = {lib["id"]: lib["name"] for lib in libs}
    users = await user_queries.list_users(pool)
    for u in users:
        u["library_names"] = [names[i] for i in u["library_ids"] if i in names]
    return render(request, "admin/users.html", status=status, users=users, libraries=libs, error=error,
                  draft=draft or {"name": "", "is_admin": False, "library_ids": []},
                  notice=NOTICES.get(request.args.get("notice", "")))  # fmt: skip


@bp.get("/admin/users")
@page(admin=True)
async def users(request: Request) -> HTTPResponse:
    """Every user, and a form to add one."""
    return await _list_page(request)


@bp.post("/admin/users")
@page(admin=True)
async def create(request: Request) -> HTTPResponse:
    """Create a user from the form; errors re-show the form with what was typed (not the password)."""
    body = _form_fields(request, creating=True)
    try:
        await accounts.create(deps(request), user_of(request), body)
    except (BadInput, Conflict) as exc:
        body.pop("password", None)
        return await _list_page(request, status=exc.status, error=exc.message, draft=body)
    return redirect("/admin/users?notice=created", status=303)


async def _edit_page(request: Request, user_id: str, *, status: int = 200, error: str | None = None) -> HTTPResponse:
    pool = deps(request).pool
    target = await user_queries.get(pool, user_id)
    libs = await libraries.list_visible(pool, user_of(request))
    settings = deps(request).settings
    defaults = {"max_sessions": settings.max_sessions_per_user, "max_transcodes": settings.max_transcodes_per_user}
    return render(request, "admin/user_edit.html", status=status, target=target, libraries=libs, error=error,
                  defaults=defaults)  # fmt: skip


@bp.get("/admin/users/<user_id:str>")
@page(admin=True)
async def edit(request: Request, user_id: str) -> HTTPResponse:
    """One user's form."""
    return await _edit_page(request, user_id)


@bp.post("/admin/users/<user_id:str>")
@page(admin=True)
async def update(request: Request, user_id: str) -> HTTPResponse:
    """Save the form (a new password or disabling signs the user out everywhere)."""
    try:
        await accounts.update(deps(request), user_of(request), user_id, _form_fields(request, creating=False))
    except (BadInput, Conflict) as exc:
        return await _edit_page(request, user_id, status=exc.status, error=exc.message)
    return redirect("/admin/users?notice=saved", status=303)


@bp.post("/admin/users/<user_id:str>/delete")
@page(admin=True)
async def delete(request: Request, user_id: str) -> HTTPResponse:
    """Delete the user (the page asks for confirmation first)."""
    try:
        await accounts.delete(deps(request), user_of(request), user_id)
    except Conflict as exc:
        return await _edit_page(request, user_id, status=exc.status, error=exc.message)
    return redirect("/admin/users?notice=deleted", status=303)
