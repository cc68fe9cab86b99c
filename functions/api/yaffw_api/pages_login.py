"""``/login`` and ``/logout`` for the browser: the form, then the same login service as
``POST /api/auth/login`` (rate limits, activity log) and the same ``yaffw_token`` cookie."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from yaffw.errors import BadInput, Forbidden, RateLimited, Unauthorized, YaffwError

from yaffw_api import login as login_service
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.pages_auth import page, safe_next, user_of
from yaffw_api.templating import render

bp = Blueprint("pages_login")

_MESSAGES = {
    Unauthorized: "Wrong user name or password.",
    Forbidden: "This account is disabled. Ask an administrator.",
    RateLimited: "Too many failed attempts. Wait a few minutes and try again.",
    BadInput: "Enter your user name and password.",
}


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    """The sign-in form; someone already signed in goes straight on."""
    target = safe_next(request.args.get("next"))
    try:
        await require_user(request)
    except YaffwError:
        return render(request, "login.html", next=target, username="", error=None)
    return redirect(target)


@bp.post("/login")
async def login_submit(request: Request) -> HTTPResponse:
    """Check the form; on success set the session cookies and go where the user was going."""
    d = deps(request)
    form = request.form or {}
    name, password = form.get("username", ""), form.get("password", "")
    target = safe_next(form.get("next"))
    try:
        result = await login_service.login(d, name, password, login_service.client_address(request))
    except (Unauthorized, Forbidden, RateLimited, BadInput) as exc:
        message = next(text for kind, text in _MESSAGES.items() if isinstance(exc, kind))
        username = name if isinstance(name, str) and len(name) <= 64 else ""
        response = render(request, "login.html", status=exc.status, next=target, username=username, error=message)
        response.headers.update(exc.headers)
        return response
    response = redirect(target, status=303)
    login_service.set_cookies(response, d, result)
    return response


@bp.post("/logout")
@page()
async def logout(request: Request) -> HTTPResponse:
    """Revoke the session on every replica and forget the cookies (the form carries the CSRF token)."""
    await login_service.logout(deps(request), user_of(request))
    response = redirect("/login", status=303)
    login_service.clear_cookies(response)
    return response
