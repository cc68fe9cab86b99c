"""Libraries (DESIGN §9): ``GET/POST /api/libraries``, ``GET /api/libraries/{id}`` and
``POST /api/libraries/{id}/scan`` (admin), which appends ``io.yaffw.library.scan.requested`` to
the event stream for the scan function.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import activity, events, notify

from yaffw_api.apidoc import op, page_of, path_param, ref
from yaffw_api.auth import require_admin, require_user
from yaffw_api.context import Deps, deps
from yaffw_api.params import json_object
from yaffw_api.queries import libraries

bp = Blueprint("api_libraries")


@bp.get("/api/libraries")
async def list_libraries(request: Request) -> HTTPResponse:
    """The libraries the caller may see."""
    user = await require_user(request)
    rows = await libraries.list_visible(deps(request).pool, user)
    return json({"items": rows, "total": len(rows)})


@bp.post("/api/libraries")
async def create_library(request: Request) -> HTTPResponse:
    """Create a library (admin): ``{name, kind, paths}``."""
    actor = await require_admin(request)
    body = json_object(request, allowed=("name", "kind", "paths"))
    d = deps(request)
    library = await libraries.create(d.pool, body.get("name"), body.get("kind"), body.get("paths"),
                                     d.settings.media_roots)  # fmt: skip
    await activity.write(d.pool, "library.created", f"{actor.name} created library {library['name']}",
                         user_id=actor.id, data={"library_id": library["id"]})  # fmt: skip
    return json(library, status=201)


@bp.get("/api/libraries/<library_id:str>")
async def get_library(request: Request, library_id: str) -> HTTPResponse:
    """One library."""
    user = await require_user(request)
    return json(await libraries.get(deps(request).pool, user, library_id))


async def request_scan(d: Deps, actor_id: str | None, actor_name: str, library_id: str,
                       path: object | None = None) -> str:  # fmt: skip
    """Emit the scan request (and tell the library's viewers); returns the event id.

    :raises NotFound: unknown library. :raises BadInput: ``path`` outside the library.
    """
    library, subtree = await libraries.scan_path(d.pool, library_id, path)
    data = {"library_id": library["id"], **({"path": subtree} if subtree else {})}
    event = events.build(events.SCAN_REQUESTED, "/yaffw/api", data)
    await events.publish(d.redis, d.keys.events, event)
    await notify.publish(d.redis, d.keys.notify, "library.scan.requested",
                         {**data, "name": library["name"]}, library_id=library["id"])  # fmt: skip
    await activity.write(d.pool, "scan.requested", f"{actor_name} requested a scan of {library['name']}",
                         user_id=actor_id, data=data)  # fmt: skip
    return str(event["id"])


@bp.post("/api/libraries/<library_id:str>/scan")
async def scan(request: Request, library_id: str) -> HTTPResponse:
    """Ask for a scan of the library, or of one subtree ``{path}`` inside it (admin). 202."""
    actor = await require_admin(request)
    body = json_object(request, allowed=("path",), empty_ok=True)
    event_id = await request_scan(deps(request), actor.id, actor.name, library_id, body.get("path"))
    return json({"id": event_id}, status=202)


_ID = [path_param("library_id", "library id (UUID)")]
OPENAPI = {
    "/api/libraries": {
        "get": op("Visible libraries", tag="libraries", schema=page_of("Library"), errors=()),
        "post": op("Create a library (admin)", tag="libraries", ok="201", body="NewLibrary", schema=ref("Library"),
                   errors=("400", "403", "409")),
    },
    "/api/libraries/{library_id}": {"get": op("One library", tag="libraries", schema=ref("Library"), params=_ID)},
    "/api/libraries/{library_id}/scan": {
        "post": op("Request a scan (admin)", tag="libraries", ok="202", schema=ref("Accepted"), params=_ID,
                   errors=("400", "403", "404"),
                   extra={"requestBody": {"required": False, "content": {"application/json": {"schema": {
                       "type": "object", "additionalProperties": False,
                       "properties": {"path": {"type": "string", "pattern": "^/", "maxLength": 4096,
                                "description": "a subtree of the library (absolute)"}}}}}}}),
    },
}  # fmt: skip
