"""``/admin/activity``: the activity log (logins, failed logins, scans, playback, user changes)."""

from __future__ import annotations

import math

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from yaffw_api.context import deps
from yaffw_api.pages_auth import page
from yaffw_api.pages_library import page_number
from yaffw_api.queries import activity
from yaffw_api.templating import render

bp = Blueprint("pages_admin_activity")

PAGE_SIZE = 50


@bp.get("/admin/activity")
@page(admin=True)
async def activity_log(request: Request) -> HTTPResponse:
    """One page of the log, newest first."""
    number = page_number(request.args.get("page"))
    entries, total = await activity.list_entries(deps(request).pool, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    return render(request, "admin/activity.html", entries=entries, total=total, page=number,
                  pages=max(1, math.ceil(total / PAGE_SIZE)))  # fmt: skip
