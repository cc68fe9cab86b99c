"""``GET /libraries/<id>``: one library as a poster grid, sorted and paged."""

from __future__ import annotations

import math

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import BadInput

from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import items, libraries
from yaffw_api.templating import render

bp = Blueprint("pages_library")

PAGE_SIZE = 48  # divides by every column count the grid uses (2, 3, 4, 6, 8)
# What the sort menu offers: (value, label, order).
SORTS = (("name", "Name", "asc"), ("date_added", "Date added", "desc"), ("year", "Year", "desc"),
         ("rating", "Rating", "desc"))  # fmt: skip


def page_number(raw: str | None) -> int:
    """The 1-based ``?page=``. :raises BadInput: not a positive integer (or past 100000)."""
    if raw in (None, ""):
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise BadInput("page must be a positive integer")
    return int(raw)


@bp.get("/libraries/<library_id:str>")
@page()
async def library(request: Request, library_id: str) -> HTTPResponse:
    """A page of the library's top-level items."""
    user, pool = user_of(request), deps(request).pool
    lib = await libraries.get(pool, user, library_id)
    sort = request.args.get("sort") or "name"
    order = next((o for value, _, o in SORTS if value == sort), None)
    if order is None:
        raise BadInput("unknown sort")
    number = page_number(request.args.get("page"))
    query = items.ItemQuery(library_id=lib["id"], sort=sort, order=order,
                            offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)  # fmt: skip
    found, total = await items.list_items(pool, user, query)
    return render(
        request,
        "library.html",
        library=lib,
        items=found,
        total=total,
        page=number,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        sort=sort,
        sorts=SORTS,
    )
