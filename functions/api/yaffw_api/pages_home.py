"""``GET /``: the home page (continue watching, recently added, libraries)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import items, libraries
from yaffw_api.templating import render

bp = Blueprint("pages_home")


@bp.get("/")
@page()
async def home(request: Request) -> HTTPResponse:
    """The signed-in user's home page."""
    user, pool = user_of(request), deps(request).pool
    return render(
        request,
        "home.html",
        resume=await items.resume(pool, user, limit=12),
        latest=await items.latest(pool, user, limit=18),
        libraries=await libraries.list_visible(pool, user),
    )
