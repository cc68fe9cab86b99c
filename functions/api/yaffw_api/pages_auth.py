"""Who may see a page: the :func:`page` decorator for every HTML route.

A page is the API's authentication (``auth.require_user``: the ``yaffw_token`` cookie) with a
browser's manners: someone not signed in is sent to ``/login?next=<where they were going>`` (an htmx
request gets ``HX-Redirect`` instead, so the whole page changes, not a fragment). A signed-in
non-admin on an admin page gets the 403 page from ``errors``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from sanic import Request
from sanic.response import HTTPResponse, redirect
from yaffw.errors import Unauthorized

from yaffw_api import csrf
from yaffw_api.auth import User, require_admin, require_user

Handler = Callable[..., Awaitable[HTTPResponse]]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/`` (no open redirects via ``?next=``)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\r\n\\")
    ):
        return "/"
    return target


def login_redirect(request: Request) -> HTTPResponse:
    """Send the browser to the login page, remembering where it was going."""
    here = request.path + (f"?{request.query_string}" if request.query_string else "")
    target = "/login" if here == "/" else f"/login?next={quote(safe_next(here), safe='/')}"
    if request.headers.get("hx-request") == "true":
        return HTTPResponse(status=401, headers={"HX-Redirect": target})
    return redirect(target)


def user_of(request: Request) -> User:
    """The signed-in user of a request that went through :func:`page`."""
    return request.ctx.user


def page(*, admin: bool = False) -> Callable[[Handler], Handler]:
    """Decorate an HTML route: require a signed-in user (an admin if ``admin``) and prepare the
    CSRF token the page's forms and htmx requests carry."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            try:
                await (require_admin(request) if admin else require_user(request))
            except Unauthorized:
                return login_redirect(request)
            request.ctx.csrf_token = csrf.token(request)
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate
