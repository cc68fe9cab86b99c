"""``GET /items/<id>``: a movie or episode (stream facts, play, played/favorite), a show (its
seasons) or a season (its episodes); each with its extras (trailers, featurettes...); a film with its
versions (a menu to play each) and how many parts it plays as one."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import extras, items, versions
from yaffw_api.templating import render

bp = Blueprint("pages_item")

MAX_CHILDREN = 200  # a season's episodes or a show's seasons; more would be a very long page


def stream_groups(streams: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The item's streams by type: ``video``, ``audio``, ``subtitle``."""
    groups: dict[str, list[dict[str, Any]]] = {"video": [], "audio": [], "subtitle": []}
    for s in streams:
        if s["type"] in groups:
            groups[s["type"]].append(s)
    return groups


@bp.get("/items/<item_id:str>")
@page()
async def item(request: Request, item_id: str) -> HTTPResponse:
    """The item's page; which one depends on its type."""
    user, pool = user_of(request), deps(request).pool
    found = await items.get(pool, user, item_id)
    children: list[dict[str, Any]] = []
    if found["type"] in ("series", "season"):
        children, _ = await items.list_items(
            pool, user, items.ItemQuery(parent_id=found["id"], sort="index", limit=MAX_CHILDREN)
        )
    template = {"series": "series.html", "season": "season.html"}.get(found["type"], "item.html")
    owned = await extras.for_item(pool, user, found["id"])  # trailers, featurettes...: never library items
    menu: list[dict[str, Any]] = []
    parts = 1
    if found["type"] == "movie":  # a film's versions and parts (issue 16)
        menu = versions.menu(await versions.versions(pool, found, found["streams"]))
        parts = await pool.fetchval(f"SELECT {versions.PART_COUNT} FROM media_items i WHERE i.id = $1::uuid",
                                    found["id"])  # fmt: skip
    return render(request, template, item=found, children=children, streams=stream_groups(found["streams"]),
                  extras=owned, versions=menu, parts=parts)  # fmt: skip
