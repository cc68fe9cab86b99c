"""``/admin/sessions``: who is playing what, how, where they are, and which worker serves them.

The table refreshes itself every few seconds (htmx polling of ``/admin/sessions/rows``), so the
page stays live without a socket; an admin can stop any session from it.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw import sessions

from yaffw_api.context import deps
from yaffw_api.pages_auth import page
from yaffw_api.templating import render

bp = Blueprint("pages_admin_sessions")

REFRESH_SECONDS = 3


async def _open(request: Request) -> list[sessions.PlaybackSession]:
    d = deps(request)
    return await sessions.list_open(d.redis, d.keys)


@bp.get("/admin/sessions")
@page(admin=True)
async def sessions_page(request: Request) -> HTTPResponse:
    """The live list of open playback sessions."""
    return render(request, "admin/sessions.html", sessions=await _open(request), refresh=REFRESH_SECONDS)


@bp.get("/admin/sessions/rows")
@page(admin=True)
async def sessions_rows(request: Request) -> HTTPResponse:
    """The table body alone, for the page's polling."""
    return render(request, "admin/_session_rows.html", sessions=await _open(request))
