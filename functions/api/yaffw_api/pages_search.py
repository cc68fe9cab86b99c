"""``GET /search?q=``: search as you type. A full page, or (for htmx) just the results."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import items
from yaffw_api.templating import render

bp = Blueprint("pages_search")

LIMIT = 48
# Seasons are found through their show; everything else a person would look for by name.
TYPES = ("movie", "series", "episode", "video")


@bp.get("/search")
@page()
async def search(request: Request) -> HTTPResponse:
    """Results for ``q`` (empty: the search box alone)."""
    user, pool = user_of(request), deps(request).pool
    query = items.ItemQuery.from_args({"q": request.args.get("q", ""), "limit": str(LIMIT)})
    found, total = [], 0
    if query.q:
        found, total = await items.list_items(pool, user, items.ItemQuery(q=query.q, types=TYPES, limit=LIMIT))
    template = "search_results.html" if request.headers.get("hx-request") == "true" else "search.html"
    return render(request, template, q=query.q or "", items=found, total=total)
