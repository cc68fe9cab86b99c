"""Browsing (DESIGN §9): ``GET /api/items``, ``GET /api/items/{id}``, images, user data,
``GET /api/resume`` and ``GET /api/latest``. Every query is limited to the caller's libraries.
"""

from __future__ import annotations

import asyncio
import hashlib

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json, raw, redirect
from yaffw import userdata

from yaffw_api.access import visible_item
from yaffw_api.apidoc import UUID, op, page_of, path_param, query_param, ref
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.params import args_dict, int_arg, json_object
from yaffw_api.queries import items
from yaffw_api.queries._rows import parse_id

bp = Blueprint("api_items")

PRESIGNED_SECONDS = 300


@bp.get("/api/items")
async def list_items(request: Request) -> HTTPResponse:
    """A page of items: ``{items, total}``."""
    user = await require_user(request)
    query = items.ItemQuery.from_args(args_dict(request))
    rows, total = await items.list_items(deps(request).pool, user, query)
    return json({"items": rows, "total": total})


@bp.get("/api/items/<item_id:str>")
async def get_item(request: Request, item_id: str) -> HTTPResponse:
    """One item with its streams and the caller's user data."""
    user = await require_user(request)
    return json(await items.get(deps(request).pool, user, item_id))


@bp.get("/api/items/<item_id:str>/images/<kind:str>")
async def get_image(request: Request, item_id: str, kind: str) -> HTTPResponse:
    """The image: a redirect to a short-lived presigned URL with S3, the bytes otherwise."""
    user = await require_user(request)
    d = deps(request)
    row = await items.image(d.pool, user, item_id, kind)
    key = row["object_key"]
    url = d.store.presigned_url(key, expires=PRESIGNED_SECONDS)
    if url:
        return redirect(url, status=302, headers={"Cache-Control": "private, max-age=60"})
    etag = '"' + hashlib.sha256(f"{key}:{row['updated_at'].timestamp()}".encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return empty(status=304, headers=headers)
    data = await asyncio.get_running_loop().run_in_executor(None, d.store.get, key)
    return raw(data, content_type=row["content_type"], headers=headers)


@bp.put("/api/items/<item_id:str>/userdata")
async def put_userdata(request: Request, item_id: str) -> HTTPResponse:
    """Change the caller's ``{played?, position_seconds?, favorite?}`` for an item."""
    user = await require_user(request)
    body = json_object(request, allowed=("played", "position_seconds", "favorite"))
    d = deps(request)
    item_id = parse_id(item_id)
    item = await visible_item(d.pool, user, item_id, "i.id, i.duration_seconds")
    state = await userdata.update(
        d.pool, user.id, item_id, played=body.get("played"), position_seconds=body.get("position_seconds"),
        favorite=body.get("favorite"),
    )  # fmt: skip
    # Every replica's listeners (SSE, Jellyfin sockets) hear it.
    await userdata.publish_changed(d.redis, d.keys.notify, user.id, item_id, state, item["duration_seconds"])
    return json(state)


@bp.get("/api/resume")
async def resume(request: Request) -> HTTPResponse:
    """Continue watching."""
    user = await require_user(request)
    rows = await items.resume(deps(request).pool, user, int_arg(request, "limit", 12, 1, 100))
    return json({"items": rows, "total": len(rows)})


@bp.get("/api/latest")
async def latest(request: Request) -> HTTPResponse:
    """Recently added (a show's new episodes grouped), optionally for one library."""
    user = await require_user(request)
    library_id = request.args.get("library_id") or None
    if library_id is not None:
        library_id = parse_id(library_id, "library", bad_input=True)
    rows = await items.latest(deps(request).pool, user, library_id, int_arg(request, "limit", 16, 1, 100))
    return json({"items": rows, "total": len(rows)})


_ID = [path_param("item_id", "item id (UUID)")]
_LIMIT = query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100})
# One or more of items.TYPES, comma-separated (blanks around and empty entries are ignored).
_TYPES_PATTERN = "^[ ,]*({0})[ ]*([ ]*,[ ,]*({0})[ ]*)*[ ,]*$".format("|".join(items.TYPES))
OPENAPI = {
    "/api/items": {"get": op("List, filter, search and sort items", tag="items", schema=page_of("Item"), params=[
        query_param("library_id", UUID), query_param("parent_id", UUID),
        query_param("type", {"type": "string", "pattern": _TYPES_PATTERN},
                    "movie, series, season, episode, video (comma-separated)"),
        query_param("q", {"type": "string", "maxLength": 200}, "words or part of the name"),
        query_param("sort", {"enum": list(items.SORTS)}), query_param("order", {"enum": ["asc", "desc"]}),
        query_param("offset", {"type": "integer", "minimum": 0, "maximum": items.MAX_OFFSET}),
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": items.MAX_LIMIT}),
    ])},
    "/api/items/{item_id}": {"get": op("One item with streams and user data", tag="items", schema=ref("ItemDetail"),
                                       params=_ID, errors=("404",))},
    "/api/items/{item_id}/images/{kind}": {"get": op(
        "An item's image (302 to object storage when S3 is configured)", tag="items",
        schema={"type": "string", "format": "binary"}, content_type="image/*", errors=("404",),
        params=[*_ID, {"name": "kind", "in": "path", "required": True,
                       "schema": {"enum": ["primary", "backdrop", "thumb"]}}],
        extra={"responses": {"200": {"description": "the image", "content": {"image/*": {}}},
                             "302": {"description": "redirect to a presigned URL"},
                             "304": {"description": "not modified"},
                             "401": {"description": "not authenticated"}, "404": {"description": "no such image"}}},
    )},
    "/api/items/{item_id}/userdata": {"put": op("Change the caller's user data", tag="items", body="UserDataChanges",
                                                schema=ref("UserData"), params=_ID, errors=("400", "403", "404"))},
    "/api/resume": {"get": op("Continue watching", tag="items", schema=page_of("Item"), params=[_LIMIT],
                              errors=("400",))},
    "/api/latest": {"get": op("Recently added", tag="items", schema=page_of("Item"),
                              params=[query_param("library_id", UUID), _LIMIT])},
}  # fmt: skip
